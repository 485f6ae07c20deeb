"""Parsing of a sensor's calibrator-tone check: ``{prefix}/{sensor_id}/calibration``.

A sensor with a built-in calibrator (or a technician's script) plays its reference tone into
the microphone and publishes what it read, one UTF-8 JSON object per check::

    {"ts": 1793588400, "reference_db": 94.0, "measured_db": 94.12}

``ts`` is when the check was made (Unix seconds, or RFC 3339 with an offset), not more than
``max_future_s`` after the receive time and not before 2000-01-01; ``reference_db`` the
calibrator's level and ``measured_db`` the level the sensor read, dB re 20 µPa, finite, 0-160;
an optional ``sensor_id`` must equal the topic's. Booleans are not numbers; unknown fields are
ignored. A check adjusts nothing: it becomes a calibration of kind ``"tone"`` by
``"tone check"`` with ``before_db = measured_db`` and no ``after_db``.

:func:`parse_tone_message` is pure and never raises: anything it cannot accept becomes a
:class:`~noiselab.model.Rejection` with a reason a person can read, for the quarantine.
"""

from __future__ import annotations

import math
from typing import Any, Final, NamedTuple

import msgspec

from noiselab.ingest.reading_rules import MIN_PLAUSIBLE_TS, rfc3339_to_unix
from noiselab.ingest.reasons import describe, show
from noiselab.model import SENSOR_ID_PATTERN, Rejection, utc
from noiselab.store.metadata.calibrations import TONE_CHECK_BY, Calibration

__all__ = [
    "MAX_TONE_PAYLOAD_BYTES",
    "ParsedTone",
    "ToneCheck",
    "parse_tone_message",
    "tone_message",
    "tone_sensor_id",
]

MAX_TONE_PAYLOAD_BYTES: Final = 4096
"""A tone check is one small object; anything larger is refused whole."""
TOPIC_SUFFIX: Final = "/calibration"
_DECODER: Final = msgspec.json.Decoder(float_hook=float)


class ToneCheck(NamedTuple):
    """One accepted check: the calibration to log, and where it came from (for the quarantine,
    should its sensor be unknown)."""

    calibration: Calibration
    topic: str
    raw: bytes
    received_at: float


class ParsedTone(NamedTuple):
    """What one calibration message carried: at most one check, or its rejection."""

    checks: list[ToneCheck]
    rejections: list[Rejection]


def tone_sensor_id(topic: str, prefix: str = "noiselab") -> str | None:
    """The sensor id of a ``{prefix}/{sensor_id}/calibration`` topic, or ``None``."""
    head = prefix + "/"
    if not (topic.startswith(head) and topic.endswith(TOPIC_SUFFIX)):
        return None
    sensor_id = topic[len(head) : -len(TOPIC_SUFFIX)]
    return sensor_id if SENSOR_ID_PATTERN.fullmatch(sensor_id) else None


def parse_tone_message(
    topic: str,
    payload: bytes,
    received_at: float,
    *,
    prefix: str = "noiselab",
    max_future_s: float = 300.0,
) -> ParsedTone:
    """A tone check's calibration from one message, or its rejection (see the module
    docstring). Never raises."""
    sensor_id = tone_sensor_id(topic, prefix)
    raw = bytes(payload[:MAX_TONE_PAYLOAD_BYTES])

    def refuse(reason: str) -> ParsedTone:
        return ParsedTone([], [Rejection(topic, sensor_id, raw, reason, received_at)])

    value, problem = _decode(topic, payload, sensor_id, prefix)
    if problem is not None or not isinstance(value, dict) or sensor_id is None:
        return refuse(problem or "not a tone check")
    problems, fields = _judge(value, sensor_id, received_at, max_future_s)
    if problems:
        return refuse("; ".join(problems))
    try:
        calibration = Calibration(
            sensor_id=sensor_id,
            ts=utc(fields["ts"]),
            kind="tone",
            reference_db=fields["reference_db"],
            before_db=fields["measured_db"],
            by=TONE_CHECK_BY,
            created_at=utc(received_at),
        )
    except (ValueError, OverflowError, OSError) as exc:
        return refuse(str(exc))
    return ParsedTone([ToneCheck(calibration, topic, raw, received_at)], [])


def tone_message(
    topic: str, payload: bytes, received_at: float, prefix: str, max_future_s: float
) -> ParsedTone | None:
    """:func:`parse_tone_message` for a ``{prefix}/{sensor_id}/calibration`` topic; ``None``
    for any other (a suffix test first: the levels path pays nothing more)."""
    if not topic.endswith(TOPIC_SUFFIX) or tone_sensor_id(topic, prefix) is None:
        return None
    return parse_tone_message(topic, payload, received_at, prefix=prefix, max_future_s=max_future_s)


def _decode(
    topic: str, payload: bytes, sensor_id: str | None, prefix: str
) -> tuple[object, str | None]:
    """The payload's JSON object, or why there is none."""
    if sensor_id is None:
        return None, f"topic {show(topic)} is not {prefix}/<sensor_id>/calibration"
    if len(payload) > MAX_TONE_PAYLOAD_BYTES:
        return None, f"payload of {len(payload)} bytes: a tone check is at most 4096 bytes"
    try:
        value = _DECODER.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return None, f"not UTF-8 JSON: {exc}"
    except Exception as exc:  # the parser never raises
        return None, f"not UTF-8 JSON: {type(exc).__name__}"
    if not isinstance(value, dict):
        return None, f"expected one JSON object, got {describe(value)}"
    return value, None


def _judge(
    value: dict[str, Any], sensor_id: str, received_at: float, max_future_s: float
) -> tuple[list[str], dict[str, float]]:
    """Problems with a check object (each a reason), and its values when there are none."""
    problems: list[str] = []
    fields: dict[str, float] = {}
    for name in ("reference_db", "measured_db"):
        level = value.get(name)
        if level is None:
            problems.append(f"{name}: missing")
        elif isinstance(level, bool) or not isinstance(level, int | float):
            problems.append(f"{name}: expected a number of dB, got {describe(level)}")
        elif not (_finite(level) and 0.0 <= level <= 160.0):
            problems.append(f"{name}: must be between 0 and 160 dB, got {show(level)}")
        else:
            fields[name] = float(level)
    ts = _ts(value.get("ts"), problems)
    if ts is not None:
        if ts < MIN_PLAUSIBLE_TS:
            problems.append(f"ts: {show(ts)} is before 2000-01-01T00:00:00Z, implausible")
        elif ts > received_at + max_future_s:
            problems.append(
                f"ts: {ts - received_at:.0f} s in the future of the receive time "
                f"(limit {max_future_s:g} s)"
            )
        else:
            fields["ts"] = ts
    named = value.get("sensor_id")
    if named is not None and named != sensor_id:
        problems.append(f"sensor_id: {show(named)} is not the topic's {sensor_id!r}")
    return problems, fields


def _ts(value: object, problems: list[str]) -> float | None:
    if value is None:
        problems.append("ts: missing")
        return None
    if isinstance(value, str):
        try:
            return rfc3339_to_unix(value)
        except ValueError as exc:
            problems.append(f"ts: {exc}")
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        problems.append(f"ts: expected Unix seconds or RFC 3339, got {describe(value)}")
        return None
    return float(value)


def _finite(value: float) -> bool:
    """Whether a JSON number is a finite float (an integer too large for one is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
