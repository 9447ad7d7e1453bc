"""The question a teacher asks for one step of a worked solution, written from the solution's own sentence.

A worked line such as "She got 14 x 9 = 126 thank-you cards" names what its result counts; asking for that quantity
("How many thank-you cards did she get?") reads far better than showing the line with a gap in it. The rules here are
deliberately small and conservative: a sentence is split into the words before the calculation (a subject and a verb
group), the calculation, and the words after the result (a noun phrase and a tail), and only shapes the rules
recognise become questions. Anything else returns None, and the caller asks for the calculation itself instead: an
awkward question is worse than a plain question for the calculation.

Verbs come from a small lexicon of the verbs word problems use rather than from suffix guessing, because turning a
past tense back into its base form ("baked" -> "bake", "visited" -> "visit") by rule gets too many words wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Tense = Literal["base", "present3", "past", "participle"]  # bake, bakes, baked, (taken)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- the verb lexicon ------------------------------------------------------------------------------------------------

# base, past, past participle
_IRREGULAR = """
become became become; begin began begun; bet bet bet; bite bit bitten; blow blew blown; break broke broken;
bring brought brought; build built built; burn burnt burnt; buy bought bought; catch caught caught;
choose chose chosen; come came come; cost cost cost; cut cut cut; deal dealt dealt; dig dug dug; do did done;
draw drew drawn; drink drank drunk; drive drove driven; eat ate eaten; fall fell fallen; feed fed fed; feel felt felt;
fight fought fought; find found found; fly flew flown; forget forgot forgotten; freeze froze frozen; get got gotten;
give gave given; go went gone; grow grew grown; hang hung hung; have had had; hear heard heard; hide hid hidden;
hit hit hit; hold held held; hurt hurt hurt; keep kept kept; know knew known; lay laid laid; lead led led;
leave left left; lend lent lent; let let let; light lit lit; lose lost lost; make made made; mean meant meant;
meet met met; pay paid paid; put put put; quit quit quit; read read read; ride rode ridden; ring rang rung;
rise rose risen; run ran run; say said said; see saw seen; seek sought sought; sell sold sold; send sent sent;
set set set; sew sewed sewn; shake shook shaken; shoot shot shot; shrink shrank shrunk; shut shut shut; sing sang sung;
sink sank sunk; sit sat sat; sleep slept slept; slide slid slid; speak spoke spoken; spend spent spent;
spin spun spun; split split split; spread spread spread; stand stood stood; steal stole stolen; stick stuck stuck;
strike struck struck; swim swam swum; swing swung swung; take took taken; teach taught taught; tear tore torn;
tell told told; think thought thought; throw threw thrown; understand understood understood; wake woke woken;
wear wore worn; win won won; withdraw withdrew withdrawn; write wrote written; overpay overpaid overpaid;
undergo underwent undergone; upset upset upset; mow mowed mown; bear bore borne; sweep swept swept
"""

_REGULAR = """
accept add afford allow amount answer arrange arrive ask attend bag bake balance bike block board boil book borrow
bounce bowl brew burn buy call camp carry carve change charge chase check chop clean clear climb clip coach collect
color complete consume contain contribute cook copy count cover crack craft crawl cross cycle dance decorate
decrease deliver deposit design divide donate double download drain drop dry dust earn edit email empty end enter
erase exercise explore fail farm fetch file fill finish fish fit fix fold frost gain gather glue grade graduate
grill guess hammer harvest head help hike hire hop host hug hunt include increase inflate insert invest invite iron
jog join juggle jump kick knit label land last laugh learn lift like list load loan lock love mail manage mark match
measure melt mend miss mix mop move need net offer open order owe own pack paddle paint park pass paste peel perform
pick pin place plan plant play plow plug polish post pour practice prepare press print process produce program pull
pump punch purchase push race rain raise rake reach receive record recycle refill register remain remove rent repair
repay replace require reserve rest restock return review ride rinse roast roll row sail save scan score scrub serve
share shave ship shop shovel sign skate ski skip slice smile snow solve sort spray sprint squeeze stack staple start
stay step stock stop store stretch study subtract supply support surf swap talk tap text tip toss total tour trace
trade train transfer travel treat trim triple try type unload unpack use vacuum visit wait walk want wash waste
watch water weave weigh wish work wrap yield
"""

# Verbs that double their last consonant before -ed ("stopped", "planned").
_DOUBLING = _words(
    "bag chop clip drop hop hug jog knit plan plug ship shop skip step stop swap tap tip trim wrap scrub plot"
)
# Verbs whose past tense is their bare form: after a singular subject the bare form is the past ("his car cost").
_SAME_PAST = _words("cost put cut hit set let read quit spread split bet hurt shut")
_MODALS = _words("will would can could should must might may shall")
_BE = {"is": "is", "are": "are", "was": "was", "were": "were"}
_ADVERBS = _words("also only still now just currently already then each together altogether actually")
_PRONOUNS = {"he": "he", "she": "she", "it": "it", "they": "they", "we": "we", "i": "I", "you": "you"}
_PLURAL_PRONOUNS = frozenset({"they", "we", "I", "you"})
_DETERMINERS = _words("the each every his her their its our my your this that these those both all a an one")
# Capitalised words that open sentences without naming anyone.
_NOT_NAMES = _words(
    "the this that these those there then so thus therefore hence now if when after before since once on in at for "
    "during with without from by over each every his her their its our my your a an one both all it he she they we "
    "you i next last first second third finally altogether overall together total in add adding subtract multiply "
    "divide and but or to of"
)
# Words that end the noun phrase or tail after a result: a new clause starts.
_CLAUSE_WORDS = _words("because so since which and but while when if as or then whereas meaning means")
_PREPOSITIONS = _words(
    "in on at for per from to by with into onto of over under about after before during each every a an than without "
    "within through across around along between among toward towards inside outside near below above until"
)
_DISCOURSE = (
    "that means that",
    "this means that",
    "which means that",
    "that means",
    "this means",
    "which means",
    "meaning",
    "so",
    "thus",
    "therefore",
    "hence",
    "then",
    "and",
    "finally",
    "also",
    "in total",
    "all in all",
    "all total",
    "altogether",
    "all together",
    "overall",
    "in all",
    "together",
)
# Phrases that open a clause and may stay in front of the question ("If he buys 5, how much ...?").
_FRONT_WORDS = _words(
    "if when after before since once on in at for during with without from by over between including excluding "
    "compared adding counting given every each per out of because as to"
)
_TOTAL_WORDS = ("in total", "in all", "altogether", "all together", "total")
_DURATIONS = _words("seconds minutes hours days weeks months years laps")
_DISTANCES = _words("yards miles feet meters metres kilometers kilometres inches centimeters km")
_MONEY_NOUNS = _words("dollars dollar")
_MASS_MONEY = _words("profit money change interest tax tip revenue income savings")
_ADJECTIVE_TAILS = _words(
    "old older younger tall taller long longer wide wider high higher deep deeper away late early heavy heavier "
    "shorter apart behind ahead more less fewer faster slower bigger smaller cheaper lighter closer farther further"
)
# Words after a count that describe it rather than name it: "17 years old", "$165 off", "9 eggs left".
_NOUN_ENDS = (_ADJECTIVE_TAILS - {"more", "less", "fewer"}) | _words(
    "off out up down together altogether apiece back now already still left leftover remaining overall total each "
    "today yesterday tomorrow tonight"
)
# Nouns that name a quantity: "The total cost is $15" can be asked as "What is the total cost?", while "The mural is
# 18 square meters" cannot be asked as "What is the mural?".
_MEASURES = _words(
    "cost costs price prices total totals number amount sum weight height length width area perimeter volume speed "
    "distance time age value profit score average difference salary income bill fee fees rate budget earnings "
    "savings capacity population count revenue loss change tax tip charge balance size depth temperature mileage "
    "percentage share portion fare rent wage wages pay payment payments expense expenses spending sales"
)
_COUNT_ADJECTIVES = _words("more fewer less extra additional new other remaining")
_HEDGES = _words("about around approximately roughly exactly only just nearly almost")
_MORE_WORDS = ("an additional", "an extra", "another", "additional", "extra")
_MAX_WORDS = 24


@dataclass(frozen=True)
class VerbForm:
    base: str
    tense: Tense


def _third_person(base: str) -> str:
    if base == "have":
        return "has"
    if re.search(r"(?:s|sh|ch|x|z|o)$", base):
        return base + "es"
    if re.search(r"[^aeiou]y$", base):
        return base[:-1] + "ies"
    return base + "s"


def _regular_past(base: str) -> list[str]:
    if base.endswith("e"):
        return [base + "d"]
    if re.search(r"[^aeiou]y$", base):
        return [base[:-1] + "ied"]
    if base in _DOUBLING:
        return [base + base[-1] + "ed"]
    forms = [base + "ed"]
    if base.endswith("l"):  # "travelled" and "traveled" are both written
        forms.append(base + "led")
    return forms


def _build_lexicon() -> dict[str, VerbForm]:
    lexicon: dict[str, VerbForm] = {}
    for base in _REGULAR.split():
        lexicon.setdefault(base, VerbForm(base, "base"))
        lexicon.setdefault(_third_person(base), VerbForm(base, "present3"))
        for past in _regular_past(base):
            lexicon.setdefault(past, VerbForm(base, "past"))
    # Irregular forms win over regular guesses ("paid", not "payed").
    for entry in _IRREGULAR.split(";"):
        base, past, participle = entry.split()
        lexicon[base] = VerbForm(base, "base")
        lexicon[_third_person(base)] = VerbForm(base, "present3")
        if past != base:  # "cost", "put", "read": the bare form is read by its subject (see _ask_with_do)
            lexicon[past] = VerbForm(base, "past")
        if participle != past:
            lexicon[participle] = VerbForm(base, "participle")
    return lexicon


VERBS = _build_lexicon()


# --- sentence shapes -------------------------------------------------------------------------------------------------

# Words that are verbs in the lexicon but name things right after a number ("24 pieces", "5 boxes of treats").
_NOUNISH = _words(
    "boxes pieces points hours slices loads bags packs marks stamps plants lists files rolls prints records plays "
    "steps stops trips ships shops drops rides runs sets cuts cards sits lights rings bites breaks weighs colors "
    "stocks stacks blocks dances skips signs texts tips trains works treats visits walks wishes seeds saves mails "
    "rests labels matches scores posts calls books loans tours races laps sprints rows nets files guesses"
)
_SINGULAR_PRONOUNS = _words("everything everyone everybody someone somebody nobody")
_FIND_RE = re.compile(
    r"(?:^(?:first|then|next|now|finally)?,?\s*|\bto\s)(?:find|get|calculate|determine|work\s+out|figure\s+out|know)\s+"
    r"(?P<thing>(?:the|her|his|their|its|our|your|[A-Z][a-z]+(?:'s|\u2019s))\s[^:;=<>()]{1,60}?)"
    r"(?:,?\s+(?:by|we|you|,)\s[^:]*)?:\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    text: str  # as it reads inside a question ("the fourth basket", "Natalia", "he")
    plural: bool
    definite: bool  # "the ...", "her ...", "Anna's ...": a thing one can ask "What is ...?" about


@dataclass(frozen=True)
class Clause:
    subject: Subject
    words: list[str]  # the verb group and anything up to the calculation, as written


@dataclass(frozen=True)
class _Phrase:
    """What the words after a result say: the counted noun, the rest of the clause, and what the question adds."""

    noun: list[str]
    tail: list[str]
    money: bool
    total: bool = False  # "a total of", "in total", "altogether" led into the calculation


def quantity_question(before: str, after: str, *, money: bool, percent: bool, one: bool = False) -> str | None:
    """The question for the quantity a result counts, or None when the sentence has no shape the rules know.

    ``before`` is the sentence up to the displayed calculation (``She got``), ``after`` the text after its result
    (``thank-you cards.``); ``money`` says the result is written with ``$``, ``percent`` with ``%``, ``one`` that it
    is 1 (whose noun is singular: "1 more drying rack" cannot follow "How many").
    """
    if percent:
        return None
    found = _FIND_RE.search(before.strip())
    if found:
        # "Add them up to find the total cost: 3 + 4 = 7" asks for the thing it finds.
        return _finish(f"What is {_lower_first(found.group('thing').strip())}")
    front, core, notes = _split_before(before)
    if core is None:
        return None
    noun, tail = _noun_phrase(after)
    if noun is None or (one and noun and not money):
        return None
    phrase = _Phrase(noun, tail, money, "total" in notes)
    core, phrase = _take_total(core, phrase)
    core, phrase = _take_more(core, phrase)
    question = _ask(core, phrase)
    if question is None:
        return None
    if "now" in notes and not re.search(r"\bnow\b", question, re.IGNORECASE):
        question += " now"
    if phrase.total and not re.search(r"\b(?:total|altogether|in all)\b", question, re.IGNORECASE):
        question += " in total"
    if front:
        question = f"{front}, {_lower_first(question)}"
    return _finish(question)


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first in ("I",) or (len(first) > 1 and first[1:].lower() != first[1:]):
        return text
    if first.lower() in _DETERMINERS or first.lower() in ("how", "what"):
        return text[0].lower() + text[1:]
    return text


def _split_before(before: str) -> tuple[str | None, str | None, set[str]]:
    """(a fronted phrase to keep, the clause that leads into the calculation, what its linking words said).

    The clause is None when the sentence has a shape the rules do not know.
    """
    text = re.sub(r"\s+", " ", before).strip()
    # The clause that leads into the calculation starts after the last clause boundary.
    boundary = re.compile(
        r"(?:[;:]|,\s*(?:so|and|but|which|then|hence|thus|therefore)\b|\b(?:so(?!\s+(?:far|much|many)\b)|because|"
        r"since|which|but|while|hence|thus|therefore)\b)\s*",
        re.IGNORECASE,
    )
    cut = 0
    for m in boundary.finditer(text):
        if m.start() == 0:
            continue  # "Since she earns $15 an hour, ..." opens with its reason: that stays in front
        if m.group(0).startswith(",") and re.match(r",\s*and\b", m.group(0)) and "," in text[cut : m.start()]:
            continue  # "the ball, the shorts, and the shoes": a list, not a new clause
        cut = m.end()
    segment, notes = _strip_discourse(text[cut:])
    front: str | None = None
    if text.endswith(",") and segment.split()[:1] and segment.split()[0].lower() in _FRONT_WORDS:
        return segment, "", notes  # "On the third day, 40 students called in sick"
    if "," in segment:
        head, _, rest = segment.rpartition(",")
        head, rest = head.strip(), rest.strip()
        head_word = head.split()[0].lower() if head.split() else ""
        stripped, head_notes = _strip_discourse(head)
        if stripped == "":
            segment, notes = rest, notes | head_notes
        elif head_word in _FRONT_WORDS and not re.search(r"[=<>]", head):
            front, segment = head, rest
        else:
            return None, None, set()
    core, core_notes = _strip_discourse(segment)
    words = core.split()
    if front is None and words and words[0].lower() in _FRONT_WORDS:
        # "in 9 weeks he will spend": a fronted phrase without its comma ends where a pronoun subject starts.
        at = next((j for j, w in enumerate(words) if j >= 2 and w.lower() in _PRONOUNS), None)
        if at is not None and not re.search(r"[=<>]", " ".join(words[:at])):
            front, core = " ".join(words[:at]), " ".join(words[at:])
    return front, core, notes | core_notes


def _strip_discourse(text: str) -> tuple[str, set[str]]:
    """``text`` without the words that only link it to what came before ("So,", "That means"), and what they said
    that the question should keep: "total" ("In total,", "Altogether") or "now"."""
    text = text.strip().strip(",").strip()
    notes: set[str] = set()
    changed = True
    while changed:
        changed = False
        for phrase in (*_DISCOURSE, "now"):
            m = re.match(rf"{re.escape(phrase)}\b,?\s*", text, re.IGNORECASE)
            if m:
                text = text[m.end() :]
                if phrase in _TOTAL_WORDS or phrase in ("together", "all total", "all in all"):
                    notes.add("total")
                elif phrase == "now":
                    notes.add("now")
                changed = True
    return text.strip(), notes


def _take_total(core: str, phrase: _Phrase) -> tuple[str, _Phrase]:
    """ "has a total of 34 units" asks "How many units ... in total?"."""
    m = re.search(r"\s*\b(?:for\s+)?(?:a\s+total\s+of|in\s+total|in\s+all|altogether|all\s+together)$", core, re.I)
    if m is None:
        return core, phrase
    return core[: m.start()].strip(), replace(phrase, total=True)


def _take_more(core: str, phrase: _Phrase) -> tuple[str, _Phrase]:
    """ "needs another 8 boxes" asks "How many more boxes ...?"."""
    lowered = core.lower()
    for words in _MORE_WORDS:
        if lowered == words or lowered.endswith(" " + words):
            if not phrase.noun or phrase.money:
                return core, phrase
            return core[: len(core) - len(words)].strip(), replace(phrase, noun=["more", *phrase.noun])
    return core, phrase


def _noun_phrase(after: str) -> tuple[list[str] | None, list[str]]:
    """The words after a result: what it counts (``cups of coffee``) and the rest of the clause (``together``).

    Returns (None, []) when the words after the result are not a phrase a question can carry (more arithmetic,
    brackets, another number's working).
    """
    text = after.strip()
    stop = re.search(r"[,;:.!?()\[\]=]|\s[-+*/x\u00d7\u00f7\u2013\u2212]\s", text)
    if stop is not None:
        if stop.group(0).strip() not in (",", ";", ":", ".", "!", "?"):
            return None, []
        if re.match(r",\s*[\w-]+(?:,|\s+(?:and|or)\b)", text[stop.start() :]):
            return None, []  # "30 blue, red, and white beads": a list the question cannot cut
        text = text[: stop.start()]
    if text.startswith(("/", "%", "-", "\u2013")):
        return None, []
    words = text.split()
    for i, word in enumerate(words):
        low = word.lower()
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        # "and" joins two names ("in April and May") but starts a new clause before a subject or a number; a
        # "when" clause stays, since it says when the count holds ("3 years old when Hannah was 6").
        if (
            low in _CLAUSE_WORDS
            and low != "when"
            and (
                low != "and" or not nxt or nxt in _PRONOUNS or nxt in _DETERMINERS or nxt[:1].isdigit() or nxt in VERBS
            )
        ):
            words = words[:i]
            break
    if any(not re.fullmatch(r"[A-Za-z0-9'\u2019/-]+", w) for w in words):
        return None, []
    if any(w.lower() in ("who", "that", "which", "whom", "whose", "bc", "ad", "am", "pm") for w in words):
        return None, []  # "10 fish who need the food", "4200 BC": not a count a question can carry
    noun: list[str] = []
    i = 0
    while i < len(words) and len(noun) < 6:
        low = words[i].lower()
        if low == "of" and noun and i + 1 < len(words):
            # "cups of coffee", "grams of sugar", "batches of the recipe"
            take = 3 if words[i + 1].lower() in ("the", "her", "his", "their", "its", "your") else 2
            if (take == 2 and words[i + 1].lower() in _DETERMINERS) or i + take > len(words):
                break
            noun += words[i : i + take]
            i += take
            continue
        if low == "per" and noun and noun[-1].lower() in _DISTANCES and i + 1 < len(words):
            noun += words[i : i + 2]  # "36 miles per hour" is a speed
            i += 2
            continue
        if low in _PREPOSITIONS or low in _MODALS or low in _BE or low == "when":
            break
        if low in _NOUN_ENDS and (noun or low not in ("remaining", "extra")):
            break
        if low.endswith("ing") and (not noun or any(w.lower() not in _COUNT_ADJECTIVES for w in noun)):
            break  # "75 minutes watching TV", "$50 selling her clothes" (but "1 more drying rack")
        if noun and words[i][:1].isupper() and noun[-1][:1].islower():
            return None, []  # "10 chips Marnie ate": a clause about the count, not part of its name
        if noun and low in VERBS and low not in _NOUNISH and not _noun_goes_on(words, i):
            break
        noun.append(words[i])
        i += 1
    if len({w.lower() for w in noun}) < len(noun):
        return None, []  # "35 cupcakes more cupcakes": the line repeats itself
    return noun, words[i:]


def _noun_goes_on(words: list[str], i: int) -> bool:
    """Whether ``words[i]``, which could be a verb, still belongs to the noun before it: "10 blue fish",
    "25 nail polishes together" (a present form at the end of the phrase), but not "5 students ride the bus"."""
    if VERBS[words[i].lower()].tense not in ("base", "present3"):
        return False
    nxt = words[i + 1].lower() if i + 1 < len(words) else ""
    return not nxt or (nxt in _PREPOSITIONS and nxt != "to") or nxt in _NOUN_ENDS


def _wh(phrase: _Phrase) -> tuple[str, _Phrase] | None:
    """The question's opening ("How many cups of coffee", "How much", "How much more") and what is left to say."""
    noun, tail = list(phrase.noun), list(phrase.tail)
    money = phrase.money
    if noun and noun[0].lower() in _MONEY_NOUNS:
        money, noun = True, noun[1:]
    if money:
        if tail[:1] and tail[0].lower() in ("more", "less") and not noun:
            return f"How much {tail[0].lower()}", replace(phrase, noun=[], tail=tail[1:], money=True)
        if noun == ["more"] or noun == ["less"]:
            return f"How much {noun[0].lower()}", replace(phrase, noun=[], money=True)
        if not noun and len(tail) >= 2 and tail[0].lower() == "of" and tail[1].lower() in _MASS_MONEY:
            noun, tail = [tail[1]], tail[2:]  # "$84 of profit"
        if noun and " ".join(noun).lower() not in _MASS_MONEY:
            return None
        return f"How much {' '.join(noun)}".strip(), replace(phrase, noun=noun, tail=tail, money=True)
    if noun:
        return f"How many {' '.join(noun)}", phrase
    if tail[:1] and tail[0].lower() == "of":
        return "How many", phrase  # "3 of each kind of tree"
    return None


def _ask(core: str, phrase: _Phrase) -> str | None:
    """Put the question together from the clause before the result and the phrase after it."""
    words = [w for w in core.split() if w]
    while words and words[0].lower() in _HEDGES:
        words = words[1:]
    core = " ".join(words)
    clause = _clause(core) if words else None
    if clause is not None and [w.lower() for w in clause.words] in (["is"], ["are"], ["was"], ["were"]):
        # "The total cost is $15": the subject names the quantity, no noun after the result is needed.
        return _ask_copula(clause.words[0].lower(), clause.subject, phrase)
    opening = _wh(phrase)
    if opening is None:
        return None
    wh, phrase = opening
    tail_text = " ".join(phrase.tail)
    if not words:
        return _ask_number_subject(wh, phrase.tail)
    if _starts_with_verb(phrase.tail):
        return None  # "9 hours spent in total": a clause about the count that the question cannot carry
    existential = re.fullmatch(r"[Tt]here (is|are|was|were|will be|would be)(?: (now|still|only))?", core)
    if existential:
        verb = {"is": "are", "was": "were"}.get(existential.group(1), existential.group(1))
        if phrase.money:
            verb = existential.group(1)
        extra = existential.group(2) or ""
        if " " in verb:
            modal = verb.split()[0]
            return f"{wh} {modal} there be {tail_text} {extra}"
        return f"{wh} {verb} there {tail_text} {extra}"
    if clause is None:
        return None
    return _ask_clause(wh, clause, phrase)


def _starts_with_verb(words: list[str]) -> bool:
    first = words[0].lower() if words else ""
    form = VERBS.get(first)
    if first in ("left", "remaining") or first in _NOUNISH or form is None:
        return first in _MODALS or first in _BE
    return form.tense in ("past", "participle", "present3")


def _ask_number_subject(wh: str, tail: list[str]) -> str | None:
    """The result itself is the subject: "40 students called in sick" -> "How many students called in sick?"."""
    if not tail:
        return None
    first = tail[0].lower()
    if tail == [first] and first in ("left", "remaining"):
        return f"{wh} are {first}"
    if first in _MODALS or first in _BE or first in VERBS:
        if any(w.lower() in _CLAUSE_WORDS for w in tail):
            return None
        return f"{wh} {' '.join(tail)}"
    return None


def _clause(core: str) -> Clause | None:
    """Split ``core`` into its subject and the words after it, or None when no subject is recognised.

    A second verb joined by "and" keeps the first subject: "He gave one away and has 80 left" reads as "he has".
    """
    words = core.split()
    clause = _subject_and_rest(words)
    if clause is None:
        return None
    rest = [w.lower() for w in clause.words]
    if "and" in rest:
        at = len(rest) - 1 - rest[::-1].index("and")
        after = clause.words[at + 1 :]
        first = after[0].lower() if after else ""
        if first in _BE or first in _MODALS or first in ("has", "have", "had") or first in VERBS:
            return Clause(clause.subject, after)
        return None
    return clause


def _subject_and_rest(words: list[str]) -> Clause | None:
    if not words:
        return None
    first = words[0].lower()
    if first in _PRONOUNS:
        text = _PRONOUNS[first]
        return Clause(Subject(text, text in _PLURAL_PRONOUNS, False), words[1:])
    if first in _SINGULAR_PRONOUNS:
        return Clause(Subject(first, False, False), words[1:])
    core = " ".join(words)
    name = re.match(
        r"((?:(?:Mr|Mrs|Ms|Dr)\.\s)?[A-Z][a-z]+(?:\s[A-Z][a-z]*)?(?:\s(?:and|&)\s[A-Z][a-z]+)?)((?:'s|\u2019s|s'|s\u2019)?)\s",
        core + " ",
    )
    if name and name.group(1).split()[0].lower() not in _NOT_NAMES:
        n = len(name.group(1).split())
        if not name.group(2):
            plural = " and " in name.group(1) or " & " in name.group(1)
            return Clause(Subject(name.group(1), plural, False), words[n:])
        return _noun_subject(words)
    if first in _DETERMINERS or re.fullmatch(r"\d+", first):
        return _noun_subject(words)
    return None


def _noun_subject(words: list[str]) -> Clause | None:
    """A subject made of a determiner (or possessive, or a count) and a few words, up to its verb.

    A clause that ends in "is" ("The total cost of the cards she bought is") is read as subject and copula first:
    the words before it may hold verbs of their own.
    """
    if len(words) >= 3 and words[-1].lower() in _BE:
        return Clause(_noun_subject_text(words[:-1]), words[-1:])
    for i in range(2, min(len(words), 8)):
        low = words[i].lower()
        if low in _BE or low in _MODALS or low in ("has", "have", "had"):
            pass
        elif words[i - 1].lower() in _DETERMINERS or words[i - 1].isdigit():
            continue  # a word right after "the" or a count names a thing: "the set", "3 books"
        elif low in VERBS and VERBS[low].tense in ("past", "present3"):
            pass
        elif low in VERBS and VERBS[low].tense == "base" and (words[i - 1].lower().endswith("s") or low in _SAME_PAST):
            pass  # "The passes cost", "3 red boxcars carry", "His old car cost": a bare verb after its subject
        else:
            continue
        subject_words = words[:i]
        if any(w.lower() in _PRONOUNS or w.lower() in ("these", "those", "this", "that") for w in subject_words[1:]):
            return None  # "That mean these 2 books": two subjects run together
        if any(w.lower() in ("that", "who", "which", "than", "as", "and", "of") for w in subject_words[1:-1]) and (
            any(w.lower() in ("that", "who", "which", "than", "as", "and") for w in subject_words)
        ):
            return None  # a relative clause or a list inside the subject: too easy to split wrongly
        return Clause(_noun_subject_text(subject_words), words[i:])
    return None


def _noun_subject_text(subject_words: list[str]) -> Subject:
    first = subject_words[0]
    text = " ".join(subject_words)
    if first.lower() in _DETERMINERS and first[:1].isupper() and first != "I":
        text = text[0].lower() + text[1:]
    head = subject_words[-1].lower()
    lowered_first = first.lower()
    plural = lowered_first in ("these", "those", "both", "all") or (
        head.endswith("s") and not head.endswith(("ss", "'s", "\u2019s")) and lowered_first not in ("each", "every")
    )
    if re.fullmatch(r"\d+", first):
        plural = first != "1"
    definite = lowered_first not in ("each", "every", "a", "an", "one", "both", "all") and not first[:1].isdigit()
    return Subject(text, plural, definite)


def _ask_clause(wh: str, clause: Clause, phrase: _Phrase) -> str | None:
    words = list(clause.words)
    adverb = ""
    while words and words[0].lower() in _ADVERBS:
        if words[0].lower() == "now" and "now" not in (w.lower() for w in phrase.tail):
            phrase = replace(phrase, tail=[*phrase.tail, "now"])  # "Jeanine now has 3 pencils"
        elif words[0].lower() in ("still", "also", "already"):
            adverb = words[0].lower()  # "Thomas still needs $2000" -> "How much does Thomas still need?"
        words = words[1:]
    if not words:
        return None
    subject = clause.subject.text
    first = words[0].lower()
    tail_text = " ".join(phrase.tail)
    if first in _BE:
        if len(words) == 1:
            return _ask_copula(first, clause.subject, phrase)
        mid = _mid(words[1:], phrase)
        if mid is None or words[1].lower() == "not":
            return None
        return f"{wh} {first} {subject} {mid} {tail_text}"
    if first in _MODALS:
        if [w.lower() for w in words[1:]] == ["be"]:
            return _ask_modal_be(first, clause.subject, phrase)
        mid = _mid(words[1:], phrase)
        if not mid or mid.split()[0].lower() == "not":
            return None
        return f"{wh} {first} {subject} {mid} {tail_text}"
    rest = words[1:]
    while rest and rest[0].lower() in _ADVERBS:
        rest = rest[1:]  # "has already eaten"
    follower = VERBS.get(rest[0].lower()) if rest else None
    if first in ("has", "have", "had") and follower is not None and follower.tense in ("past", "participle"):
        mid = _mid(words[1:], phrase)
        return None if mid is None else f"{wh} {first} {subject} {mid} {tail_text}"
    return _ask_with_do(wh, clause.subject, words, phrase, adverb)


def _ask_with_do(wh: str, subject: Subject, words: list[str], phrase: _Phrase, adverb: str = "") -> str | None:
    """ "She got 126 cards" -> "How many cards did she get?"."""
    form = VERBS.get(words[0].lower())
    if form is None or form.tense == "participle" or form.base == "mean":
        return None  # "10 minutes for 5 miles means ...": a restatement, not something done
    if form.tense == "past":
        aux = "did"
    elif form.tense == "present3":
        aux = "does"
    elif subject.plural:
        aux = "do"
    elif form.base in _SAME_PAST:
        aux = "did"  # "He cost", "she read": a singular subject with the bare form is the past tense
    else:
        return None
    mid = _mid(words[1:], phrase)
    if mid is None:
        return None
    return f"{wh} {aux} {subject.text} {adverb} {form.base} {mid} {' '.join(phrase.tail)}"


def _ask_copula(be: str, subject: Subject, phrase: _Phrase) -> str | None:
    """ "The total cost is $15" -> "What is the total cost?"; "he is 17 years old" -> "How old is he?"."""
    if phrase.noun and phrase.noun[0].lower() in _MONEY_NOUNS:
        phrase = replace(phrase, noun=phrase.noun[1:], money=True)
    noun_text = " ".join(phrase.noun)
    tail = phrase.tail
    tail_text = " ".join(tail)
    if noun_text.lower() == "years" and tail[:1] and tail[0].lower() == "old":
        return f"How old {be} {subject.text} {' '.join(tail[1:])}"
    if tail[:1] and tail[0].lower() in _ADJECTIVE_TAILS and phrase.noun and not phrase.money:
        if subject.text.lower() in ("it", "this", "that"):
            return None
        return f"How many {noun_text} {tail[0]} {be} {subject.text} {' '.join(tail[1:])}"
    if not subject.definite:
        return None
    if tail and not re.fullmatch(r"(?:per|a|an|each|every) \w+|in total|in all|now|altogether", tail_text.lower()):
        return None
    head = re.split(r"\b(?:of|that|who|which|after|before|when|for|in|on|at|from|with|to)\b", subject.text.lower())[0]
    if set(re.findall(r"[a-z]+", head)) & _MEASURES:
        return f"What {be} {subject.text} {tail_text}"
    if phrase.money:
        return f"How much {be} {subject.text} {tail_text}"
    if phrase.noun and subject.text.lower() not in ("it", "this", "that"):
        return f"How many {noun_text} {be} {subject.text} {tail_text}"
    return None


def _ask_modal_be(modal: str, subject: Subject, phrase: _Phrase) -> str | None:
    """ "they will be 24 feet wide" -> "How many feet wide will they be?"."""
    tail = phrase.tail
    if not (phrase.noun and tail[:1] and tail[0].lower() in _ADJECTIVE_TAILS) or phrase.money:
        return None
    if phrase.noun[0].lower() == "years" and tail[0].lower() == "old":
        return f"How old {modal} {subject.text} be {' '.join(tail[1:])}"
    return f"How many {' '.join(phrase.noun)} {tail[0]} {modal} {subject.text} be {' '.join(tail[1:])}"


def _mid(words: list[str], phrase: _Phrase) -> str | None:
    """The words between the verb and the calculation, tidied for a question, or None when they cannot be asked."""
    mid = list(words)
    while mid and mid[0].lower() in ("only", "just"):
        mid = mid[1:]  # "can only type" -> "can Mike type"
    if any(re.search(r"[\d=<>()]", w) for w in mid) or any(w.lower() in _CLAUSE_WORDS for w in mid):
        return None  # another quantity or calculation, or a second clause, before this one
    while mid and mid[-1].lower() in _HEDGES:
        mid.pop()
    if mid and mid[-1].lower() in ("of", "than", "as", "the", "a", "an", "and", "is", "are", "be"):
        return None
    head = phrase.noun[0].lower() if phrase.noun else ""
    if mid and mid[-1].lower() == "for" and (head in _DURATIONS or head in _DISTANCES):
        mid.pop()  # "worked for 8 hours" -> "How many hours did he work?"
    if len(mid) > 8:
        return None
    return " ".join(mid)


def _finish(question: str) -> str | None:
    text = re.sub(r"\s+", " ", question).strip().rstrip(",;:.")
    text = text.replace(" ,", ",")
    if not text or len(text.split()) > _MAX_WORDS or re.search(r"[=<>]|___", text):
        return None
    if text.count("(") != text.count(")"):
        return None
    return text[0].upper() + text[1:] + "?"
