"""Fixtures of the end-to-end tests: the headless Chromium the browser tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.browser import CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by playwright (imported here, when a test asks)."""
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()
