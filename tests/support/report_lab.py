"""A deployment with a month of known data for the report tests: February 2026 (28 dates,
no daylight-saving change, local UTC+1) at one road sensor, ``vb-road-1``.

The sensor reads 55 dB in one-hour readings from 2026-02-01 00:00 to 2026-03-01 07:00 local
(the last night ends on the morning after the month), except:

- the day period (07-19) of 2026-02-02 reads 70 dB;
- nothing from 2026-02-20 07:00 to 2026-02-21 07:00 (an outage of one whole indicator date);
- its weather station found 2026-02-10 08:00-10:00 invalid (wind): 7,200 s left out.

February 2025 reads a steady 52 dB from 2025-02-01 00:00 to 2025-03-01 07:00 (the year
before). A second road sensor ``vb-road-2`` has no data at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from noiselab.model import Reading
from noiselab.store.metadata import (
    AlertRule,
    Annotation,
    Calibration,
    CitizenReport,
    WeatherExclusion,
)
from support.lab import ApiLab
from support.readings import sensor

__all__ = [
    "CITIZEN_TEXT",
    "CPH",
    "ROAD",
    "ROADWORKS",
    "SILENT",
    "at",
    "february",
    "staff_story",
]

CPH = ZoneInfo("Europe/Copenhagen")
ROAD, SILENT = "vb-road-1", "vb-road-2"


def at(day: int, hour: int = 0, month: int = 2, year: int = 2026) -> datetime:
    """A local Copenhagen time as an aware UTC datetime."""
    return datetime(year, month, day, hour, tzinfo=CPH).astimezone(UTC)


def _hours(start: datetime, end: datetime, level: float) -> list[Reading]:
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    return [Reading(ROAD, float(t), level, duration=3600.0) for t in range(t0, t1, 3600)]


def february(lab: ApiLab) -> None:
    """Register the sensors and write the data of the module docstring."""
    lab.sensors(sensor(ROAD), sensor(SILENT))
    readings = [
        *_hours(at(1), at(2, 7), 55.0),
        *_hours(at(2, 7), at(2, 19), 70.0),
        *_hours(at(2, 19), at(20, 7), 55.0),
        *_hours(at(21, 7), at(1, 7, month=3), 55.0),
    ]
    before = [
        Reading(ROAD, float(t), 52.0, duration=3600.0)
        for t in range(int(at(1, year=2025).timestamp()), int(at(1, 7, 3, 2025).timestamp()), 3600)
    ]
    lab.write(readings + before, received_at=at(2, month=3).timestamp())
    lab.weather_station("vb-weather")
    with lab.meta() as meta:
        meta.weather.assign(ROAD, "vb-weather")
        span = WeatherExclusion("vb-weather", at(10, 8), at(10, 10), 7.0, 9.0, None, "wind")
        meta.weather_exclusions.merge("vb-weather", [span], 10.0)


ROADWORKS = "Roadworks <b>Køge Bugt</b> & lane closure"
CITIZEN_TEXT = "<script>alert(1)</script> Trucks braking all night"


def staff_story(lab: ApiLab) -> None:
    """What staff did in February 2026, on top of :func:`february`:

    - field calibrations on the 5th (read 94.0 dB against 94.0 dB) and the 25th (read 94.8 dB):
      a drift of +0.80 dB, so the 20 days between are "calibration uncertain" (1,728,000 s);
    - an excluding annotation, roadworks on the 12th 09:00-12:00 (10,800 s left out);
    - a level alert opened on the 2nd at 08:00 and resolved on the 3rd with a note;
    - a citizen's report on the 14th at 23:00 beside the sensor, whose text holds markup.
    """
    with lab.meta() as meta:
        for day, read in ((5, 94.0), (25, 94.8)):
            meta.calibrations.add(
                Calibration(
                    sensor_id=ROAD,
                    ts=at(day, 10),
                    kind="field",
                    reference_db=94.0,
                    before_db=read,
                    after_db=94.0,
                    by="J. Hansen",
                )
            )
        meta.annotations.add(
            Annotation(
                start=at(12, 9),
                end=at(12, 12),
                category="roadworks",
                text=ROADWORKS,
                created_by="kommune",
                sensor_ids=(ROAD,),
                exclude=True,
            )
        )
        level = AlertRule(name="Day above 65 dB", metric="laeq", threshold=65.0)
        rule = meta.alerts.add_rule(level)
        alert = meta.alerts.open_new(
            rule, ROAD, now=at(2, 8), value=70.0, unit="dB", evidence={"laeq": 70.0}
        )
        assert alert is not None
        meta.alerts.resolve(
            alert.id, actor="kommune", key_id=None, note="Lorry convoy, checked", now=at(3, 9)
        )
        meta.citizen_reports.add(
            CitizenReport(
                ts=at(14, 23), lat=55.6243, lon=12.3881, category="road", text=CITIZEN_TEXT
            )
        )
