"""Levels as FIWARE Smart Data Models ``NoiseLevelObserved`` entities (NGSI-LD key-values).

One entity per sensor and completed interval, shaped like the data model's NGSI-LD example
(``dataModel.Environment/NoiseLevelObserved/examples/example.jsonld``): ``id``, ``type``,
``dateObservedFrom`` and ``dateObservedTo`` (the interval, UTC), ``dateObserved`` (its end),
``LAeq`` (the energetic mean over the measured seconds, dB), ``LAmax`` (the highest LAFmax
reported in the interval, when any reading carried one), ``location`` (GeoJSON point, when the
sensor has coordinates), ``refDevice`` and ``@context``. ``LAS`` (an instantaneous slow level)
and ``LAeq_d`` (a day level) are not published: an interval average cannot give the first, and
the second belongs to a daily indicator. Levels are rounded to 0.1 dB, as in the model's
example.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from noiselab.model import Sensor
from noiselab.store.base import LevelPoint

__all__ = ["ENTITY_TYPE", "NGSI_LD_CONTEXT", "entity_id", "noise_level_observed"]

ENTITY_TYPE: Final = "NoiseLevelObserved"
NGSI_LD_CONTEXT: Final = (
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld",
)
"""The NGSI-LD core context and the Smart Data Models environment context."""


def entity_id(sensor_id: str, start: datetime) -> str:
    """``urn:ngsi-ld:NoiseLevelObserved:noiselab-{sensor}-{start}``: one entity per interval,
    like the data model's example ids."""
    return f"urn:ngsi-ld:{ENTITY_TYPE}:noiselab-{sensor_id}-{_utc(start)}"


def noise_level_observed(sensor: Sensor, point: LevelPoint, width: timedelta) -> dict[str, Any]:
    """The entity of ``sensor``'s interval ``[point.t, point.t + width)``."""
    end = point.t + width
    entity: dict[str, Any] = {
        "id": entity_id(sensor.id, point.t),
        "type": ENTITY_TYPE,
        "dateObservedFrom": {"@type": "DateTime", "@value": _utc(point.t)},
        "dateObservedTo": {"@type": "DateTime", "@value": _utc(end)},
        "dateObserved": {"@type": "DateTime", "@value": _utc(end)},
        "LAeq": round(point.laeq, 1),
    }
    if point.lafmax is not None:
        entity["LAmax"] = round(point.lafmax, 1)
    if sensor.lat is not None and sensor.lon is not None:
        entity["location"] = {"type": "Point", "coordinates": [sensor.lon, sensor.lat]}
    entity["refDevice"] = f"urn:ngsi-ld:Device:noiselab-{sensor.id}"
    entity["@context"] = list(NGSI_LD_CONTEXT)
    return entity


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
