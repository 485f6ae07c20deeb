"""Ingest scale-out: N `noiselab ingest` processes on one shared subscription, against one.

Each worker is a real `noiselab ingest` subprocess in one share group with its own SQLite store
file, so the store is not the shared bottleneck (as with InfluxDB, which takes writes from many
clients); the metadata database is shared. The workers subscribe once and stop, so their
persistent sessions stay in the share group; a backlog is published with mosquitto_pub while
they are away (Mosquitto queues each message for one member); then they start again and the
time runs until their Prometheus counters show every message acknowledged. The publisher is
not running while the time runs, so the figures are the consumption rate of broker + workers.
Reported: messages/s and readings/s for 1 and N workers, and the ratio, for single-reading
messages and for 100-reading batches, each the median of --repeats runs.

Usage: .venv/bin/python benchmarks/ingest_scaling.py [--workers 2] [--messages 60000]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from ingest_throughput import SENSORS, T0, batch_lines, publish_backlog, single_lines

from noiselab.broker import MosquittoBroker, free_port
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore


def acked(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("noiselab_ingest_messages_acked_total"):
                return float(line.split()[-1])
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    broker: MosquittoBroker, workdir: Path, workers: int, lines: list[list[bytes]]
) -> tuple[float, float, float]:
    """``(seconds, worker CPU s, broker CPU s)`` for ``workers`` ingest processes to store and
    ack the published ``lines``; CPU counted over the drain only."""
    prefix = f"b{time.monotonic_ns() % 10**9}"
    meta_url = f"sqlite:///{workdir / 'metadata.db'}"
    meta = MetadataStore(meta_url)
    meta.sensors.add(
        [
            Sensor(id=f"s{s}", name=f"s{s}", source="road", created=datetime.now(UTC))
            for s in range(SENSORS)
        ],
        replace=True,
    )
    meta.close()
    messages = sum(len(x) for x in lines)

    def start(phase: str) -> tuple[list[subprocess.Popen[bytes]], list[int], float]:
        """Start the workers; return them, their metrics ports and when the first connected
        (the drain starts then: a worker's start-up, ~0.5 s of imports, is not ingest)."""
        procs, ports = [], []
        for n in range(workers):
            port = free_port()
            log_path = workdir / f"{prefix}-{n}-{phase}.log"
            log = log_path.open("wb")
            args = [
                sys.executable, "-m", "noiselab", "ingest",
                "--mqtt", broker.url,
                "--store", f"sqlite:///{workdir / f'{prefix}-{n}.db'}",
                "--meta", meta_url,
                "--topic-prefix", prefix,
                "--share-group", f"{prefix}-share",
                "--client-id", f"{prefix}-w{n}",
                "--max-future", "1e12",
                "--metrics-port", str(port),
            ]  # fmt: skip
            procs.append(subprocess.Popen(args, stdout=log, stderr=log))
            ports.append(port)
        deadline = time.monotonic() + 30
        logs = [workdir / f"{prefix}-{n}-{phase}.log" for n in range(workers)]
        first: float | None = None
        while True:
            connected = ["mqtt connected" in log.read_text() for log in logs]
            if first is None and any(connected):
                first = time.perf_counter()
            if all(connected):
                assert first is not None
                return procs, ports, first
            if time.monotonic() > deadline:
                raise RuntimeError(logs[connected.index(False)].read_text())
            time.sleep(0.002)

    def stop(procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(60)

    procs, _, _ = start("subscribe")
    time.sleep(0.5)  # the subscriptions follow the connect
    stop(procs)
    publish_backlog(broker.port, prefix, lines)
    assert broker.process is not None
    broker_cpu = cpu_s(broker.process.pid)
    procs, ports, began = start("drain")
    worker_cpu = sum(cpu_s(proc.pid) for proc in procs)
    try:
        while sum(acked(port) for port in ports) < messages:
            if time.perf_counter() - began > 600:
                raise RuntimeError("timed out")
            time.sleep(0.02)
        elapsed = time.perf_counter() - began
        worker_cpu = sum(cpu_s(proc.pid) for proc in procs) - worker_cpu
        return elapsed, worker_cpu, cpu_s(broker.process.pid) - broker_cpu
    finally:
        stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--batch-messages", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    python = sys.version.split()[0]
    print(f"# {datetime.now(UTC):%Y-%m-%d} {cpu}, {os.cpu_count()} cores, Python {python}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = MosquittoBroker(root / "broker", port=free_port())
        broker.start()
        try:
            cases = [
                ("single readings", single_lines(args.messages, T0), 1),
                ("100-reading batches", batch_lines(args.batch_messages, T0), 100),
            ]
            for name, lines, per_message in cases:
                messages = sum(len(x) for x in lines)
                rates = {}
                for workers in (1, args.workers):
                    runs = []
                    for r in range(args.repeats):
                        workdir = root / f"{name[:6]}-{workers}-{r}"
                        workdir.mkdir()
                        runs.append(run(broker, workdir, workers, lines))
                    times = [t for t, _, _ in runs]
                    rates[workers] = messages / statistics.median(times)
                    worker_ms = statistics.median(w for _, w, _ in runs) / messages * 1e6
                    broker_ms = statistics.median(b for _, _, b in runs) / messages * 1e6
                    print(
                        f"{name}: {workers} worker(s): {rates[workers]:,.0f} msg/s = "
                        f"{rates[workers] * per_message:,.0f} readings/s "
                        f"(times {', '.join(f'{t:.2f}' for t in times)} s); CPU per 1,000 "
                        f"messages: workers {worker_ms:.0f} ms, broker {broker_ms:.0f} ms"
                    )
                ratio = rates[args.workers] / rates[1]
                print(f"{name}: ratio {args.workers} workers / 1 = {ratio:.2f}")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
