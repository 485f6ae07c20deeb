"""Annotations as rows of a Grafana annotation query (the Infinity data source).

Grafana turns each row of an annotation query's answer into an annotation by its fields'
names: ``time`` (where it starts), ``timeEnd`` (where a region ends), ``title``, ``text`` and
``tags`` (a comma-separated string, which Grafana splits). Times are epoch milliseconds (UTC),
the form Infinity's ``timestamp_epoch`` column reads without any format guessing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from noiselab.store.metadata import Annotation

__all__ = ["CATEGORY_TITLES", "FeedRow", "feed_rows"]

CATEGORY_TITLES = {
    "roadworks": "Roadworks",
    "event": "Event",
    "equipment": "Equipment",
    "other": "Note",
}
"""The title of each category in a feed row."""


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One annotation as a row: ``time``/``timeEnd`` in epoch ms (UTC), ``title`` the category
    (with "excluded" when the period is left out of indicators and trials), ``text`` the
    reason, ``tags`` comma-separated (``annotation``, the category, ``excluded`` when it
    excludes), ``sensors`` the sensor ids comma-separated (``all`` when it names none)."""

    time: int
    timeEnd: int  # noqa: N815 - the field name Grafana maps to a region's end
    title: str
    text: str
    tags: str
    id: int
    category: str
    exclude: bool
    sensors: str


def feed_rows(annotations: Iterable[Annotation]) -> list[FeedRow]:
    """The rows of stored ``annotations`` (each with an ``id``), in their order."""
    rows = []
    for a in annotations:
        if a.id is None:
            raise ValueError("only stored annotations have a feed row")
        title = CATEGORY_TITLES[a.category] + (" (excluded)" if a.exclude else "")
        tags = ["annotation", a.category] + (["excluded"] if a.exclude else [])
        rows.append(
            FeedRow(
                time=round(a.start.timestamp() * 1000),
                timeEnd=round(a.end.timestamp() * 1000),
                title=title,
                text=a.text,
                tags=",".join(tags),
                id=a.id,
                category=a.category,
                exclude=a.exclude,
                sensors=",".join(a.sensor_ids) or "all",
            )
        )
    return rows
