"""Ingest throughput and latency against a local Mosquitto, with its own baseline.

Measures, in one run on one broker:
  (a) the raw receive rate of a paho subscriber that only counts QoS 1 messages while it drains a
      queued backlog of its persistent session (the Python ceiling);
  (b) `noiselab ingest` (IngestWorker, in this process) draining the same kind of backlog of
      single-reading messages, and of 100-reading batches, until stored and acknowledged;
  (c) publish-to-queryable latency at a steady 1,000 msg/s with the ingest as a subprocess.

Backlogs are published with the mosquitto_pub CLI (C, fast) so the publisher is not the limit.

Usage: .venv/bin/python benchmarks/ingest_throughput.py [--messages 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from raw_drain import raw_drain

from noiselab.broker import MosquittoBroker
from noiselab.config import parse_mqtt_url
from noiselab.ingest.worker import IngestSettings, IngestWorker
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

SENSORS = 10
T0 = 1_795_000_000.0


def publish_backlog(port: int, prefix: str, lines_per_sensor: list[list[bytes]]) -> None:
    """Publish each sensor's payload lines at QoS 1 with mosquitto_pub -l, in parallel
    per sensor, in chunks below its 65,535-message limit per connection."""
    procs = []
    for s, lines in enumerate(lines_per_sensor):
        for i in range(0, len(lines), 50_000):
            chunk = b"\n".join(lines[i : i + 50_000]) + b"\n"
            proc = subprocess.Popen(
                [
                    "mosquitto_pub",
                    "-p",
                    str(port),
                    "-q",
                    "1",
                    "-V",
                    "mqttv5",
                    "-l",
                    "-t",
                    f"{prefix}/s{s}/levels",
                ],
                stdin=subprocess.PIPE,
            )
            procs.append((proc, chunk))
    for proc, chunk in procs:
        assert proc.stdin is not None
        proc.stdin.write(chunk)
        proc.stdin.close()
    for proc, _ in procs:
        if proc.wait(300) != 0:
            raise RuntimeError("mosquitto_pub failed")


def single_lines(count: int, start: float) -> list[list[bytes]]:
    per = count // SENSORS
    return [
        [
            msgspec.json.encode(
                {"ts": start + i, "laeq": 40.0 + (i % 400) / 10, "lafmax": 45.0 + (i % 400) / 10}
            )
            for i in range(per)
        ]
        for _ in range(SENSORS)
    ]


def batch_lines(messages: int, start: float, size: int = 100) -> list[list[bytes]]:
    per = messages // SENSORS
    return [
        [
            msgspec.json.encode(
                [
                    {"ts": start + m * size + i, "laeq": 40.0 + (i % 40), "lafmax": 50.0 + (i % 40)}
                    for i in range(size)
                ]
            )
            for m in range(per)
        ]
        for _ in range(SENSORS)
    ]


def raw_paho_drain(port: int, prefix: str, count: int) -> float:
    """Messages/s of a counting paho subscriber draining a queued backlog of ``count``."""
    return raw_drain(
        port, prefix, count, lambda: publish_backlog(port, prefix, single_lines(count, T0))
    )


def make_worker(broker: MosquittoBroker, prefix: str, workdir: Path) -> IngestWorker:
    meta = MetadataStore(f"sqlite:///{workdir / 'metadata.db'}")
    now = datetime.now(UTC)
    meta.sensors.add(
        [
            Sensor(
                id=f"s{s}",
                name=f"s{s}",
                lat=None,
                lon=None,
                source="road",
                description="",
                public=True,
                created=now,
            )
            for s in range(SENSORS)
        ],
        replace=True,
    )
    settings = IngestSettings(
        mqtt=parse_mqtt_url(broker.url),
        client_id=f"{prefix}-ingest",
        topic_prefix=prefix,
        share_group=None,
        max_future_s=1e12,
    )
    return IngestWorker(settings, SqliteStore(workdir / "readings.db"), meta)


def ingest_drain(
    broker: MosquittoBroker, prefix: str, workdir: Path, lines: list[list[bytes]]
) -> tuple[float, int]:
    """Seconds for IngestWorker to store and ack a queued backlog; returns (seconds, msgs)."""
    messages = sum(len(x) for x in lines)
    worker = make_worker(broker, prefix, workdir)
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert worker.wait_connected(20)
    worker.request_stop()
    thread.join()
    publish_backlog(broker.port, prefix, lines)
    worker = make_worker(broker, prefix, workdir)
    thread = threading.Thread(target=worker.run)
    start = time.perf_counter()
    thread.start()
    while worker.metrics.acked._value.get() < messages:
        time.sleep(0.01)
        if time.perf_counter() - start > 600:
            raise RuntimeError("ingest drain timed out")
    elapsed = time.perf_counter() - start
    worker.request_stop()
    thread.join()
    return elapsed, messages


def latency(
    broker: MosquittoBroker, prefix: str, workdir: Path, rate: int, seconds: float
) -> tuple[float, float, int]:
    """p50/p99 seconds from publish to visible in SQLite, at ``rate`` msg/s."""
    worker_dir = workdir
    meta_url = f"sqlite:///{worker_dir / 'metadata.db'}"
    make_worker(broker, prefix, worker_dir).store.close()
    log = (workdir / "ingest.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noiselab",
            "ingest",
            "--mqtt",
            broker.url,
            "--store",
            f"sqlite:///{worker_dir / 'readings.db'}",
            "--meta",
            meta_url,
            "--topic-prefix",
            prefix,
            "--client-id",
            f"{prefix}-lat",
            "--share-group",
            "",
        ],
        stdout=log,
        stderr=log,
    )
    time.sleep(3)
    sent: dict[tuple[str, int], float] = {}
    seen: dict[tuple[str, int], float] = {}
    stop = threading.Event()

    def poll() -> None:
        db = sqlite3.connect(worker_dir / "readings.db")
        last = 0.0
        while not stop.is_set():
            now = time.time()
            for sid, ts_ms, rec in db.execute(
                "SELECT sensor_id, ts_ms, received_at FROM readings WHERE received_at > ?",
                (last,),
            ):
                seen.setdefault((sid, ts_ms), now)
                last = max(last, rec - 1.0)
            time.sleep(0.005)

    poller = threading.Thread(target=poll)
    poller.start()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    base = time.time()
    total = int(rate * seconds)
    for n in range(total):
        due = base + n / rate
        if (wait := due - time.time()) > 0:
            time.sleep(wait)
        sid = f"s{n % SENSORS}"
        ts = round(base + n / rate, 3)  # 1-ms steps: unique per sensor, never in the future
        sent[(sid, round(ts * 1000))] = time.time()
        client.publish(
            f"{prefix}/{sid}/levels", msgspec.json.encode({"ts": ts, "laeq": 50.0}), qos=1
        )
    time.sleep(3)
    stop.set()
    poller.join()
    client.disconnect()
    client.loop_stop()
    proc.terminate()
    proc.wait(30)
    delays = sorted(seen[k] - t for k, t in sent.items() if k in seen)
    missing = len(sent) - len(delays)
    p50 = statistics.median(delays)
    p99 = delays[int(0.99 * (len(delays) - 1))]
    return p50, p99, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-messages", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    args = parser.parse_args()

    print(f"# ingest throughput — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    mosq = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True, check=False).stdout
    print(f"broker: {mosq.splitlines()[0] if mosq else 'mosquitto'}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "broker", persistence=False) as broker,
    ):
        raw, single, batched = [], [], []
        for r in range(args.repeats):
            raw.append(raw_paho_drain(broker.port, f"raw{r}", args.messages))
            wd = Path(tmp) / f"single{r}"
            wd.mkdir()
            secs, msgs = ingest_drain(
                broker, f"single{r}", wd, single_lines(args.messages, T0 + r * 1e6)
            )
            single.append(msgs / secs)
            wd = Path(tmp) / f"batch{r}"
            wd.mkdir()
            secs, msgs = ingest_drain(
                broker, f"batch{r}", wd, batch_lines(args.batch_messages, T0 + r * 1e6)
            )
            batched.append(msgs * 100 / secs)
            print(
                f"repeat {r}: raw {raw[-1]:,.0f} msg/s | ingest single {single[-1]:,.0f} msg/s"
                f" | ingest 100-batch {batched[-1]:,.0f} readings/s",
                flush=True,
            )
        wd = Path(tmp) / "latency"
        wd.mkdir()
        p50, p99, missing = latency(broker, "lat", wd, 1000, args.latency_seconds)
    raw_m, single_m, batch_m = (statistics.median(x) for x in (raw, single, batched))
    print()
    print("| measure | median | ratio to raw paho |")
    print("|---|---:|---:|")
    print(f"| raw paho subscriber, QoS 1 backlog drain | {raw_m:,.0f} msg/s | 1.00 |")
    print(
        f"| noiselab ingest, single-reading messages | {single_m:,.0f} msg/s | "
        f"{single_m / raw_m:.2f} |"
    )
    print(
        f"| noiselab ingest, 100-reading batches | {batch_m:,.0f} readings/s | "
        f"{batch_m / raw_m:.2f} (readings per raw message) |"
    )
    print(
        f"| publish → queryable at 1,000 msg/s | p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms ({missing} not seen) | |"
    )


if __name__ == "__main__":
    main()
