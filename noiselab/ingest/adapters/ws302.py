"""Milesight WS302 LoRaWAN sound level sensor, decoded by the network server.

The WS302 payload decoder turns an uplink into ``{"battery": 100, "LAF": 57.5, "LAeq": 47.4,
"LAFmax": 61.8}``. It arrives in one of three envelopes:

- The Things Stack (TTN v3) MQTT, topic ``v3/{app}@{tenant}/devices/{device_id}/up``: the
  object is ``uplink_message.decoded_payload``, the time ``received_at``, the device
  ``end_device_ids.device_id``;
- ChirpStack v4 MQTT, topic ``application/{id}/device/{devEui}/event/up``: the object is
  ``object``, the time ``time``, the device ``deviceInfo.devEui``;
- the bare decoded object, timed by its receive time (the source must name the sensor).

Mapping: ``LAeq`` (over the reporting interval, 600 s by default on the WS302) -> ``laeq``
with ``duration`` the interval and ``ts`` the uplink time minus the interval; ``LAFmax`` ->
``lafmax``. ``LAF`` is the instantaneous fast-weighted level at the moment of the uplink, not
a level of the interval, and ``battery`` is not acoustic: both are ignored.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from noiselab.ingest.adapters.base import (
    AdapterContext,
    Collector,
    Mapped,
    Problem,
    describe,
    json_adapter,
    number,
    parse_rfc3339,
)

__all__ = ["DEFAULT_INTERVAL_S", "parse_ws302"]

DEFAULT_INTERVAL_S: Final = 600.0
"""The WS302's default reporting interval (10 minutes), in seconds."""

LABEL: Final = "ws302"
_NO_DECODER: Final = (
    "the uplink has no decoded payload: add the WS302 payload decoder in the network server"
)


class _Uplink(NamedTuple):
    decoded: Any
    at: float
    device_id: str | None
    envelope: str


def _read(document: Any, out: Collector, ctx: AdapterContext) -> None:
    uplink = _unwrap(document, ctx)
    if isinstance(uplink, Problem):
        out.reject(uplink.reason)
        return
    mapped = _map(uplink, ctx)
    if isinstance(mapped, Problem):
        out.reject(mapped.reason)
    else:
        out.add(mapped)


def _unwrap(document: Any, ctx: AdapterContext) -> _Uplink | Problem:
    if not isinstance(document, dict):
        return Problem(f"payload must be a JSON object, got {describe(document)}")
    if "uplink_message" in document:
        uplink = document["uplink_message"]
        if not isinstance(uplink, dict):
            return Problem(f"uplink_message must be an object, got {describe(uplink)}")
        stamp = document.get("received_at", uplink.get("received_at"))
        device = _member(document.get("end_device_ids"), "device_id")
        return _timed(uplink.get("decoded_payload"), stamp, device, "TTN uplink", "received_at")
    if "deviceInfo" in document:
        device = _member(document.get("deviceInfo"), "devEui")
        return _timed(document.get("object"), document.get("time"), device, "ChirpStack", "time")
    return _Uplink(document, ctx.received_at, None, "decoded object")


def _member(container: Any, name: str) -> str | None:
    value = container.get(name) if isinstance(container, dict) else None
    return value if type(value) is str and value else None


def _timed(
    decoded: Any, stamp: Any, device: str | None, envelope: str, name: str
) -> _Uplink | Problem:
    if decoded is None:
        return Problem(f"{envelope}: {_NO_DECODER}")
    if type(stamp) is not str:
        return Problem(f"{envelope}: {name} must be an RFC 3339 string, got {describe(stamp)}")
    try:
        at = parse_rfc3339(stamp)
    except ValueError as exc:
        return Problem(f"{envelope}: {name}: {exc}")
    return _Uplink(decoded, at, device, envelope)


def _map(uplink: _Uplink, ctx: AdapterContext) -> Mapped | Problem:
    decoded = uplink.decoded
    label = uplink.envelope
    if not isinstance(decoded, dict):
        return Problem(f"{label}: decoded payload must be an object, got {describe(decoded)}")
    if "LAeq" not in decoded:
        return Problem(f"{label}: decoded payload has no LAeq (is this a WS302 decoder?)")
    interval = DEFAULT_INTERVAL_S if ctx.options.interval_s is None else ctx.options.interval_s
    item: dict[str, Any] = {"ts": uplink.at - interval, "duration": interval}
    for name, field in (("LAeq", "laeq"), ("LAFmax", "lafmax")):
        if name not in decoded:
            continue
        level = number(name, decoded[name])
        if isinstance(level, Problem):
            return Problem(f"{label}: {level.reason}")
        item[field] = level
    return Mapped(uplink.device_id, item, label)


parse_ws302 = json_adapter(LABEL, _read)
"""Readings of one Milesight WS302 uplink (TTN v3, ChirpStack v4 or bare); never raises."""
