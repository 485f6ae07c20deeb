"""Configuration of the ingest tests."""

from __future__ import annotations

import pytest

# The message helpers in support.messages assert like a test: show the values when one fails.
pytest.register_assert_rewrite("support.messages")
