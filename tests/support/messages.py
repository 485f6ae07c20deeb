"""Sensor messages for the ingest tests: a reading that passes every rule, and parsing one
message on a fixed topic at a fixed receive time, with the verdict on its one reading."""

from __future__ import annotations

from typing import Any

import msgspec

from noiselab.ingest.message import ParsedMessage, parse_message
from noiselab.model import Reading, Rejection

TOPIC = "noiselab/vb-001/levels"
NOW = 1_774_744_200.0  # 2026-03-29T00:30:00Z, used as the receive time
BANDS = [63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]
LZEQ = [50.0, 48.5, 47.0, 45.0, 44.0, 40.0, 35.5, 30.0]


def encode(value: Any) -> bytes:
    """``value`` as compact JSON bytes, as a sensor would send it."""
    return msgspec.json.encode(value)


def good(**fields: Any) -> dict[str, Any]:
    """A valid reading 10 s before :data:`NOW` at 55 dB, with ``fields`` added or replaced."""
    return {"ts": NOW - 10, "laeq": 55.0, **fields}


def parse(value: Any, topic: str = TOPIC, **options: Any) -> ParsedMessage:
    """Parse ``value`` (bytes as they are, anything else as its JSON) received at :data:`NOW`."""
    payload = value if isinstance(value, bytes) else encode(value)
    return parse_message(topic, payload, NOW, **options)


def judge(item: Any, **options: Any) -> Reading | str:
    """The one reading of a single-object message, or the reason it was refused."""
    parsed = parse(item, **options)
    assert len(parsed.readings) + len(parsed.rejections) == 1
    return parsed.readings[0] if parsed.readings else parsed.rejections[0].reason


def accepted(item: Any, **options: Any) -> Reading:
    """The reading of a single-object message that must be accepted."""
    verdict = judge(item, **options)
    assert isinstance(verdict, Reading), verdict
    return verdict


def refused(item: Any, **options: Any) -> str:
    """The reason a single-object message's reading must be refused for."""
    verdict = judge(item, **options)
    assert isinstance(verdict, str), verdict
    return verdict


def whole_rejection(parsed: ParsedMessage) -> Rejection:
    """The one rejection of a message refused as a whole (no readings, no index)."""
    assert parsed.readings == []
    assert len(parsed.rejections) == 1
    rejection = parsed.rejections[0]
    assert rejection.index is None
    return rejection
