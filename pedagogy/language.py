"""Which language a short text is written in: English, French, German, Spanish, Italian, Portuguese, or another script.

The tutor speaks the session's language (English today), and a reply in another one is refused by the guard: a
student who asks "in French, please" should not get the answer in words the guard was not reading. Tutor replies are
a few sentences, so the test is deliberately simple and robust rather than statistical: the share of letters outside
the Latin script, then a count of each language's most common short words ("the", "is", "und", "est", "que"). A
language's list leaves out words it shares with English ("a", "in", "no", "me", "die", "come"), so English with a
foreign word in it ("In French you would say douze") stays English. Too little text to tell returns None.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from pedagogy.foreign_numbers import fold


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_WORDS: dict[str, frozenset[str]] = {
    "english": _words(
        """
        the a an and or but as is are was were be been of to in into on at by for with from over it its this that
        these those you your we our they their he she his her i me my what how many much why which who when where do
        does did can could will would should have has had not no yes so if then than there here each every all some
        more less let lets us think try look find about out up just now next first same other another number numbers
        step problem answer question good great right well nice work together help hint know see say tell need want
        because only still very also get make one two
        """
    ),
    "french": _words(
        """
        le la les des du un une est sont et ou mais donc avec dans sur pas ne que qui quoi quel quelle combien nous
        vous ils elles je il elle ce cette ces mon votre notre leur tres bien oui reponse alors aussi comme faire
        chaque tous toutes deja encore bonjour merci au aux ca c'est ensemble maintenant pense indice voici voila
        """
    ),
    "german": _words(
        """
        der das dem des ein eine einen einem einer ist sind und oder aber mit von zu zum zur auf aus bei nicht kein
        keine ich du er sie es wir ihr wie viele viel wer warum welche welcher jede jeder jedes auch noch schon sehr
        ja nein antwort dann hier dort diese dieser dieses ihre ihren seine seinen zusammen jetzt denk tipp schau
        """
    ),
    "spanish": _words(
        """
        el la los las un una unos unas es son pero con para por en del que quien como cuantos cuantas cuanto muy
        bien si yo usted nosotros ellos ella este esta estos estas cada todos respuesta entonces tambien pues hola
        gracias tiene tienen hace puedes juntos ahora piensa pista vamos
        """
    ),
    "italian": _words(
        """
        il gli le un una uno sono con di della dei delle che come quanti quante quanto molto bene si io lui lei
        noi voi loro questo questa ogni tutto tutti risposta allora anche ciao grazie ci hai insieme adesso pensa ecco
        suggerimento vediamo
        """
    ),
    "portuguese": _words(
        """
        os as uma uns umas sao ou mas para por da dos das na nos nas que quem como quantos quantas quanto muito
        bem sim nao eu voce eles elas este esta cada todos resposta entao tambem ola obrigado tem fazer um ao aos pelo
        pela seu sua isso isto aqui agora juntos vamos pense dica
        """
    ),
}
# Common English words that are also short words of another language ("a", "as", "no", "come", "son", "die"):
# they say nothing about which language a sentence is in.
_OWN: dict[str, frozenset[str]] = {
    lang: words if lang == "english" else words - _STOP_WORDS["english"] - {"come", "son", "die"}
    for lang, words in _STOP_WORDS.items()
}
# Several languages share words ("que", "con", "una"); a word counts for every language that has it.
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_MATH_RE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_SENTENCE_END_RE = re.compile(r"(?<=[.?!])\s+")
MIN_LETTERS_FOR_SCRIPT = 4  # a word or two of Cyrillic, or four CJK characters
MIN_WORDS = 3


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def detect(text: str) -> str | None:
    """The language ``text`` is written in ("english", "french", ..., or a script such as "cyrillic"), or None when
    the text is too short or too mixed to tell."""
    prose = _COMMAND_RE.sub(" ", _MATH_RE.sub(" ", text))
    letters = [] if prose.isascii() else [ch for ch in prose if ch.isalpha()]
    if len(letters) >= MIN_LETTERS_FOR_SCRIPT:
        scripts = Counter(_script(ch) for ch in letters)
        script, count = scripts.most_common(1)[0]
        if script != "LATIN" and count >= 0.3 * len(letters):
            return script.lower()
    # Single letters are left out: they are variables and spelled-out letters as often as the "e" or "y" of a
    # language ("x and y", "t-w-e-l-v-e").
    words = [fold(w) for w in _WORD_RE.findall(prose) if len(w) > 1]
    if len(words) < MIN_WORDS:
        return None
    counts = {lang: sum(w in own for w in words) for lang, own in _OWN.items()}
    english = counts.pop("english")
    foreign, hits = max(counts.items(), key=lambda item: item[1])
    if hits >= 2 and hits > 2 * english:
        return foreign
    if english >= 2 and english >= 2 * hits:
        return "english"
    return None


def foreign_sentence(text: str, language: str, *, complete_only: bool = False) -> tuple[str, str] | None:
    """The first sentence of ``text`` (or the text as a whole) written in a language other than ``language``, as
    (the language found, the sentence).

    With ``complete_only`` only sentences already ended (by ".", "?" or "!" and a space) are judged, and not the
    text as a whole: what a streamed reply adds later cannot change them, so a start that fails belongs to a finished
    reply that fails.
    """
    parts = _SENTENCE_END_RE.split(text)
    sentences = parts[:-1] if complete_only else parts
    for sentence in sentences:
        found = detect(sentence)
        if found is not None and found != language:
            return found, sentence.strip()
    if not complete_only and len(sentences) > 1:
        found = detect(text)
        if found is not None and found != language:
            return found, text.strip()
    return None
