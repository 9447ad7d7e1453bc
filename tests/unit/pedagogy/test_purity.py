from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_pedagogy_package_loads_no_django_torch_or_sympy() -> None:
    code = (
        "import sys, pedagogy.planner, pedagogy.guard, pedagogy.realize, pedagogy.prompting, pedagogy.simulate;"
        "from pedagogy.planner import plan_turn; from pedagogy.domain import Problem;"
        "plan_turn(Problem(id='p', text='What is 6 times 7?', answer='42'), None, '42');"
        "print(sorted(m for m in ('django', 'torch', 'transformers', 'sympy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    # Number answers are planned without sympy; it is imported only to check algebra.
    assert out.stdout.strip() == "[]"
