"""Annotations as spans (cause ``annotation``) and as Grafana feed rows, from a real SQLite
metadata file: clipped to the asked range, withdrawn ones left out, the exclude flag carried,
annotations of every sensor given to each sensor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from noiselab.annotations import AnnotationSpans, feed_rows
from noiselab.model import Sensor
from noiselab.store.metadata import Annotation, MetadataStore
from noiselab.validity import Span, SpanSource

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S0 = T0.timestamp()  # 1772438400
HOUR = timedelta(hours=1)


@pytest.fixture
def meta(tmp_path: Path):
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.sensors.add([Sensor(id=sid, name=sid) for sid in ("kbm-25m", "kbm-50m")])
    yield store
    store.close()


def add(meta: MetadataStore, **changes: Any) -> Annotation:
    fields: dict[str, Any] = {
        "start": T0,
        "end": T0 + 4 * HOUR,
        "category": "roadworks",
        "text": "Lane closure",
        "exclude": True,
        "created_by": "kommune",
        "sensor_ids": ("kbm-25m",),
    }
    return meta.annotations.add(Annotation(**(fields | changes)))


def test_annotation_spans_is_a_span_source(meta: MetadataStore) -> None:
    source: SpanSource = AnnotationSpans(meta)
    assert source.spans("kbm-25m", T0, T0 + HOUR) == []


def test_spans_are_clipped_to_the_range(meta: MetadataStore) -> None:
    """08:00-12:00 asked for 10:00-16:00 gives 10:00-12:00 (S0 + 7200 .. S0 + 14400); asked
    for 06:00-09:00 gives 08:00-09:00; asked for 12:00-13:00 (touching its end) nothing."""
    add(meta)
    spans = AnnotationSpans(meta)
    [late] = spans.spans("kbm-25m", T0 + 2 * HOUR, T0 + 8 * HOUR)
    assert late == Span(S0 + 7200, S0 + 14_400, "annotation", "roadworks: Lane closure", True)
    [early] = spans.spans("kbm-25m", T0 - 2 * HOUR, T0 + HOUR)
    assert (early.start, early.end) == (S0, S0 + 3600)
    assert spans.spans("kbm-25m", T0 + 4 * HOUR, T0 + 5 * HOUR) == []
    assert spans.spans("kbm-50m", T0, T0 + HOUR) == []  # not its sensor


def test_the_exclude_flag_and_the_reason_are_carried(meta: MetadataStore) -> None:
    add(meta, exclude=False, category="event", text="Festival in the park", start=T0 + HOUR)
    add(meta)
    spans = AnnotationSpans(meta).spans("kbm-25m", T0, T0 + 8 * HOUR)
    assert [(s.start, s.excludes, s.reason) for s in spans] == [
        (S0, True, "roadworks: Lane closure"),
        (S0 + 3600, False, "event: Festival in the park"),
    ]
    assert all(s.cause == "annotation" for s in spans)


def test_withdrawn_annotations_give_no_span(meta: MetadataStore) -> None:
    """Negative control first: the annotation gives a span until it is withdrawn."""
    made = add(meta)
    spans = AnnotationSpans(meta)
    assert len(spans.spans("kbm-25m", T0, T0 + HOUR)) == 1
    assert made.id is not None
    meta.annotations.withdraw(made.id, by="kommune", reason="postponed")
    assert spans.spans("kbm-25m", T0, T0 + HOUR) == []


def test_an_annotation_of_every_sensor_gives_each_a_span(meta: MetadataStore) -> None:
    add(meta, sensor_ids=(), category="equipment", text="Firmware update of every sensor")
    for sensor_id in ("kbm-25m", "kbm-50m"):
        [span] = AnnotationSpans(meta).spans(sensor_id, T0, T0 + HOUR)
        assert span.reason == "equipment: Firmware update of every sensor"


def test_naive_times_are_refused(meta: MetadataStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AnnotationSpans(meta).spans("kbm-25m", datetime(2026, 3, 2), T0)


def test_feed_rows_carry_epoch_milliseconds_and_tags(meta: MetadataStore) -> None:
    """08:00Z on 2026-03-02 is 1,772,438,400 s: 1,772,438,400,000 ms; four hours later
    1,772,452,800,000 ms."""
    made = add(meta, sensor_ids=("kbm-25m", "kbm-50m"))
    plain = add(meta, sensor_ids=(), exclude=False, category="other", text="Note")
    rows = feed_rows([made, plain])
    assert (rows[0].time, rows[0].timeEnd) == (1_772_438_400_000, 1_772_452_800_000)
    assert (rows[0].title, rows[0].tags) == (
        "Roadworks (excluded)",
        "annotation,roadworks,excluded",
    )
    assert (rows[0].text, rows[0].sensors, rows[0].id) == (
        "Lane closure",
        "kbm-25m,kbm-50m",
        made.id,
    )
    assert (rows[1].title, rows[1].tags, rows[1].sensors) == ("Note", "annotation,other", "all")
    unsaved = Annotation(start=T0, end=T0 + HOUR, category="other", text="x", created_by="k")
    with pytest.raises(ValueError, match="stored"):
        feed_rows([unsaved])
