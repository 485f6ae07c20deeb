"""Names and kinds of the map's source groups, as a citizen reads them.

A group of one line (a motorway, the railway) is named after it, with a trailing
parenthesis such as "(E20/E47/E55)" or "(sketch)" left off: "Køge Bugt Motorvejen". A group
of several lines (the local roads) is named, at a given point, after its line nearest to
that point, so that "mostly Vejlebrovej" names the road one hears.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.noisemap.geometry import LocalProjection, distance_to_polyline
from noiselab.noisemap.sources import LineSource

__all__ = ["GroupInfo", "describe_groups", "display_name", "nearest_name"]

_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def display_name(name: str) -> str:
    """``name`` without a trailing parenthesis: ``"Vejlebrovej (sketch)"`` -> ``"Vejlebrovej"``."""
    return _TRAILING_NOTE.sub("", name) or name


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """One source group: its key, display ``name``, ``kind`` (road or rail) and lines."""

    group: str
    name: str
    kind: str
    sources: tuple[LineSource, ...]


def describe_groups(sources: Sequence[LineSource], groups: Sequence[str]) -> tuple[GroupInfo, ...]:
    """A :class:`GroupInfo` for each of ``groups`` (in that order)."""
    out = []
    for group in groups:
        mine = tuple(s for s in sources if s.group == group)
        name = ", ".join(dict.fromkeys(display_name(s.name) for s in mine))
        out.append(GroupInfo(group, name, mine[0].kind, mine))
    return tuple(out)


def nearest_name(info: GroupInfo, lon: float, lat: float, projection: LocalProjection) -> str:
    """The display name of ``info``'s line nearest to ``(lon, lat)`` (degrees)."""
    if len(info.sources) == 1:
        return info.name
    px, py = projection.to_xy(np.array([lon]), np.array([lat]))
    best, name = float("inf"), info.name
    for source in info.sources:
        xs, ys = projection.to_xy(source.lonlat[:, 0], source.lonlat[:, 1])
        d = float(distance_to_polyline(px, py, xs, ys)[0])
        if d < best:
            best, name = d, display_name(source.name)
    return name
