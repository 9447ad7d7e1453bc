"""The domain packages stay free of Django (and pedagogy of torch), so they can be tested and reused alone."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

PURE_MODULES = {
    "pedagogy": ("django", "torch", "transformers"),
    "models": ("django",),
    "knowledge_graph.bkt": ("django", "torch"),
    "knowledge_graph.fitting": ("django", "torch"),
    "knowledge_graph.graph": ("django", "torch"),
    "knowledge_graph.recommend": ("django", "torch"),
    "knowledge_graph.layout": ("django", "torch"),
}

PROBE = """
import importlib, pkgutil, sys
root = sys.argv[1]
forbidden = sys.argv[2].split(",")
module = importlib.import_module(root)
if hasattr(module, "__path__"):
    for info in pkgutil.walk_packages(module.__path__, root + "."):
        importlib.import_module(info.name)
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(forbidden))
print(",".join(loaded))
"""


def _loaded_after_import(module: str, forbidden: tuple[str, ...]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(forbidden)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_pure_packages_import_no_django_and_no_heavy_ml_libraries() -> None:
    offenders = {
        module: loaded
        for module, forbidden in PURE_MODULES.items()
        if (loaded := _loaded_after_import(module, forbidden))
    }
    assert offenders == {}
