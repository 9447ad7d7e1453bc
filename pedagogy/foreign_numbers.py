"""Numbers written in words in French, German, Spanish, Italian and Portuguese, from 0 to 999 and the thousand.

The reply guard reads these so that "douze", "zwölf" or "doce" says 12 as plainly as "twelve" does. Each language's
words are generated from its counting rules rather than listed, so every number up to 999 is covered in the usual
spellings (and the common regional ones: Belgian and Swiss "septante", "nonante"; Brazilian and European Portuguese
"dezesseis" / "dezasseis"). Words are compared accent-free and case-free ("zwolf", "ZWÖLF", "zwoelf" are all 12).

A few of these words are also everyday English ("due", "once", "elf", "null", "cent", "um") or articles of their own
language ("un", "une", "ein", "um"): :data:`AMBIGUOUS` lists them, so that a reader can ask for more evidence (a
language named nearby, quotation marks) before it takes them for numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

MAX_WORDS = 6  # the longest spelling generated here ("quatre vingt dix neuf", "novecientos noventa y nueve") is 5


@dataclass(frozen=True)
class ForeignNumber:
    value: int
    language: str
    start: int
    end: int
    text: str


def fold(word: str) -> str:
    """A word without accents and case: "Zwölf" -> "zwolf", "dreißig" -> "dreissig"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _german_fold(word: str) -> str:
    # German written without umlauts spells them out ("zwoelf", "fuenf"); no German number word has "ue" otherwise.
    return fold(word).replace("ue", "u").replace("oe", "o").replace("ae", "a")


def _words(text: str) -> list[str]:
    return text.split()


# -- French ----------------------------------------------------------------------------------------------------------

_FR_UNITS = _words(
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
    "dix-sept dix-huit dix-neuf"
)
_FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def _french_below_100(n: int) -> list[str]:
    if n < 20:
        return [_FR_UNITS[n]] + (["une"] if n == 1 else [])
    tens, unit = divmod(n, 10)
    if tens in _FR_TENS:
        word = _FR_TENS[tens]
        if unit == 0:
            return [word]
        if unit == 1:
            return [f"{word} et un", f"{word} et une", f"{word}-un"]
        return [f"{word}-{_FR_UNITS[unit]}"]
    forms: list[str] = []
    # 70-99 the French way: soixante-dix, quatre-vingts, quatre-vingt-dix, and the Belgian and Swiss tens.
    if tens == 7:
        rest = n - 60
        forms.append("soixante et onze" if rest == 11 else f"soixante-{_FR_UNITS[rest]}")
    elif tens == 8:
        forms += ["quatre-vingts", "quatre-vingt"] if unit == 0 else [f"quatre-vingt-{_FR_UNITS[unit]}"]
    else:
        forms.append(f"quatre-vingt-{_FR_UNITS[n - 80]}")
    regional = {7: "septante", 8: "huitante", 9: "nonante"}[tens]
    alternatives = [regional] + (["octante"] if tens == 8 else [])
    for word in alternatives:
        if unit == 0:
            forms.append(word)
        elif unit == 1:
            forms += [f"{word} et un", f"{word}-un"]
        else:
            forms.append(f"{word}-{_FR_UNITS[unit]}")
    return forms


def _french(n: int) -> list[str]:
    if n < 100:
        return _french_below_100(n)
    hundreds, rest = divmod(n, 100)
    heads = ["cent"] if hundreds == 1 else [f"{_FR_UNITS[hundreds]} cents", f"{_FR_UNITS[hundreds]} cent"]
    if rest == 0:
        return heads
    return [f"{head} {tail}" for head in heads for tail in _french_below_100(rest) if tail != "zéro"]


# -- German ----------------------------------------------------------------------------------------------------------

_DE_UNITS = _words(
    "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn "
    "siebzehn achtzehn neunzehn"
)
_DE_TENS = {
    2: "zwanzig",
    3: "dreißig",
    4: "vierzig",
    5: "fünfzig",
    6: "sechzig",
    7: "siebzig",
    8: "achtzig",
    9: "neunzig",
}


def _german_below_100(n: int) -> list[str]:
    if n < 20:
        forms = [_DE_UNITS[n]]
        if n == 1:
            forms += ["ein", "eine"]
        if n == 2:
            forms.append("zwo")
        return forms
    tens, unit = divmod(n, 10)
    if unit == 0:
        return [_DE_TENS[tens]]
    first = "ein" if unit == 1 else _DE_UNITS[unit]
    return [f"{first}und{_DE_TENS[tens]}"]


def _german(n: int) -> list[str]:
    if n < 100:
        return _german_below_100(n)
    hundreds, rest = divmod(n, 100)
    heads = ["hundert", "einhundert"] if hundreds == 1 else [f"{_DE_UNITS[hundreds]}hundert"]
    if rest == 0:
        return heads
    # German writes a number below a million as one word: "hundertzwölf", "zweihundertvierundzwanzig".
    return [head + tail for head in heads for tail in _german_below_100(rest) if tail not in ("null", "ein", "eine")]


# -- Spanish ---------------------------------------------------------------------------------------------------------

_ES_UNITS = _words(
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis diecisiete "
    "dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete "
    "veintiocho veintinueve"
)
_ES_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta", 9: "noventa"}
_ES_HUNDREDS = {
    2: "doscientos",
    3: "trescientos",
    4: "cuatrocientos",
    5: "quinientos",
    6: "seiscientos",
    7: "setecientos",
    8: "ochocientos",
    9: "novecientos",
}


def _spanish_below_100(n: int) -> list[str]:
    if n < 30:
        forms = [_ES_UNITS[n]]
        if n == 1:
            forms += ["una", "un"]
        if n == 21:
            forms += ["veintiún", "veintiuna"]
        return forms
    tens, unit = divmod(n, 10)
    if unit == 0:
        return [_ES_TENS[tens]]
    return [f"{_ES_TENS[tens]} y {u}" for u in _spanish_below_100(unit)]


def _spanish(n: int) -> list[str]:
    if n < 100:
        return _spanish_below_100(n)
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        return ["cien"] if rest == 0 else [f"ciento {tail}" for tail in _spanish_below_100(rest)]
    heads = [_ES_HUNDREDS[hundreds], _ES_HUNDREDS[hundreds][:-2] + "as"]
    if rest == 0:
        return heads
    return [f"{head} {tail}" for head in heads for tail in _spanish_below_100(rest)]


# -- Italian ---------------------------------------------------------------------------------------------------------

_IT_UNITS = _words(
    "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici sedici "
    "diciassette diciotto diciannove"
)
_IT_TENS = {
    2: "venti",
    3: "trenta",
    4: "quaranta",
    5: "cinquanta",
    6: "sessanta",
    7: "settanta",
    8: "ottanta",
    9: "novanta",
}


def _italian_below_100(n: int) -> list[str]:
    if n < 20:
        return [_IT_UNITS[n]] + (["una", "un"] if n == 1 else [])
    tens, unit = divmod(n, 10)
    word = _IT_TENS[tens]
    if unit == 0:
        return [word]
    if unit in (1, 8):
        # The tens lose their last vowel before "uno" and "otto": ventuno, trentotto.
        return [word[:-1] + _IT_UNITS[unit], word + _IT_UNITS[unit]]
    return [word + ("tré" if unit == 3 else _IT_UNITS[unit])]


def _italian(n: int) -> list[str]:
    if n < 100:
        return _italian_below_100(n)
    hundreds, rest = divmod(n, 100)
    head = "cento" if hundreds == 1 else _IT_UNITS[hundreds] + "cento"
    if rest == 0:
        return [head]
    tails = _italian_below_100(rest)
    forms = [head + tail for tail in tails if tail not in ("una", "un")]
    if rest == 8 or 80 <= rest < 90:
        forms.append(head[:-1] + tails[0])  # centotto, centottanta
    return forms


# -- Portuguese ------------------------------------------------------------------------------------------------------

_PT_UNITS = _words(
    "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis dezessete "
    "dezoito dezenove"
)
_PT_VARIANTS = {1: ["uma"], 2: ["duas"], 14: ["quatorze"], 16: ["dezasseis"], 17: ["dezassete"], 19: ["dezanove"]}
_PT_TENS = {
    2: "vinte",
    3: "trinta",
    4: "quarenta",
    5: "cinquenta",
    6: "sessenta",
    7: "setenta",
    8: "oitenta",
    9: "noventa",
}
_PT_HUNDREDS = {
    2: "duzentos",
    3: "trezentos",
    4: "quatrocentos",
    5: "quinhentos",
    6: "seiscentos",
    7: "setecentos",
    8: "oitocentos",
    9: "novecentos",
}


def _portuguese_below_100(n: int) -> list[str]:
    if n < 20:
        return [_PT_UNITS[n], *_PT_VARIANTS.get(n, [])]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return [_PT_TENS[tens]]
    return [f"{_PT_TENS[tens]} e {u}" for u in _portuguese_below_100(unit)]


def _portuguese(n: int) -> list[str]:
    if n < 100:
        return _portuguese_below_100(n)
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        return ["cem"] if rest == 0 else [f"cento e {tail}" for tail in _portuguese_below_100(rest)]
    heads = [_PT_HUNDREDS[hundreds], _PT_HUNDREDS[hundreds][:-2] + "as"]
    if rest == 0:
        return heads
    return [f"{head} e {tail}" for head in heads for tail in _portuguese_below_100(rest)]


_THOUSAND = {"french": "mille", "german": "tausend", "spanish": "mil", "italian": "mille", "portuguese": "mil"}
_SPELLERS = {
    "french": _french,
    "german": _german,
    "spanish": _spanish,
    "italian": _italian,
    "portuguese": _portuguese,
}
LANGUAGES: tuple[str, ...] = tuple(_SPELLERS)
# Number words that are also ordinary English words, or articles ("un", "ein") in their own language.
AMBIGUOUS = frozenset({"due", "once", "elf", "null", "cent", "cents", "um", "uma", "un", "une", "una", "uno"})
AMBIGUOUS |= frozenset({"ein", "eine", "mil", "mille", "dos", "sept", "six", "otto", "zero"})
_WORD_RE = re.compile(r"[^\W\d_]+")
_JOIN_RE = re.compile(r"[\s\-\u2010\u2011]*")


def _build() -> tuple[dict[tuple[str, ...], tuple[int, str]], frozenset[str]]:
    table: dict[tuple[str, ...], tuple[int, str]] = {}
    for language, spell in _SPELLERS.items():
        for n in range(1000):
            for form in spell(n):
                key = tuple(fold(w) for w in re.split(r"[\s\-]+", form))
                table.setdefault(key, (n, language))
        table.setdefault((_THOUSAND[language],), (1000, language))
    table.setdefault(("eintausend",), (1000, "german"))
    words = frozenset(w for key in table for w in key)
    return table, words


_TABLE, WORDS = _build()
_PREFIXES = frozenset(key[:k] for key in _TABLE for k in range(1, len(key) + 1))
# Words that only join the parts of a number ("vingt et un", "treinta y dos", "vinte e um").
_JOINERS = frozenset({"et", "y", "e"})
_LANGUAGE_CUES = {
    "french": ("french", "francais", "en francais"),
    "german": ("german", "deutsch"),
    "spanish": ("spanish", "espanol", "castellano"),
    "italian": ("italian", "italiano"),
    "portuguese": ("portuguese", "portugues"),
}


@lru_cache(maxsize=8192)
def _key(word: str) -> str:
    folded = fold(word)
    return folded if folded in WORDS else _german_fold(word)


def _named_languages(text: str) -> set[str]:
    folded = fold(text)
    return {lang for lang, cues in _LANGUAGE_CUES.items() if any(re.search(rf"\b{c}\b", folded) for c in cues)}


def _quoted(text: str, start: int, end: int) -> bool:
    """Quotation marks or emphasis around a word mark it as a word quoted, not a word used: "'due' means two"."""
    before, after = text[start - 1 : start], text[end : end + 1]
    # Straight and curly quotation marks, guillemets, and Markdown emphasis.
    opening, closing = "\"'\u201c\u2018\u00ab*_", "\"'\u201d\u2019\u00bb*_"
    return bool(before) and before in opening and bool(after) and after in closing


def find_foreign_numbers(text: str, *, other_language: str | None = None) -> list[ForeignNumber]:
    """Every number written in words of the five languages, longest spelling first, without overlaps.

    An ambiguous word (see :data:`AMBIGUOUS`) counts only inside a longer spelling, in quotation marks, or where its
    language is named in the text or is ``other_language`` (the language a reader found the text written in).
    """
    words = [(m.group(0), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    if not any(_key(w) in WORDS and _key(w) not in _JOINERS for w, _, _ in words):
        return []
    named = _named_languages(text)
    if other_language:
        named.add(other_language)
    found: list[ForeignNumber] = []
    i = 0
    while i < len(words):
        match = _longest_at(text, words, i)
        if match is None:
            i += 1
            continue
        value, language, last = match
        start, end = words[i][1], words[last][2]
        single = last == i
        if single and _key(words[i][0]) in AMBIGUOUS and language not in named and not _quoted(text, start, end):
            i += 1
            continue
        found.append(ForeignNumber(value, language, start, end, text[start:end]))
        i = last + 1
    return found


def _longest_at(text: str, words: list[tuple[str, int, int]], i: int) -> tuple[int, str, int] | None:
    best: tuple[int, str, int] | None = None
    key: tuple[str, ...] = ()
    for j in range(i, min(len(words), i + MAX_WORDS)):
        if j > i and not _JOIN_RE.fullmatch(text[words[j - 1][2] : words[j][1]]):
            break
        key += (_key(words[j][0]),)
        if key not in _PREFIXES:
            break
        hit = _TABLE.get(key)
        if hit is not None and key[-1] not in _JOINERS:
            best = (hit[0], hit[1], j)
    return best


def spellings(value: int) -> Iterator[tuple[str, str]]:
    """Every spelling of ``value`` (0-999) this module reads, as (language, words); for tests and documentation."""
    for language, spell in _SPELLERS.items():
        for form in spell(value):
            yield language, form
