"""The wording of rejection reasons: how a refused value is shown and described, and the codes
that start the reasons of the consistency and history checks.

One pair for the native parser and every payload adapter, so a reason reads the same whatever
format the reading came in: ``describe`` gives a JSON value's type (``null``, ``boolean true``,
``string 'x'``, ``number 17``, ``an array``, ``an object``), ``show`` a short printable form.

A reason of the checks below starts with its code, then ``": "`` and the values involved, so
the quarantine can be searched by code (``GET /api/v1/quarantine?reason=...``).
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = [
    "CONFLICT",
    "DURATION_OVERLAPS_NEXT",
    "LAFMAX_BELOW_LAEQ",
    "PERCENTILES_OUT_OF_ORDER",
    "SHOW_CHARS",
    "TONE_CONFLICT",
    "describe",
    "show",
]

SHOW_CHARS: Final = 60
"""Longest shown value, characters; longer ones end in ``...``."""

CONFLICT: Final = "conflicts with stored reading"
"""Another reading is stored for the same sensor and ``ts`` (or came first in the same
write); the reason goes on with both values of every differing field."""
TONE_CONFLICT: Final = "conflicts with stored tone check"
"""Another calibrator-tone check is logged for the same sensor and ``ts`` (to the millisecond)
with other values; the reason goes on with both values of every differing field."""
LAFMAX_BELOW_LAEQ: Final = "lafmax below laeq"
"""The interval's fast maximum lies further below its equivalent level than time weighting F
allows (``reading_rules.lafmax_shortfall_db``) plus the rounding tolerance."""
PERCENTILES_OUT_OF_ORDER: Final = "percentiles out of order"
"""The reported exceedance levels break L10 >= L50 >= L90 by more than the tolerance."""
DURATION_OVERLAPS_NEXT: Final = "duration longer than the gap to the next reading"
"""The interval reaches past the start of the next reading of the same message."""


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
