"""Sensor.Community (airrohr firmware) DNMS noise readings.

The firmware pushes ``{"software_version": "...", "sensordatavalues": [{"value_type":
"noise_LAeq", "value": "54.52"}, {"value_type": "noise_LA_min", ...}, {"value_type":
"noise_LA_max", ...}]}``; its JSON for other APIs names the same values ``DNMS_noise_LAeq``,
``DNMS_noise_LA_min`` and ``DNMS_noise_LA_max``. Values are strings (numbers are accepted too).

Mapping: ``noise_LAeq`` -> ``laeq``, ``noise_LA_min`` -> ``lafmin``, ``noise_LA_max`` ->
``lafmax``; every other value type (``signal``, ``samples``, particulate matter, ...) is
ignored. The payload carries no time and no interval: the values describe the measurement
interval that has just ended, so ``duration`` is the interval (145 s by default, the value the
DNMS NodeMCU firmware forces when it sends to Sensor.Community) and ``ts`` is the receive time
minus the interval.
"""

from __future__ import annotations

from typing import Any, Final

from noiselab.ingest.adapters.base import (
    AdapterContext,
    AdapterOptions,
    Collector,
    FixedId,
    Mapped,
    Problem,
    describe,
    json_adapter,
    number,
    show,
)
from noiselab.ingest.message import ParsedMessage

__all__ = ["DEFAULT_INTERVAL_S", "parse_dnms", "parse_sensor_community"]

DEFAULT_INTERVAL_S: Final = 145.0
"""The DNMS measurement interval when it sends to Sensor.Community, in seconds."""

LABEL: Final = "dnms"
_FIELDS: Final = {"noise_LAeq": "laeq", "noise_LA_min": "lafmin", "noise_LA_max": "lafmax"}


def parse_sensor_community(
    payload: bytes,
    *,
    sensor_id: str,
    topic: str,
    received_at: float,
    max_future_s: float = 300.0,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> ParsedMessage:
    """Readings of one Sensor.Community push for ``sensor_id``; never raises.

    ``received_at`` is the receive time in Unix seconds, ``interval_s`` the DNMS measurement
    interval in seconds: the reading covers ``[received_at - interval_s, received_at)``.
    ``topic`` names where the payload came from in a rejection (an MQTT topic, or the HTTP
    path). ``sensor_id`` is used lower-cased and must be a valid sensor id.
    """
    options = AdapterOptions(sensor_id=FixedId(sensor_id), interval_s=interval_s)
    ctx = AdapterContext(topic, received_at, options, max_future_s)
    return parse_dnms(payload, ctx)


def _read(document: Any, out: Collector, ctx: AdapterContext) -> None:
    values = _values(document, out)
    if values is None:
        return
    interval = DEFAULT_INTERVAL_S if ctx.options.interval_s is None else ctx.options.interval_s
    item: dict[str, Any] = {"ts": ctx.received_at - interval, "duration": interval}
    for value_type, field in _FIELDS.items():
        if value_type not in values:
            continue
        level = number(value_type, values[value_type])
        if isinstance(level, Problem):
            out.reject(level.reason)
            return
        item[field] = level
    if "laeq" not in item:
        out.reject("no noise_LAeq (or DNMS_noise_LAeq) value in sensordatavalues")
        return
    out.add(Mapped(None, item, "reading"))


def _values(document: Any, out: Collector) -> dict[str, Any] | None:
    """The noise values by unprefixed value type, or ``None`` after a rejection."""
    if not isinstance(document, dict):
        out.reject(f"payload must be a JSON object, got {describe(document)}")
        return None
    entries = document.get("sensordatavalues")
    if not isinstance(entries, list):
        out.reject(f"sensordatavalues must be an array, got {describe(entries)}")
        return None
    values: dict[str, Any] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or type(entry.get("value_type")) is not str:
            out.reject(f"sensordatavalues[{i}] must be an object with a value_type string")
            return None
        value_type = entry["value_type"].removeprefix("DNMS_")
        if value_type not in _FIELDS:
            continue
        if value_type in values:
            out.reject(f"{value_type} is given more than once")
            return None
        if "value" not in entry:
            out.reject(f"{show(entry['value_type'])} has no value")
            return None
        values[value_type] = entry["value"]
    return values


parse_dnms = json_adapter(LABEL, _read)
"""Readings of one Sensor.Community payload received on a configured MQTT source."""
