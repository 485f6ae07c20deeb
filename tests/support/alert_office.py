"""What the alert API test modules share: an :class:`Office` (an :class:`ApiLab` with two road
sensors, a key of each role and a clock at ``T0``) and the routes it is asked about."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from noiselab.alerts.evaluate import Evaluator
from noiselab.model import Reading, Sensor
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore
from support.lab import ApiLab, headers_by_name

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
CPH = ZoneInfo("Europe/Copenhagen")
RULES, ALERTS = "/api/v1/alert-rules", "/api/v1/alerts"


class Office(ApiLab):
    """A store and metadata database with two sensors, keys of every role and an app whose
    clock is ``T0``; ``evaluate`` runs the evaluator at the clock's time."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=T0)
        with self.meta():
            self.sensors(
                Sensor(id="road-1", name="road 1", source="road"),
                Sensor(id="road-2", name="road 2", source="road", public=False),
            )
            keys = {
                "admin": self.key("admin", "ops"),
                "staff": self.key("staff", "kommune"),
                "vendor": self.key("vendor", "acme", sensors=("road-2",)),
            }
        self.headers = headers_by_name(keys)

    def loud(self, sensor_id: str, start: float, minutes: int, laeq: float) -> None:
        readings = [
            Reading(sensor_id=sensor_id, ts=start + 60 * i, laeq=laeq, duration=60.0)
            for i in range(minutes)
        ]
        self.write(readings, received_at=start + 60 * minutes)

    def evaluate(self) -> None:
        store, meta = SqliteStore(self.store_path), MetadataStore(self.meta_url)
        try:
            Evaluator(store, meta, zone=CPH).run(self.clock.now)
        finally:
            store.close()
            meta.close()
