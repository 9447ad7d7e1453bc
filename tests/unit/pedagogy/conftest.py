"""Problems shared by the pedagogy tests, written in the product's native content format."""

from __future__ import annotations

import pytest

from pedagogy.domain import Problem

BAKE_SALE = {
    "slug": "bake-sale",
    "title": "Bake sale",
    "text": "Maya bakes 4 trays of 6 cookies and sells each cookie for $\\$0.50$. How much money does she make?",
    "answer": "12",
    "answer_type": "number",
    "unit": "dollars",
    "skills": ["arith.multiply", "money.decimals"],
    "steps": [
        {
            "id": "cookies",
            "prompt": "How many cookies does Maya bake?",
            "answer": "24",
            "skills": ["arith.multiply"],
            "hints": [
                {"kind": "hint", "text": "Each tray holds the same number of cookies."},
                {"kind": "scaffold", "text": "What is 4 groups of 6?", "answer": "24"},
                {"kind": "bottom_out", "text": "4 trays times 6 cookies is 24 cookies."},
            ],
            "misconceptions": [
                {"wrong": "10", "feedback": "Adding 4 and 6 counts trays and cookies together; each tray has 6."}
            ],
        },
        {
            "id": "money",
            "prompt": "How much money does Maya make from all the cookies?",
            "answer": "12",
            "skills": ["money.decimals"],
            "hints": [
                {"kind": "hint", "text": "Each cookie brings in the same amount of money."},
                {"kind": "scaffold", "text": "How much do 10 cookies bring in?", "answer": "5"},
                {"kind": "bottom_out", "text": "24 cookies at $0.50 each make $12."},
            ],
        },
    ],
}

PENCILS = {
    "slug": "pencils",
    "text": "Tom buys 3 packs of 8 pencils. He gives 4 pencils away and shares the rest equally with his sister. "
    "How many pencils does each of them get?",
    "answer": "10",
    "skills": ["arith.multiply", "arith.subtract", "arith.divide"],
    "steps": [
        {
            "id": "bought",
            "prompt": "How many pencils does Tom buy?",
            "answer": "24",
            "skills": ["arith.multiply"],
            "hints": [
                {"kind": "hint", "text": "Every pack has the same number of pencils."},
                {"kind": "scaffold", "text": "What is 3 packs of 8?", "answer": "24"},
                {"kind": "bottom_out", "text": "3 packs of 8 pencils is 24 pencils."},
            ],
        },
        {
            "id": "kept",
            "prompt": "How many pencils are left after he gives some away?",
            "answer": "20",
            "skills": ["arith.subtract"],
            "hints": [
                {"kind": "hint", "text": "Giving pencils away leaves fewer."},
                {"kind": "bottom_out", "text": "24 take away 4 leaves 20 pencils."},
            ],
        },
        {
            "id": "each",
            "prompt": "How many pencils does each of them get?",
            "answer": "10",
            "skills": ["arith.divide"],
            "hints": [
                {
                    "kind": "hint",
                    "text": "Sharing equally between them splits the pencils into equal parts.",
                },
                {"kind": "bottom_out", "text": "20 shared equally between them is 10 each."},
            ],
        },
    ],
}


@pytest.fixture
def bake_sale() -> Problem:
    return Problem.from_dict(BAKE_SALE)


@pytest.fixture
def pencils() -> Problem:
    return Problem.from_dict(PENCILS)
