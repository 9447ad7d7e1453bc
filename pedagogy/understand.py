"""Message understanding: what is the student doing with this message?

Rule-based today, behind the ``Understander`` protocol so that a model-based classifier can replace it. Attempts to
get the answer or to change the tutor's rules are recognised by named patterns, so a teacher can see which one fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from pedagogy.answers import extract_committed_value
from pedagogy.numbers import NumberMention

Intent = Literal[
    "answer_attempt",
    "help_request",
    "concept_question",
    "off_task",
    "greeting",
    "thanks",
    "frustration",
    "answer_request",
    "rule_change",
    "unclear",
]

# Attempts to change the tutor's rules (prompt injection, Jatmo-style), by name.
RULE_CHANGE_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "ignore_instructions": r"\b(?:ignore|disregard|forget|override|bypass|skip)\b.{0,40}?\b(?:instructions?|rules?|"
        r"prompt|directions|guidelines|restrictions|programming|constraints)\b",
        "new_rules": r"\b(?:new|updated|different)\s+(?:rules?|instructions?)\b|\byou\s+(?:are|'re)\s+(?:now\s+)?"
        r"(?:allowed|permitted|free)\s+to\b|\bno\s+(?:more\s+)?(?:rules|restrictions|limits)\b|"
        r"\b(?:developer|debug|god|admin)\s+mode\b|\bjailbreak|\bDAN\b",
        "authority_claim": r"\b(?:my|the|our)\s+(?:teacher|tutor|instructor|professor|mom|dad|parents?|principal)\s+"
        r"(?:says?|said|told|allows?|lets?|wants?|gave|has\s+given|is\s+ok)\b|\bi(?:'m|\s+am)\s+(?:the|a|your)\s+"
        r"(?:teacher|admin|administrator|developer|owner)\b|\bi\s+have\s+permission\b|\b(?:authori[sz]ed|permission)"
        r"\s+to\s+(?:see|get|know)\b",
        "role_play": r"\b(?:pretend|imagine)\s+(?:that\s+)?(?:you|you're|you\s+are|to\s+be)\b|\bact\s+as\b|\byou\s+are"
        r"\s+now\b|\brole[\s-]?play\b|\blet'?s\s+play\s+a\s+game\b|\bfrom\s+now\s+on,?\s+you\b|\bstay\s+in\s+"
        r"character\b|\bplay\s+the\s+role\b",
        "prompt_extraction": r"\b(?:show|reveal|print|repeat|tell|give|what\s+(?:is|are)|what'?s)\s+(?:me\s+)?"
        r"(?:your|the)\s+(?:system\s+|hidden\s+|secret\s+|original\s+)?(?:prompt|instructions|rules|"
        r"guidelines|plan)\b",
        "fake_system_message": r"(?:^|\n)\s*(?:system|assistant|developer)\s*:|\[/?(?:system|inst)\]|<\|?im_start|"
        r"###\s*(?:instruction|system)|<\s*/?\s*system\s*>",
        "encoded_answer": r"\b(?:spell|write|say|type|encode|give)\b.{0,30}\b(?:backwards|in\s+reverse|in\s+"
        r"(?:base64|binary|hex|roman|french|spanish|code|words)|one\s+digit\s+at\s+a\s+time|digit\s+by\s+digit|"
        r"as\s+a\s+(?:riddle|poem|song|story)|first\s+digit)\b|\bwithout\s+(?:saying|telling|writing)\s+"
        r"(?:it|the\s+(?:answer|number))\b|\bhide\s+the\s+answer\b",
        "repeat_after_me": r"\brepeat\s+after\s+me\b|\bjust\s+say\s+[\"'“]|\bsay\s+(?:yes|ok|correct)\s+if\b|"
        r"\bconfirm\s+(?:that\s+)?(?:it'?s|the\s+answer)\b|\breply\s+(?:only\s+)?with\s+(?:the\s+)?"
        r"(?:number|answer)\b",
    }.items()
}

ANSWER_REQUEST_RE = re.compile(
    r"\bjust\s+(?:tell|give|show)\b|\b(?:tell|give|show|send)\s+(?:me|us)\s+(?:the\s+|your\s+)?(?:final\s+|correct\s+|"
    r"right\s+|real\s+)?(?:answer|solution|result)\b|\bwhat(?:'s|\s+is)\s+the\s+(?:final\s+|correct\s+|right\s+)?"
    r"(?:answer|solution|result)\b|\b(?:solve|do)\s+(?:it|this|the\s+problem)\s+for\s+me\b|\bi\s+(?:just\s+)?"
    r"(?:want|need)\s+(?:the|to\s+know\s+the)\s+answer\b|\b(?:reveal|spill)\s+(?:the\s+)?answer\b|\bcan\s+you\s+"
    r"(?:just\s+)?(?:tell|give)\s+me\b|\banswer\s+please\b|\bwhat\s+does\s+it\s+(?:come\s+to|equal)\b",
    re.IGNORECASE,
)
FRUSTRATION_RE = re.compile(
    r"\bi\s+give\s+up\b|\bi\s+(?:can'?t|cannot)\s+do\s+(?:this|it)\b|\bthis\s+is\s+(?:so\s+)?(?:stupid|dumb|"
    r"pointless|impossible|too\s+hard|annoying|boring)\b|\bi\s+hate\b|\bugh+\b|\bargh+\b|\bi'?m\s+(?:so\s+)?"
    r"(?:frustrated|done|tired|sick\s+of)\b|\bwhatever\b|\bforget\s+it\b|\bi\s+quit\b|\bi'?m\s+(?:so\s+)?bad\s+at\b",
    re.IGNORECASE,
)
HELP_RE = re.compile(
    r"\bhint\b|\bhelp\b|\bi\s+don'?t\s+(?:know|get\s+it|understand)\b|\bidk\b|\bno\s+idea\b|\bnot\s+sure\b|"
    r"\bhow\s+do\s+i\s+(?:start|begin|do|solve|find|work)\b|\bwhere\s+do\s+i\s+(?:start|begin)\b|\bstuck\b|"
    r"\bconfused\b|\blost\b|\bwhat\s+do\s+i\s+do\b|\bwhat\s+should\s+i\s+do\b|\bdunno\b|\bclue\b",
    re.IGNORECASE,
)
CONCEPT_RE = re.compile(
    r"\bwhat\s+(?:does|do|is|are)\s+(?:a|an|the)?\s*['\"]?(\w+(?:\s\w+)?)['\"]?\s+mean\b|\bwhat\s+(?:is|are)\s+"
    r"(?:a|an)\s+(\w+)|\bwhat'?s\s+(?:a|an)\s+(\w+)|\bmeaning\s+of\s+(\w+)|\bdefin(?:e|ition\s+of)\s+(\w+)|"
    r"\bhow\s+do\s+(?:you|i|we)\s+(\w+)\s+(?:fractions|decimals|percent|numbers)\b|\bwhy\b.*\?",
    re.IGNORECASE,
)
GREETING_RE = re.compile(
    r"^\s*(?:hi|hello|hey|yo|hiya|good\s+(?:morning|afternoon|evening))\b[\s!.,]*(?:there|tutor)?[\s!.]*$",
    re.IGNORECASE,
)
THANKS_RE = re.compile(
    r"^\s*(?:thanks|thank\s+you|thx|ty|cheers|ok(?:ay)?|cool|great|got\s+it)\b[\s\w!.,]{0,20}$", re.I
)
_MATH_WORDS_TEXT = """
add added adding plus sum total minus subtract subtracted difference times multiply multiplied product divide divided
quotient half double twice each per percent fraction equals equal left remaining more less fewer altogether number
numbers answer step cost costs price
"""
MATH_WORDS = frozenset(_MATH_WORDS_TEXT.split())
OFF_TASK_RE = re.compile(
    r"\b(?:game|games|fortnite|minecraft|roblox|tiktok|youtube|movie|movies|music|song|lunch|dinner|weather|"
    r"football|soccer|basketball|weekend|party|boyfriend|girlfriend|crush|joke|bored|lol|lmao|your\s+name|who\s+"
    r"are\s+you|are\s+you\s+(?:a\s+)?(?:robot|human|real|ai)|pizza|pet|dog|cat)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    value: NumberMention | None = None
    rule_change_patterns: tuple[str, ...] = ()
    concept: str | None = None
    also: tuple[Intent, ...] = ()  # secondary intents, e.g. frustration alongside an answer


class Understander(Protocol):
    """Anything that classifies a student message; a model can implement this later."""

    def understand(self, message: str, *, vocabulary: frozenset[str] = frozenset()) -> Understanding: ...


class RuleBasedUnderstander:
    """Classify with regular expressions, most safety-relevant intent first."""

    def understand(self, message: str, *, vocabulary: frozenset[str] = frozenset()) -> Understanding:
        text = message.strip()[:2000]
        rule_changes = tuple(name for name, pattern in RULE_CHANGE_PATTERNS.items() if pattern.search(text))
        if rule_changes:
            return Understanding("rule_change", rule_change_patterns=rule_changes)
        value = extract_committed_value(text)
        found: list[Intent] = []
        if ANSWER_REQUEST_RE.search(text):
            found.append("answer_request")
        if FRUSTRATION_RE.search(text):
            found.append("frustration")
        if value is not None:
            found.append("answer_attempt")
        if HELP_RE.search(text):
            found.append("help_request")
        concept = CONCEPT_RE.search(text)
        if concept:
            found.append("concept_question")
        if GREETING_RE.match(text):
            found.append("greeting")
        if THANKS_RE.match(text):
            found.append("thanks")
        words = set(re.findall(r"[a-z]+", text.lower()))
        if not found and (
            OFF_TASK_RE.search(text) or (len(words) >= 3 and not words & (MATH_WORDS | vocabulary) and value is None)
        ):
            found.append("off_task")
        if not found:
            return Understanding("unclear")
        # An answer that comes with a request for the answer is still an answer request; one that comes with
        # frustration ("ugh, 24?") is an attempt.
        order: tuple[Intent, ...] = (
            "answer_request",
            "answer_attempt",
            "frustration",
            "help_request",
            "concept_question",
            "greeting",
            "thanks",
            "off_task",
        )
        primary = next(i for i in order if i in found)
        term = next((g for g in concept.groups() if g), None) if concept else None
        return Understanding(
            primary,
            value=value,
            concept=term.lower() if term else None,
            also=tuple(i for i in found if i != primary),
        )
