"""Where things are, for tests in any folder of ``tests/``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA", "PAYLOADS", "ROOT", "TESTS"]

TESTS = Path(__file__).resolve().parents[1]
"""The ``tests/`` folder."""
ROOT = TESTS.parent
"""The repository's root: README, docs, deploy, the package."""
DATA = TESTS / "data"
"""Recorded and published example inputs (see each subfolder's README)."""
PAYLOADS = DATA / "payloads"
"""Published payload examples of the devices and platforms the adapters read."""
