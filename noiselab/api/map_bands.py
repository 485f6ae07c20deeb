"""Colour bands of the public noise map: 5 dB classes in the European noise-map palette.

The classes and colours follow the colour scheme agreed at European level for strategic noise
maps of major roads (Environmental Noise Directive 2002/49/EC reporting), as published with its
RGB/hex codes by the Dutch government's environmental knowledge centre (Informatiepunt
Leefomgeving, "Kleurcodes kleurschema geografische geluidsbelastingkaarten"): 35-39, 40-44, ...,
75-79 and 80 dB and more, from green through yellow, orange and red to violet. The scheme does
not colour levels below 35 dB; they are drawn white here. See docs/map.md.

A class ``"60-65"`` holds levels ``60.00 <= L < 65.00`` dB. The level classified is the one
shown, rounded to 0.01 dB, so a marker's colour always matches its number: 59.994 dB shows as
59.99 and is ``"55-60"``; 59.996 shows as 60.00 and is ``"60-65"``. (The page shows one
decimal, or two where one would round up onto a class edge: 59.96 dB reads "59,96".)
"""

from __future__ import annotations

from dataclasses import dataclass

from noiselab.analysis.decibels import round_db

__all__ = ["BANDS", "NO_DATA_COLOUR", "Band", "band_for"]


@dataclass(frozen=True, slots=True)
class Band:
    """One class: levels in ``[low, high)`` dB (``None``: unbounded) and its colour (hex)."""

    label: str
    low: float | None
    high: float | None
    colour: str

    def holds(self, level: float) -> bool:
        """Whether ``level`` (dB) lies in ``[low, high)``."""
        return (self.low is None or level >= self.low) and (self.high is None or level < self.high)


BANDS: tuple[Band, ...] = (
    Band("<35", None, 35.0, "#FFFFFF"),
    Band("35-40", 35.0, 40.0, "#238443"),
    Band("40-45", 40.0, 45.0, "#78C679"),
    Band("45-50", 45.0, 50.0, "#C2E699"),
    Band("50-55", 50.0, 55.0, "#FFFFB2"),
    Band("55-60", 55.0, 60.0, "#FECC5C"),
    Band("60-65", 60.0, 65.0, "#FD8D3C"),
    Band("65-70", 65.0, 70.0, "#FF0909"),
    Band("70-75", 70.0, 75.0, "#B30622"),
    Band("75-80", 75.0, 80.0, "#67033B"),
    Band(">=80", 80.0, None, "#1C0054"),
)
"""The classes from quiet to loud; together they cover every level exactly once."""

NO_DATA_COLOUR = "#9E9E9E"
"""Marker colour of a sensor without a current level (grey, outside the palette)."""


def band_for(level: float | None) -> Band | None:
    """The class of ``level`` (dB) after rounding to 0.01 dB; ``None`` for ``None``."""
    if level is None:
        return None
    shown = round_db(level)
    return next(band for band in BANDS if band.holds(shown))
