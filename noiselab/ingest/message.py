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
checks while decoding; the few rules a type cannot express (time window, RFC 3339, ordering,
sensor id) are checked afterwards. Only when something is wrong is each reading judged alone,
with the same typed check deciding acceptance and a hand-written validator explaining why a
reading was refused, so a reading's fate never depends on its neighbours in a batch.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Final, NamedTuple

import msgspec

from noiselab.model import SENSOR_ID_PATTERN, Reading, Rejection, Spectrum

__all__ = [
    "MAX_BANDS",
    "MAX_LEVEL_DB",
    "MIN_PLAUSIBLE_TS",
    "RAW_CAP_BYTES",
    "ParsedMessage",
    "is_sensor_id",
    "judge_reading",
    "parse_message",
    "sensor_id_from_topic",
]

MIN_PLAUSIBLE_TS: Final = 946_684_800.0
"""2000-01-01T00:00:00Z in Unix seconds: anything earlier is a sensor without a clock."""
MAX_LEVEL_DB: Final = 160.0
MAX_DURATION_S: Final = 3600.0
MAX_BANDS: Final = 64
MAX_SEQ: Final = 2**63 - 1
"""``seq`` must fit a signed 64-bit integer column."""
RAW_CAP_BYTES: Final = 64 * 1024
"""``Rejection.raw`` keeps at most this many bytes of the offending JSON."""

_SHOW_CHARS: Final = 60
_MAX_TOPIC_EXTRA: Final = len("/") + 64 + len("/levels")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_MISSING: Final = object()

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


_TYPED: Final = msgspec.json.Decoder(list[_RawReading] | _RawReading)
_TYPED_ONE: Final = msgspec.json.Decoder(_RawReading)
_SHAPE: Final = msgspec.json.Decoder(list[msgspec.Raw] | dict[str, msgspec.Raw])
_ANY: Final = msgspec.json.Decoder(float_hook=float)


class ParsedMessage(NamedTuple):
    """What one MQTT message carried: the readings to store and everything refused."""

    readings: list[Reading]
    rejections: list[Rejection]


class _Context(NamedTuple):
    topic: str
    sensor_id: str
    received_at: float
    max_future_s: float


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
    return _judge_one(raw, _Context(topic, sensor_id, received_at, max_future_s))


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
        reason = f"bad topic: expected {prefix}/<sensor_id>/levels, got {_show(topic)}"
        return _whole(topic, None, payload, received_at, reason)
    problem = _payload_problem(payload, max_payload_bytes)
    if problem is None:
        outcome = _fast_path(payload, sensor_id, received_at + max_future_s, max_batch)
        if isinstance(outcome, list):
            return ParsedMessage(outcome, [])
        problem = outcome
    if problem is not None:
        return _whole(topic, sensor_id, payload, received_at, problem)
    return _judge_each(payload, _Context(topic, sensor_id, received_at, max_future_s), max_batch)


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
    return _batch_problem(decoded, max_batch) or _accept_all(decoded, sensor_id, latest)


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
    reason += f" near {_show(near)}"
    window = payload[max(0, pos - 8) : pos + 9].lower()
    if b"nan" in window or b"inf" in window:
        reason += " (NaN and Infinity are not JSON numbers: send a finite number or omit the field)"
    return reason


def _accept_all(items: list[_RawReading], sensor_id: str, latest: float) -> list[Reading] | None:
    readings = []
    for item in items:
        reading = _accept_one(item, sensor_id, latest)
        if reading is None:
            return None
        readings.append(reading)
    return readings


def _accept_one(raw: _RawReading, sensor_id: str, latest: float) -> Reading | None:
    """The reading if the rules msgspec cannot check while decoding hold, else ``None``."""
    ts = raw.ts
    if isinstance(ts, str):
        try:
            ts = _rfc3339_to_unix(ts)
        except ValueError:
            return None
    if not MIN_PLAUSIBLE_TS <= ts <= latest:
        return None
    lafmax, lafmin = raw.lafmax, raw.lafmin
    if lafmax is not None and lafmin is not None and lafmin > lafmax:
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
    return Reading(sensor_id, ts, raw.laeq, duration, lafmax, lafmin, spectrum, raw.seq)


def _rfc3339_to_unix(text: str) -> float:
    """Unix seconds of an RFC 3339 date-time with offset; ``ValueError`` says what is wrong."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{_show(text)} is not an RFC 3339 date-time (e.g. 2026-03-29T01:30:00+01:00)"
        )
    if match["offset"] is None:
        raise ValueError(f"{_show(text)} has no UTC offset: add Z or +hh:mm")
    try:
        return datetime.fromisoformat(text.upper()).timestamp()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{_show(text)} is not a valid date-time ({exc})") from None


def _judge_each(payload: bytes, ctx: _Context, max_batch: int) -> ParsedMessage:
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
    readings: list[Reading] = []
    rejections: list[Rejection] = []
    for raw, index in zip(raws, indices, strict=True):
        verdict = _judge_one(raw, ctx)
        if isinstance(verdict, Reading):
            readings.append(verdict)
        else:
            capped = bytes(memoryview(raw)[:RAW_CAP_BYTES])
            rejections.append(
                Rejection(ctx.topic, ctx.sensor_id, capped, verdict, ctx.received_at, index)
            )
    return ParsedMessage(readings, rejections)


def _judge_one(raw: bytes, ctx: _Context) -> Reading | str:
    """The reading, or the reason it is refused.

    The typed check decides, so a reading is accepted exactly when it would be on the fast
    path; :func:`_problems` only explains a refusal.
    """
    latest = ctx.received_at + ctx.max_future_s
    try:
        reading = _accept_one(_TYPED_ONE.decode(raw), ctx.sensor_id, latest)
    except (msgspec.DecodeError, RecursionError) as exc:
        typed_error = str(exc)
    else:
        if reading is not None:
            return reading
        typed_error = "a rule on ts, lafmin/lafmax, spectrum or sensor_id"
    try:
        item = _ANY.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        return f"reading could not be decoded: {exc}"
    problems = _problems(item, ctx)
    if problems:
        return "; ".join(problems)
    return f"reading refused by the schema ({typed_error}); please report this unexplained case"


def _problems(item: Any, ctx: _Context) -> list[str]:
    """Every reason, in field order, why a decoded JSON value is not a valid reading."""
    if not isinstance(item, dict):
        return [f"reading must be a JSON object, got {_describe(item)}"]
    errors: list[str] = []
    _check_ts(item.get("ts", _MISSING), ctx, errors)
    _check_level("laeq", item.get("laeq", _MISSING), errors, required=True)
    _check_duration(item.get("duration"), errors)
    lafmax = _check_level("lafmax", item.get("lafmax"), errors)
    lafmin = _check_level("lafmin", item.get("lafmin"), errors)
    if lafmax is not None and lafmin is not None and lafmin > lafmax:
        errors.append(f"lafmin {_show(lafmin)} dB is above lafmax {_show(lafmax)} dB")
    _check_spectrum(item.get("spectrum"), errors)
    _check_seq(item.get("seq"), errors)
    _check_sensor_id(item.get("sensor_id"), ctx.sensor_id, errors)
    return errors


def _number(name: str, value: Any, errors: list[str]) -> float | None:
    """``value`` as a finite float, or ``None`` after recording why it is not one."""
    if type(value) is float:
        number = value
    elif type(value) is int:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf if value > 0 else -math.inf
    else:
        errors.append(f"{name}: must be a number, got {_describe(value)}")
        return None
    if not math.isfinite(number):
        sign = "-" if number < 0 else ""
        errors.append(
            f"{name}: must be a finite number, got {sign}infinity "
            "(the JSON number is beyond the float range)"
        )
        return None
    return number


def _check_ts(value: Any, ctx: _Context, errors: list[str]) -> None:
    ts = _ts_seconds(value, errors)
    if ts is None:
        return
    if ts < MIN_PLAUSIBLE_TS:
        errors.append(f"ts: {_show(ts)} is before 2000-01-01T00:00:00Z, implausible")
    elif ts > ctx.received_at + ctx.max_future_s:
        ahead = _seconds_over(ts - ctx.received_at, ctx.max_future_s)
        errors.append(
            f"ts: {ahead} s in the future of the receive time (limit {ctx.max_future_s:g} s)"
        )


def _seconds_over(seconds: float, limit: float) -> str:
    """``seconds`` to 0.1 s, or finer when that rounding would make it look within ``limit``."""
    return f"{seconds:.1f}" if round(seconds, 1) > limit else f"{seconds:.6f}".rstrip("0")


def _ts_seconds(value: Any, errors: list[str]) -> float | None:
    """``ts`` in Unix seconds, or ``None`` after recording why it cannot be read."""
    if value is _MISSING:
        errors.append("ts: required (Unix seconds or an RFC 3339 string with offset)")
        return None
    if type(value) in (int, float):
        return _number("ts", value, errors)
    if type(value) is not str:
        errors.append(
            f"ts: must be Unix seconds (a number) or an RFC 3339 string, got {_describe(value)}"
        )
        return None
    try:
        return _rfc3339_to_unix(value)
    except ValueError as exc:
        errors.append(f"ts: {exc}")
        return None


def _check_level(
    name: str, value: Any, errors: list[str], *, required: bool = False
) -> float | None:
    if value is None and not required:
        return None
    if value is _MISSING:
        errors.append(f"{name}: required (a level in dB)")
        return None
    level = _number(name, value, errors)
    if level is not None and not 0.0 <= level <= MAX_LEVEL_DB:
        errors.append(f"{name}: must be between 0 and {MAX_LEVEL_DB:g} dB, got {_show(value)}")
        return None
    return level


def _check_duration(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    duration = _number("duration", value, errors)
    if duration is not None and not 0.0 < duration <= MAX_DURATION_S:
        errors.append(
            f"duration: must be more than 0 and at most {MAX_DURATION_S:g} s, got {_show(value)}"
        )


def _check_spectrum(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        errors.append(
            f"spectrum: must be an object with bands_hz and lzeq arrays, got {_describe(value)}"
        )
        return
    bands = _check_series(
        "spectrum.bands_hz", value.get("bands_hz", _MISSING), _band_problem, errors
    )
    lzeq = _check_series("spectrum.lzeq", value.get("lzeq", _MISSING), _level_problem, errors)
    if bands is not None and lzeq is not None:
        problem = _spectrum_shape_problem(bands, lzeq)
        if problem:
            errors.append(problem)


def _check_series(
    name: str,
    value: Any,
    element_problem: Callable[[str, float], str | None],
    errors: list[str],
) -> list[float] | None:
    """The numbers of a spectrum array, or ``None`` after recording its first problem."""
    if value is _MISSING:
        errors.append(f"{name}: required")
        return None
    if not isinstance(value, list):
        errors.append(f"{name}: must be an array of numbers, got {_describe(value)}")
        return None
    numbers: list[float] = []
    for i, element in enumerate(value):
        number = _number(f"{name}[{i}]", element, errors)
        if number is None:
            return None
        problem = element_problem(f"{name}[{i}]", number)
        if problem:
            errors.append(problem)
            return None
        numbers.append(number)
    return numbers


def _band_problem(name: str, band: float) -> str | None:
    return None if band > 0.0 else f"{name}: must be a positive frequency in Hz, got {band!r}"


def _level_problem(name: str, level: float) -> str | None:
    if 0.0 <= level <= MAX_LEVEL_DB:
        return None
    return f"{name}: must be between 0 and {MAX_LEVEL_DB:g} dB, got {level!r}"


def _spectrum_shape_problem(bands: list[float], lzeq: list[float]) -> str | None:
    if not 1 <= len(bands) <= MAX_BANDS:
        return f"spectrum: must have 1 to {MAX_BANDS} bands, got {len(bands)}"
    if len(bands) != len(lzeq):
        return f"spectrum: bands_hz has {len(bands)} values but lzeq has {len(lzeq)}"
    for i in range(1, len(bands)):
        if bands[i] <= bands[i - 1]:
            return (
                f"spectrum.bands_hz: must be strictly increasing, but [{i}] = {bands[i]!r} "
                f"follows [{i - 1}] = {bands[i - 1]!r}"
            )
    return None


def _check_seq(value: Any, errors: list[str]) -> None:
    if value is None:
        return
    if type(value) is not int:
        errors.append(f"seq: must be an integer >= 0, got {_describe(value)}")
    elif not 0 <= value <= MAX_SEQ:
        errors.append(f"seq: must be an integer from 0 to 2**63 - 1, got {_show(value)}")


def _check_sensor_id(value: Any, topic_sensor_id: str | None, errors: list[str]) -> None:
    if value is None or value == topic_sensor_id:
        return
    if type(value) is not str:
        errors.append(f"sensor_id: must be a string, got {_describe(value)}")
    else:
        errors.append(f"sensor_id {_show(value)} differs from the topic's {_show(topic_sensor_id)}")


def _describe(value: Any) -> str:
    """A JSON value's type, with the value itself when it is a short scalar."""
    if value is None:
        return "null"
    if type(value) is bool:
        return f"boolean {'true' if value else 'false'}"
    if type(value) is str:
        return f"string {_show(value)}"
    if type(value) in (int, float):
        return f"number {_show(value)}"
    return "array" if type(value) is list else "object"


def _show(value: Any) -> str:
    """A short printable form of a value for a reason text."""
    if type(value) is int and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value[: _SHOW_CHARS + 1] if isinstance(value, str) else value)
    return text if len(text) <= _SHOW_CHARS else text[: _SHOW_CHARS - 3] + "..."


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
