"""What every payload adapter shares: its options, its context and the mapped-reading judge.

An adapter turns one foreign MQTT payload into the readings of our model. It only *maps*: each
mapped reading object (``ts`` in Unix seconds, ``laeq``, ``duration``, ...) is then judged by
:func:`noiselab.ingest.message.judge_reading`, the judge of our own messages, so a foreign
reading is accepted or refused by exactly the same rules. Every refusal becomes a
:class:`~noiselab.model.Rejection` whose reason starts with the format's label (``"dnms: ..."``)
and whose ``raw`` is the foreign payload, capped at
:data:`~noiselab.ingest.message.RAW_CAP_BYTES`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final, NamedTuple

import msgspec

from noiselab.ingest.adapters.pointer import PointerError, resolve
from noiselab.ingest.message import RAW_CAP_BYTES, ParsedMessage, is_sensor_id, judge_reading
from noiselab.ingest.reasons import describe, show
from noiselab.model import Reading, Rejection

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "AdapterContext",
    "AdapterOptions",
    "Collector",
    "FixedId",
    "IdRule",
    "Mapped",
    "MappingFields",
    "Ok",
    "PointerId",
    "Problem",
    "TopicLevel",
    "decode_json",
    "describe",
    "json_adapter",
    "map_device_id",
    "number",
    "parse_rfc3339",
    "show",
]

MAX_PAYLOAD_BYTES: Final = 1_048_576
"""A foreign payload larger than this is refused whole, as a native one is."""

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_SHOW_CHARS: Final = 60
_ANY: Final = msgspec.json.Decoder(float_hook=float)


class TopicLevel(NamedTuple):
    """Sensor id from a topic level, counted from 0 (``sensor_id = "topic:3"``)."""

    level: int


class PointerId(NamedTuple):
    """Sensor id from a JSON pointer into the payload (``sensor_id = "pointer:/a/b"``)."""

    pointer: str


class FixedId(NamedTuple):
    """One fixed sensor id for every reading of the source (``sensor_id = "kbm-1"``)."""

    sensor_id: str


IdRule = TopicLevel | PointerId | FixedId


@dataclass(frozen=True, slots=True)
class MappingFields:
    """JSON pointers of the generic ``mapping`` format (RFC 6901, relative to an item).

    ``duration`` is either a pointer (``str``) or a constant in seconds (``float``).
    ``ts_format`` is ``unix``, ``unix_ms``, ``rfc3339`` or a ``strptime`` pattern with ``%z``.
    """

    laeq: str
    ts: str | None = None
    ts_format: str = "unix"
    duration: str | float | None = None
    lafmax: str | None = None
    lafmin: str | None = None
    sensor_id: str | None = None
    items: str | None = None


@dataclass(frozen=True, slots=True)
class AdapterOptions:
    """How one configured source maps its device ids and intervals.

    ``sensor_id`` overrides the id the format finds itself; ``ids`` maps device ids (as the
    device or platform names them) to our sensor ids; ``interval_s`` is the measurement
    interval in seconds where the payload does not carry it (``None``: the format's default).
    """

    sensor_id: IdRule | None = None
    ids: Mapping[str, str] = field(default_factory=dict)
    interval_s: float | None = None
    fields: MappingFields | None = None


class AdapterContext(NamedTuple):
    """One received message: its topic, receive time (Unix s) and the source's options."""

    topic: str
    received_at: float
    options: AdapterOptions = AdapterOptions()
    max_future_s: float = 300.0


class Mapped(NamedTuple):
    """A reading object mapped from a foreign payload, before it is judged.

    ``device_id`` is the id the foreign payload gives (``None`` when the source's rule
    decides); ``label`` names the reading in a reason (e.g. ``"entity 'x'"``).
    """

    device_id: str | None
    item: dict[str, Any]
    label: str
    position: int | None = None


class Collector:
    """Judges mapped readings and gathers readings and rejections for one message."""

    def __init__(self, fmt: str, payload: bytes, ctx: AdapterContext) -> None:
        self.fmt = fmt
        self.ctx = ctx
        self.raw = bytes(payload[:RAW_CAP_BYTES])
        self._document: Any = None
        self.readings: list[Reading] = []
        self.rejections: list[Rejection] = []

    def use_document(self, document: Any) -> None:
        """The decoded payload, for ``pointer:`` sensor id rules."""
        self._document = document

    def reject(
        self, reason: str, *, sensor_id: str | None = None, index: int | None = None
    ) -> None:
        """Refuse something; ``reason`` is prefixed with the format's label. A source with a
        fixed sensor id files every rejection under that sensor."""
        if sensor_id is None and isinstance(self.ctx.options.sensor_id, FixedId):
            fixed = self.sensor_id(None)
            sensor_id = fixed.value if isinstance(fixed, Ok) else None
        self.rejections.append(
            Rejection(
                self.ctx.topic,
                sensor_id,
                self.raw,
                f"{self.fmt}: {reason}",
                self.ctx.received_at,
                index,
            )
        )

    def add(self, mapped: Mapped) -> None:
        """Resolve the sensor id of a mapped reading and judge it."""
        sensor_id = self.sensor_id(mapped.device_id)
        if not isinstance(sensor_id, Ok):
            self.reject(f"{mapped.label}: {sensor_id}", index=mapped.position)
            return
        verdict = judge_reading(
            mapped.item,
            topic=self.ctx.topic,
            sensor_id=sensor_id.value,
            received_at=self.ctx.received_at,
            max_future_s=self.ctx.max_future_s,
        )
        if isinstance(verdict, Reading):
            self.readings.append(verdict)
        else:
            self.reject(
                f"{mapped.label}: {verdict}", sensor_id=sensor_id.value, index=mapped.position
            )

    def sensor_id(self, device_id: str | None) -> Ok | str:
        """Our sensor id for a device id, by the source's rule and id map, or why not."""
        rule = self.ctx.options.sensor_id
        if rule is not None:
            found = self._by_rule(rule)
            if not isinstance(found, Ok):
                return found
            device_id = found.value
        if device_id is None:
            return "no device id in the payload: set sensor_id for this source"
        return map_device_id(device_id, self.ctx.options.ids)

    def _by_rule(self, rule: IdRule) -> Ok | str:
        if isinstance(rule, FixedId):
            return Ok(rule.sensor_id)
        if isinstance(rule, TopicLevel):
            levels = self.ctx.topic.split("/")
            if rule.level >= len(levels):
                return f"topic {show(self.ctx.topic)} has no level {rule.level} for the sensor id"
            return Ok(levels[rule.level])
        try:
            value = resolve(self._document, rule.pointer)
        except PointerError as exc:
            return f"sensor id pointer {rule.pointer!r}: {exc}"
        if type(value) is int or type(value) is str:
            return Ok(str(value))
        return f"sensor id pointer {rule.pointer!r} gives {describe(value)}, not a string"

    def result(self) -> ParsedMessage:
        return ParsedMessage(self.readings, self.rejections)


class Ok(NamedTuple):
    """A successful look-up (so that a ``str`` result can mean "the reason it failed")."""

    value: str


def map_device_id(device_id: str, ids: Mapping[str, str]) -> Ok | str:
    """``ids[device_id]`` if mapped, else the device id lower-cased; it must be a sensor id."""
    mapped = ids.get(device_id)
    candidate = mapped if mapped is not None else device_id.lower()
    if is_sensor_id(candidate):
        return Ok(candidate)
    return f"cannot use device id {show(device_id)} as a sensor id: map it in [source.ids]"


def decode_json(payload: bytes) -> Any | Problem:
    """The decoded JSON payload, or a :class:`Problem` saying why it is not one."""
    if not payload:
        return Problem("payload is empty")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Problem(f"payload is {len(payload):,} bytes, over the {MAX_PAYLOAD_BYTES:,} limit")
    try:
        return _ANY.decode(payload)
    except RecursionError:
        return Problem("payload is not valid JSON: nested too deeply")
    except msgspec.DecodeError as exc:
        return Problem(f"payload is not valid JSON: {exc}")


class Problem(NamedTuple):
    """Why a whole payload cannot be read."""

    reason: str


def number(name: str, value: Any) -> float | Problem:
    """A finite float from a JSON number or a numeric string (booleans are not numbers)."""
    if type(value) is str:
        try:
            result = float(value.strip())
        except ValueError:
            return Problem(f"{name} {show(value)} is not a number")
    elif type(value) is int or type(value) is float:
        try:
            result = float(value)
        except OverflowError:
            return Problem(f"{name} {show(value)} is beyond the float range")
    else:
        return Problem(f"{name} must be a number, got {describe(value)}")
    if not math.isfinite(result):
        return Problem(f"{name} {show(value)} is not a finite number")
    return result


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 date-time with ``Z`` or an offset, any fraction length
    (platforms send nanoseconds); ``ValueError`` says what is wrong."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{show(text)} is not an RFC 3339 date-time with a UTC offset")
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    offset = match["offset"].upper()
    zone = UTC if offset == "Z" else _offset_zone(offset)
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}").replace(tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"{show(text)} is not a valid date-time ({exc})") from None
    return moment.timestamp() + int(frac) / 1e6


def _offset_zone(offset: str) -> timezone:
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"UTC offset {offset!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def json_adapter(
    fmt: str, read: Callable[[Any, Collector, AdapterContext], None]
) -> Callable[[bytes, AdapterContext], ParsedMessage]:
    """A parser for JSON payloads of format ``fmt``: the payload is decoded (a payload that is
    not JSON is refused whole), then ``read(document, collector, ctx)`` maps it. The parser
    never raises: an unexpected error refuses the whole message."""

    def parse(payload: bytes, ctx: AdapterContext) -> ParsedMessage:
        out = Collector(fmt, payload, ctx)
        try:
            document = decode_json(payload)
            if isinstance(document, Problem):
                out.reject(document.reason)
            else:
                out.use_document(document)
                read(document, out, ctx)
        except Exception as exc:
            out = Collector(fmt, payload, ctx)
            out.reject(
                f"internal error while parsing ({type(exc).__name__}: {exc}); please report it"
            )
        return out.result()

    parse.__name__ = f"parse_{fmt}"
    parse.__doc__ = read.__doc__
    return parse
