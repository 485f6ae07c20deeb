"""How fast the ingest quarantines when every message is bad, against the raw MQTT receive rate
of the same messages measured in the same run.

Per repeat, on one local Mosquitto (persistence off), each input is queued as a backlog in a
persistent session (QoS 1, MQTT v5, published by paho, which carries any bytes) and drained:

- **raw paho**: a subscriber that only counts the messages (the Python ceiling);
- **ingest**: ``IngestWorker`` (the code behind ``noiselab ingest``, in this process, with a
  SQLite store and metadata database) until every message is acknowledged, which it does only
  after its quarantine entries are committed; the entries are counted in the database after.

Inputs: ``good`` is one valid reading per message (stored, nothing quarantined: the reference
for a message's cost); ``single`` one bad reading per message (a string for ``laeq``: one entry
each); ``fuzz`` the hostile mix of ``tests/support/fuzz_payloads.py`` (every kind, batches of
bad readings: more entries than messages; oversized ones are rare, but each is 1 MiB).

Usage: ``.venv/bin/python benchmarks/quarantine_rate.py [--messages 20000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from machine import describe  # noqa: E402 (after the path)
from raw_drain import raw_drain  # noqa: E402
from support.fuzz_payloads import fuzz_messages  # noqa: E402
from support.pipeline import publish_all  # noqa: E402

from noiselab.broker import MosquittoBroker  # noqa: E402
from noiselab.config import parse_mqtt_url  # noqa: E402
from noiselab.ingest.worker import IngestSettings, IngestWorker  # noqa: E402
from noiselab.model import Sensor  # noqa: E402
from noiselab.store.metadata import MetadataStore  # noqa: E402
from noiselab.store.sqlite import SqliteStore  # noqa: E402

SENSORS = tuple(f"q{s}" for s in range(10))
Messages = list[tuple[str, bytes]]


def single_good(prefix: str, count: int, now: float) -> tuple[Messages, int]:
    """``count`` messages of one valid reading (stored, no entry): the reference."""
    messages = [
        (
            f"{prefix}/{SENSORS[i % len(SENSORS)]}/levels",
            b'{"ts":%d,"laeq":%.1f}' % (now - 3_600 - i, 40 + i % 400 / 10),
        )
        for i in range(count)
    ]
    return messages, 0


def single_bad(prefix: str, count: int, now: float) -> tuple[Messages, int]:
    """``count`` messages of one reading refused for its ``laeq`` (one entry each)."""
    messages = [
        (f"{prefix}/{SENSORS[i % len(SENSORS)]}/levels", b'{"ts":%d,"laeq":"%d dB"}' % (now, i))
        for i in range(count)
    ]
    return messages, count


def fuzz(prefix: str, count: int, now: float) -> tuple[Messages, int]:
    """``count`` hostile messages and the entries they must produce."""
    made = fuzz_messages(count, prefix=prefix, sensors=SENSORS, now=now, seed=1)
    return [(m.topic, m.payload) for m in made], sum(m.entries for m in made)


def raw_rate(broker: MosquittoBroker, prefix: str, messages: Messages) -> float:
    """Messages/s of a counting paho subscriber draining ``messages`` queued in its session."""
    return raw_drain(broker.port, prefix, len(messages), lambda: publish_all(broker, messages))


def _worker(broker: MosquittoBroker, prefix: str, workdir: Path) -> IngestWorker:
    """An ingest of ``prefix`` over a store and metadata database in ``workdir``."""
    meta = MetadataStore(f"sqlite:///{workdir / 'metadata.db'}")
    now = datetime.now(UTC)
    meta.sensors.add(
        [
            Sensor(
                id=s,
                name=s,
                lat=None,
                lon=None,
                source="road",
                description="",
                public=True,
                created=now,
            )
            for s in SENSORS
        ],
        replace=True,
    )
    settings = IngestSettings(
        mqtt=parse_mqtt_url(broker.url),
        client_id=f"{prefix}-ingest",
        topic_prefix=prefix,
        share_group=None,
    )
    return IngestWorker(settings, SqliteStore(workdir / "readings.db"), meta)


def _run(worker: IngestWorker, until: Callable[[], bool], timeout_s: float) -> float:
    """Run ``worker`` until ``until()``; the seconds from its start."""
    thread = threading.Thread(target=worker.run)
    started = time.perf_counter()
    thread.start()
    while not until():
        time.sleep(0.01)
        if time.perf_counter() - started > timeout_s:
            worker.request_stop()
            raise RuntimeError("the ingest did not drain the backlog in time")
    elapsed = time.perf_counter() - started
    worker.request_stop()
    thread.join()
    worker.store.close()
    worker.registry.close()  # type: ignore[attr-defined]
    return elapsed


def ingest_drain(
    broker: MosquittoBroker, prefix: str, workdir: Path, messages: Messages, entries: int
) -> tuple[float, float]:
    """(entries/s, messages/s) of the ingest quarantining ``messages`` queued in its session."""
    workdir.mkdir()
    first = _worker(broker, prefix, workdir)
    _run(first, lambda: first.wait_connected(0), 20)  # creates the session
    publish_all(broker, messages)
    worker = _worker(broker, prefix, workdir)
    seconds = _run(worker, lambda: worker.metrics.acked._value.get() >= len(messages), 600)
    with MetadataStore(f"sqlite:///{workdir / 'metadata.db'}") as meta:
        quarantined = meta.quarantine.count()
    with SqliteStore(workdir / "readings.db") as store:
        stored = store.count_readings()
    # Every input is all bad (nothing stored) or all good (nothing quarantined).
    if (quarantined, stored) != (entries, 0 if entries else len(messages)):
        raise RuntimeError(f"quarantined {quarantined} (expected {entries}), stored {stored}")
    return entries / seconds, len(messages) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"# quarantine rate — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {describe()}")
    inputs = {"good": single_good, "single": single_bad, "fuzz": fuzz}
    figures: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="noiselab-bench-quarantine-") as tmp,
        MosquittoBroker(Path(tmp) / "broker", persistence=False) as broker,
    ):
        for r in range(args.repeats):
            for name, make in inputs.items():
                # The same messages for both, each under its own topic prefix.
                messages, _ = make(f"{name}{r}", args.messages, time.time())
                raw = raw_rate(broker, f"{name}{r}", messages)
                messages, entries = make(f"{name}{r}i", args.messages, time.time())
                workdir = Path(tmp) / f"{name}{r}"
                per_entry, per_message = ingest_drain(
                    broker, f"{name}{r}i", workdir, messages, entries
                )
                for key, value in (("raw", raw), ("entries", per_entry), ("msgs", per_message)):
                    figures.setdefault(f"{name} {key}", []).append(value)
                print(
                    f"repeat {r} {name:6s}: raw {raw:,.0f} msg/s | ingest {per_entry:,.0f} "
                    f"entries/s, {per_message:,.0f} msg/s ({entries:,} entries of "
                    f"{len(messages):,} messages) | ratio {per_message / raw:.2f}",
                    flush=True,
                )
    print()
    print("| input | raw paho msg/s | ingest msg/s | ingest entries/s | ratio to raw (msg/s) |")
    print("|---|---:|---:|---:|---:|")
    for name in inputs:
        raw, msgs, ents = (
            statistics.median(figures[f"{name} {k}"]) for k in ("raw", "msgs", "entries")
        )
        print(f"| {name} | {raw:,.0f} | {msgs:,.0f} | {ents:,.0f} | {msgs / raw:.2f} |")


if __name__ == "__main__":
    main()
