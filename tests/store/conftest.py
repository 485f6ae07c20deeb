"""Fixtures of the SqliteStore test modules (``test_sqlite_store.py``, ``test_sqlite_levels.py``).
A module with a ``store`` fixture of its own (the contract, InfluxDB and series tests) uses that."""

from __future__ import annotations

import pytest

from noiselab.store.sqlite import SqliteStore

# The roll-up checks in support.sqlite_store and support.hour_rollup assert like tests: show the
# values when they fail.
pytest.register_assert_rewrite("support.sqlite_store", "support.hour_rollup")


@pytest.fixture
def store(tmp_path):
    """An empty SqliteStore in a fresh file, closed after the test."""
    with SqliteStore(tmp_path / "ts.db") as opened:
        yield opened
