"""The public names of noiselab.analysis, and its promise to import nothing else of noiselab."""

from __future__ import annotations

import subprocess
import sys

import pytest

import noiselab.analysis as analysis


def test_every_public_name_is_importable_and_documented() -> None:
    for name in analysis.__all__:
        obj = getattr(analysis, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


@pytest.mark.process
def test_analysis_imports_nothing_else_of_noiselab() -> None:
    code = (
        "import sys, noiselab.analysis; "
        "print(sorted(m for m in sys.modules if m.startswith('noiselab.') "
        "and not m.startswith('noiselab.analysis')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
