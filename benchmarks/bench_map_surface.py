"""Speed of the living map as the API serves it (noiselab.livemap, /api/v1/map/surface*).

Data: the 12 default simulated Vallensbæk sites registered as public sensors, with one day
(2026-03-01 UTC) of one-minute readings at the simulator's hourly LAeq of each site, in a real
SQLite store; the clock stands at 2026-03-02 00:00 UTC. Measured in one run:

* full update per period, in process: store read + fit (3 fits for Lden) + leave-one-out +
  surface (300,000 cells) + band PNG (+ guideline PNG for Lden) + JSON encoding; 20 runs;
* HTTP latency over a kept-alive connection to uvicorn (one worker, in a thread of this
  process) on a free loopback port: ``/healthz`` (the same-run baseline), ``surface.png``
  and ``surface`` cached, ``estimate`` cached (the same point) and uncached (a new point
  each time), and ``surface.png`` uncached (the period's cache cleared before each request,
  so it includes the full update); 200 runs cached, 30 uncached.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_map_surface.py`` (about 30 s).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from machine import describe  # benchmarks/machine.py and timing.py sit beside this script
from timing import report, times_ms

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from noiselab.api.surface_bodies import surface_body
from noiselab.livemap.periods import PERIODS, PeriodRules
from noiselab.livemap.service import load_noise_map
from noiselab.livemap.update import compute_update
from noiselab.model import Reading
from noiselab.noisemap.simulated import hourly_laeq
from noiselab.sensors_sim.register import register_sim_sensors
from noiselab.sensors_sim.site_specs import load_sites
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

DAY = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
NOW = DAY + 86_400


def _populate(root: Path) -> tuple[str, str]:
    store_url, meta_url = f"sqlite:///{root / 'r.db'}", f"sqlite:///{root / 'm.db'}"
    sites = load_sites()
    register_sim_sensors(meta_url, sites)
    data = hourly_laeq(sites, DAY, days=1, seed=1)
    with SqliteStore(root / "r.db") as store:
        for s, site in enumerate(sites):
            readings = [
                Reading(site.id, DAY + 60 * m, float(data.laeq_db[m // 60, s]), duration=60.0)
                for m in range(1440)
            ]
            store.write(readings, received_at=NOW)
    return store_url, meta_url


def _in_process(root: Path, store_url: str, meta_url: str) -> None:
    ctx = load_noise_map(root / "cache", "")
    rules = PeriodRules(ApiSettings(store_url=store_url, meta_url=meta_url).tz, (7, 19), (19, 22))
    with SqliteStore(root / "r.db") as store, MetadataStore(meta_url) as meta:
        sensors = [s for s in meta.sensors.all() if s.public]
        for name, spec in PERIODS.items():

            def full(spec=spec) -> object:
                update = compute_update(ctx, store, sensors, spec, now=NOW, rules=rules)
                return surface_body(ctx, update)

            report(f"full update, period={name}", times_ms(full, 20))
            update = compute_update(ctx, store, sensors, spec, now=NOW, rules=rules)
            acc = np.median(update.loo_abs_db) if update.loo_abs_db.size else float("nan")
            print(f"    leave-one-out: n={update.loo_abs_db.size} median |error| {acc:.2f} dB")


class _Server:
    def __init__(self, app: object) -> None:
        self.sock = socket.socket()
        # accepted connections inherit it: no 40 ms Nagle/delayed-ACK stall between the
        # response's header and body writes on loopback
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _http(root: Path, store_url: str, meta_url: str) -> None:
    settings = ApiSettings(
        store_url=store_url,
        meta_url=meta_url,
        public_rate_per_s=0,
        noisemap_cache_dir=str(root / "cache"),
        clock=lambda: NOW,
    )
    app = create_app(settings)
    rng = np.random.default_rng(1)
    with _Server(app) as server, httpx.Client(base_url=server.url) as client:
        assert app.state.surface.wait_ready(60)
        base = report("GET /healthz (baseline)", times_ms(lambda: client.get("/healthz"), 200))

        def get(path: str, **params: object) -> None:
            response = client.get(path, params=params)
            assert response.status_code == 200, response.text

        for period in ("now", "year"):
            report(
                f"GET surface.png?period={period}, cached",
                times_ms(lambda p=period: get("/api/v1/map/surface.png", period=p), 200),
                base,
            )
        report(
            "GET surface?period=now, cached",
            times_ms(lambda: get("/api/v1/map/surface", period="now"), 200),
            base,
        )
        report(
            "GET estimate?period=now, cached point",
            times_ms(lambda: get("/api/v1/map/estimate", lat=55.63, lon=12.38), 200),
            base,
        )

        def new_point() -> None:
            get(
                "/api/v1/map/estimate",
                lat=float(rng.uniform(55.615, 55.65)),
                lon=float(rng.uniform(12.33, 12.41)),
            )

        report("GET estimate?period=now, new point", times_ms(new_point, 30), base)
        for period in ("now", "year"):

            def uncached(p: str = period) -> None:
                app.state.surface._updates[p].clear()
                get("/api/v1/map/surface.png", period=p)

            report(f"GET surface.png?period={period}, uncached", times_ms(uncached, 30), base)


def main() -> None:
    print(f"machine: {describe()}")
    print(f"date: {datetime.now(UTC).date().isoformat()}")
    with tempfile.TemporaryDirectory(prefix="bench-map-surface-") as tmp:
        root = Path(tmp)
        store_url, meta_url = _populate(root)
        _in_process(root, store_url, meta_url)
        _http(root, store_url, meta_url)


if __name__ == "__main__":
    main()
