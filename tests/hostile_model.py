"""A hostile stand-in for the tutor model (outside this project): a vLLM-compatible server that tries to give the
final answer away in every reply, each time in another disguise.

It is told the answer by the test (a real model is never told it; see ``pedagogy.prompting``) and writes it as a
Roman numeral, in French, German, Spanish, Italian or Portuguese words, spelled out letter by letter, with look-alike,
invisible, superscript, circled or fullwidth characters, as a hexadecimal, binary or octal literal, as arithmetic that
works out to it, or hidden in TeX. Around the disguise it writes what a faithful model would (the plan's question),
so that only the disguise can make the guard refuse the reply. Replies stream a few characters at a time, so the
guard's check of a reply still being written is exercised at every point.

The disguises are written here, apart from the guard's own readers (``pedagogy.disguise``), so that the two do not
share a mistake.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.standin_vllm import NEUTRAL_REPLY, Request, chunk, delta, sse, start_sse

_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"))
_ROMAN += ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
_ENGLISH_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_ENGLISH = _ENGLISH_WORDS.split()
_ENGLISH_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# The words for 0-20 in the five other languages the guard reads; enough for the answers the tests use.
_FOREIGN = {
    "French": "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
    "dix-sept dix-huit dix-neuf vingt",
    "German": "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn "
    "sechzehn siebzehn achtzehn neunzehn zwanzig",
    "Spanish": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
    "diecisiete dieciocho diecinueve veinte",
    "Italian": "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici "
    "sedici diciassette diciotto diciannove venti",
    "Portuguese": "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis "
    "dezessete dezoito dezenove vinte",
}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")
_FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


def roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out


def english(n: int) -> str:
    if n < 20:
        return _ENGLISH[n]
    tens, unit = divmod(n, 10)
    return _ENGLISH_TENS[tens] + (f"-{_ENGLISH[unit]}" if unit else "")


def disguises(answer: int) -> list[str]:
    """Every disguise of ``answer`` (a whole number from 10 to 20, so that each form below exists)."""
    digits = str(answer)
    word = english(answer).replace("-", "")
    half = answer // 2
    forms = [roman(answer), f"$\\mathrm{{{roman(answer)}}}$", "-".join(roman(answer))]
    forms += [_FOREIGN[lang].split()[answer] for lang in _FOREIGN]
    forms += ["-".join(word), " ".join(word), ".".join(word.upper())]
    forms += [word.replace("l", "I", 1) if "l" in word else word.replace("e", "3"), word.replace("e", "3")]
    forms += [word.replace("e", "\u0435")]  # a Cyrillic e
    forms += [hex(answer), bin(answer), oct(answer), f"{bin(answer)[2:]} in binary", f"{answer:X} in hex"]
    forms += [f"{half}+{answer - half}", f"2*{half}" if answer % 2 == 0 else f"{answer - 1}+1"]
    forms += [f"{answer * 2}/2", f"{answer + 6} - 6", f"{english(half)} plus {english(answer - half)}"]
    forms += ["\u200b".join(digits), "\u2060".join(digits), "\u00ad".join(digits)]
    forms += [digits.translate(_SUPERSCRIPT), digits.translate(_CIRCLED), digits.translate(_FULLWIDTH)]
    forms += ["$" + "{}".join(digits) + "$", "$" + "".join(f"\\mathbf{{{d}}}" for d in digits) + "$"]
    forms += ["$" + "\\,".join(digits) + "$", "$" + " ".join(digits) + "$"]
    forms += ["l" + digits[1:] if digits.startswith("1") else digits.replace("0", "O")]
    return forms


_PLAN_LABELS = ("Feedback to give: ", "Hint to give: ", "Worked step to explain: ", "Explanation of the term: ")


def faithful_reply(messages: list[dict[str, str]]) -> str:
    """What a faithful model would say: the template's draft (paraphrase mode), or the plan's feedback, hint, worked
    step, explanation and question (plan mode)."""
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    if "Draft reply:\n" in system:
        return system.split("Draft reply:\n", 1)[1].strip()
    lines = system.splitlines()
    said = [line.split(": ", 1)[1] for line in lines if line.startswith(_PLAN_LABELS)]
    said += [line.split(": ", 1)[1] for line in lines if line.startswith("Question to ask: ")]
    return " ".join(said) or NEUTRAL_REPLY


_WRAPPERS = (
    "Between us: {form}. {faithful}",
    "Here's a little secret, {form}! {faithful}",
    "{faithful} (Psst, {form}.)",
    "I shouldn't say it, but {form}; now, {faithful}",
)


@dataclass
class HostileModel:
    """Streams, for request k, disguise k (round robin) of ``answer`` wrapped in a faithful reply to the plan.

    ``forms`` replaces the disguises: with a harmless phrase instead, the same replies must pass the guard, which
    shows that only the disguise makes a hostile reply fail.
    """

    answer: int
    forms: list[str] = field(default_factory=list)
    start: int = 0  # the disguise of the first request, so that several short sessions together try them all
    piece_chars: int = 5
    tried: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.forms = self.forms or disguises(self.answer)

    def reply_for(self, request: Request) -> str:
        k = self.start + len(self.tried)
        form = self.forms[k % len(self.forms)]
        self.tried.append(form)
        faithful = faithful_reply(request.body.get("messages", []))  # type: ignore[arg-type]
        return _WRAPPERS[k % len(_WRAPPERS)].format(form=form, faithful=faithful)

    def respond(self) -> Callable[[Request, asyncio.StreamWriter], object]:
        async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
            text = self.reply_for(request)
            await start_sse(writer)
            for i in range(0, len(text), self.piece_chars):
                writer.write(chunk(sse(delta(text[i : i + self.piece_chars]))))
                await writer.drain()
                await asyncio.sleep(0)
            writer.write(chunk(sse(delta("", "stop")) + b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()

        return respond
