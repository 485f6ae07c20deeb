"""``noiselab demo``: the whole Living Lab on one machine, as child processes.

A Mosquitto broker on a free port, the ingest, the alert evaluator, the API and the simulator
(history backfilled, then live), all with their data in one directory (the living map's basic
maps too, in ``noisemap/``: built in about 2 s on the first start). So that each kind of user
can try their part at once, the demo also makes a staff key and a vendor key (kept in
``demo-keys.json`` in the data directory and reused on the next start) and, when the simulated
sites include the barrier trial pair, a trial of that barrier whose "after" period starts when
the simulator installs it; and, so staff see one, a sample citizen's report near the Køge Bugt
Motorvejen sensor (once per data directory). The simulator also runs the weather station
``vb-weather`` (every sensor assigned to it), so windy and rainy minutes of the backfill are
marked invalid (ISO 1996-2) as they are ingested.
A staff annotation of roadworks on Køge Bugt Motorvejen over a few hours of the backfill is
excluded from the indicators and trials. Once the backfill is stored, the monthly staff report
of each month it covers is written to ``reports/`` for a browser (:mod:`noiselab.demo_reports`).
Ctrl-C (or SIGTERM) stops them in order: the simulator first, then the ingest (which writes and
acknowledges what it has), the alert evaluator, the API and the broker.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from noiselab.api.auth import create_key
from noiselab.broker import MosquittoBroker, free_port
from noiselab.citizens.intake import accept
from noiselab.config import parse_duration
from noiselab.demo_reports import ReportWriter, months_between
from noiselab.errors import ConfigError
from noiselab.logs import event
from noiselab.model import utcnow
from noiselab.sensors_sim.register import register_sim_sensors, register_sim_weather
from noiselab.sensors_sim.sites import sensors_from_spec
from noiselab.store.metadata import (
    Annotation,
    Calibration,
    CitizenReport,
    CitizenReportRepository,
    MetadataStore,
    Trial,
    TrialRepository,
)

__all__ = [
    "DEMO_ANNOTATION_TEXT",
    "DEMO_REPORT_TEXT",
    "DEMO_TRIAL_ID",
    "DEMO_VENDOR",
    "Demo",
    "demo_annotation",
]

log = logging.getLogger("noiselab.demo")

DEMO_TRIAL_ID = "tr-00000000d3e0"
DEMO_VENDOR = "blade-barriers"
"""The vendor of the demo trial; the demo's vendor key has this name, so it sees the trial."""
DEMO_REPORT_TEXT = "Meget larm fra motorvejen her til morgen, lastbiler hele tiden."
"""The sample citizen's report's words (Danish, like most reports will be)."""
DEMO_REPORT_PLACE = (55.6281, 12.3863)
"""Where the sample report was made: about 160 m north of kbm-25m (Køge Bugt Motorvejen)."""
DEMO_ANNOTATION_TEXT = "Roadworks on Køge Bugt Motorvejen, lane closure"
"""The reason of the demo's staff annotation (one active annotation with it is kept)."""
DEMO_ANNOTATION_HOURS = 3
DEMO_ZONE = ZoneInfo("Europe/Copenhagen")
"""The zone of the demo API's local dates (its default), which names the report months."""


class Demo:
    """Starts and supervises the demo's processes."""

    def __init__(
        self,
        *,
        data_dir: Path,
        api_port: int,
        backfill: str,
        rate: float,
        sensors: str,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.api_port = api_port
        self.backfill = backfill
        self.rate = rate
        self.sensors_spec = sensors
        self.sensors = sensors_from_spec(sensors)
        self.store_url = f"sqlite:///{self.data_dir / 'readings.db'}"
        self.meta_url = f"sqlite:///{self.data_dir / 'metadata.db'}"
        self.broker = MosquittoBroker(self.data_dir / "mosquitto", port=free_port())
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.keys: dict[str, str] = {}
        self.trial: Trial | None = None
        self.report: CitizenReport | None = None
        self.annotation: Annotation | None = None
        self._stop = threading.Event()
        # The barrier goes up mid-backfill, on a whole hour (trial periods are whole hours).
        now = time.time()
        half = parse_duration(backfill) / 2
        self.barrier_at = math.floor((now - half) / 3600) * 3600

    def start(self) -> None:
        """Start everything; raise ``ConfigError`` with a clear message if a part cannot."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _check_port_free(self.api_port)
        self.broker.start()
        register_sim_sensors(self.meta_url, self.sensors)
        register_sim_weather(self.meta_url, self.sensors)
        self._prepare_users()
        mqtt = self.broker.url
        self._spawn(
            "ingest",
            "ingest",
            "--mqtt",
            mqtt,
            "--store",
            self.store_url,
            "--meta",
            self.meta_url,
            "--client-id",
            "noiselab-demo-ingest",
        )
        self._spawn(
            "api",
            "api",
            "--store",
            self.store_url,
            "--meta",
            self.meta_url,
            "--port",
            str(self.api_port),
            "--noisemap-cache",
            str(self.data_dir / "noisemap"),
        )
        self._spawn(
            "alerts",
            "alerts",
            "--store",
            self.store_url,
            "--meta",
            self.meta_url,
        )
        self._wait_for_api()
        self._spawn(
            "simulator",
            "simulate",
            "--mqtt",
            mqtt,
            "--sensors",
            self.sensors_spec,
            "--backfill",
            self.backfill,
            "--rate",
            str(self.rate),
            "--barrier-date",
            datetime.fromtimestamp(self.barrier_at, UTC).isoformat(),
            "--weather",
            "--live",
        )
        self._print_banner()
        self._write_reports()

    def _write_reports(self) -> None:
        """Once the backfill is stored, the monthly report of each month it covers goes to
        ``reports/`` (:mod:`noiselab.demo_reports`)."""
        now = time.time()
        months = months_between(now - parse_duration(self.backfill), now, DEMO_ZONE)
        writer = ReportWriter(
            f"http://127.0.0.1:{self.api_port}",
            staff_key=self.keys["staff"],
            out_dir=self.data_dir / "reports",
            months=months,
            stop=self._stop,
        )
        writer.start()

    def _prepare_users(self) -> None:
        """A staff and a vendor key (reused from ``demo-keys.json``), and the demo trial."""
        keys_file = self.data_dir / "demo-keys.json"
        meta = MetadataStore(self.meta_url)
        try:
            if keys_file.exists():
                self.keys = json.loads(keys_file.read_text())
            if not self.keys or not all(_key_is_live(meta, key) for key in self.keys.values()):
                _, staff = create_key(meta, role="staff", name="demo-staff")
                _, vendor = create_key(meta, role="vendor", name=DEMO_VENDOR)
                self.keys = {"staff": staff, "vendor": vendor}
                keys_file.unlink(missing_ok=True)
                keys_file.touch(mode=0o600)
                keys_file.write_text(json.dumps(self.keys, indent=2) + "\n")
            self.trial = self._demo_trial(meta.trials)
            self.report = _demo_report(meta.citizen_reports)
            self._seed_calibrations(meta)
            kbm = tuple(sorted(site.id for site in self.sensors if site.id.startswith("kbm-")))
            first = math.floor((time.time() - 0.75 * parse_duration(self.backfill)) / 3600) * 3600
            self.annotation = demo_annotation(meta, kbm, datetime.fromtimestamp(first, UTC))
        finally:
            meta.close()

    def _seed_calibrations(self, meta: MetadataStore) -> None:
        """A field calibration of each background site at the start of the backfill (once per
        data directory), so their calibration history starts with a visit; the simulator's
        nightly tone checks follow, and the drifting one raises the drift alert."""
        ids = {site.id for site in self.sensors}
        visit = datetime.fromtimestamp(
            math.floor((time.time() - parse_duration(self.backfill)) / 3600) * 3600 + 3600, UTC
        )
        for sensor_id, before in (("bg-vallensbaek-mose", 94.3), ("bg-strandpark", 93.9)):
            if sensor_id not in ids or meta.calibrations.history(sensor_id, limit=1):
                continue
            meta.calibrations.add(
                Calibration(
                    sensor_id=sensor_id,
                    ts=visit,
                    kind="field",
                    reference_db=94.0,
                    before_db=before,
                    after_db=94.0,
                    by="Demo technician",
                    note="Commissioning check with a class 1 calibrator (demo data)",
                )
            )

    def _demo_trial(self, trials: TrialRepository) -> Trial | None:
        """The barrier trial of the simulator's treated/control pair, if the sites have one."""
        ids = {site.id for site in self.sensors}
        if not {"trial-blade-treated", "trial-blade-control"} <= ids:
            return None
        barrier = datetime.fromtimestamp(self.barrier_at, UTC)
        hours = max(1, math.ceil(parse_duration(self.backfill) / 2 / 3600))  # whole, at least 1
        half = timedelta(hours=hours)
        trial = Trial(
            id=DEMO_TRIAL_ID,
            name="Low-noise barrier blade (demo)",
            vendor=DEMO_VENDOR,
            treated=("trial-blade-treated",),
            control=("trial-blade-control",),
            before_start=barrier - half,
            before_end=barrier,
            after_start=barrier,
            after_end=barrier + half + timedelta(days=7),
            description="Simulated: a barrier-top blade installed at the treated site "
            "half-way through the demo's backfilled week; the control site is unchanged.",
        )
        if trials.get(DEMO_TRIAL_ID) is None:
            return trials.create(trial)
        return trials.replace(trial)

    def _spawn(self, name: str, *args: str) -> None:
        logfile: IO[bytes] = (self.data_dir / f"{name}.log").open("ab")
        # Own session: the terminal's Ctrl-C reaches only the demo, which stops them in order.
        self.children[name] = subprocess.Popen(
            [sys.executable, "-m", "noiselab", *args],
            stdout=logfile,
            stderr=logfile,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        logfile.close()

    def _wait_for_api(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.api_port}/healthz"
        while time.monotonic() < deadline:
            if self.children["api"].poll() is not None:
                self.request_stop()
                self._shutdown()
                raise ConfigError(f"the API exited at start; see {self.data_dir}/api.log")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise ConfigError(f"the API did not answer on {url} in {timeout_s} s")

    def _print_banner(self) -> None:
        api = f"http://127.0.0.1:{self.api_port}"
        first = self.sensors[0].id
        lines = [
            "noiselab demo is running (Ctrl-C stops everything):",
            f"  MQTT broker   {self.broker.url}  (topics noiselab/<sensor>/levels)",
            f"  simulator     {len(self.sensors)} sensors, {self.backfill} backfilled, then live "
            f"at {self.rate:g} Hz",
            f"  weather       vb-weather, per minute on noiselab/vb-weather/weather; windy "
            f"and rainy minutes excluded: {api}/api/v1/weather/stations (staff key)",
            f"  ingest        -> {self.store_url}",
            f"  alerts        evaluated every minute; {api}/api/v1/alerts (staff key)",
            f"  noise map     {api}/  (public; Danish, English switch; the modelled surface"
            " appears within seconds)",
            f"  living map    {api}/api/v1/map/surface?period=now  (and ?period=24h, year)",
            f"  API           {api}/docs",
            f"  sensors       {api}/api/v1/sensors",
            f"  levels        {api}/api/v1/sensors/{first}/levels?every=15m",
            f"  staff key     {self.keys.get('staff', '-')}",
            f"  vendor key    {self.keys.get('vendor', '-')}  ({DEMO_VENDOR})",
        ]
        if self.report is not None:
            lines.append(
                f"  citizens      {api}/api/v1/citizen-reports  (staff key; one sample report)"
            )
        if self.annotation is not None:
            lines.append(
                f"  annotations   {api}/api/v1/annotations (staff key; one of roadworks, "
                "excluded from the indicators)"
            )
        if self.trial is not None:
            lines.append(
                f"  trial         {api}/api/v1/trials/{self.trial.id}/report "
                "(vendor or staff key; a browser needs the key header)"
            )
        lines += [
            f"  reports       {api}/api/v1/reports/YYYY-MM (staff key; html, csv or pdf); "
            f"the demo's months are written to {self.data_dir / 'reports'} once the backfill "
            "is stored",
            "  keys are in demo-keys.json; send them as 'Authorization: Bearer KEY'",
            f"  data and logs {self.data_dir}",
        ]
        print("\n".join(lines), flush=True)

    def request_stop(self) -> None:
        """Ask ``wait`` to stop everything (signal-handler safe)."""
        self._stop.set()

    def wait(self) -> int:
        """Supervise until stopped or a child dies; stop everything; return an exit code."""
        code = 0
        while not self._stop.wait(0.5):
            dead = [n for n, p in self.children.items() if p.poll() is not None]
            if dead:
                event(
                    log,
                    "a demo process exited; stopping",
                    level=logging.ERROR,
                    processes=",".join(dead),
                    logs=str(self.data_dir),
                )
                code = 1
                break
        self._shutdown()
        return code

    def _shutdown(self) -> None:
        for name in ("simulator", "ingest", "alerts", "api"):
            process = self.children.get(name)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.broker.stop()
        print("noiselab demo stopped", flush=True)


def _demo_report(reports: CitizenReportRepository) -> CitizenReport | None:
    """A sample citizen's report near the Køge Bugt Motorvejen sensor, 40 minutes ago (inside
    the backfilled data), unless the database holds reports already."""
    if reports.find(limit=1):
        return None
    now = datetime.now(UTC)
    lat, lon = DEMO_REPORT_PLACE
    report = accept(
        lat=lat,
        lon=lon,
        category="road",
        text=DEMO_REPORT_TEXT,
        ts=now - timedelta(minutes=40),
        received_at=now,
    )
    return reports.add(report)


def demo_annotation(
    meta: MetadataStore, sensor_ids: tuple[str, ...], start: datetime
) -> Annotation | None:
    """The demo's annotation: roadworks on Køge Bugt Motorvejen at ``sensor_ids`` (sorted; none
    given: no annotation) for :data:`DEMO_ANNOTATION_HOURS` hours from ``start`` (a whole
    hour), excluded from the indicators and trials; an active one kept from an earlier start is
    reused rather than repeated."""
    if not sensor_ids:
        return None
    for found in meta.annotations.find(include_withdrawn=False, limit=1000):
        if found.text == DEMO_ANNOTATION_TEXT and found.created_by == "demo-staff":
            return found
    return meta.annotations.add(
        Annotation(
            start=start,
            end=start + timedelta(hours=DEMO_ANNOTATION_HOURS),
            sensor_ids=sensor_ids,
            category="roadworks",
            text=DEMO_ANNOTATION_TEXT,
            exclude=True,
            created_by="demo-staff",
            created_at=utcnow(),
        )
    )


def _key_is_live(meta: MetadataStore, key: str) -> bool:
    """Whether ``key`` (``nl_<id>_<secret>``) is still in ``meta`` and not revoked."""
    parts = key.split("_")
    found = meta.keys.secret(parts[1]) if len(parts) >= 3 else None
    return found is not None and found[0].revoked_at is None


def _check_port_free(port: int) -> None:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} is in use: pass --port (NOISELAB_API_PORT) to choose another"
            ) from exc
