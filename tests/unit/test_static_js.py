"""The page's own script must parse in every browser the schools use, not only in the newest ones."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

OWN_SCRIPTS = sorted((REPO_ROOT / "static" / "js").glob("*.js"))


def test_the_scripts_use_no_regex_lookbehind() -> None:
    # A lookbehind is a syntax error in Safari before 16.4 (iPadOS 15 and older): the whole file would not run there.
    assert OWN_SCRIPTS
    for script in OWN_SCRIPTS:
        assert not re.search(r"\(\?<[=!]", script.read_text(encoding="utf-8")), script.name
