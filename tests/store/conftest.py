"""Fixtures of the SqliteStore test modules (``test_sqlite_store.py``, ``test_sqlite_levels.py``).
A module with a ``store`` fixture of its own (the contract, InfluxDB and series tests) uses that."""

from __future__ import annotations

import pytest

from noiselab.store.sqlite import SqliteStore

# The roll-up check in support.sqlite_store asserts like a test: show the values when it fails.
pytest.register_assert_rewrite("support.sqlite_store")


@pytest.fixture
def store(tmp_path):
    """An empty SqliteStore in a fresh file, closed after the test."""
    with SqliteStore(tmp_path / "ts.db") as opened:
        yield opened
