"""Parsing and validation of weather-station messages (pure; never raises).

A message arrives on ``{prefix}/{station_id}/weather`` (or over HTTP) with a UTF-8 JSON payload
that is one observation object or an array of 1 to 10,000 of them (docs/sensors.md, "Weather
observations"). :func:`parse_weather` turns it into validated
:class:`~noiselab.model.WeatherObservation` records and :class:`~noiselab.model.Rejection`
records for everything else, each with a reason a person can read, in the words of the noise
readings' parser (:mod:`noiselab.ingest.reasons`).

Fields and units: ``ts`` the interval start, Unix seconds or RFC 3339 with an offset (stored as
Unix s, UTC); ``duration`` s (default 60, ``0 < d ≤ 3600``); ``wind_speed`` the mean over the
interval, m/s (0-75); ``wind_gust`` its highest speed, m/s (0-120 and not below
``wind_speed``); ``wind_direction`` degrees from north the wind comes from ([0, 360));
``precipitation`` mm fallen in the interval (0-500); ``temperature`` °C (-60 to 60). All but
``ts`` optional; ``null`` means absent; booleans are not numbers; unknown fields are ignored;
``station_id``, when present, must equal the topic's.

Weather messages are few (one a minute per station), so every observation is judged by the
hand-written rules directly, without the noise parser's typed fast path.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final, NamedTuple

import msgspec

from noiselab.ingest.reading_rules import MAX_DURATION_S, MIN_PLAUSIBLE_TS, rfc3339_to_unix
from noiselab.ingest.reasons import describe, show
from noiselab.model import SENSOR_ID_PATTERN, Rejection, WeatherObservation

__all__ = [
    "DEFAULT_DURATION_S",
    "FIELD_LIMITS",
    "RAW_CAP_BYTES",
    "ParsedWeather",
    "WeatherContext",
    "judge_observations",
    "parse_weather",
    "station_id_from_topic",
]

RAW_CAP_BYTES: Final = 64 * 1024
"""``Rejection.raw`` keeps at most this many bytes of the offending JSON."""
DEFAULT_DURATION_S: Final = 60.0
"""The interval of an observation that gives no ``duration``, s."""
FIELD_LIMITS: Final[dict[str, tuple[float, float, str]]] = {
    "wind_speed": (0.0, 75.0, "m/s"),
    "wind_gust": (0.0, 120.0, "m/s"),
    "precipitation": (0.0, 500.0, "mm"),
    "temperature": (-60.0, 60.0, "°C"),
}
"""Closed ranges of the optional measured values and their units."""
_MISSING: Final = object()
_ANY: Final = msgspec.json.Decoder(float_hook=float)
_TOPIC_TAIL: Final = "/weather"


class ParsedWeather(NamedTuple):
    """What one message carried: the observations to store and everything refused."""

    observations: list[WeatherObservation]
    rejections: list[Rejection]


class WeatherContext(NamedTuple):
    """Where a message came from: its topic (or HTTP route) and station, the receive time
    (Unix s) and how far ahead of it a ``ts`` may lie (s)."""

    topic: str
    station_id: str
    received_at: float
    max_future_s: float = 300.0


def station_id_from_topic(topic: str, prefix: str = "noiselab") -> str | None:
    """The station id of a ``{prefix}/{station_id}/weather`` topic, or ``None``."""
    head = prefix + "/"
    if not (topic.startswith(head) and topic.endswith(_TOPIC_TAIL)):
        return None
    candidate = topic[len(head) : -len(_TOPIC_TAIL)]
    return candidate if SENSOR_ID_PATTERN.fullmatch(candidate) else None


def parse_weather(
    topic: str,
    payload: bytes,
    received_at: float,
    *,
    prefix: str = "noiselab",
    max_future_s: float = 300.0,
    max_payload_bytes: int = 1_048_576,
    max_batch: int = 10_000,
) -> ParsedWeather:
    """Validate one weather message from MQTT; never raises.

    A message-level failure (bad topic, empty, too large, not UTF-8 JSON, not an object or an
    array of 1 to ``max_batch`` items) is one rejection with ``index=None``; otherwise each
    observation is judged alone (``index`` its position in an array, ``None`` for one object).
    """
    station_id = station_id_from_topic(topic, prefix)
    if station_id is None:
        reason = f"bad topic: expected {prefix}/<station_id>/weather, got {show(topic)}"
        return _whole(topic, None, payload, received_at, reason)
    ctx = WeatherContext(topic, station_id, received_at, max_future_s)
    return judge_observations(
        payload, ctx, max_payload_bytes=max_payload_bytes, max_batch=max_batch
    )


def judge_observations(
    payload: bytes,
    ctx: WeatherContext,
    *,
    max_payload_bytes: int = 1_048_576,
    max_batch: int = 10_000,
) -> ParsedWeather:
    """Judge a payload of ``ctx.station_id`` (from MQTT or an HTTP push); never raises."""
    try:
        return _judge(payload, ctx, max_payload_bytes, max_batch)
    except Exception as exc:
        reason = f"internal error while parsing ({type(exc).__name__}: {exc}); please report it"
        return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, reason)


def _judge(
    payload: bytes, ctx: WeatherContext, max_payload_bytes: int, max_batch: int
) -> ParsedWeather:
    problem = _payload_problem(payload, max_payload_bytes)
    if problem is not None:
        return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, problem)
    try:
        shape = msgspec.json.decode(payload, type=list[msgspec.Raw] | dict[str, msgspec.Raw])
    except msgspec.ValidationError:
        reason = "payload must be a JSON object or an array of objects"
        return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, reason)
    except (msgspec.DecodeError, RecursionError) as exc:
        reason = f"payload is not valid JSON: {_first_line(exc)}"
        return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, reason)
    if isinstance(shape, dict):
        raws: list[bytes] = [payload]
        indices: list[int | None] = [None]
    else:
        if not shape:
            reason = "payload is an empty array: a batch needs at least one observation"
            return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, reason)
        if len(shape) > max_batch:
            reason = f"batch has {len(shape):,} observations, over the {max_batch:,} limit"
            return _whole(ctx.topic, ctx.station_id, payload, ctx.received_at, reason)
        raws, indices = [bytes(raw) for raw in shape], list(range(len(shape)))
    observations: list[WeatherObservation] = []
    rejections: list[Rejection] = []
    for raw, index in zip(raws, indices, strict=True):
        verdict = _judge_one(raw, ctx)
        if isinstance(verdict, WeatherObservation):
            observations.append(verdict)
        else:
            capped = bytes(raw[:RAW_CAP_BYTES])
            rejections.append(
                Rejection(ctx.topic, ctx.station_id, capped, verdict, ctx.received_at, index)
            )
    return ParsedWeather(observations, rejections)


def _payload_problem(payload: bytes, max_payload_bytes: int) -> str | None:
    if not payload:
        return "payload is empty"
    if len(payload) > max_payload_bytes:
        return f"payload is {len(payload):,} bytes, over the {max_payload_bytes:,}-byte limit"
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"payload is not valid UTF-8: {exc.reason} at byte {exc.start}"
    return None


def _first_line(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if re.search(r"nan|inf", text, re.IGNORECASE):
        text += " (NaN and Infinity are not JSON numbers)"
    return text


def _judge_one(raw: bytes, ctx: WeatherContext) -> WeatherObservation | str:
    """The observation, or every reason (joined by ``"; "``) why it is refused."""
    try:
        item = _ANY.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        return f"observation could not be decoded: {_first_line(exc)}"
    if not isinstance(item, dict):
        return f"observation must be a JSON object, got {describe(item)}"
    errors: list[str] = []
    ts = _check_ts(item.get("ts", _MISSING), ctx, errors)
    duration = _check_duration(item.get("duration"), errors)
    values = {name: _check_range(name, item.get(name), errors) for name in FIELD_LIMITS}
    direction = _check_direction(item.get("wind_direction"), errors)
    speed, gust = values["wind_speed"], values["wind_gust"]
    if speed is not None and gust is not None and gust < speed:
        errors.append(f"wind_gust {show(gust)} m/s is below wind_speed {show(speed)} m/s")
    station = item.get("station_id")
    if station is not None and station != ctx.station_id:
        if type(station) is not str:
            errors.append(f"station_id: must be a string, got {describe(station)}")
        else:
            errors.append(f"station_id {show(station)} differs from the topic's {ctx.station_id!r}")
    if errors or ts is None:
        return "; ".join(errors) or "ts: could not be read"
    return WeatherObservation(
        station_id=ctx.station_id,
        ts=ts,
        duration=DEFAULT_DURATION_S if duration is None else duration,
        wind_speed=speed,
        wind_gust=gust,
        wind_direction=direction,
        precipitation=values["precipitation"],
        temperature=values["temperature"],
    )


def _number(name: str, value: Any, errors: list[str]) -> float | None:
    """``value`` as a finite float, or ``None`` after recording why it is not one."""
    if type(value) not in (int, float):
        errors.append(f"{name}: must be a number, got {describe(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        errors.append(f"{name}: must be a finite number, got {show(value)}")
        return None
    return number


def _check_ts(value: Any, ctx: WeatherContext, errors: list[str]) -> float | None:
    ts = _ts_seconds(value, errors)
    if ts is None:
        return None
    if ts < MIN_PLAUSIBLE_TS:
        errors.append(f"ts: {show(ts)} is before 2000-01-01T00:00:00Z, implausible")
        return None
    if ts > ctx.received_at + ctx.max_future_s:
        ahead = ts - ctx.received_at
        errors.append(
            f"ts: {ahead:.1f} s in the future of the receive time (limit {ctx.max_future_s:g} s)"
        )
        return None
    return ts


def _ts_seconds(value: Any, errors: list[str]) -> float | None:
    """``ts`` in Unix seconds, or ``None`` after recording why it cannot be read."""
    if value is _MISSING or value is None:
        errors.append("ts: required (Unix seconds or an RFC 3339 string with offset)")
        return None
    if type(value) in (int, float):
        return _number("ts", value, errors)
    if type(value) is not str:
        errors.append(
            f"ts: must be Unix seconds (a number) or an RFC 3339 string, got {describe(value)}"
        )
        return None
    try:
        return rfc3339_to_unix(value)
    except ValueError as exc:
        errors.append(f"ts: {exc}")
        return None


def _check_duration(value: Any, errors: list[str]) -> float | None:
    if value is None:
        return None
    duration = _number("duration", value, errors)
    if duration is not None and not 0.0 < duration <= MAX_DURATION_S:
        errors.append(
            f"duration: must be more than 0 and at most {MAX_DURATION_S:g} s, got {show(value)}"
        )
        return None
    return duration


def _check_range(name: str, value: Any, errors: list[str]) -> float | None:
    if value is None:
        return None
    number = _number(name, value, errors)
    low, high, unit = FIELD_LIMITS[name]
    if number is not None and not low <= number <= high:
        errors.append(f"{name}: must be between {low:g} and {high:g} {unit}, got {show(value)}")
        return None
    return number


def _check_direction(value: Any, errors: list[str]) -> float | None:
    if value is None:
        return None
    number = _number("wind_direction", value, errors)
    if number is not None and not 0.0 <= number < 360.0:
        errors.append(
            f"wind_direction: must be at least 0 and below 360 degrees, got {show(value)}"
        )
        return None
    return number


def _whole(
    topic: str, station_id: str | None, payload: bytes, received_at: float, reason: str
) -> ParsedWeather:
    """A message refused as a whole, with its payload capped as the raw evidence."""
    raw = bytes(payload[:RAW_CAP_BYTES]) if isinstance(payload, bytes | bytearray) else b""
    return ParsedWeather([], [Rejection(topic, station_id, raw, reason, received_at)])
