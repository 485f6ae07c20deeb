"""10,000 hostile MQTT messages through a real Mosquitto into a real ``noiselab ingest``
process: every one is quarantined with a reason, nothing is stored, the worker neither dies
nor logs a traceback, and a restart on its persistent session gets nothing redelivered.

The messages come from ``support.fuzz_payloads`` (seeded), each with the number of quarantine
entries it must produce; the quarantine keeps an entry once, and the generator makes every
entry distinct, so the quarantine must end with exactly their sum.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from support.fuzz_payloads import FuzzMessage, fuzz_messages
from support.pipeline import PipelineLab, messages_logged, publish_all

from noiselab.broker import MosquittoBroker
from noiselab.store.metadata import MetadataStore

pytestmark = pytest.mark.process

MESSAGES = 10_000
SENSORS = ("fz-road-1", "fz-rail-2", "fz-park-3")
SEED = 17
QUARANTINE_WAIT_S = 120.0


@pytest.fixture
def lab(tmp_path: Path, broker: MosquittoBroker, prefix: str) -> PipelineLab:
    return PipelineLab(tmp_path, broker, prefix)


def wait_for_quarantine(
    meta: MetadataStore, expected: int, timeout_s: float, process: subprocess.Popen[bytes]
) -> int:
    """Poll the quarantine until it holds ``expected`` entries (or ``timeout_s`` passes, or
    ``process`` ends); then a second more, so that an entry too many shows. Returns the
    count."""
    deadline = time.monotonic() + timeout_s
    count = meta.quarantine.count()
    while count < expected and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.25)
        count = meta.quarantine.count()
    time.sleep(1.0)
    return meta.quarantine.count()


def entries_by_topic(messages: list[FuzzMessage]) -> Counter[str]:
    by_topic: Counter[str] = Counter()
    for message in messages:
        by_topic[message.topic] += message.entries
    return by_topic


def test_ten_thousand_hostile_messages_are_all_quarantined_once(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """Published at QoS 1 while the ingest runs: the quarantine reaches exactly the announced
    total (per topic too) within 120 s and stays there; then a restart of the same persistent
    session is offered nothing again."""
    lab.register(*SENSORS)
    ingest = ingest_factory(*lab.ingest_args())
    messages = fuzz_messages(
        MESSAGES, prefix=lab.prefix, sensors=SENSORS, now=time.time(), seed=SEED
    )
    expected = sum(m.entries for m in messages)
    assert {m.kind for m in messages} >= {"oversized", "bad_batch", "not_utf8"}

    process = ingest.process  # type: ignore[attr-defined]
    started = time.monotonic()
    assert publish_all(lab.broker, [(m.topic, m.payload) for m in messages]) == MESSAGES
    with lab.meta() as meta:
        count = wait_for_quarantine(meta, expected, QUARANTINE_WAIT_S, process)
        took = time.monotonic() - started
        log = ingest.log.read_text()  # type: ignore[attr-defined]
        assert process.poll() is None, f"the ingest died:\n{log[-3000:]}"
        assert "Traceback" not in log, log[-3000:]
        assert count == expected, f"quarantined {count} of {expected} in {took:.0f} s"
        entries = meta.quarantine.newest(limit=expected)
    assert all(entry.reason.strip() for entry in entries)
    assert Counter(entry.topic for entry in entries) == entries_by_topic(messages)
    assert lab.count() == 0
    assert ingest.stop() == 0  # type: ignore[attr-defined]
    assert messages_logged(ingest.log) == MESSAGES  # type: ignore[attr-defined]

    again = ingest_factory(*lab.ingest_args(), name="again")
    assert "session_present=True" in again.log.read_text()  # type: ignore[attr-defined]
    time.sleep(1.5)
    assert again.stop() == 0  # type: ignore[attr-defined]
    assert messages_logged(again.log) == 0  # type: ignore[attr-defined]
    with lab.meta() as meta:
        assert meta.quarantine.count() == expected
    assert lab.count() == 0
