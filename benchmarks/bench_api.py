"""HTTP throughput and latency of the API under a real load generator (``wrk``).

The API runs as ``uvicorn`` in a subprocess with ONE worker on a free loopback port, over a
SQLite store holding a sensor-year of simulated 1-s readings (31,536,000 readings of the
motorway site ``kbm-25m``, 2026-01-01 to 2027-01-01 local time, seed 1, written through
``SqliteStore.write`` one UTC day per transaction, so the per-minute roll-up is the one the
ingest builds), then compacted as ``noiselab ingest`` compacts in the background (every hour
older than the 48-hour hot window before the year's end in one chunk per sensor-hour: the
store a year of operation leaves). Both files are built once and cached under
``$TMPDIR/noiselab-bench-api/`` in a directory named after their parameters; a later run
reuses them (``noiselab.db`` as written, ``compacted.db`` served).

Endpoints measured, each for ``--duration`` seconds with ``--connections`` connections on
``--threads`` wrk threads (``wrk --latency`` reports p50/p99):

- ``/healthz`` — the framework ceiling (one tiny query per store), the same-run baseline;
- ``/api/v1/sensors/{id}/indicators?start=Y-01-01&end=(Y+1)-01-01`` — one year, staff key;
- ``/api/v1/sensors/{id}/levels?start=..&end=..&every=1h`` — one year, staff key;
- ``/api/v1/map`` — public, only when the app serves it (``--map auto``, the default) or when
  forced (``--map yes``).

The public rate limit (``ApiSettings.public_rate_per_s``/``public_burst``) would answer most
of a load test with 429, so the benchmark's app turns it off (both 0); keyed requests are
never limited. wrk comes from the Debian package ``wrk``: the script installs it with apt-get
when it is missing and it runs as root, else it says how to install it.

Run: ``.venv/bin/python benchmarks/bench_api.py [--duration 15] [--connections 16]``
(building the store takes several minutes the first time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")
SITE = "kbm-25m"
SENSOR = "vb-kbm-25m"
SEED = 1
HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------------- the app under test


def make_app() -> object:
    """The app uvicorn serves (``--factory``): settings from ``BENCH_STORE``/``BENCH_META``,
    public rate limit off."""
    from noiselab.api.app import create_app
    from noiselab.api.settings import ApiSettings

    settings = ApiSettings(
        store_url=os.environ["BENCH_STORE"],
        meta_url=os.environ["BENCH_META"],
        public_rate_per_s=0.0,
        public_burst=0,
    )
    return create_app(settings)


# ------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Data:
    """A built benchmark store: its directory, the files and a staff key's text."""

    root: Path
    year: int
    rate_hz: float

    @property
    def store_url(self) -> str:
        """The compacted store the API serves."""
        return f"sqlite:///{self.root / 'compacted.db'}"

    @property
    def written(self) -> Path:
        """The store as the writes left it, before compaction."""
        return self.root / "noiselab.db"

    @property
    def meta_url(self) -> str:
        return f"sqlite:///{self.root / 'metadata.db'}"

    @property
    def staff_key(self) -> str:
        return (self.root / "staff.key").read_text().strip()


def build(year: int, rate_hz: float, cache: Path) -> Data:
    """The cached store for ``year`` at ``rate_hz`` readings/s, built first if needed."""
    from noiselab.api.auth import create_key
    from noiselab.model import Reading, Sensor
    from noiselab.sensors_sim.generate import generate_chunks
    from noiselab.sensors_sim.site_specs import site_by_id
    from noiselab.store import open_store
    from noiselab.store.metadata import MetadataStore

    data = Data(cache / f"{SITE}-{year}-seed{SEED}-{rate_hz:g}hz", year, rate_hz)
    if (data.root / "done").exists():
        return compacted(data)
    shutil.rmtree(data.root, ignore_errors=True)
    data.root.mkdir(parents=True)
    site = site_by_id(SITE)
    with MetadataStore(data.meta_url) as meta:
        meta.sensors.add(
            [
                Sensor(
                    id=SENSOR,
                    name=site.name,
                    lat=site.lat,
                    lon=site.lon,
                    source="road",
                    public=True,
                )
            ]
        )
        (data.root / "staff.key").write_text(create_key(meta, role="staff", name="bench")[1])
    store = open_store(f"sqlite:///{data.written}")
    step = 1.0 / rate_hz
    started, count = time.perf_counter(), 0
    try:
        start, end = datetime(year, 1, 1, tzinfo=CPH), datetime(year + 1, 1, 1, tzinfo=CPH)
        for day, chunk in enumerate(generate_chunks(site, start, end, SEED, rate_hz=rate_hz)):
            rows = [
                Reading(SENSOR, t, a, step, mx, mn)
                for t, a, mx, mn in zip(
                    chunk.ts.tolist(),
                    chunk.laeq.tolist(),
                    chunk.lafmax.tolist(),
                    chunk.lafmin.tolist(),
                    strict=True,
                )
            ]
            store.write(rows, received_at=rows[-1].ts + step if rows else 0.0)
            count += len(rows)
            if day % 30 == 0:
                print(f"  built {count:,} readings ({time.perf_counter() - started:.0f} s)")
    finally:
        store.close()
    (data.root / "done").write_text(f"{count}\n")
    print(f"store: {count:,} readings in {time.perf_counter() - started:.0f} s")
    return compacted(data)


def compacted(data: Data) -> Data:
    """``data`` with its compacted copy made first if needed."""
    from noiselab.store.sqlite import SqliteStore

    target = data.root / "compacted.db"
    if target.exists():
        return data
    with SqliteStore(data.written) as store:  # migrates an older cache, checkpoints the WAL
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial = data.root / "compacting.db"
    shutil.copyfile(data.written, partial)
    started = time.perf_counter()
    with SqliteStore(partial) as store:
        report = store.compact(now=datetime(data.year + 1, 1, 1, tzinfo=CPH).timestamp())
        store._conn.execute("VACUUM")
    partial.rename(target)
    print(f"compacted {report.readings:,} readings in {time.perf_counter() - started:.0f} s")
    return data


# ------------------------------------------------------------------------- wrk and uvicorn


def ensure_wrk() -> str:
    """The path of ``wrk``, installing the Debian package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("wrk is not installed: run `sudo apt-get install wrk` (Debian/Ubuntu) and retry")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``uvicorn`` with one worker serving :func:`make_app` over ``data``; a context manager."""

    def __init__(self, data: Data, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._data, self._log = data, log
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {
            **os.environ,
            "BENCH_STORE": self._data.store_url,
            "BENCH_META": self._data.meta_url,
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench_api:make_app",
            "--app-dir",
            str(HERE),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self._log.open("wb") as out:
            self._process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"uvicorn exited:\n{self._log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("uvicorn did not answer /healthz within 60 s")

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def status(self, path: str, headers: dict[str, str]) -> tuple[int, int]:
        """Status and body size of one GET (checks the URL before loading it)."""
        request = urllib.request.Request(f"{self.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, len(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, len(exc.read())


def cold_ms(server: Server, paths: list[str], headers: dict[str, str]) -> float:
    """Median latency of single requests to ``paths`` (each a range not asked before, so no
    cache answers it), ms."""
    times = []
    for path in paths:
        started = time.perf_counter()
        status, _ = server.status(path, headers)
        times.append((time.perf_counter() - started) * 1000.0)
        if status != 200:
            sys.exit(f"{path}: HTTP {status}")
    return sorted(times)[len(times) // 2]


@dataclass(frozen=True)
class Result:
    name: str
    requests_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNIT_MS[match[2]]


def parse_wrk(name: str, output: str) -> Result:
    """Requests/s, p50, p99 and error counts from ``wrk --latency`` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", output, re.M))
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    total = re.search(r"^\s+([0-9]+) requests in", output, re.M)
    if rate is None or total is None or set(percentiles) != {"50", "99"}:
        raise ValueError(f"cannot read wrk output:\n{output}")
    errors = [
        line.strip() for line in output.splitlines() if "Socket errors" in line or "Non-2xx" in line
    ]
    return Result(
        name,
        float(rate[1]),
        _ms(percentiles["50"]),
        _ms(percentiles["99"]),
        int(total[1]),
        "; ".join(errors) or "none",
    )


def run_wrk(
    wrk: str,
    name: str,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    connections: int | None = None,
) -> Result:
    """``wrk --latency`` against ``url``; ``connections`` overrides ``--connections`` (then
    one thread)."""
    threads, connections = (
        (args.threads, args.connections) if connections is None else (1, connections)
    )
    command = [wrk, "--latency", f"-t{threads}", f"-c{connections}"]
    command += [f"-d{args.duration}s", "--timeout", "10s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    command.append(url)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return parse_wrk(name, done.stdout)


# ------------------------------------------------------------------------- main


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def has_map(server: Server) -> bool:
    status, _ = server.status("/api/v1/map", {})
    return status == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--rate-hz", type=float, default=1.0, help="readings/s of the data")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--map", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "noiselab-bench-api"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    wrk = ensure_wrk()
    print(f"machine: {cpu_model()}; {os.cpu_count()} CPUs; Python {platform.python_version()}")
    version = subprocess.run([wrk, "--version"], check=False, capture_output=True, text=True)
    print(version.stdout.split("\n")[0])
    data = build(args.year, args.rate_hz, args.cache)
    keyed = {"Authorization": f"Bearer {data.staff_key}"}
    year = f"start={args.year}-01-01&end={args.year + 1}-01-01"
    base = f"/api/v1/sensors/{SENSOR}"
    # (name, path, headers, connections: None = --connections). Levels over a year take
    # seconds each (no cache), so one connection: its latency is then not queueing.
    cases: list[tuple[str, str, dict[str, str], int | None]] = [
        ("healthz (baseline)", "/healthz", {}, None),
        ("indicators, 1 year, staff key", f"{base}/indicators?{year}", keyed, None),
        ("levels every=1h, 1 year, staff key, 1 conn", f"{base}/levels?{year}&every=1h", keyed, 1),
    ]
    results: list[Result] = []
    # indicators keeps each date's values: a cold year is the first request of a fresh server
    firsts = []
    for _ in range(3):
        with Server(data, data.root / "uvicorn.log") as server:
            firsts.append(cold_ms(server, [f"{base}/indicators?{year}"], keyed))
    with Server(data, data.root / "uvicorn.log") as server:
        if args.map == "yes" or (args.map == "auto" and has_map(server)):
            cases.insert(1, ("map (public)", "/api/v1/map", {}, None))
        else:
            print("/api/v1/map: not served by this app, skipped (--map yes forces it)")
        ends = [f"{args.year}-12-{day}" for day in (31, 30, 29)]
        cold = {
            # levels keeps nothing: three ranges on this server are three cold requests
            "levels": cold_ms(
                server,
                [f"{base}/levels?start={args.year}-01-01&end={e}&every=1h" for e in ends],
                keyed,
            )
        }
        cold["indicators"] = sorted(firsts)[1]
        for name, ms in cold.items():
            print(f"{name}, 1 year, single uncached request: median of 3 {ms:.0f} ms")
        for name, path, headers, connections in cases:
            status, size = server.status(path, headers)
            if status != 200:
                sys.exit(f"{path}: HTTP {status}, not benchmarking it")
            result = run_wrk(wrk, name, server.url + path, headers, args, connections)
            results.append(result)
            print(
                f"{name:40s} {result.requests_s:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  "
                f"p99 {result.p99_ms:8.2f} ms  ({result.requests} requests, {size:,} B; "
                f"errors: {result.errors})"
            )
    ceiling = results[0].requests_s
    for result in results[1:]:
        print(f"{result.name:40s} {result.requests_s / ceiling:5.2f} x healthz req/s")
    if args.json:
        args.json.write_text(
            json.dumps({"cold_ms": cold, "runs": [r.__dict__ for r in results]}, indent=2)
        )
    print(f"finished {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")


if __name__ == "__main__":
    main()
