"""FIWARE Smart Data Models ``NoiseLevelObserved`` entities.

Accepted shapes: one entity, an array of entities, or a context broker notification
(``{"subscriptionId": ..., "data": [entities]}``, as Orion and NGSI-LD brokers send), each
entity in NGSI v2 key-values (``"LAeq": 67.8``), NGSI v2 normalized (``"LAeq": {"type":
"Number", "value": 67.8}``) or NGSI-LD (``{"type": "Property", "value": 67.8}``, date-times as
``{"@type": "DateTime", "@value": "..."}``) encoding; all three give the same reading.

Mapping: ``LAeq`` -> ``laeq`` over ``[dateObservedFrom, dateObservedTo)`` (``duration`` is the
difference); ``LAmax`` -> ``lafmax`` (the model leaves its time weighting unspecified: we
store it as the maximum of the interval). ``LAS`` (a slow-weighted instantaneous level) and
``LAeq_d`` (a day level over many hours) are not readings of the interval and are ignored. When
``dateObservedFrom`` is missing the reading ends at ``dateObservedTo`` (or the instant of
``dateObserved``) and lasts the source's ``interval_s``. Entities of any other type are refused.
The sensor id is the entity ``id`` without an ``urn:ngsi-ld:`` and type prefix, unless the
source maps it.
"""

from __future__ import annotations

from typing import Any, Final

from noiselab.ingest.adapters.base import (
    AdapterContext,
    Collector,
    Mapped,
    Problem,
    describe,
    json_adapter,
    number,
    parse_rfc3339,
    show,
)

__all__ = ["ENTITY_TYPE", "parse_fiware"]

ENTITY_TYPE: Final = "NoiseLevelObserved"
LABEL: Final = "fiware"
_MAX_ENTITIES: Final = 10_000


def _read(document: Any, out: Collector, ctx: AdapterContext) -> None:
    entities = _entities(document)
    if isinstance(entities, Problem):
        out.reject(entities.reason)
        return
    several = isinstance(document, list) or (isinstance(document, dict) and "data" in document)
    for i, entity in enumerate(entities):
        index = i if several else None
        mapped = _map_entity(entity, i, ctx)
        if isinstance(mapped, Problem):
            out.reject(mapped.reason, index=index)
        else:
            out.add(mapped._replace(position=index))


def _entities(document: Any) -> list[Any] | Problem:
    if isinstance(document, dict) and "data" in document and "type" not in document:
        data = document["data"]
        if not isinstance(data, list):
            return Problem(f"notification data must be an array, got {describe(data)}")
        entities = data
    elif isinstance(document, list):
        entities = document
    elif isinstance(document, dict):
        entities = [document]
    else:
        return Problem(
            f"payload must be an entity, an array or a notification, got {describe(document)}"
        )
    if not entities:
        return Problem("no entity in the payload")
    if len(entities) > _MAX_ENTITIES:
        return Problem(f"{len(entities):,} entities, over the {_MAX_ENTITIES:,} limit")
    return entities


def _map_entity(entity: Any, i: int, ctx: AdapterContext) -> Mapped | Problem:
    if not isinstance(entity, dict):
        return Problem(f"entity [{i}] must be an object, got {describe(entity)}")
    entity_id = entity.get("id")
    label = f"entity {show(entity_id)}" if type(entity_id) is str else f"entity [{i}]"
    kind = entity.get("type")
    if not _is_noise_type(kind):
        return Problem(f"{label} has type {show(kind)}, expected {ENTITY_TYPE}")
    if type(entity_id) is not str or not entity_id:
        return Problem(f"{label} has no id string")
    item = _item(entity, ctx)
    if isinstance(item, Problem):
        return Problem(f"{label}: {item.reason}")
    return Mapped(_device_id(entity_id, str(kind)), item, label)


def _item(entity: dict[str, Any], ctx: AdapterContext) -> dict[str, Any] | Problem:
    """The reading object of a ``NoiseLevelObserved`` entity."""
    interval = _interval(entity, ctx)
    if isinstance(interval, Problem):
        return interval
    start, end = interval
    item: dict[str, Any] = {"ts": start, "duration": end - start}
    for attribute, field in (("LAeq", "laeq"), ("LAmax", "lafmax")):
        if attribute in entity:
            level = number(attribute, _value(entity[attribute]))
            if isinstance(level, Problem):
                return level
            item[field] = level
    return item if "laeq" in item else Problem("no LAeq")


def _is_noise_type(kind: Any) -> bool:
    """``NoiseLevelObserved``, also as an expanded NGSI-LD type URI."""
    if type(kind) is not str:
        return False
    return kind == ENTITY_TYPE or kind.endswith(("#" + ENTITY_TYPE, "/" + ENTITY_TYPE))


def _value(attribute: Any) -> Any:
    """The plain value of a key-values, NGSI v2 normalized or NGSI-LD attribute."""
    for _ in range(2):
        if not isinstance(attribute, dict):
            break
        if "value" in attribute:
            attribute = attribute["value"]
        elif "@value" in attribute:
            attribute = attribute["@value"]
        else:
            break
    return attribute


def _interval(entity: dict[str, Any], ctx: AdapterContext) -> tuple[float, float] | Problem:
    """``(start, end)`` of the observation in Unix seconds."""
    start = _time(entity, "dateObservedFrom")
    end = _time(entity, "dateObservedTo")
    if end is None and "dateObserved" in entity:
        observed = _observed(_value(entity["dateObserved"]))
        if isinstance(observed, tuple):
            return observed
        end = observed
    if isinstance(start, Problem):
        return start
    if isinstance(end, Problem):
        return end
    if end is None:
        return Problem("no dateObservedTo (nor dateObserved): the end of the interval is unknown")
    if start is None:
        if ctx.options.interval_s is None:
            return Problem("no dateObservedFrom and the source sets no interval_s")
        start = end - ctx.options.interval_s
    return start, end


def _observed(observed: Any) -> tuple[float, float] | float | Problem:
    """``dateObserved``: an ISO 8601 interval ``start/end``, or the instant the interval ends."""
    if type(observed) is not str:
        return Problem(f"dateObserved must be a date-time string, got {describe(observed)}")
    try:
        if "/" in observed:
            first, _, last = observed.partition("/")
            return parse_rfc3339(first), parse_rfc3339(last)
        return parse_rfc3339(observed)
    except ValueError as exc:
        return Problem(f"dateObserved: {exc}")


def _time(entity: dict[str, Any], name: str) -> float | Problem | None:
    if name not in entity:
        return None
    text = _value(entity[name])
    if type(text) is not str:
        return Problem(f"{name} must be a date-time string, got {describe(text)}")
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        return Problem(f"{name}: {exc}")


def _device_id(entity_id: str, kind: str) -> str:
    """The entity id without an ``urn:ngsi-ld:`` prefix and a ``Type:`` prefix."""
    device = entity_id.removeprefix("urn:ngsi-ld:")
    short_kind = kind.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return device.removeprefix(short_kind + ":") or entity_id


parse_fiware = json_adapter(LABEL, _read)
"""Readings of one FIWARE ``NoiseLevelObserved`` payload; never raises."""
