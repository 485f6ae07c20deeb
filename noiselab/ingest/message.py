"""Parsing and validation of sensor MQTT messages: the ingest hot path.

A message arrives on ``{prefix}/{sensor_id}/levels`` with a UTF-8 JSON payload that is either one
reading object or an array of reading objects (SPEC, "MQTT contract"). :func:`parse_message` turns
it into validated :class:`~noiselab.model.Reading` records and :class:`~noiselab.model.Rejection`
records for everything else; it never raises.

Units and conventions: ``ts`` is the start of the measurement interval, given as Unix seconds (a
JSON number) or an RFC 3339 string with ``Z`` or a ``±hh:mm`` offset, and is stored as Unix
seconds (UTC); ``duration`` is in seconds (default 1); levels are in dB re 20 µPa, finite, 0-160.
``received_at`` is the broker-side receive time in Unix seconds. Booleans are never numbers,
unknown fields are ignored and an explicit ``null`` for an optional field means "absent".

How it is fast: the whole payload is first decoded into typed structs whose constraints msgspec
checks while decoding; the few rules a type cannot express (time window, RFC 3339, ordering of
the levels, sensor id) are checked afterwards. Only when something is wrong is each reading
judged alone, with the same typed check deciding acceptance and a hand-written validator
explaining why a reading was refused. One rule looks at the neighbours in a batch: a reading
whose duration reaches past the start of the next reading of the message is refused
(``reading_rules.overlapping``); it depends only on the message, never on how the ingest
batches messages.
"""

from __future__ import annotations

import math
import operator
import re
from functools import lru_cache
from typing import Annotated, Any, Final, NamedTuple

import msgspec

from noiselab.ingest.reading_rules import (
    MAX_BANDS,
    MAX_DURATION_S,
    MAX_LEVEL_DB,
    MAX_SEQ,
    MIN_PLAUSIBLE_TS,
    OVERLAP_TOLERANCE_MS,
    ReadingContext,
    level_order_problems,
    overlap_reason,
    overlapping,
    problems,
    rfc3339_to_unix,
)
from noiselab.ingest.reasons import show
from noiselab.model import SENSOR_ID_PATTERN, Reading, Rejection, Spectrum

__all__ = [
    "RAW_CAP_BYTES",
    "ParsedMessage",
    "is_sensor_id",
    "judge_reading",
    "parse_message",
    "sensor_id_from_topic",
]

RAW_CAP_BYTES: Final = 64 * 1024
"""``Rejection.raw`` keeps at most this many bytes of the offending JSON."""

_MAX_TOPIC_EXTRA: Final = len("/") + 64 + len("/levels")
_APART_MARGIN_S: Final = OVERLAP_TOLERANCE_MS / 1000.0 - 0.002
"""Intervals ending this close to the next start (s) are apart without the exact check."""
_Level = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_LEVEL_DB)]
_Duration = Annotated[float, msgspec.Meta(gt=0.0, le=MAX_DURATION_S)]
_Band = Annotated[float, msgspec.Meta(gt=0.0)]
_Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
_Bands = Annotated[tuple[_Band, ...], msgspec.Meta(min_length=1, max_length=MAX_BANDS)]
_Levels = Annotated[tuple[_Level, ...], msgspec.Meta(min_length=1, max_length=MAX_BANDS)]


class _RawSpectrum(msgspec.Struct, gc=False):
    bands_hz: _Bands
    lzeq: _Levels


class _RawReading(msgspec.Struct, gc=False):
    ts: float | str
    laeq: _Level
    duration: _Duration | None = None
    lafmax: _Level | None = None
    lafmin: _Level | None = None
    spectrum: _RawSpectrum | None = None
    seq: _Seq | None = None
    sensor_id: str | None = None
    l10: _Level | None = None
    l50: _Level | None = None
    l90: _Level | None = None


_TYPED: Final = msgspec.json.Decoder(list[_RawReading] | _RawReading)
_TYPED_ONE: Final = msgspec.json.Decoder(_RawReading)
_SHAPE: Final = msgspec.json.Decoder(list[msgspec.Raw] | dict[str, msgspec.Raw])
_ANY: Final = msgspec.json.Decoder(float_hook=float)


class ParsedMessage(NamedTuple):
    """What one MQTT message carried: the readings to store and everything refused."""

    readings: list[Reading]
    rejections: list[Rejection]


def sensor_id_from_topic(topic: str, prefix: str = "noiselab") -> str | None:
    """The sensor id of a ``{prefix}/{sensor_id}/levels`` topic, or ``None`` if it is not one.

    ``sensor_id`` must match ``[a-z0-9][a-z0-9-]{1,63}``; ``prefix`` may itself contain ``/``.
    """
    if len(topic) > len(prefix) + _MAX_TOPIC_EXTRA:
        return None
    return _sensor_id_from_short_topic(topic, prefix)


@lru_cache(maxsize=4096)
def _sensor_id_from_short_topic(topic: str, prefix: str) -> str | None:
    head = prefix + "/"
    if not (topic.startswith(head) and topic.endswith("/levels")):
        return None
    candidate = topic[len(head) : -len("/levels")]
    return candidate if SENSOR_ID_PATTERN.fullmatch(candidate) else None


def is_sensor_id(text: str) -> bool:
    """True if ``text`` is a valid sensor id (``[a-z0-9][a-z0-9-]{1,63}``)."""
    return SENSOR_ID_PATTERN.fullmatch(text) is not None


def judge_reading(
    item: dict[str, Any],
    *,
    topic: str,
    sensor_id: str,
    received_at: float,
    max_future_s: float = 300.0,
) -> Reading | str:
    """Judge one already-decoded reading object exactly as a reading of a native message.

    ``item`` holds the fields of the MQTT contract (``ts`` in Unix seconds or RFC 3339,
    ``laeq``, optional ``duration``, ``lafmax``, ``lafmin``, ...), as a payload adapter maps
    them from a foreign format. Returns the :class:`~noiselab.model.Reading` of ``sensor_id``
    or the reason it is refused; never raises. The rules and the reason texts are those of
    :func:`parse_message` (the same typed check decides, the same validator explains).
    """
    try:
        raw = msgspec.json.encode(item)
    except (TypeError, ValueError, OverflowError) as exc:
        return f"reading could not be encoded as JSON: {exc}"
    return _judge_one(raw, ReadingContext(topic, sensor_id, received_at, max_future_s))


def parse_message(
    topic: str,
    payload: bytes,
    received_at: float,
    *,
    prefix: str = "noiselab",
    max_future_s: float = 300.0,
    max_payload_bytes: int = 1_048_576,
    max_batch: int = 10_000,
) -> ParsedMessage:
    """Validate one sensor message; never raises.

    ``received_at`` is the receive time in Unix seconds; a reading whose ``ts`` is more than
    ``max_future_s`` seconds after it is refused. A message-level failure (bad topic, empty,
    over ``max_payload_bytes``, not UTF-8 JSON, not an object or array, an empty array or one
    longer than ``max_batch``) yields a single rejection with ``index=None`` and the payload,
    capped at :data:`RAW_CAP_BYTES`, as ``raw``. Otherwise every reading is judged alone: it
    becomes a ``Reading`` or a ``Rejection`` whose ``index`` is its position in the array
    (``None`` for a single object) and whose ``raw`` is its JSON exactly as sent, capped alike.
    """
    try:
        sensor_id = sensor_id_from_topic(topic, prefix)
        if sensor_id is not None and len(payload) <= max_payload_bytes and payload.isascii():
            outcome = _fast_path(payload, sensor_id, received_at + max_future_s, max_batch)
            if isinstance(outcome, list):
                return ParsedMessage(outcome, [])
        return _parse_thoroughly(
            topic,
            payload,
            received_at,
            prefix=prefix,
            max_future_s=max_future_s,
            max_payload_bytes=max_payload_bytes,
            max_batch=max_batch,
        )
    except Exception as exc:
        reason = f"internal error while parsing ({type(exc).__name__}: {exc}); please report it"
        return _whole(topic, None, payload, received_at, reason)


def _parse_thoroughly(
    topic: str,
    payload: bytes,
    received_at: float,
    *,
    prefix: str,
    max_future_s: float,
    max_payload_bytes: int,
    max_batch: int,
) -> ParsedMessage:
    """The whole procedure, for messages the fast path did not accept at once."""
    sensor_id = sensor_id_from_topic(topic, prefix)
    if sensor_id is None:
        reason = f"bad topic: expected {prefix}/<sensor_id>/levels, got {show(topic)}"
        return _whole(topic, None, payload, received_at, reason)
    problem = _payload_problem(payload, max_payload_bytes)
    if problem is None:
        outcome = _fast_path(payload, sensor_id, received_at + max_future_s, max_batch)
        if isinstance(outcome, list):
            return ParsedMessage(outcome, [])
        problem = outcome
    if problem is not None:
        return _whole(topic, sensor_id, payload, received_at, problem)
    return _judge_each(
        payload, ReadingContext(topic, sensor_id, received_at, max_future_s), max_batch
    )


def _payload_problem(payload: bytes, max_payload_bytes: int) -> str | None:
    size = len(payload)
    if size == 0:
        return "payload is empty"
    if size > max_payload_bytes:
        return f"payload is {size:,} bytes, over the {max_payload_bytes:,}-byte limit"
    if not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"payload is not valid UTF-8: {exc.reason} at byte {exc.start}"
    return None


def _fast_path(
    payload: bytes, sensor_id: str, latest: float, max_batch: int
) -> list[Reading] | str | None:
    """All readings if every one is valid, a whole-message problem, or ``None`` (judge each)."""
    try:
        decoded = _TYPED.decode(payload)
    except msgspec.ValidationError:
        return None
    except (msgspec.DecodeError, RecursionError) as exc:
        return _not_json(payload, exc)
    if not isinstance(decoded, list):
        reading = _accept_one(decoded, sensor_id, latest)
        return None if reading is None else [reading]
    problem = _batch_problem(decoded, max_batch)
    if problem:
        return problem
    return _accept_all(decoded, sensor_id, latest)


def _batch_problem(items: list[Any], max_batch: int) -> str | None:
    if not items:
        return "payload is an empty array: a batch needs at least one reading"
    if len(items) > max_batch:
        return f"batch has {len(items):,} readings, over the {max_batch:,}-reading limit"
    return None


def _not_json(payload: bytes, exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "payload is not valid JSON: nested too deeply"
    reason = f"payload is not valid JSON: {exc}"
    at = re.search(r"\(byte (\d+)\)", str(exc))
    if at is None:
        return reason
    pos = int(at.group(1))
    near = payload[max(0, pos - 20) : pos + 20].decode("utf-8", "replace")
    reason += f" near {show(near)}"
    window = payload[max(0, pos - 8) : pos + 9].lower()
    if b"nan" in window or b"inf" in window:
        reason += " (NaN and Infinity are not JSON numbers: send a finite number or omit the field)"
    return reason


def _accept_all(items: list[_RawReading], sensor_id: str, latest: float) -> list[Reading] | None:
    """Every reading, or ``None`` when one is refused or two may overlap (judge each then)."""
    readings = []
    apart = True  # in time order, each ending clearly before the next starts
    previous_ts = previous_end = -math.inf
    for item in items:
        reading = _accept_one(item, sensor_id, latest)
        if reading is None:
            return None
        readings.append(reading)
        ts = reading.ts
        apart = apart and ts > previous_ts and previous_end <= ts + _APART_MARGIN_S
        previous_ts, previous_end = ts, ts + reading.duration
    if not apart and overlapping(readings):
        return None
    return readings


def _accept_one(raw: _RawReading, sensor_id: str, latest: float) -> Reading | None:
    """The reading if the rules msgspec cannot check while decoding hold, else ``None``."""
    ts = raw.ts
    if isinstance(ts, str):
        try:
            ts = rfc3339_to_unix(ts)
        except ValueError:
            return None
    if not MIN_PLAUSIBLE_TS <= ts <= latest:
        return None
    laeq, lafmax, lafmin = raw.laeq, raw.lafmax, raw.lafmin
    # The usual reading in one look (LAFmax >= LAeq >= LAFmin, no percentiles); the rest
    # through the full rules.
    usual = (lafmax is None or lafmax >= laeq) and (lafmin is None or lafmin <= laeq)
    if not (usual and raw.l10 is None and raw.l50 is None and raw.l90 is None) and not (
        _levels_possible(raw)
    ):
        return None
    if raw.sensor_id is not None and raw.sensor_id != sensor_id:
        return None
    spectrum = None
    if raw.spectrum is not None:
        bands, lzeq = raw.spectrum.bands_hz, raw.spectrum.lzeq
        if len(bands) != len(lzeq) or not all(map(operator.lt, bands, bands[1:])):
            return None
        spectrum = Spectrum(bands, lzeq)
    duration = 1.0 if raw.duration is None else raw.duration
    return Reading(sensor_id, ts, laeq, duration, lafmax, lafmin, spectrum, raw.seq)


def _levels_possible(raw: _RawReading) -> bool:
    """LAFmin <= LAFmax exactly, and the order rules of ``level_order_problems``."""
    laeq, lafmax, lafmin = raw.laeq, raw.lafmax, raw.lafmin
    if lafmax is not None and lafmin is not None and lafmin > lafmax:
        return False
    duration = 1.0 if raw.duration is None else raw.duration
    return not level_order_problems(laeq, lafmax, (raw.l10, raw.l50, raw.l90), duration)


def _judge_each(payload: bytes, ctx: ReadingContext, max_batch: int) -> ParsedMessage:
    """Judge every reading of a message the fast path did not accept as a whole."""
    try:
        shape = _SHAPE.decode(payload)
    except msgspec.ValidationError:
        kind = _kind_of_first_value(payload)
        reason = f"payload must be a JSON object or an array of objects, got {kind}"
        return _whole(ctx.topic, ctx.sensor_id, payload, ctx.received_at, reason)
    except (msgspec.DecodeError, RecursionError) as exc:
        return _whole(ctx.topic, ctx.sensor_id, payload, ctx.received_at, _not_json(payload, exc))
    if isinstance(shape, dict):
        raws: list[bytes] = [payload]
        indices: list[int | None] = [None]
    else:
        problem = _batch_problem(shape, max_batch)
        if problem:
            return _whole(ctx.topic, ctx.sensor_id, payload, ctx.received_at, problem)
        raws, indices = list(shape), list(range(len(shape)))
    accepted: list[tuple[Reading, bytes, int | None]] = []
    rejections: list[Rejection] = []
    for raw, index in zip(raws, indices, strict=True):
        verdict = _judge_one(raw, ctx)
        if isinstance(verdict, Reading):
            accepted.append((verdict, raw, index))
        else:
            rejections.append(_rejected(ctx, raw, index, verdict))
    readings = [reading for reading, _, _ in accepted]
    overlaps = set(overlapping(readings))
    for position in sorted(overlaps):
        reading, raw, index = accepted[position]
        rejections.append(_rejected(ctx, raw, index, overlap_reason(reading, readings)))
    kept = [r for position, r in enumerate(readings) if position not in overlaps]
    return ParsedMessage(kept, rejections)


def _rejected(ctx: ReadingContext, raw: bytes, index: int | None, reason: str) -> Rejection:
    capped = bytes(memoryview(raw)[:RAW_CAP_BYTES])
    return Rejection(ctx.topic, ctx.sensor_id, capped, reason, ctx.received_at, index)


def _judge_one(raw: bytes, ctx: ReadingContext) -> Reading | str:
    """The reading, or the reason it is refused.

    The typed check decides, so a reading is accepted exactly when it would be on the fast
    path; :func:`problems` only explains a refusal.
    """
    latest = ctx.received_at + ctx.max_future_s
    try:
        reading = _accept_one(_TYPED_ONE.decode(raw), ctx.sensor_id, latest)
    except (msgspec.DecodeError, RecursionError) as exc:
        typed_error = str(exc)
    else:
        if reading is not None:
            return reading
        typed_error = "a rule on ts, the order of the levels, spectrum or sensor_id"
    try:
        item = _ANY.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        return f"reading could not be decoded: {exc}"
    found = problems(item, ctx)
    if found:
        return "; ".join(found)
    return f"reading refused by the schema ({typed_error}); please report this unexplained case"


def _kind_of_first_value(payload: bytes) -> str:
    first = payload.lstrip(b" \t\r\n")[:1]
    kinds = {b'"': "a string", b"t": "a boolean", b"f": "a boolean", b"n": "null"}
    return kinds.get(first, "a number")


def _whole(
    topic: str, sensor_id: str | None, payload: bytes, received_at: float, reason: str
) -> ParsedMessage:
    """A message refused as a whole, with its payload capped as the raw evidence."""
    raw = bytes(payload[:RAW_CAP_BYTES]) if isinstance(payload, bytes | bytearray) else b""
    return ParsedMessage([], [Rejection(topic, sensor_id, raw, reason, received_at)])
