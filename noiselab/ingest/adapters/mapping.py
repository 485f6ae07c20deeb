"""The generic mapping: JSON pointers (RFC 6901) from any JSON payload to our reading fields.

Per source, ``fields`` names a pointer for each field: ``laeq`` (required), ``ts``,
``duration`` (a pointer, or a constant in seconds), ``lafmax``, ``lafmin``, ``sensor_id``,
and ``items``, a pointer to an array whose elements are the readings (the other pointers are
then relative to each element; without ``items`` the whole payload is one reading). Numbers
may be JSON numbers or numeric strings. ``ts_format`` reads ``ts``: ``unix`` (seconds),
``unix_ms`` (milliseconds), ``rfc3339``, or a ``strptime`` pattern with ``%z``. Without a
``ts`` pointer the reading ends at the receive time: ``ts`` = receive time - ``duration``.
Without a ``duration`` the contract's default of 1 s applies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from noiselab.ingest.adapters.base import (
    AdapterContext,
    Collector,
    Mapped,
    MappingFields,
    Problem,
    describe,
    json_adapter,
    number,
    parse_rfc3339,
    show,
)
from noiselab.ingest.adapters.pointer import PointerError, resolve

__all__ = ["TS_FORMATS", "parse_mapping", "parse_timestamp"]

LABEL: Final = "mapping"
TS_FORMATS: Final = ("unix", "unix_ms", "rfc3339")
_MAX_ITEMS: Final = 10_000
_LEVELS: Final = ("laeq", "lafmax", "lafmin")


def parse_timestamp(value: Any, ts_format: str) -> float:
    """Unix seconds of ``value`` read as ``ts_format``; ``ValueError`` says what is wrong."""
    if ts_format in ("unix", "unix_ms"):
        seconds = number("ts", value)
        if isinstance(seconds, Problem):
            raise ValueError(seconds.reason)
        return seconds / 1000.0 if ts_format == "unix_ms" else seconds
    if type(value) is not str:
        raise ValueError(f"ts must be a string for ts_format {ts_format!r}, got {describe(value)}")
    if ts_format == "rfc3339":
        return parse_rfc3339(value)
    try:
        moment = datetime.strptime(value, ts_format)
    except ValueError as exc:
        raise ValueError(f"ts {show(value)} does not match {ts_format!r} ({exc})") from None
    if moment.tzinfo is None:
        raise ValueError(f"ts {show(value)} has no UTC offset")
    return moment.timestamp()


def _read(document: Any, out: Collector, ctx: AdapterContext) -> None:
    fields = ctx.options.fields
    if fields is None:
        out.reject("the source has no [source.fields]")
        return
    items = _items(document, fields)
    if isinstance(items, Problem):
        out.reject(items.reason)
        return
    for i, element in enumerate(items):
        index = i if fields.items is not None else None
        label = f"item [{i}]" if index is not None else "reading"
        mapped = _map(element, fields, ctx, label)
        if isinstance(mapped, Problem):
            out.reject(f"{label}: {mapped.reason}", index=index)
        else:
            out.add(mapped._replace(position=index))


def _items(document: Any, fields: MappingFields) -> list[Any] | Problem:
    if fields.items is None:
        return [document]
    try:
        items = resolve(document, fields.items)
    except PointerError as exc:
        return Problem(f"items {fields.items!r}: {exc}")
    if not isinstance(items, list) or not items:
        return Problem(f"items {fields.items!r} must be a non-empty array, got {describe(items)}")
    if len(items) > _MAX_ITEMS:
        return Problem(f"{len(items):,} items, over the {_MAX_ITEMS:,} limit")
    return items


def _map(element: Any, fields: MappingFields, ctx: AdapterContext, label: str) -> Mapped | Problem:
    item: dict[str, Any] = {}
    for name in _LEVELS:
        pointer = getattr(fields, name)
        if pointer is None:
            continue
        found = _at(element, pointer, name, required=name == "laeq")
        if isinstance(found, Problem):
            return found
        if found is not None:
            level = number(name, found)
            if isinstance(level, Problem):
                return level
            item[name] = level
    duration = _duration(element, fields)
    if isinstance(duration, Problem):
        return duration
    if duration is not None:
        item["duration"] = duration
    ts = _ts(element, fields, ctx, 1.0 if duration is None else duration)
    if isinstance(ts, Problem):
        return ts
    item["ts"] = ts
    device = _device(element, fields)
    if isinstance(device, Problem):
        return device
    return Mapped(device, item, label)


def _at(element: Any, pointer: str, name: str, *, required: bool) -> Any | Problem:
    """The value at ``pointer``; ``None`` when absent or null and not required."""
    try:
        value = resolve(element, pointer)
    except PointerError as exc:
        return Problem(f"{name} {pointer!r}: {exc}") if required else None
    if value is None and required:
        return Problem(f"{name} {pointer!r} is null")
    return value


def _duration(element: Any, fields: MappingFields) -> float | Problem | None:
    if fields.duration is None:
        return None
    if not isinstance(fields.duration, str):
        return float(fields.duration)
    found = _at(element, fields.duration, "duration", required=True)
    if isinstance(found, Problem):
        return found
    return number("duration", found)


def _ts(
    element: Any, fields: MappingFields, ctx: AdapterContext, duration: float
) -> float | Problem:
    if fields.ts is None:
        return ctx.received_at - duration
    found = _at(element, fields.ts, "ts", required=True)
    if isinstance(found, Problem):
        return found
    try:
        return parse_timestamp(found, fields.ts_format)
    except ValueError as exc:
        return Problem(str(exc))


def _device(element: Any, fields: MappingFields) -> str | Problem | None:
    if fields.sensor_id is None:
        return None
    found = _at(element, fields.sensor_id, "sensor_id", required=True)
    if isinstance(found, Problem):
        return found
    if type(found) is str or type(found) is int:
        return str(found)
    return Problem(f"sensor_id {fields.sensor_id!r} gives {describe(found)}, not a string")


parse_mapping = json_adapter(LABEL, _read)
"""Readings of one payload mapped by the source's JSON pointers; never raises."""
