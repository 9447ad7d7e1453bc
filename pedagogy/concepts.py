"""Short, number-free explanations of the words students ask about, so a concept question gets a real answer
without giving any step away."""

from __future__ import annotations

import re

CONCEPTS: dict[str, str] = {
    "sum": "A sum is what you get when you add numbers together.",
    "total": "A total is everything put together, usually found by adding the parts.",
    "difference": "A difference is how much bigger a number is than another; you find it by subtracting.",
    "product": "A product is what you get when you multiply numbers.",
    "quotient": "A quotient is what you get when you divide a number by another.",
    "per": "\u201cPer\u201d means \u201cfor each\u201d: a price per item is the price of a single item.",
    "each": "\u201cEach\u201d tells you the amount for a single item, so several items mean several of that amount.",
    "percent": "Percent means \u201cout of a hundred\u201d, so a percent of something is that many hundredths of it.",
    "fraction": "A fraction names equal parts of a whole: the bottom says how many parts, the top how many you take.",
    "half": "Half of something is either of the equal parts you get by splitting it down the middle.",
    "twice": "Twice means the same amount again: as much as before, and then that much more.",
    "double": "Doubling something means adding the same amount to it again.",
    "average": "An average shares a total out evenly: add the values, then divide by how many there are.",
    "mean": "The mean is the average: add the values, then divide by how many there are.",
    "remainder": "The remainder is what is left over after dividing into equal groups.",
    "perimeter": "The perimeter is the distance all the way around the outside of a shape.",
    "area": "Area is how much flat space a shape covers, counted in squares.",
    "ratio": "A ratio compares amounts, telling you how many of the first there are for each of the other.",
    "rate": "A rate tells you how much of something goes with each unit of another thing, like distance per hour.",
    "variable": "A variable is a letter that stands for a number you do not know yet.",
    "equation": "An equation says both sides are equal; solving it finds the value that makes it true.",
    "expression": "An expression is a combination of numbers, letters and operations, without an equals sign.",
    "decimal": "A decimal writes parts of a whole using places after the point: tenths, hundredths and so on.",
    "profit": "Profit is the money left after taking away what something cost from what it earned.",
    "discount": "A discount is an amount taken off the original price.",
    "remaining": "What is remaining is what is left after some has been taken away or used.",
}


# Why a step uses an operation, for "why do we subtract?": when each operation fits a word problem.
OPERATION_REASONS: dict[str, str] = {
    "add": "We add when amounts are put together and we want the total of all of them.",
    "subtract": "We subtract when some is taken away and we want what is left, or when we compare two amounts to "
    "see how much bigger one is.",
    "multiply": "We multiply when there are equal groups: the same amount several times over.",
    "divide": "We divide when an amount is shared into equal parts, or to find how many times one amount fits "
    "into another.",
}
_OPERATION_STEMS = {
    "add": "add",
    "plus": "add",
    "sum": "add",
    "subtract": "subtract",
    "minus": "subtract",
    "take away": "subtract",
    "multipl": "multiply",
    "times": "multiply",
    "divid": "divide",
    "divis": "divide",
    "split": "divide",
    "share": "divide",
}


def explain_question(text: str) -> str | None:
    """The answer to a "why do we ...?" question about an operation, or None."""
    lowered = text.lower()
    if "why" not in lowered and "how come" not in lowered:
        return None
    for stem, operation in _OPERATION_STEMS.items():
        if re.search(rf"\b{stem}", lowered):  # "sometimes" is not "times", "assumed" not "sum"
            return OPERATION_REASONS[operation]
    return None


def explain(term: str | None) -> str | None:
    """The explanation of a term (or of its singular form), or None when we have none."""
    if not term:
        return None
    key = term.lower().strip()
    for candidate in (key, key.rstrip("s"), key.split()[-1]):
        if candidate in CONCEPTS:
            return CONCEPTS[candidate]
    return None
