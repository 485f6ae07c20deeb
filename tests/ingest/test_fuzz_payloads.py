"""The hostile-message generator (``support.fuzz_payloads``) against the ingest's pure message
handling: every message is refused, with exactly the quarantine entries it announces, for the
rule its kind targets, and no two entries are one to the quarantine."""

from __future__ import annotations

import inspect
from collections import Counter
from functools import cache

import pytest
from support.fuzz_payloads import KINDS, MAX_PAYLOAD_BYTES, FuzzMessage, fuzz_messages

from noiselab.ingest.commit import split_unknown
from noiselab.ingest.message import parse_message
from noiselab.model import Reading, Rejection
from noiselab.store.metadata.quarantine import rejection_digest

PREFIX = "fz"
SENSORS = ("fz-road-1", "fz-rail-2", "fz-park-3")
NOW = 1_795_600_800.0  # 2026-11-25T10:00:00Z, generation and receive time
REASONS = {
    "not_utf8": ("not valid UTF-8",),
    "not_json": ("not valid JSON",),
    "truncated_json": ("not valid JSON",),
    "wrong_json_type": (
        "payload is empty",
        "must be a JSON object or an array of objects",
        "reading must be a JSON object",
        "empty array",
        "nested too deeply",
    ),
    "missing_fields": ("required",),
    "wrong_field_types": ("must be", "not an RFC 3339 date-time", "differs from the topic"),
    "out_of_range": ("must be", "in the future", "before 2000-01-01", "not an RFC 3339"),
    "impossible_levels": (
        "lafmax below laeq",
        "percentiles out of order",
        "is above lafmax",
        "strictly increasing",
        "lzeq has",
    ),
    "topic_mismatch": ("bad topic", "differs from the topic"),
    "unknown_sensor": ("unknown sensor",),
    "oversized": ("-byte limit",),
    "bad_batch": ("",),
}
"""What the reasons of each kind say (one of these fragments per entry)."""


@cache
def messages(count: int, seed: int = 0) -> tuple[FuzzMessage, ...]:
    return tuple(fuzz_messages(count, prefix=PREFIX, sensors=SENSORS, now=NOW, seed=seed))


def native_topic(reading: Reading) -> str:
    return f"{PREFIX}/{reading.sensor_id}/levels"


def quarantined(message: FuzzMessage) -> list[Rejection]:
    """What the ingest quarantines for ``message`` (parsing, then the registry check); it
    must store nothing."""
    parsed = parse_message(message.topic, message.payload, NOW, prefix=PREFIX)
    unknown = {r.sensor_id for r in parsed.readings} - set(SENSORS)
    kept, refused = split_unknown(parsed.readings, unknown, native_topic, NOW)
    assert kept == [], f"{message.kind} message accepted: {message.payload[:200]!r}"
    return parsed.rejections + refused


@pytest.mark.parametrize("kind", KINDS)
def test_every_message_of_a_kind_is_refused_with_its_entries(kind: str) -> None:
    """400 messages hold every kind (the oversized one at least once); each is refused with as
    many entries as it announces, each with a reason of its kind."""
    of_kind = [m for m in messages(400) if m.kind == kind]
    assert of_kind
    for message in of_kind:
        rejections = quarantined(message)
        assert len(rejections) == message.entries, (message, rejections)
        for rejection in rejections:
            assert rejection.reason.strip()
            assert any(part in rejection.reason for part in REASONS[kind]), rejection.reason


def test_no_two_entries_are_one_to_the_quarantine() -> None:
    """The quarantine keys an entry by topic, raw and index: over 10,000 messages (as many as
    the end-to-end run) every key is new, so the quarantine must hold exactly the total."""
    digests = [rejection_digest(r) for m in messages(10_000) for r in quarantined(m)]
    assert len(digests) == sum(m.entries for m in messages(10_000))
    assert len(set(digests)) == len(digests)


def test_the_kinds_are_all_there_in_a_large_run() -> None:
    """10,000 messages: every kind hundreds of times, oversized ones a handful (1 MiB each),
    batches with several members."""
    counts = Counter(m.kind for m in messages(10_000))
    assert set(counts) == set(KINDS)
    assert all(counts[k] > 500 for k in KINDS if k != "oversized")
    assert 3 <= counts["oversized"] <= 30
    assert max(m.entries for m in messages(10_000) if m.kind == "bad_batch") >= 20


def test_a_seed_gives_the_same_messages_every_time() -> None:
    again = tuple(fuzz_messages(400, prefix=PREFIX, sensors=SENSORS, now=NOW, seed=0))
    assert again == messages(400)
    assert messages(400, seed=1) != messages(400)


def test_oversized_messages_are_just_over_the_ingests_limit() -> None:
    limit = inspect.signature(parse_message).parameters["max_payload_bytes"].default
    assert limit == MAX_PAYLOAD_BYTES
    sizes = [len(m.payload) for m in messages(400) if m.kind == "oversized"]
    assert sizes
    assert all(limit < size <= limit + 101 for size in sizes)
