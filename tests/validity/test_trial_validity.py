"""A trial's evaluation leaves out what staff annotations exclude, counts the measured seconds
per cause, and lists the "calibration uncertain" spans of its sensors and periods — on real
SQLite files through real HTTP. Both sensors read a steady 60 dB in one-minute readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from support.lab import ApiLab
from support.readings import minutes, sensor

from noiselab.api.schemas.trials import EvaluationOut
from noiselab.store.metadata import Calibration, MetadataStore, WeatherExclusion

CPH = ZoneInfo("Europe/Copenhagen")
TREATED, CONTROL = "vb-road-1", "vb-road-2"


def at(hour: int, day: int = 10) -> str:
    t = datetime(2026, 2, day, hour, tzinfo=CPH).astimezone(UTC)
    return t.isoformat().replace("+00:00", "Z")


BARRIER = {
    "name": "Barrier",
    "vendor": "acme",
    "treated": [TREATED],
    "control": [CONTROL],
    "before_start": at(0),
    "before_end": at(12),
    "after_start": at(12),
    "after_end": at(0, day=11),
    "hours": [],
}
"""The trial of both tests: the 10th before and after noon, local time."""


def test_annotations_and_calibration_reach_the_trial_answer(tmp_path: Path) -> None:
    lab = ApiLab(tmp_path, now=datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    lab.sensors(sensor(TREATED), sensor(CONTROL))
    start = datetime(2026, 2, 10, tzinfo=CPH).timestamp()
    for sensor_id in (TREATED, CONTROL):
        lab.write(minutes(sensor_id, start, 24 * 60, 60.0), received_at=start + 24 * 3600)
    staff, vendor = lab.key("staff", "kommune").headers, lab.key("vendor", "acme").headers
    with MetadataStore(lab.meta_url) as meta:
        for day, before in ((9, 94.0), (12, 94.7)):
            meta.calibrations.add(
                Calibration(
                    sensor_id=TREATED,
                    ts=datetime(2026, 2, day, 10, tzinfo=UTC),
                    kind="field",
                    reference_db=94.0,
                    before_db=before,
                    after_db=94.0,
                    by="J. Hansen",
                )
            )
    with lab.client() as client:
        trial = client.post("/api/v1/trials", json=BARRIER, headers=staff)
        assert trial.status_code == 201, trial.text
        url = f"/api/v1/trials/{trial.json()['id']}/evaluation"
        plain = EvaluationOut.model_validate(client.get(url, headers=vendor).json())
        assert plain.excluded_s == {"correction": 0.0, "annotation": 0.0, "weather": 0.0}
        # Drift 94.7 - 94.0 = +0.7 dB > 0.5 dB: the whole trial (the 10th) is flagged.
        assert [(s.cause, s.start.isoformat()) for s in plain.calibration_uncertain] == [
            ("calibration", "2026-02-09T23:00:00+00:00"),
            ("calibration", "2026-02-10T11:00:00+00:00"),
        ]
        made = client.post(
            "/api/v1/annotations",
            json={
                "start": at(13),
                "end": at(15),
                "sensor_ids": [TREATED],
                "category": "equipment",
                "text": "Microphone wet after cleaning",
                "exclude": True,
            },
            headers=staff,
        )
        assert made.status_code == 201, made.text
        annotated = EvaluationOut.model_validate(client.get(url, headers=vendor).json())
        # Two hours of one-minute readings of the treated sensor: 7,200 s.
        assert annotated.excluded_s["annotation"] == 7200.0
        assert annotated.after.coverage < plain.after.coverage


def test_weather_is_left_out_of_a_trial_unless_kept_and_the_report_says_so(tmp_path: Path) -> None:
    """The treated sensor's station found 13:00-13:30 windy: 30 one-minute readings, 1,800 s
    (0.5 h) left out by default; ``weather=include`` keeps them, and the report says which."""
    lab = ApiLab(tmp_path, now=datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    lab.sensors(sensor(TREATED), sensor(CONTROL))
    start = datetime(2026, 2, 10, tzinfo=CPH).timestamp()
    for sensor_id in (TREATED, CONTROL):
        lab.write(minutes(sensor_id, start, 24 * 60, 60.0), received_at=start + 24 * 3600)
    lab.weather_station("vb-weather")
    windy = datetime(2026, 2, 10, 13, tzinfo=CPH).astimezone(UTC)
    with MetadataStore(lab.meta_url) as meta:
        meta.weather.assign(TREATED, "vb-weather")
        span = WeatherExclusion(
            "vb-weather", windy, windy + timedelta(minutes=30), 6.5, 8.0, None, "wind"
        )
        meta.weather_exclusions.merge("vb-weather", [span], 10.0)
    staff = lab.key("staff", "kommune").headers
    with lab.client() as client:
        trial = client.post("/api/v1/trials", json=BARRIER, headers=staff)
        base = f"/api/v1/trials/{trial.json()['id']}"
        left = EvaluationOut.model_validate(client.get(f"{base}/evaluation", headers=staff).json())
        assert (left.weather, left.excluded_s["weather"]) == ("exclude", 1800.0)
        kept = client.get(f"{base}/evaluation", params={"weather": "include"}, headers=staff)
        assert (kept.json()["weather"], kept.json()["excluded_s"]["weather"]) == ("include", 0.0)
        page = client.get(f"{base}/report", headers=staff).text
        assert "<h2>Data left out</h2>" in page
        assert "wind above 5 m/s at the microphone, or rain)</td><td>0.5 h</td>" in page
        kept_page = client.get(f"{base}/report", params={"weather": "include"}, headers=staff)
        assert "Weather was kept in this evaluation" in kept_page.text
        bad = client.get(f"{base}/evaluation", params={"weather": "maybe"}, headers=staff)
        assert bad.status_code == 422
