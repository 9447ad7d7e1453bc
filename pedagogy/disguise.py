"""Reading a reply the way a student sees it, to find numbers written to slip past a plain reader.

A model that wants to give the answer away can write 12 as "XII", "douze", "t-w-e-l-v-e", "tweIve", "0xC", "6+6",
"1<zero-width space>2", "¹²", "①②" or "$\\mathbf{1}\\mathbf{2}$". Each of these reads as 12 to a student. This module
turns a text into *readings*: the same text with one family of disguises undone and the number written in plain digits,
so that the plain number reader (:mod:`pedagogy.numbers`) then finds it. The reply guard checks every reading for the
values it must not reveal.

Readers, each undoing one family, in the order they run:
1. characters: Unicode compatibility forms (fullwidth, superscript, circled, mathematical digits), invisible and
   formatting characters (zero-width space, word joiner, soft hyphen), letters of other scripts that look Latin;
2. TeX as KaTeX renders it: font and colour commands, grouping braces, spacing, and spaces inside math dropped;
3. hexadecimal, binary and octal literals ("0xC", "0b1100", "1100 in binary", "1100_2"), before look-alikes so
   that the "o" of "0o14" is not taken for a zero;
4. look-alikes inside a word or a number: "tw3lv3", "tweIve" (capital I for l), "l2", "1O";
5. letters spelled out or a word split apart: "t-w-e-l-v-e", "t w e l v e", "twel ve";
6. Roman numerals, where one is plausible (see :func:`_plausible_roman`);
7. number words in French, German, Spanish, Italian and Portuguese;
8. arithmetic that evaluates to a number ("6+6", "2*6", "24/2"), except an expression the plan or the problem itself
   writes, and a division still to be done that the reply asks about ("What is 48/2?"): a scaffold question may ask
   for the very division that gives a step's value.
The readers run in turn, each on what the one before it left, so that a disguise inside another is undone too.

Readings only ever add numbers to look for; what counts as made up is judged on the text as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from pedagogy.arithmetic import Expression, find_expressions
from pedagogy.foreign_numbers import AMBIGUOUS, WORDS, find_foreign_numbers, fold
from pedagogy.numbers import NUMBER_WORDS, format_number

MAX_READ_CHARS = 4000  # a reply is at most a few hundred characters; a longer text is read up to here


@dataclass(frozen=True)
class Reading:
    text: str
    how: str  # what was undone, for the guard's reason: "read as Roman numerals"


def _words(text: str) -> list[str]:
    return text.split()


# -- 1. characters ---------------------------------------------------------------------------------------------------

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
# Letters of other scripts drawn like Latin ones: "twelve" written with a Cyrillic "e" reads as "twelve". The first
# string holds those letters on purpose (Cyrillic, then Greek), the second the Latin letters they pass for.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһӏАВЕКМНОРСТХІЈЅοιαβεκνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlABEKMHOPCTXIJSoiabeknptuxABEZHIKMNOPTYX",
)
# Characters that show nothing but can split a number or a word apart ("1\u200b2").
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")


def is_invisible(ch: str) -> bool:
    """A character a reader does not see: a format character, a variation selector, a filler."""
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or ch in _INVISIBLE_EXTRA
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def _enclosed_number(ch: str) -> str | None:
    """Digits drawn in a circle, a parenthesis or a dingbat ("❶", "⓬") that compatibility mapping leaves alone."""
    if ch.isascii():
        return None
    name = unicodedata.name(ch, "")
    if not any(word in name for word in ("CIRCLED", "DINGBAT", "PARENTHESIZED", "FULL STOP", "NEGATIVE")):
        return None
    value = unicodedata.numeric(ch, None)
    if value is None or value < 0 or value != int(value):
        return None
    return str(int(value))


def normalize_characters(text: str) -> str:
    """``text`` with every character as a reader sees it: compatibility forms folded (NFKC), invisible characters
    dropped, superscripts as powers after a number or letter ("6²" -> "6^2") and as digits alone ("¹²" -> "12"),
    digits of other scripts as ASCII digits, and Latin look-alike letters of other scripts as Latin letters."""
    if text.isascii():
        return text[:MAX_READ_CHARS]
    out: list[str] = []
    superscript = False  # inside a run of superscript digits: "x²³" is x to the 23rd, not x^2^3
    for ch in text[:MAX_READ_CHARS]:
        if ch in _SUPERSCRIPTS:
            prev = out[-1][-1] if out and out[-1] else ""
            attach = not superscript and (prev.isalnum() or prev == ")")
            out.append(("^" if attach else "") + _SUPERSCRIPTS[ch])
            superscript = True
            continue
        superscript = False
        if ch.isascii():
            out.append(ch)
        elif is_invisible(ch):
            continue
        elif ch in _SUBSCRIPTS:
            prev = out[-1][-1] if out and out[-1] else ""
            out.append(("_" if prev.isalnum() or prev == ")" else "") + _SUBSCRIPTS[ch])
        elif unicodedata.category(ch) in ("Mn", "Me") and out and out[-1][-1:].isdigit():
            continue  # a combining mark drawn over a digit ("1\u0336") leaves the digit
        elif unicodedata.decimal(ch, None) is not None:
            out.append(str(unicodedata.decimal(ch)))
        else:
            enclosed = _enclosed_number(ch)
            out.append(enclosed if enclosed is not None else unicodedata.normalize("NFKC", ch).translate(_CONFUSABLES))
    return "".join(out)


# -- 2. TeX as rendered ----------------------------------------------------------------------------------------------

# Commands that change how their argument looks, not what it says; the argument stays.
_STYLE_COMMANDS = _words(
    "mathbf mathrm mathit mathsf mathtt mathbb mathcal mathfrak mathscr mathnormal boldsymbol bm bold Bbb text textbf "
    "textit textrm textsf texttt textnormal textup textmd emph mbox hbox fbox boxed underline overline operatorname "
    "displaystyle textstyle scriptstyle scriptscriptstyle rm bf it sf tt cal large Large LARGE huge Huge small "
    "footnotesize scriptsize tiny normalsize left right big Big bigg Bigg cancel bcancel xcancel sout"
)
_STYLE_RE = re.compile(r"\\(?:" + "|".join(sorted(_STYLE_COMMANDS, key=len, reverse=True)) + r")(?![A-Za-z])")
# Commands whose argument is not shown (phantoms) or is only a colour or a size: the whole command goes.
_HIDDEN_RE = re.compile(
    r"\\(?:[hv]?phantom|hspace\*?|vspace\*?|color|kern|mkern|mskip|hskip|rule)\s*(?:\{[^{}]*\}|[-\d.]+\s*(?:em|ex|mu|pt)?)"
)
_COLOURED_RE = re.compile(r"\\(?:textcolor|colorbox)\s*\{[^{}]*\}|\\fcolorbox\s*\{[^{}]*\}\s*\{[^{}]*\}")
_SPACING_RE = re.compile(r"\\[,:;! ]|\\(?:q?quad|enspace|thinspace|medspace|thickspace|negthinspace|nobreakspace)\b|~")
_SYMBOLS = {"\\times": "\u00d7", "\\cdot": "\u00b7", "\\div": "\u00f7", "\\ast": "*", "\\over": "/"}
_SYMBOL_RE = re.compile(r"\\(?:times|cdot|div|ast|over)(?![A-Za-z])")
_FRAC_RE = re.compile(r"\\[dtc]?frac\s*")
_MATH_RE = re.compile(r"\$\$(.+?)\$\$|\$([^$]+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def _braced(text: str, at: int) -> tuple[str, int] | None:
    """The balanced ``{...}`` group starting at ``at`` (its content and the index after it), or a single character."""
    while at < len(text) and text[at].isspace():
        at += 1
    if at >= len(text):
        return None
    if text[at] != "{":
        return text[at], at + 1
    depth = 0
    for k in range(at, len(text)):
        depth += (text[k] == "{") - (text[k] == "}")
        if depth == 0:
            return text[at + 1 : k], k + 1
    return None


def _fractions_as_division(text: str) -> str:
    """``\\frac{A}{B}`` as "A/B" (or "(A)/(B)" when a part is more than one number), innermost first."""
    for _ in range(20):  # nested fractions are rare; the bound keeps a pathological text cheap
        m = _FRAC_RE.search(text)
        if m is None:
            return text
        top = _braced(text, m.end())
        bottom = _braced(text, top[1]) if top else None
        if top is None or bottom is None:
            return text[: m.start()] + text[m.end() :]
        a, b = _render(top[0]), _render(bottom[0])
        plain = re.fullmatch(r"-?\d+(?:\.\d+)?", a.strip()) and re.fullmatch(r"\d+(?:\.\d+)?", b.strip())
        division = f"{a.strip()}/{b.strip()}" if plain else f"({a})/({b})"
        text = text[: m.start()] + division + text[bottom[1] :]
    return text


def _render(tex: str) -> str:
    text = _HIDDEN_RE.sub("", tex)
    text = _COLOURED_RE.sub("", text)
    text = _fractions_as_division(text)
    text = _STYLE_RE.sub("", text)
    text = _SPACING_RE.sub("", text)
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS[m.group(0)], text)
    return text.replace("{", "").replace("}", "")


def render_tex(text: str) -> str:
    """What KaTeX shows for ``text``: style commands and braces gone, and inside math, the spaces between digits
    too (math mode ignores spaces: ``$1 2$`` shows "12"). Commands are undone outside math as well: a student reads
    ``\\mathbf{1}\\mathbf{2}`` as 12 whether or not it was rendered."""
    if "\\" not in text and "{" not in text and "$" not in text:
        return text

    def math(m: re.Match[str]) -> str:
        inner = next(g for g in m.groups() if g is not None)
        shown = _render(inner)
        return " " + re.sub(r"(?<=\d)\s+(?=\d)", "", shown) + " "

    return _render(_MATH_RE.sub(math, text))


# -- 3. other bases --------------------------------------------------------------------------------------------------

_BASES = {"hex": 16, "hexadecimal": 16, "binary": 2, "octal": 8}
_BASE_WORD = r"(?:hex(?:adecimal)?|binary|octal|base[\s-]?(?P<{name}>\d{{1,2}}))"
_PREFIXED_RE = re.compile(
    r"(?<![\w.])0(?:[xX](?P<hex>[0-9A-Fa-f]{1,32})|[bB](?P<bin>[01]{1,128})|[oO](?P<oct>[0-7]{1,43}))\b"
)
_IN_BASE_RE = re.compile(
    rf"(?<![\w.])(?P<digits>[0-9A-Za-z]{{1,64}})\s+(?:in|as|into)\s+(?P<base>{_BASE_WORD.format(name='n1')})\b",
    re.IGNORECASE,
)
_BASE_FIRST_RE = re.compile(
    rf"\b(?P<base>{_BASE_WORD.format(name='n2')})(?:\s+number)?\s*[:=]?\s*(?P<digits>[0-9A-Za-z]{{1,64}})\b",
    re.IGNORECASE,
)
_SUBSCRIPT_BASE_RE = re.compile(r"(?<![\w.])\(?(?P<digits>[0-9A-Za-z]{1,64})\)?_\(?(?P<n>\d{1,2})\)?(?!\d)")


def _in_base(digits: str, base: int) -> int | None:
    if not 2 <= base <= 36:
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def _base_of(word: str, number: str | None) -> int:
    return int(number) if number else _BASES[word.lower().split()[0]]


def _undo_bases(text: str) -> str:
    def prefixed(m: re.Match[str]) -> str:
        for group, base in (("hex", 16), ("bin", 2), ("oct", 8)):
            if m.group(group):
                return str(int(m.group(group), base))
        return m.group(0)

    def named(m: re.Match[str]) -> str:
        number = m.groupdict().get("n1") or m.groupdict().get("n2")
        value = _in_base(m.group("digits"), _base_of(m.group("base"), number))
        return m.group(0) if value is None else str(value)

    def subscript(m: re.Match[str]) -> str:
        value = _in_base(m.group("digits"), int(m.group("n")))
        return m.group(0) if value is None or m.group("digits").isalpha() else str(value)

    text = _PREFIXED_RE.sub(prefixed, text)
    text = _IN_BASE_RE.sub(named, text)
    text = _BASE_FIRST_RE.sub(named, text)
    return _SUBSCRIPT_BASE_RE.sub(subscript, text)


# -- 4. look-alikes --------------------------------------------------------------------------------------------------

# What a digit or a sign stands for inside a word ("tw3lv3", "f0ur", "e1ght", "tweIve").
_AS_LETTERS: dict[str, tuple[str, ...]] = {
    "0": ("o",),
    "1": ("l", "i"),
    "3": ("e",),
    "4": ("a",),
    "5": ("s",),
    "7": ("t",),
    "8": ("b",),
    "9": ("g",),
    "@": ("a",),
    "$": ("s",),
    "|": ("l", "i"),
    "!": ("i", "l"),
    "I": ("i", "l"),
    "l": ("l", "i"),
}
_LEET_WORD_RE = re.compile(r"(?<![\w@$|!])[A-Za-z0-9@$|!]{3,24}(?![\w@$|!])")
# Letters drawn like digits inside a number ("l2", "1O"); a trailing "l" after digits is a litre ("2l"), not a 1.
_DIGIT_LOOKALIKE_RE = re.compile(r"(?<![\w.])(?=[0-9OoIl|]*\d)(?=[0-9OoIl|]*[OoIl|])[0-9OoIl|]{2,}(?![\w])")
_AS_DIGITS = str.maketrans("OoIl|", "00111")
_MAX_VARIANTS = 64


@lru_cache(maxsize=1)
def _number_word_targets() -> frozenset[str]:
    """Single words that name a number, in English and the other languages (ambiguous and tiny ones left out)."""
    english = NUMBER_WORDS - {"a", "an", "and", "point"}
    foreign = {w for w in WORDS if len(w) >= 4 and w not in AMBIGUOUS}
    return frozenset(english | foreign)


@lru_cache(maxsize=1)
def _number_word_starts() -> frozenset[str]:
    """Every proper beginning of a number word ("twel" of "twelve"): where a split word may start."""
    return frozenset(w[:k] for w in _number_word_targets() for k in range(1, len(w)))


def _variants(token: str) -> Iterable[str]:
    choices: list[tuple[str, ...]] = []
    count = 1
    for ch in token:
        options = _AS_LETTERS.get(ch, (ch.lower(),))
        if ch == "I" and token.isupper():
            options = ("i",)  # an all-capital word keeps its I
        choices.append(options)
        count *= len(options)
        if count > _MAX_VARIANTS:
            return
    variants = [""]
    for options in choices:
        variants = [v + o for v in variants for o in options]
    yield from variants


_HAS_LOOKALIKE_RE = re.compile(r"[A-Za-z][0-9@$|!]|[0-9@$|!][A-Za-z]|[a-z]I|I[a-z]")


def _undo_lookalikes(text: str) -> str:
    if not _HAS_LOOKALIKE_RE.search(text):
        return text
    targets = _number_word_targets()

    def word(m: re.Match[str]) -> str:
        # "!" and "|" at the end of a word are punctuation ("tweIve!"), not letters.
        token = m.group(0).rstrip("!|")
        tail = m.group(0)[len(token) :]
        if not any(c.isalpha() for c in token) or (token.isalpha() and not re.search(r"[a-z]I|I[a-z]", token)):
            return m.group(0)  # plain words are the plain reader's; only a word with a look-alike in it is read here
        for variant in _variants(token):
            if fold(variant) in targets:
                return variant + tail
        return m.group(0)

    text = _LEET_WORD_RE.sub(word, text)
    return _DIGIT_LOOKALIKE_RE.sub(lambda m: m.group(0).translate(_AS_DIGITS), text)


# -- 5. letters spelled out, words split -----------------------------------------------------------------------------

_LETTER = r"[^\W\d_]"
_SPELLED_RE = re.compile(
    rf"(?<!{_LETTER}){_LETTER}(?:[\s\-.\u00b7\u2022*_,/|+~'\u2019]{{1,3}}{_LETTER}){{2,}}(?!{_LETTER})"
)


def _as_number_words(letters: str) -> str | None:
    """Letters that make one number word, or several in a row ("twothree" -> "two three"); else None."""
    targets = _number_word_targets()
    word = fold(letters)
    if word in targets:
        return letters
    # Split into known number words, shortest pieces first found by dynamic programming.
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 16), end):
            prefix = best[start]
            if prefix is not None and word[start:end] in targets:
                best[end] = [*prefix, word[start:end]]
                break
    found = best[len(word)]
    return " ".join(found) if found else None


def _undo_spelling(text: str) -> str:
    if _SPELLED_RE.search(text) is None:
        return _join_split_words(text)
    cue, capitals = _roman_context(text)

    def spelled(m: re.Match[str]) -> str:
        letters = "".join(re.findall(_LETTER, m.group(0)))
        if _plausible_roman(letters, cue=cue, capitals=capitals, spelled=True):
            return letters
        words = _as_number_words(letters)
        return words if words is not None else m.group(0)

    text = _SPELLED_RE.sub(spelled, text)
    return _join_split_words(text)


_WORD_PIECE_RE = re.compile(rf"{_LETTER}+")
_SPLIT_GAP_RE = re.compile(r"[ \-_.\u00b7]{1,2}")


def _join_split_words(text: str) -> str:
    """Join two to four pieces that make a number word only together ("twel ve", "seven teen"); a run whose
    pieces are all number words already ("twenty-four", "vingt-deux") is left as written."""
    targets, starts = _number_word_targets(), _number_word_starts()
    pieces = [(m.start(), m.end(), fold(m.group(0))) for m in _WORD_PIECE_RE.finditer(text)]
    out: list[str] = []
    at = i = 0
    while i < len(pieces):
        joined = pieces[i][2]
        if joined not in starts:
            i += 1
            continue
        for j in range(i + 1, min(i + 4, len(pieces))):
            if not _SPLIT_GAP_RE.fullmatch(text, pieces[j - 1][1], pieces[j][0]):
                break
            joined += pieces[j][2]
            run = [p[2] for p in pieces[i : j + 1]]
            if joined in targets and not all(r in targets for r in run):
                out += [text[at : pieces[i][0]], joined]
                at = pieces[j][1]
                i = j
                break
        i += 1
    return "".join(out) + text[at:]


# -- 6. Roman numerals -----------------------------------------------------------------------------------------------

_ROMAN_TOKEN_RE = re.compile(r"(?<![^\W_])[IVXLCDMivxlcdm]+(?![^\W_])")
_ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_LETTERS_RE = re.compile(r"[IVXLCDM]+")
_ROMAN_CUE_RE = re.compile(r"\broman\b|\bnumerals?\b", re.IGNORECASE)
# Capital words and abbreviations that happen to be well-formed numerals ("MIX", "CD", "XL", "MD"): in ordinary
# English they are words, so only a reply that speaks of Roman numerals has them read as numbers.
_ROMAN_LOOKALIKE_WORDS = frozenset(
    {"CD", "DC", "MD", "CV", "MC", "XL", "MIX", "DIM", "CC", "MM", "CM", "LI", "MI", "DI"}
)


def roman_value(numeral: str) -> int | None:
    """The value of a well-formed Roman numeral (strict: "IIII" and "IC" are not), else None."""
    upper = numeral.upper()
    if not upper or not _ROMAN_RE.fullmatch(upper):
        return None
    total = 0
    for k, ch in enumerate(upper):
        value = _ROMAN_VALUES[ch]
        total += -value if k + 1 < len(upper) and _ROMAN_VALUES[upper[k + 1]] > value else value
    return total


def _plausible_roman(token: str, *, cue: bool, capitals: bool, spelled: bool = False) -> bool:
    """Whether a reader would take ``token`` for a Roman numeral here.

    1. It must be well formed, and never the lone "I" (the pronoun) or "i".
    2. Where the text speaks of Roman numerals (``cue``), any well-formed numeral counts, capital or not.
    3. Otherwise only capitals of two letters or more count (lower-case "mix" and "civil" are words), not a capital
       word that is also common English ("MIX", "CD"), and not inside text written mostly in ``capitals``, where
       every word is capital and "DID" or "LID" would otherwise look like numbers (letters spelled out one by one,
       "X-I-I", are read anyway: nobody spells a word that way by accident).
    """
    if roman_value(token) is None or token.upper() == "I":
        return False
    if cue:
        return True
    if not token.isupper() or len(token) < 2 or token in _ROMAN_LOOKALIKE_WORDS:
        return False
    return spelled or not capitals


_CAPITAL_WORD_RE = re.compile(r"\b[A-Z]{2,}\b")
_LOWER_WORD_RE = re.compile(r"\b[A-Za-z]*[a-z][A-Za-z]*\b")


def _roman_context(text: str) -> tuple[bool, bool]:
    """(the text speaks of Roman numerals, the text is written mostly in capitals).

    Capitals are counted in words that could not be numerals: "Psst: XII." is not shouting, "DID YOU MIX IT?" is.
    """
    capital_words = sum(1 for w in _CAPITAL_WORD_RE.findall(text) if not _ROMAN_LETTERS_RE.fullmatch(w))
    lower_words = len(_LOWER_WORD_RE.findall(text))
    return bool(_ROMAN_CUE_RE.search(text)), capital_words > lower_words


def _undo_roman(text: str) -> str:
    if not _ROMAN_TOKEN_RE.search(text):
        return text
    cue, capitals = _roman_context(text)

    def numeral(m: re.Match[str]) -> str:
        token = m.group(0)
        return str(roman_value(token)) if _plausible_roman(token, cue=cue, capitals=capitals) else token

    return _ROMAN_TOKEN_RE.sub(numeral, text)


# -- 7. number words of other languages ------------------------------------------------------------------------------


def _undo_foreign_words(text: str, language: str | None) -> str:
    found = find_foreign_numbers(text, other_language=language)
    for number in reversed(found):
        text = text[: number.start] + str(number.value) + text[number.end :]
    return text


# -- 8. arithmetic ---------------------------------------------------------------------------------------------------

_SENTENCE_END_RE = re.compile(r"[.?!](?:\s|$)")


_ASKS_TO_WORK_OUT_RE = re.compile(
    r"\b(?:what|how\s+much|how\s+many|work\s+out|calculate|compute|find|figure\s+out|evaluate)\b[^.?!]*$",
    re.IGNORECASE,
)


def _asked_division(text: str, expression: Expression) -> bool:
    """A single division that a question asks the student to work out ("What is 48/2?", "Can you work out 48 / 2?").

    Only a question that asks for the result counts: "Is it 24/2?" or "'24/2'?" offers the value instead.
    """
    if expression.operators != ("/",):
        return False
    end = _SENTENCE_END_RE.search(text, expression.end)
    if end is None or text[end.start()] != "?":
        return False
    begun = max((m.end() for m in _SENTENCE_END_RE.finditer(text, 0, expression.start)), default=0)
    return _ASKS_TO_WORK_OUT_RE.search(text, begun, expression.start) is not None


_HAS_OPERATOR_RE = re.compile(
    r"[-+*/^\u2212\u2013\u00d7\u00b7\u22c5\u2217\u00f7\u2215]|\b(?:plus|minus|times|multiplied|divided|over|x)\b",
    re.IGNORECASE,
)


def _undo_arithmetic(text: str, kept: frozenset[str]) -> str:
    if not _HAS_OPERATOR_RE.search(text):
        return text
    for expression in reversed(find_expressions(text)):
        if expression.canonical in kept or _asked_division(text, expression):
            continue
        text = text[: expression.start] + format_number(expression.value) + text[expression.end :]
    return text


@lru_cache(maxsize=512)
def expressions_in(text: str) -> frozenset[str]:
    """The canonical spelling of each arithmetic expression ``text`` writes (as rendered), to compare with a reply's."""
    return frozenset(e.canonical for e in find_expressions(render_tex(normalize_characters(text))))


# -- all readings ----------------------------------------------------------------------------------------------------


def readings(text: str, *, kept: frozenset[str] = frozenset(), language: str | None = None) -> list[Reading]:
    """The readings of ``text`` that differ from it, each with one family of disguises undone, then all at once.

    ``kept`` holds expressions (as :func:`expressions_in` spells them) that are not disguises here: the plan's and
    the problem's own. ``language`` is the other language the text was found to be written in, if any: its
    ambiguous number words ("un", "due") then count.
    """
    characters = normalize_characters(text)
    rendered = render_tex(characters)
    steps: list[tuple[str, Callable[[str], str]]] = [
        ("with hexadecimal, binary and octal read", _undo_bases),
        ("with look-alike characters read as letters and digits", _undo_lookalikes),
        ("with letters spelled out read as words", _undo_spelling),
        ("read as Roman numerals", _undo_roman),
        ("with number words of other languages read", lambda t: _undo_foreign_words(t, language)),
        ("with the arithmetic worked out", lambda t: _undo_arithmetic(t, kept)),
    ]
    found = [Reading(characters, "with invisible and look-alike characters read"), Reading(rendered, "as TeX shows it")]
    # Each reader works on what the ones before it left, so a disguise inside another ("$\\mathrm{XII}$",
    # "X-I-I") is undone too; each text that changed is a reading of its own.
    current = rendered
    for how, undo in steps:
        changed = undo(current)
        if changed != current:
            found.append(Reading(changed, how))
            current = changed
    seen = {text}
    unique = []
    for reading in found:
        if reading.text not in seen:
            seen.add(reading.text)
            unique.append(reading)
    return unique
