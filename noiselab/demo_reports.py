"""The demo's staff reports: once the backfill is stored, the monthly network report of each
month the demo's data covers is fetched from the demo's own API (staff key) and written as
HTML into ``<data dir>/reports/``, so staff can open it in a browser as a file: the weather
left out, the calibration history, the roadworks annotation, the alerts and the sample
citizen's report, with the charts drawn in the page.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from noiselab.logs import event

__all__ = ["CAUGHT_UP_S", "ReportWriter", "months_between"]

log = logging.getLogger("noiselab.demo")

CAUGHT_UP_S = 300.0
"""The backfill counts as stored once every sensor's newest reading is at most this old."""


def months_between(start: float, end: float, zone: ZoneInfo) -> list[str]:
    """The local months (``YYYY-MM``) from the one holding ``start`` to the one holding ``end``
    (Unix s)."""
    first = datetime.fromtimestamp(start, zone)
    last = datetime.fromtimestamp(end, zone)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class ReportWriter:
    """A daemon thread that waits for the backfill, then writes the reports of ``months``
    (module docstring) and prints where they are; it gives up quietly when ``stop`` is set or
    after ``timeout_s``."""

    def __init__(
        self,
        api: str,
        *,
        staff_key: str,
        out_dir: Path,
        months: Sequence[str],
        stop: threading.Event,
        timeout_s: float = 600.0,
    ) -> None:
        self.api, self.key, self.out_dir = api, staff_key, out_dir
        self.months, self.stop, self.timeout_s = list(months), stop, timeout_s
        self.written: list[Path] = []
        self.thread = threading.Thread(target=self._run, name="demo-reports", daemon=True)

    def start(self) -> None:
        """Start waiting in the background."""
        self.thread.start()

    def _get(self, path: str, *, staff: bool) -> bytes:
        headers = {"Authorization": f"Bearer {self.key}"} if staff else {}
        # The demo's own API on loopback (an http:// URL the demo built).
        request = urllib.request.Request(self.api + path, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            body: bytes = response.read()
            return body

    def _caught_up(self) -> bool:
        sensors = json.loads(self._get("/api/v1/sensors", staff=True))
        now = time.time()
        seen = [s.get("last_seen") for s in sensors]
        return bool(seen) and all(
            t is not None and now - datetime.fromisoformat(t).timestamp() <= CAUGHT_UP_S
            for t in seen
        )

    def _run(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if self._caught_up():
                    self._write()
                    return
            except (OSError, urllib.error.URLError, ValueError) as exc:
                # A busy API (503 from the heavy pool) or one still starting: try again.
                event(log, "demo report not written yet", level=logging.DEBUG, error=str(exc))
            self.stop.wait(2.0)
        if not self.stop.is_set():
            event(log, "demo reports not written", level=logging.WARNING, dir=str(self.out_dir))

    def _write(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for month in self.months:
            path = self.out_dir / f"noiselab-report-{month}-network.html"
            if path in self.written:
                continue
            path.write_bytes(self._get(f"/api/v1/reports/{month}", staff=True))
            self.written.append(path)
            print(f"  staff report  {path.resolve().as_uri()}  (open in a browser)", flush=True)
