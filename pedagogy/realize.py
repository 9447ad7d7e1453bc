"""The template realizer: natural, varied wording for every plan, with no model at all.

Wording is chosen with a ``random.Random`` seeded from the plan, so the same plan always reads the same (tests and
transcripts are reproducible) while consecutive turns vary. Templates carry no numbers of their own: every number in
a realization comes from the plan (authored text, the student's own value or claim, a worked example), which is what
the guard allows.

The tutor never sends the same text twice in a row: ``realize`` takes the session's recent tutor texts and walks
through the other phrasings of the same plan until one differs; ``deliver`` rejects a model reply that repeats the
previous one.

``deliver`` is the last step of a turn: the model's reply if the guard passes it, else this realization, else a
minimal reply that cannot fail the guard.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pedagogy.guard import GuardContext, GuardVerdict, check_reply, missing_content, releasable_prefix
from pedagogy.plan import TurnPlan

# Templates speak to a 10-14 year old: short sentences, plain words, warm but not gushing. Each is filled from the
# plan's slots ({value}, {claim}, {operand}, ...); a template whose slots the plan leaves empty is skipped, so a pool
# may mix general wordings with ones that quote the student. A template never starts with "Yes", "Right", "Correct"
# and the like unless its kind confirms a right answer: the guard rejects an affirmation of a wrong one.

_ACK: dict[str, tuple[str, ...]] = {
    "frustration": (
        "I can tell this is frustrating, and that's okay.",
        "This is a tough step, and being stuck is part of learning it.",
        "Hang in there; hard problems feel like this before they click.",
        "It's okay to find this hard. Lots of people do.",
        "Tricky steps are worth slowing down for, so let's do that.",
    ),
    "answer_request": (
        "I won't hand you the answer, but I'll help you get there yourself.",
        "Giving you the answer wouldn't help you learn it, so let's find it together.",
        "I can't just tell you, but you're closer than you think.",
        "You'll remember it much better if you work it out, and I'll help.",
        "I'd rather help you find it than say it for you.",
    ),
    "rule_change": (
        "I'm here to help you work it out yourself, and that doesn't change.",
        "Nice try! My job is still to help you solve it on your own.",
        "I'll stick to helping you think it through.",
        "Good try, but my rules stay the same: you do the solving, I help.",
        "That won't change how I work. I'm here to help you think.",
    ),
    "greeting": ("Hi there!", "Hello!", "Hey, good to see you!", "Hi, welcome!", "Hello, nice to see you!"),
    "thanks": ("You're welcome!", "Happy to help!", "Any time!", "Glad to help!", "My pleasure!"),
    "off_task": (
        "Let's save that for later and get back to the problem.",
        "Interesting! For now, let's focus on the math.",
        "Let's bring our attention back to the problem.",
        "That sounds fun, but let's finish the problem first.",
        "Good thought for another time. The problem needs us now.",
    ),
    "explanation": (
        "Thanks for explaining your thinking.",
        "I see how you were thinking about it.",
        "Thanks, that helps me see your approach.",
        "Thank you for telling me how you did it.",
        "That helps: now I can see what you tried.",
        "Okay, I follow what you did.",
        "Good, you've shown me your thinking.",
        "Seeing your working really helps.",
    ),
}

# Claims the student got right, said before pointing at the mistake: first the good news, in their own words.
_CREDITED: dict[str, tuple[str, ...]] = {
    "single": (
        "Your first step is right: {credited}.",
        "Good start: {credited} is correct.",
        "{credited} is spot on.",
        "You got {credited} right.",
        "Nice, {credited} checks out.",
    ),
    "many": (
        "Your first steps are right: {credited}.",
        "Good start: {credited} are all correct.",
        "{credited}: those are spot on.",
        "You got {credited} right.",
        "Nice work on {credited}; those check out.",
    ),
}

# The body of each reply, by sub-kind (and by variant where a sub-kind reads differently with different material).
# A body that carries "{question}" places the question itself; otherwise the kind's question line follows it.
_BODY: dict[str, tuple[str, ...]] = {
    "greet": (
        "Let's work through this problem together.",
        "Let's take this step by step.",
        "Ready when you are.",
        "We'll solve this together, and you'll do the thinking.",
        "Let's go a piece at a time.",
        "I'll ask questions, you'll think, and we'll get there together.",
    ),
    "ask": (
        "Let's look at this step.",
        "Here's the question to think about.",
        "Take it step by step.",
        "Let's stay with this part for now.",
        "Give this part a go.",
        "Tell me what you think: {question_lc}",
    ),
    "confirm": (
        "Yes, {value} is right.",
        "That's it: {value}.",
        "Exactly, {value}. Nice work.",
        "Correct, {value}!",
        "{value} is spot on. Well done.",
        "Nice, {value} checks out.",
        "Good thinking: {value} is right.",
    ),
    "hint": (
        "Here's a hint: {hint}",
        "Something that might help: {hint}",
        "Think about this: {hint}",
        "A clue for you: {hint}",
        "Let me give you a nudge. {hint}",
        "Try looking at it this way. {hint}",
        "Keep this question in mind: {question} Here's a clue to help: {hint}",
        "{hint} Does that help? {question}",
    ),
    "scaffold_question": (
        "Let's try a smaller question first.",
        "Let's break it into a smaller piece.",
        "Let's make it simpler for a moment.",
        "Here's a smaller step that leads there.",
        "Let's zoom in on just part of it.",
        "A smaller question might unlock this.",
        "{value} isn't it yet, so let's try a smaller piece.",
        "Let's park {value} for a moment and answer something smaller.",
    ),
    "explain_concept": (
        "Good question. {concept}",
        "{concept}",
        "Here's what that means: {concept}",
        "Glad you asked. {concept}",
        "Let me put it simply. {concept}",
        "That word matters here. {concept}",
    ),
    # Always after an acknowledgement that already turns back to the problem, so these stay short.
    "redirect": (
        "",
        "Let's keep going.",
        "Back to it.",
        "Here's where we were.",
        "Let's pick up where we left off.",
        "We were in the middle of something good.",
    ),
    # A bare value with no working shown: ask how the student got it before correcting anything.
    "probe": (
        "You said {value}. Can you walk me through how you got it?",
        "How did you get {value}? Tell me the steps you took.",
        "Interesting, {value}. What did you do to get there?",
        "Talk me through {value}: which numbers from the problem did you use?",
        "I'd like to see your thinking. What steps led you to {value}?",
        "Where does {value} come from? Show me your working.",
        "Explain {value} to me: which operation did you use, and on which numbers?",
        "Let's look at {value} together. What did you work out first, and what came next?",
    ),
    # No value to ask about: ask about the approach.
    "probe_no_value": (
        "What do you already know from the problem that could help with this step?",
        "Which quantities from the problem does this step use, and what would you do with them?",
        "Let's reason it through: what information in the problem matters for this step?",
        "How would you start this step? Tell me your plan, even if you're not sure.",
        "What have you tried so far? Tell me your thinking, and we'll build on it.",
        "Which numbers in the problem belong to this step, and why?",
        "Imagine you had to explain this step to a friend. What would you say it's asking?",
    ),
    # The value answers an earlier question; the feedback names which.
    "probe_earlier": (
        "{feedback} Which quantity is this step asking for?",
        "{feedback} So what is this step looking for?",
        "You found {value} before. {feedback} What does this step want instead?",
        "{feedback} This step wants something new. What is it?",
        "{value} was useful earlier. {feedback} How does this step build on it?",
    ),
    "misconception_feedback": (
        "{feedback}",
        "Let's check that together. {feedback}",
        "Hmm, look again. {feedback}",
        "I see why {value} is tempting. {feedback}",
        "Let's think about {value} for a moment. {feedback}",
        "Here's something to notice about {value}. {feedback}",
        "Here's something to think about. {feedback}",
        "Let's pause on that. {feedback}",
    ),
    "tell_step": (
        "Let me show you this step: {told}",
        "Here's how this step works: {told}",
        "Let's walk through this step together: {told}",
        "This step is tricky, so let me show you how it goes: {told}",
        "Here's how it works: {told}",
        "Let me show you, and then it's your turn. {told}",
    ),
    "encourage": (
        "You're doing fine: mistakes are how we learn.",
        "Don't worry, we'll figure it out together.",
        "You've got this; let's slow down.",
        "Take a breath. Everybody who does math gets stuck sometimes.",
        "Being stuck means your brain is working hard.",
        "Let's take it slowly, at your pace.",
    ),
    "wrap_up": (
        "Well done, {value} is right and you've solved the problem!",
        "You solved it: {value}. Great persistence!",
        "That's right, {value}! You worked it out yourself.",
        "{value} it is. You did it, and the problem is finished!",
        "Yes! {value} solves it. Great work: you kept going and it paid off.",
        "And that's it: {value}. Congratulations, you cracked the whole problem!",
    ),
    "wrap_up_no_value": (
        "You solved this problem. Well done!",
        "The problem is finished. Nice work!",
        "Great job getting to the end of this problem!",
        "You got there. Well done!",
        "All done, and you did the thinking!",
    ),
    "close": (
        "You've already finished this problem. Nice work!",
        "This problem is done. Great job today!",
        "All done here. Well worked!",
        "This problem is finished. Pick a new problem whenever you like.",
        "Nothing left to solve here. Nice effort!",
        "You've wrapped this problem up. See you on the next problem!",
    ),
    # After the student's reflection: thanks, a word on why looking back helps, and goodbye. No question.
    "acknowledge_reflection": (
        "Thanks for thinking back over it. Noticing what helped is how you get better at problems like this. "
        "Nice work today!",
        "Thank you for reflecting. Knowing which part was hard makes the next problem easier. Well done!",
        "Thanks for sharing that. Looking back like this helps the ideas stick. Great work on this problem!",
        "Thanks for reflecting on it. That kind of thinking is what good problem solvers do. "
        "See you on the next problem!",
        "Thanks, that's a thoughtful answer. Spotting what worked means you can use it again. Nicely done!",
        "Thank you for looking back. Explaining your steps shows you really understood them. Well done today!",
    ),
    # The hint ladder of this step is spent: say so honestly, and what the student can still do.
    "hints_used_up": (
        "There are no more hints for this step, but you can still get there. Read the problem again slowly and "
        "find the numbers you need.",
        "That was the last hint for this step. Tell me what you've tried so far, and we'll look at it together.",
        "I've given all the hints I have for this step. Go back to the numbers in the problem and say what each "
        "of them means, or ask your teacher.",
        "For this step, the hints are used up, so it's over to you. Explain what you've tried and I'll ask about it.",
        "You've used the hints for this step. You can re-read the problem, try an easier part of it, or ask your "
        "teacher for help.",
        "There isn't another hint for this step, but you're not on your own: tell me your thinking so far, or put "
        "your hand up for your teacher.",
    ),
    # The step has no hints of its own to give (and none were given): say so, and what the student can do.
    "hints_none": (
        "I don't have a hint for this step, but you can get there. Which numbers in the problem does it use?",
        "This step has no hint of its own. Tell me what you know so far, and we'll build on it.",
        "There isn't a hint for this step, so let's reason together: what does the question want you to find?",
        "No hint for this step, I'm afraid. Try saying in words what happens in the story, then pick the operation.",
        "This step doesn't come with a hint. Start from what the problem tells you: which amounts matter here?",
        "I can't give a hint for this step, but you can still work it out. What would you try first?",
    ),
    "worked_example": (
        "Here is a similar problem, worked out: {example}",
        "Let's look at a problem like this first. {example}",
        "Here's an example with different numbers: {example}",
        "See how this similar case works: {example}",
        "A worked example might help. {example}",
        "Watch the same idea with other numbers: {example}",
    ),
    # The student's calculation does not give the value they wrote. Only their own numbers are used: checking it
    # another way ({check}: multiplying back, adding back, counting groups) never states the right value.
    "mistake_arithmetic": (
        "Let's check a calculation: {claim}. Test it: {check}",
        "A quick way to test {claim}: {check}",
        "Let's test {claim} another way. {check_cap}",
        "Have a look at {claim} again. Work it out slowly. What do you get?",
        "I think a calculation slipped: {claim}. Can you work that out again?",
        "Check {claim} for me. Does it really come out that way?",
        "The idea is fine; it's the calculation {claim} that needs another look. Can you redo it?",
        "Work {claim} out again, step by step. Do you still get {value}?",
    ),
    # The right numbers with the wrong operation.
    "mistake_operation": (
        "You did {claim}. Which operation does the question call for here?",
        "Look at {claim}: the numbers are good, but is that the operation the story needs?",
        "You used the right numbers in {claim}. Read the problem again: should they be added, taken away, "
        "multiplied or divided?",
        "Think about what's happening in the story. Does {claim} match it, or does it need a different operation?",
        "In {claim}, what does your operation mean in the story? Is that what happens in the problem?",
        "Which words in the problem tell you what to do with the numbers? Compare them with {claim}.",
        "How did you combine the numbers to get {value}? Which operation does the question call for?",
    ),
    # A number that is not the step's: made up, or a wrong earlier value.
    "mistake_quantity": (
        "Where does {operand} come from?",
        "You used {operand} in {claim}. Which part of the problem does that number come from?",
        "Tell me about {operand}: what does it count in the problem?",
        "Let's check your numbers. In {claim}, is {operand} the number this step needs?",
        "I'm not sure {operand} belongs here. Which numbers does the problem give you for this step?",
        "What does {operand} stand for? Find it in the problem and check it's the number you want.",
    ),
    # A number close to, but not, one the problem gives.
    "mistake_misread": (
        "Have another look at the problem: does it say {operand}?",
        "Read the problem again carefully. Is {operand} the number it gives?",
        "Check the numbers you copied. Does the problem really say {operand}?",
        "You wrote {operand} in {claim}. Find that number in the problem: is it exactly the same?",
        "Put your finger on each number in the problem. Which of them did you mean by {operand}?",
        "Maybe a small slip: the problem's numbers and yours might not match. Where did you read {operand}?",
    ),
    # Right arithmetic on the way to a wrong answer: a step the question does not need, or one still missing.
    "mistake_path": (
        "Your arithmetic in {claim} is right. Is {value} what the question asks for, or is there a step still to do?",
        "{claim} works out. What does {value} stand for in the story, and is that what we need?",
        "The calculation {claim} is fine. Read the question again: does it need {value}, or something else?",
        "Let's look at {claim}. The numbers add up, but does this step answer the question being asked?",
        "You worked out {claim} correctly. Which quantity is {value}, and which quantity does the question want?",
        "{claim} is right as arithmetic. Tell me what {value} means here: is it the answer, or part of the way?",
    ),
    # The right number called another quantity ("60 cups per meal" where 60 is per day; "4 ducks" for the frogs).
    "mistake_naming": (
        "Check what {value} counts. In {claim}, is {value} really what you say it is? Read the problem again.",
        "Look at the words you put with {value}. Does the problem agree that is what {value} counts?",
        "{claim}: what does {value} stand for in the story? Compare it with what you called it.",
        "Let's pin down {value}. Which quantity in the problem is it, exactly?",
        "Read the problem once more and find what {value} measures. Is it the thing you said?",
        # Without the student's numbers (when quoting them would say a value the reply must not):
        "Your arithmetic holds up. Now check the words: is each number the quantity you say it is?",
        "Check what each of your numbers counts. Does the problem agree with what you called it?",
    ),
    # The same for a value stated on its own: a step's right number, said to be another quantity.
    "mistake_naming_value": (
        "Check what {value} counts. Is it really what you say it is? Read the problem again.",
        "Look at the words you put with {value}. Does the problem agree that is what {value} counts?",
        "Let's pin down {value}. Which quantity in the problem is it, exactly?",
        "Read the problem once more and find what {value} measures. Is it the thing you said?",
        "{value} does turn up in this problem, but as what? Compare it with what you called it.",
    ),
    # The same for a value stated without its calculation: nothing to call right as arithmetic.
    "mistake_path_value": (
        "You found {value}. What does {value} stand for in the story, and is it what the question asks for?",
        "Tell me what {value} means here: is it the answer, or part of the way there?",
        "Where does {value} fit in the story? Check it against what the question wants.",
        "Read the question again: does it ask for {value}, or for something you still have to work out?",
        "Let's look at {value}. Which quantity is it, and which quantity does the question want?",
    ),
    # An answer that stops short: a value that is not the whole answer, or lacks the unit the question asks for.
    "mistake_partial": (
        "Almost! {value} is close, but it doesn't finish the job yet. What exactly does the question ask for?",
        "You're nearly there with {value}. Is that the whole answer, or is a piece missing, like a unit or a "
        "last step?",
        "{value} what? Read the question again: what should your answer be counting?",
        "Good, {value} is on the way. Does it answer the question fully, and in the right unit?",
        "So close. Check {value} against the question: does it say everything the question asks?",
        "Nearly! You have {value}. What is missing before it answers the question?",
    ),
    # One side of an equation ("4n + 7") or a calculation not yet done ("3 x 8"): ask what it is equal to.
    "mistake_partial_expression": (
        "Almost: {claim} is only part of it. What is it equal to?",
        "You've written {claim}. What does that equal?",
        "Nearly there. {claim} needs an equals sign and something after it. What goes there?",
        "{claim} is a good start. Can you finish it: {claim} = what?",
        "So close! What is {claim} equal to?",
        "Almost! Finish the thought: {claim} equals what?",
    ),
    # No mistake kind, or the plan lacks what that kind's wordings quote.
    "mistake": (
        "Let's look at your working again. Which part are you least sure about?",
        "Something in {claim} doesn't fit yet. Can you check each part of it?",
        "Walk me through {claim}: what does each number stand for?",
        "Take another look at {claim}. Does every part of it make sense?",
        "Let's go over {claim} together. Which part of it are you least sure about?",
        "Look closely at {claim}. Do the numbers, the operation and the result all fit the problem?",
        "Can you check your working for {value}, step by step?",
    ),
}

# The line that carries the question after a body, by what the body did.
_TAIL: dict[str, tuple[str, ...]] = {
    "again": (
        "{question}",
        "Try again: {question}",
        "So, {question}",
        "Let's come back to it: {question}",
        "Have another go: {question}",
        "Here's the question again: {question}",
    ),
    "next": (
        "Next: {question}",
        "Now, {question}",
        "Here's the next question: {question}",
        "On to the next part: {question}",
        "Let's keep going. {question}",
        "Next up: {question}",
    ),
    "smaller": (
        "{question}",
        "Try this: {question}",
        "Here it is: {question}",
        "Just this part: {question}",
        "Start with this: {question}",
    ),
    "after_hint": (
        "{question}",
        "With that in mind, {question}",
        "Now, {question}",
        "So, {question}",
        "Using that, {question}",
        "Try again: {question}",
    ),
    "after_concept": (
        "Now, back to the problem: {question}",
        "With that, {question}",
        "{question}",
        "So, {question}",
        "Keeping that in mind, {question}",
    ),
    "greet": ("{question}", "Here's the question: {question}", "Think about this: {question}"),
    "ask": ("{question}", "So, {question}", "Tell me: {question}"),
    "remember": (
        "The question is: {question}",
        "Here it is again: {question}",
        "Remember, {question}",
        "Keep this in mind: {question}",
        "We're working on this: {question}",
    ),
    "still": (
        "{question}",
        "The question is still: {question}",
        "Here it is again: {question}",
        "Take another look: {question}",
        "When you're ready: {question}",
    ),
    "your_turn": (
        "Now try yours: {question}",
        "Can you do the same here? {question}",
        "Your turn: {question}",
        "Use the same idea: {question}",
        "Now, {question}",
    ),
    "first_try": ("Where would you start?", "What would you try first?", "What could you work out first?"),
    "reflect": (
        "Looking back, which step was the key step for you?",
        "What would you do the same way on a problem like this next time?",
        "Which part of the problem took the most thinking, and why?",
        "If a friend were stuck on this, what would you tell them?",
        "What was the trickiest moment, and how did you get past it?",
        "What's something you'd check next time on a problem like this?",
    ),
}
# Kept for readers of the reflection questions by name.
_REFLECT = _TAIL["reflect"]

# Said first when every phrasing of a plan would repeat the previous reply word for word.
_LEAD_IN = (
    "Let's look at it again.",
    "Okay, here we go.",
    "Let's keep at it.",
    "Take your time with this.",
    "Let's think it over.",
)

# The minimal replies: no numbers, no authored text, so no guard rule can reject them; several of each, so even
# the last resort does not repeat itself.
_SAFE: dict[str, tuple[str, ...]] = {
    "statement": ("Nice work on this problem.", "Well done on this problem.", "Good work today."),
    "wrap_up": (
        "Well done, you solved it! Which step was the key step for you?",
        "You solved it, nice work! What was the trickiest part?",
        "Great job solving it! What helped you most?",
    ),
    "question": (
        "Let's look at this step again together. What would you try first?",
        "Let's slow down and look at this step. What do you know so far?",
        "Let's think about this step together. Where could you start?",
    ),
}

# Kinds that answer a wrong or unfinished claim, and so open with the student's right ones.
_CREDIT_KINDS = ("point_at_mistake", "almost", "misconception_feedback", "probe")
_MISTAKE_POOLS = ("arithmetic", "operation", "quantity", "misread", "partial", "path", "naming")
_NUMBER = r"\$?\d[\d,]*(?:\.\d+)?"
# "70 / 3 = 24": the student's own calculation, which can be checked another way with the same numbers.
_CALCULATION_RE = re.compile(
    rf"^\s*(?P<a>{_NUMBER})\s*(?P<op>[-+*/x\u00d7\u00f7\u2212])\s*(?P<b>{_NUMBER})\s*=\s*(?P<c>{_NUMBER})\s*$",
    re.IGNORECASE,
)
# An operation, or a number times a letter ("4n"), in a claim with no "=": one side of an equation, or a
# calculation not yet done.
_EXPRESSION_RE = re.compile(r"[+*/^\u00d7\u00f7\u2212]|(?<=[\w)])\s*-\s*(?=[\w(])|\d[a-z]\b|\d\s+x\s+\d", re.I)
# A value written as a fraction ("3/4"), not a division still to do ("72 / 3").
_FRACTION_RE = re.compile(r"\s*-?\d+/\d+\s*")
_TIMES, _DIVIDED_BY, _MINUS = "\u00d7", "\u00f7", "\u2212"
# Each operation and the one that undoes it, written as a student reads it.
_INVERSE = {
    "/": _TIMES,
    _DIVIDED_BY: _TIMES,
    "-": "+",
    _MINUS: "+",
    "+": "-",
    "*": _DIVIDED_BY,
    "x": _DIVIDED_BY,
    "X": _DIVIDED_BY,
    _TIMES: _DIVIDED_BY,
}


def _question(text: str) -> str:
    """Make sure an authored prompt reads as a question."""
    q = text.strip()
    return q if "?" in q else f"{q} What do you get?"


# Opening words that read in lower case after a lead-in ("So, how many..."); any other first word (a name, "I")
# keeps its capital.
_LOWERABLE = frozenset(
    {
        *("what", "how", "which", "who", "whose", "where", "when", "why", "if", "now", "so", "then"),
        *("is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should"),
        *("the", "a", "an", "each", "every", "in", "on", "at", "for", "after", "before"),
        *("use", "find", "write", "work", "look", "try"),
    }
)


def _lower_first(text: str) -> str:
    """Lower-case a question's first word where it continues a sentence; names and "I" keep their capital."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    if first[:1].isupper() and first.strip(",.:;?!").lower() in _LOWERABLE:
        return text[:1].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    """Capitalize an opening word, but never a lone letter: "x + 3" names a variable, which keeps its case."""
    return text[:1].upper() + text[1:] if re.match(r"[a-z][a-z'\-]+\b", text) else text


@lru_cache(maxsize=512)
def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _check(claim: str | None) -> str:
    """A question that checks the student's calculation another way, or "" when the claim is not a calculation.

    "70 / 3 = 24" gives "does 24 times 3 give 70?" (with the sign for times) and "3 x 8 = 25" gives "do 3 groups
    of 8 make 25?": only the student's numbers, and no right value, which the student then works out.
    """
    m = _CALCULATION_RE.match(claim or "")
    if m is None:
        return ""
    a, op, b, c = m["a"], m["op"], m["b"], m["c"]
    if _INVERSE[op] == _DIVIDED_BY and "$" not in a + b:
        # Dividing back leaves a remainder to puzzle over; groups are what a multiplication means.
        return f"do {a} groups of {b} make {c}?"
    return f"does {c} {_INVERSE[op]} {b} give {a}?"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _body_key(plan: TurnPlan) -> str:
    kind = plan.sub_kind
    if kind == "probe":
        if plan.feedback:
            return "probe_earlier"
        return "probe" if plan.student_value else "probe_no_value"
    if kind == "wrap_up" and not plan.student_value:
        return "wrap_up_no_value"
    if kind == "almost" or (kind == "point_at_mistake" and plan.mistake == "partial"):
        claim = plan.claim or ""
        unfinished = "=" not in claim and _EXPRESSION_RE.search(claim) and not _FRACTION_RE.fullmatch(claim)
        return "mistake_partial_expression" if unfinished else "mistake_partial"
    if kind == "point_at_mistake" and plan.mistake in ("path", "naming") and plan.claim and "=" not in plan.claim:
        return f"mistake_{plan.mistake}_value"
    if kind == "point_at_mistake":
        return f"mistake_{plan.mistake}" if plan.mistake in _MISTAKE_POOLS else "mistake"
    if kind == "hints_used_up" and plan.help_given == 0:
        return "hints_none"
    return kind


def _tail_key(plan: TurnPlan) -> str | None:
    kind = plan.sub_kind
    if kind == "wrap_up":
        return "reflect"
    if kind in ("point_at_mistake", "almost", "close", "acknowledge_reflection"):
        return None  # the body asks its own question, or the turn asks none
    if not plan.question:
        return "first_try" if kind == "encourage" else None
    if kind == "probe":
        if plan.feedback:
            return "again"
        return None if plan.student_value else "remember"
    return {
        "confirm": "next",
        "tell_step": "next",
        "scaffold_question": "smaller",
        "greet": "greet",
        "ask": "ask",
        "hint": "after_hint",
        "explain_concept": "after_concept",
        "hints_used_up": "still",
        "worked_example": "your_turn",
    }.get(kind, "again")


@dataclass(frozen=True)
class _Line:
    """One part of a reply: its phrasings, already filled, and where the plan's seed starts among them."""

    texts: tuple[str, ...]
    start: int
    asks: tuple[bool, ...] = ()  # per phrasing: it places the question itself, so no question line follows


def _lines(plan: TurnPlan, rng: random.Random) -> tuple[_Line | None, _Line | None, _Line | None, _Line | None]:
    """The acknowledgement, credit, body and question lines of a plan, in reading order."""
    question = _question(plan.question) if plan.question else ""
    slots = {
        "value": plan.student_value or "",
        "hint": plan.hint or "",
        "feedback": plan.feedback or "",
        "told": plan.told or "",
        "concept": plan.concept or "",
        "claim": (plan.claim or "").strip(),
        "operand": plan.operand or "",
        "example": plan.example or "",
        "check": _check(plan.claim),
        "question": question,
        "question_lc": _lower_first(question),
    }
    slots["check_cap"] = _upper_first(slots["check"])

    def pool(templates: tuple[str, ...], fill: dict[str, str]) -> tuple[str, ...]:
        return tuple(t for t in templates if all(fill.get(name) for name in _fields(t)))

    def line(texts: tuple[str, ...], asks: tuple[bool, ...] = ()) -> _Line | None:
        # The start is drawn even for an empty pool, so one part's size never shifts another part's choice.
        start = rng.randrange(1 << 30)
        return _Line(texts, start % len(texts), asks) if texts else None

    ack: _Line | None = None
    draw = rng.randrange(1 << 30)
    if plan.acknowledge and plan.sub_kind != "acknowledge_reflection":  # that body is itself the acknowledgement
        texts = _ACK[plan.acknowledge]
        ack = _Line(texts, draw % len(texts))
    credit_templates: tuple[str, ...] = ()
    credited = [c.strip() for c in plan.credited if c.strip()]
    if credited and plan.sub_kind in _CREDIT_KINDS:
        credit_templates = _CREDITED["single" if len(credited) == 1 else "many"]
    credit = line(tuple(t.format(credited=_join(credited)) for t in credit_templates))
    key = _body_key(plan)
    templates = pool(_BODY[key], slots)
    if key.startswith("mistake") and slots["claim"]:
        # With the student's claim in hand, point at it: the wordings that only quote a value are for plans without.
        templates = tuple(t for t in templates if _fields(t) & {"claim", "operand", "check"}) or templates
    if not templates and key.startswith("mistake_"):
        templates = pool(_BODY["mistake"], slots)  # the kind's wordings need a claim or operand the plan lacks
    if not templates:
        templates = tuple(t for t in _BODY[key] if not _fields(t)) or ("",)
    body = line(
        tuple(t.format(**slots).strip() for t in templates),
        tuple("question" in _fields(t) or "question_lc" in _fields(t) for t in templates),
    )
    tail_key = _tail_key(plan)
    tail_templates = _TAIL[tail_key] if tail_key else ()
    tail = line(tuple(_fill(t, question) for t in tail_templates))
    return ack, credit, body, tail


def _fill(template: str, question: str) -> str:
    """Place the question; it reads in lower case only where it continues a sentence ("So, how many...")."""
    if "{question}" not in template:
        return template
    before = template.split("{question}", 1)[0].rstrip()
    if not before or before.endswith((".", "?", "!")):
        return template.format(question=question)
    return template.format(question=_lower_first(question))


def _phrasings(plan: TurnPlan, seed: int) -> Iterator[str]:
    """Every phrasing of a plan, the seed's choice first, then the rest in a fixed rotation (the body changes
    fastest, so the next phrasing differs in substance, not only in its opening words)."""
    ack, credit, body, tail = _lines(plan, random.Random(seed))
    # Rotation order: body, question line, credit, acknowledgement; reading order: ack, credit, body, question.
    order = [x for x in (body, tail, credit, ack) if x is not None]
    total = 1
    for x in order:
        total *= len(x.texts)
    seen: set[str] = set()
    for k in range(min(total, 2000)):
        # The k-th combination, counting in mixed radix with the body as the fastest digit.
        chosen: list[tuple[_Line, int]] = []
        rest = k
        for x in order:
            chosen.append((x, (x.start + rest % len(x.texts)) % len(x.texts)))
            rest //= len(x.texts)
        pick = {id(x): i for x, i in chosen}
        parts = [x.texts[pick[id(x)]] for x in (ack, credit, body) if x is not None]
        body_places_question = body is not None and bool(body.asks) and body.asks[pick[id(body)]]
        if tail is not None and not body_places_question:
            parts.append(tail.texts[pick[id(tail)]])
        # Every part starts a sentence, even one that opens with the student's own word ("thirty-five isn't...").
        text = " ".join(_upper_first(p) for p in parts if p)
        if text not in seen:
            seen.add(text)
            yield text


def _normal(text: str) -> str:
    """Texts that differ only in spacing or case read as the same reply."""
    return " ".join(text.split()).casefold()


def _opening(text: str) -> str:
    """The first sentence of a reply, normalised."""
    return _normal(re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0])


def realize(plan: TurnPlan, *, seed: int | None = None, avoid: Sequence[str] = ()) -> str:
    """Phrase a plan from templates, never as the last text of ``avoid`` (the session's recent tutor texts).

    1. Take the seed's phrasing; if it repeats any recent text, rotate through the others.
    2. If every phrasing repeats some recent text, take the first that differs from the last one.
    3. If even that fails (a plan with a single phrasing), put a lead-in before it.
    """
    return next(_avoiding(plan, plan.seed if seed is None else seed, avoid))


def _avoiding(plan: TurnPlan, seed: int, avoid: Sequence[str]) -> Iterator[str]:
    """The plan's phrasings that differ from the last of ``avoid``, the ones new to all of ``avoid`` first."""
    recent = {_normal(t) for t in avoid if t}
    last = _normal(avoid[-1]) if avoid and avoid[-1] else None
    # A reply that opens with the same sentence as the last one reads as the same reply, whatever follows.
    last_opening = _opening(avoid[-1]) if avoid and avoid[-1] else None
    same_opening: list[str] = []
    held: list[str] = []
    first = ""
    for text in _phrasings(plan, seed):
        first = first or text
        key = _normal(text)
        if key not in recent and _opening(text) != last_opening:
            yield text
        elif key not in recent:
            same_opening.append(text)
        elif key != last:
            held.append(text)
    yield from same_opening
    yield from held
    base = first or safe_reply(plan)
    for i in range(len(_LEAD_IN)):
        text = f"{_LEAD_IN[(seed + i) % len(_LEAD_IN)]} {base}"
        if _normal(text) != last:
            yield text


def safe_reply(plan: TurnPlan, previous: str | None = None) -> str:
    """A reply with no numbers and no authored text, which no guard rule can reject; never ``previous``."""
    if not plan.asks_question:
        texts = _SAFE["statement"]
    elif plan.sub_kind == "wrap_up":
        texts = _SAFE["wrap_up"]
    else:
        texts = _SAFE["question"]
    last = _normal(previous) if previous else None
    start = plan.seed % len(texts)
    for i in range(len(texts)):
        text = texts[(start + i) % len(texts)]
        if _normal(text) != last:
            return text
    return texts[start]  # unreachable: the variants differ from each other


@dataclass(frozen=True)
class Delivery:
    """The reply a student sees, where it came from, and every guard rejection on the way."""

    text: str
    source: str  # "model", "model+plan" (completed: :func:`completed`), "template" or "fallback"
    rejections: tuple[tuple[str, GuardVerdict], ...] = ()

    @property
    def phrased_by_model(self) -> bool:
        return self.source in ("model", COMPLETED)


# A model's reply kept after the guard refused it whole: the whole, or the start the page already showed, with the
# plan's wording of what it left out added after it where needed.
COMPLETED = "model+plan"
_SENTENCE_OR_CLAUSE_END = (".", "?", "!", ";", ":", ",")


def _kept_words(
    model_reply: str | None, shown: str | None, plan: TurnPlan, context: GuardContext, last: str | None
) -> tuple[str, str] | None:
    """When the model's whole reply fails, what of its words may stay, with its source: the whole completed with
    what it left out of the plan (what it said wrong, it still says: that fails again); else the part the page
    shows, as it is or completed. Whatever is kept passes the whole guard; None when nothing does."""

    def passes(text: str) -> bool:
        return _normal(text) != last and check_reply(text, plan, context, phrased=True).ok

    whole = completed(model_reply, plan) if model_reply else None
    if whole is not None and passes(whole):
        return whole, COMPLETED
    start = (shown or "").strip()
    if start and start != (model_reply or "").strip():
        if passes(start):
            return start, COMPLETED
        whole = completed(start, plan)
        if whole is not None and passes(whole):
            return whole, COMPLETED
    return None


def completed(model_reply: str, plan: TurnPlan) -> str | None:
    """A model's reply that says the plan only in part, completed with the planner's own wording of what it left out
    (feedback, hint, worked example, question, in that order); None when nothing is missing or nothing is left.

    A streamed reply's start is on the student's page before its end is judged: completing it, rather than replacing
    it with the template, lets that text stay and grow into the stored reply. A reply cut off mid-sentence (the
    model ran out of tokens) is completed after its last sentence or clause, the part the page may have shown.
    """
    base = model_reply.strip()
    if not base.endswith(_SENTENCE_OR_CLAUSE_END):
        base = releasable_prefix(base).strip()
    parts = [wanted for _, wanted in missing_content(base, plan)]
    # A move that asks must end on a question: the plan's, when the reply asks none (however short the question).
    if plan.asks_question and plan.question and "?" not in base and plan.question not in parts:
        parts.append(plan.question)
    if not parts or not base:
        return None
    return " ".join([base, *parts])


REPEAT = "repeats the previous reply"
# Template phrasings tried before the minimal reply: a few, since most guard failures (an authored question that
# quotes a forbidden value) fail every phrasing alike.
_TEMPLATE_TRIES = 6


def deliver(
    model_reply: str | None,
    plan: TurnPlan,
    context: GuardContext,
    *,
    previous: str | None = None,
    shown: str | None = None,
    stopped: GuardVerdict | None = None,
) -> Delivery:
    """The model's reply if it passes the guard, else the model's words kept (:func:`_kept_words`), else the
    template realization, else the minimal safe reply.

    ``previous`` is the session's last tutor text: no reply may repeat it, from any source. ``shown`` is the start of
    the model's reply the student already reads (it was streamed, each part passed as it went); ``model_reply`` is
    None when there is no whole reply to judge: the model failed, or was stopped at a part the guard refused
    (``stopped``, its verdict, recorded as the model's rejection).
    """
    rejections: list[tuple[str, GuardVerdict]] = []
    last = _normal(previous) if previous else None
    if model_reply is not None:
        if last is not None and _normal(model_reply) == last:
            verdict = GuardVerdict(False, (REPEAT,))
        else:
            verdict = check_reply(model_reply, plan, context, phrased=True)
        if verdict.ok:
            return Delivery(model_reply, "model", tuple(rejections))
        rejections.append(("model", verdict))
    elif stopped is not None:
        rejections.append(("model", stopped))
    kept = _kept_words(model_reply, shown, plan, context, last)
    if kept is not None:
        return Delivery(kept[0], kept[1], tuple(rejections))
    avoid = (previous,) if previous else ()
    for i, text in enumerate(_avoiding(plan, plan.seed, avoid)):
        if i >= _TEMPLATE_TRIES:
            break
        verdict = check_reply(text, plan, context)
        if verdict.ok:
            return Delivery(text, "template", tuple(rejections))
        if i == 0:  # the realization proper; the alternatives after it are not reported one by one
            rejections.append(("template", verdict))
    return Delivery(safe_reply(plan, previous), "fallback", tuple(rejections))
