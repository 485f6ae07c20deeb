"""CESVA TA120 sound level meters publishing through the Sentilo protocol.

A TA120 publishes ``{"sensors": [{"sensor": "TA120-T246177-N", "observations": [{"value":
"45.4", "timestamp": "02/01/2018T11:22:59UTC"}]}, ...]}``: one Sentilo sensor per channel,
named ``<device>-<channel>``. Two channels are sound levels:

- ``-N``: the LAeq of one minute, in dB -> one reading with ``duration`` 60 s;
- ``-S``: the sixty 1-s LAeq of the same minute, ``"044.0,0,0;043.9,0,0;..."``: the first
  number of each triple is the level; the two flags after it are not used -> one 1-s reading
  per value (so percentiles are real).

Timestamps (Sentilo, ``dd/MM/yyyyTHH:mm:ss`` plus an optional zone such as ``UTC`` or ``CET``,
UTC when absent) stamp the last second of the minute: the 1-s values are at ``T - n + 1 ... T``
and the ``-N`` minute is ``[T - 59, T + 1)``, the same minute (the energetic mean of the
sixty values of the published example, 45.45 dB, is its ``-N`` value, 45.4 dB). A minute sent
both ways is stored as its 1-s readings only (the ``-N`` reading would count it twice and
share the store key of its first second); a lone ``-N`` is stored as one minute. An observation
without a timestamp is taken at the receive time, as Sentilo does. Every other channel (``-O``,
``-U``, ``-M``, ...) is a status value and is ignored; a sensor code without a ``-X`` channel
suffix is refused. The single-sensor shape ``{"observations": [...]}`` is read with the sensor
code taken from the last topic level. The sensor id is the device part, lower-cased
(``ta120-t246177``), unless the source maps it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from noiselab.ingest.adapters.base import (
    AdapterContext,
    Collector,
    Mapped,
    Problem,
    describe,
    json_adapter,
    number,
    show,
)

__all__ = ["parse_sentilo", "parse_sentilo_time"]

LABEL: Final = "sentilo"
MINUTE_S: Final = 60.0
_MAX_SECONDS: Final = 3600
_CODE: Final = re.compile(r"(?P<device>.+)-(?P<channel>[A-Za-z])")
_TIME: Final = re.compile(
    r"(?P<d>\d{2})/(?P<m>\d{2})/(?P<y>\d{4})T(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})(?P<zone>.*)",
    re.ASCII,
)
_OFFSET: Final = re.compile(r"(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})", re.ASCII)
_UTC_NAMES: Final = frozenset({"", "Z", "UTC", "GMT"})


def parse_sentilo_time(text: str) -> float:
    """Unix seconds of a Sentilo timestamp ``dd/MM/yyyyTHH:mm:ss[zone]``.

    The zone is optional (UTC when absent) and may be ``Z``, ``UTC``, ``GMT``, an offset
    (``+01:00``, ``+0100``) or a time zone name (``CET``, ``Europe/Madrid``).
    ``ValueError`` says what is wrong.
    """
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"timestamp {show(text)} is not dd/MM/yyyyTHH:mm:ss[zone]")
    zone = _zone(match["zone"].strip())
    try:
        moment = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"]),
            int(match["M"]),
            int(match["S"]),
        )
    except ValueError as exc:
        raise ValueError(f"timestamp {show(text)} is not a valid date-time ({exc})") from None
    return moment.replace(tzinfo=zone).timestamp()


def _zone(name: str) -> tzinfo:
    if name.upper() in _UTC_NAMES:
        return UTC
    offset = _OFFSET.fullmatch(name)
    if offset is not None:
        sign = -1 if offset["sign"] == "-" else 1
        hours, minutes = int(offset["h"]), int(offset["m"])
        if hours > 23 or minutes > 59:
            raise ValueError(f"UTC offset {name!r} is out of range")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} in the timestamp") from None


def _read(document: Any, out: Collector, ctx: AdapterContext) -> None:
    sensors = _sensors(document, ctx)
    if isinstance(sensors, Problem):
        out.reject(sensors.reason)
        return
    found = [
        (i, mapped) for i, entry in enumerate(sensors) for mapped in _map_sensor(entry, i, ctx)
    ]
    # A minute also sent as 1-s values is stored as those values only: its -N reading would
    # count the same seconds twice (and, with sixty values, share the key of the first one).
    seconds = {_end(m) for _, m in found if isinstance(m, Mapped) and _is_second(m)}
    for i, mapped in found:
        if isinstance(mapped, Problem):
            out.reject(mapped.reason, index=i)
        elif _is_second(mapped) or _end(mapped) not in seconds:
            out.add(mapped)


def _is_second(mapped: Mapped) -> bool:
    return bool(mapped.item["duration"] == 1.0)


def _end(mapped: Mapped) -> tuple[str | None, float]:
    """The device and end time of a mapped reading."""
    return mapped.device_id, mapped.item["ts"] + mapped.item["duration"]


def _sensors(document: Any, ctx: AdapterContext) -> list[Any] | Problem:
    if not isinstance(document, dict):
        return Problem(f"payload must be a JSON object, got {describe(document)}")
    if "sensors" in document:
        sensors = document["sensors"]
        if not isinstance(sensors, list) or not sensors:
            return Problem(f"sensors must be a non-empty array, got {describe(sensors)}")
        return sensors
    if "observations" in document:
        code = ctx.topic.rsplit("/", 1)[-1]
        return [{"sensor": code, "observations": document["observations"]}]
    return Problem("payload has neither sensors nor observations")


def _map_sensor(entry: Any, i: int, ctx: AdapterContext) -> list[Mapped | Problem]:
    if not isinstance(entry, dict) or type(entry.get("sensor")) is not str:
        return [Problem(f"sensors[{i}] must be an object with a sensor string")]
    code: str = entry["sensor"]
    match = _CODE.fullmatch(code)
    if match is None:
        return [Problem(f"sensor {show(code)} has no -N/-S channel suffix")]
    channel = match["channel"].upper()
    if channel not in "NS":
        return []
    observations = entry.get("observations")
    if not isinstance(observations, list) or not observations:
        return [Problem(f"sensor {show(code)}: observations must be a non-empty array")]
    found: list[Mapped | Problem] = []
    for j, observation in enumerate(observations):
        label = f"{code} observation [{j}]"
        at = _observed_at(observation, ctx)
        if isinstance(at, Problem):
            found.append(Problem(f"{label}: {at.reason}"))
        elif channel == "N":
            found.append(_minute(match["device"], observation["value"], at, label))
        else:
            found.extend(_seconds(match["device"], observation["value"], at, label))
    return found


def _observed_at(observation: Any, ctx: AdapterContext) -> float | Problem:
    if not isinstance(observation, dict) or "value" not in observation:
        return Problem("must be an object with a value")
    stamp = observation.get("timestamp")
    if stamp is None:
        return ctx.received_at
    if type(stamp) is not str:
        return Problem(f"timestamp must be a string, got {describe(stamp)}")
    try:
        return parse_sentilo_time(stamp)
    except ValueError as exc:
        return Problem(str(exc))


def _minute(device: str, value: Any, at: float, label: str) -> Mapped | Problem:
    level = number("value", value)
    if isinstance(level, Problem):
        return Problem(f"{label}: {level.reason}")
    start = at + 1.0 - MINUTE_S
    return Mapped(device, {"ts": start, "laeq": level, "duration": MINUTE_S}, label)


def _seconds(device: str, value: Any, at: float, label: str) -> list[Mapped | Problem]:
    if type(value) is not str:
        return [Problem(f"{label}: value must be a string of 'level,flag,flag' triples")]
    triples = value.strip().rstrip(";").split(";")
    if len(triples) > _MAX_SECONDS:
        return [Problem(f"{label}: {len(triples)} values, over the {_MAX_SECONDS} limit")]
    first = at - len(triples) + 1
    found: list[Mapped | Problem] = []
    for k, triple in enumerate(triples):
        level = number(f"second [{k}]", triple.split(",", 1)[0])
        if isinstance(level, Problem):
            found.append(Problem(f"{label}: {level.reason}"))
        else:
            item = {"ts": first + k, "laeq": level, "duration": 1.0}
            found.append(Mapped(device, item, f"{label} second [{k}]"))
    return found


parse_sentilo = json_adapter(LABEL, _read)
"""Readings of one Sentilo (CESVA TA120) payload; never raises."""
