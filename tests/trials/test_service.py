"""The trial service (noiselab.trials) knows no HTTP: the API depends on it, not the reverse."""

from __future__ import annotations

import subprocess
import sys

import pytest

import noiselab.trials as trials


def test_every_public_name_is_importable_and_documented() -> None:
    for name in trials.__all__:
        obj = getattr(trials, name)
        assert obj.__doc__, f"{name} has no docstring"


@pytest.mark.process
def test_trials_import_nothing_of_the_api() -> None:
    code = (
        "import sys, noiselab.trials; "
        "print(sorted(m for m in sys.modules if m == 'noiselab.api' "
        "or m.startswith('noiselab.api.') or m == 'fastapi' or m.startswith('fastapi.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
