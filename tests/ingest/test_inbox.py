"""Batches are cut by size, by age of the oldest message, drained on shutdown; the inbox is
bounded so a broker that ignores Receive Maximum cannot flood the worker's memory."""

from __future__ import annotations

import threading
import time

from noiselab.ingest.inbox import Inbound, Inbox


def _msg(mid: int, arrived: float | None = None, size: int = 10) -> Inbound:
    now = time.monotonic()
    return Inbound(mid, 1, "noiselab/a/levels", b"x" * size, time.time(), arrived or now, 0)


def _inbox(**overrides: float) -> Inbox:
    settings: dict[str, float] = {
        "max_messages": 100,
        "max_bytes": 10_000,
        "max_wait_s": 60,
        "max_pending": 1_000,
        "max_pending_bytes": 1_000_000,
    }
    settings.update(overrides)
    return Inbox(**settings)  # type: ignore[arg-type]


def test_full_batch_is_due_at_once_and_keeps_order() -> None:
    inbox = _inbox(max_messages=3)
    for mid in range(5):
        inbox.put(_msg(mid))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [0, 1, 2]
    assert inbox.take(timeout_s=0.01) == []  # 2 left, young, not full
    assert [m.mid for m in inbox.take(timeout_s=0.01, drain=True)] == [3, 4]


def test_batch_is_cut_by_bytes() -> None:
    inbox = _inbox(max_bytes=25)
    for mid in range(4):
        inbox.put(_msg(mid, size=10))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [0, 1, 2]


def test_old_message_makes_a_batch_due() -> None:
    inbox = _inbox(max_wait_s=0.05)
    inbox.put(_msg(1, arrived=time.monotonic() - 1))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [1]


def test_take_waits_for_the_flush_interval_not_the_timeout() -> None:
    inbox = _inbox(max_wait_s=0.1)
    threading.Timer(0.02, lambda: inbox.put(_msg(1))).start()
    started = time.monotonic()
    batch = inbox.take(timeout_s=5)
    elapsed = time.monotonic() - started
    assert [m.mid for m in batch] == [1]
    assert 0.11 <= elapsed < 1.0  # put at 0.02 s, due 0.1 s after it arrived


def test_put_blocks_while_full_and_resumes_when_the_writer_takes() -> None:
    inbox = _inbox(max_messages=2, max_pending=3)
    for mid in range(3):
        inbox.put(_msg(mid))
    fourth = threading.Thread(target=inbox.put, args=(_msg(3),))
    fourth.start()
    fourth.join(0.2)
    assert fourth.is_alive(), "a full inbox must hold the network thread back"
    assert len(inbox) == 3
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [0, 1]
    fourth.join(2)
    assert not fourth.is_alive()
    assert [m.mid for m in inbox.take(timeout_s=0.01, drain=True)] == [2, 3]
    assert inbox.peak == 3


def test_put_blocks_on_pending_bytes_too() -> None:
    inbox = _inbox(max_pending_bytes=25)
    inbox.put(_msg(0, size=20))
    inbox.put(_msg(1, size=20))  # under the limit when it arrived
    third = threading.Thread(target=inbox.put, args=(_msg(2, size=20),))
    third.start()
    third.join(0.2)
    assert third.is_alive()
    inbox.close()  # shutdown lets it through
    third.join(2)
    assert not third.is_alive()
