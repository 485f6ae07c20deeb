"""The sensors and readings of the noise map tests, with map values worked out by hand.

The clock stands at ``NOW`` = 2026-03-02 13:00 UTC (14:00 in Copenhagen, CET = UTC+1), so the
last full local day is 2026-03-01: day 07-19 local = 06:00-18:00 UTC, evening 19-22 local =
18:00-21:00 UTC, night 22-07 local = 21:00 UTC on the 1st to 06:00 UTC on the 2nd.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from noiselab.model import Reading, Sensor
from support.lab import ApiLab
from support.readings import minutes

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC).timestamp()
DAY_START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC).timestamp()  # 07:00 local on 2026-03-01


def known_readings(sensor_id: str) -> list[Reading]:
    """A sensor whose map values are worked out by hand (see the tests' docstrings).

    2026-03-01: 60 dB all day (06:00-18:00 UTC), the evening's first 90 min (18:00-19:30 UTC)
    and the whole night (21:00-06:00 UTC). Before now: 50 dB over [NOW-3600, NOW-1800),
    60 dB over [NOW-900, NOW-300), 70 dB over [NOW-300, NOW).
    """
    return [
        *minutes(sensor_id, DAY_START, 12 * 60, 60.0),
        *minutes(sensor_id, DAY_START + 12 * 3600, 90, 60.0),
        *minutes(sensor_id, DAY_START + 15 * 3600, 9 * 60, 60.0),
        *minutes(sensor_id, NOW - 3600, 30, 50.0),
        *minutes(sensor_id, NOW - 900, 10, 60.0),
        *minutes(sensor_id, NOW - 300, 5, 70.0),
    ]


def site(sensor_id: str, *, source: str = "road", public: bool = True, **extra: Any) -> Sensor:
    """A sensor named ``Site <id>`` at Vallensbæk; ``extra`` overrides its other fields."""
    fields: dict[str, Any] = {"lat": 55.6267, "lon": 12.3867, "name": f"Site {sensor_id}"} | extra
    return Sensor(
        id=sensor_id,
        source=source,  # type: ignore[arg-type]
        public=public,
        **fields,
    )


def populate(lab: ApiLab) -> None:
    """vb-known (road, data above), vb-quiet (rail, no data), vb-nowhere (no position),
    vb-hidden (private, 80 dB now), and two at the 60 dB class edge."""
    lab.sensors(
        site("vb-known"),
        site("vb-quiet", source="rail", lat=55.6473, lon=12.365),
        site("vb-nowhere", source="background", lat=None, lon=None),
        site("vb-hidden", public=False, lat=55.6400, lon=12.3700),
        site("vb-edge-low", lat=55.6300, lon=12.3750),
        site("vb-edge-high", lat=55.6330, lon=12.3640),
    )
    lab.write(known_readings("vb-known"), received_at=NOW - 30)
    lab.write(minutes("vb-hidden", NOW - 900, 15, 80.0), received_at=NOW - 30)
    lab.write(minutes("vb-edge-low", NOW - 900, 15, 59.99), received_at=NOW - 30)
    lab.write(minutes("vb-edge-high", NOW - 900, 15, 60.0), received_at=NOW - 30)
