"""The wording of rejection reasons: how a refused value is shown and described.

One pair for the native parser and every payload adapter, so a reason reads the same whatever
format the reading came in: ``describe`` gives a JSON value's type (``null``, ``boolean true``,
``string 'x'``, ``number 17``, ``an array``, ``an object``), ``show`` a short printable form.
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = ["SHOW_CHARS", "describe", "show"]

SHOW_CHARS: Final = 60
"""Longest shown value, characters; longer ones end in ``...``."""


def show(value: Any) -> str:
    """A short printable form of a value for a reason text (an integer too long to print is
    given by its number of digits)."""
    if type(value) is int and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value[: SHOW_CHARS + 1] if isinstance(value, str) else value)
    return text if len(text) <= SHOW_CHARS else text[: SHOW_CHARS - 3] + "..."


def describe(value: Any) -> str:
    """A JSON value's type, with the value itself when it is a short scalar."""
    if value is None:
        return "null"
    if type(value) is bool:
        return f"boolean {'true' if value else 'false'}"
    if type(value) is str:
        return f"string {show(value)}"
    if type(value) in (int, float):
        return f"number {show(value)}"
    return "an array" if type(value) is list else "an object"
