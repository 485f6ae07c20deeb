"""Batches are cut by size, by age of the oldest message, and drained on shutdown."""

from __future__ import annotations

import threading
import time

from noiselab.ingest.inbox import Inbound, Inbox


def _msg(mid: int, received_at: float | None = None, size: int = 10) -> Inbound:
    return Inbound(mid, 1, "noiselab/a/levels", b"x" * size, received_at or time.time(), 0)


def test_full_batch_is_due_at_once_and_keeps_order() -> None:
    inbox = Inbox(max_messages=3, max_bytes=10_000, max_wait_s=60)
    for mid in range(5):
        inbox.put(_msg(mid))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [0, 1, 2]
    assert inbox.take(timeout_s=0.01) == []  # 2 left, young, not full
    assert [m.mid for m in inbox.take(timeout_s=0.01, drain=True)] == [3, 4]


def test_batch_is_cut_by_bytes() -> None:
    inbox = Inbox(max_messages=100, max_bytes=25, max_wait_s=60)
    for mid in range(4):
        inbox.put(_msg(mid, size=10))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [0, 1, 2]


def test_old_message_makes_a_batch_due() -> None:
    inbox = Inbox(max_messages=100, max_bytes=10_000, max_wait_s=0.05)
    inbox.put(_msg(1, received_at=time.time() - 1))
    assert [m.mid for m in inbox.take(timeout_s=0.01)] == [1]


def test_take_waits_for_the_flush_interval_not_the_timeout() -> None:
    inbox = Inbox(max_messages=100, max_bytes=10_000, max_wait_s=0.1)
    threading.Timer(0.02, inbox.put, args=(_msg(1),)).start()
    started = time.monotonic()
    batch = inbox.take(timeout_s=5)
    elapsed = time.monotonic() - started
    assert [m.mid for m in batch] == [1]
    # The message was stamped when built (t = 0) and put at 0.02 s: due at the 0.1 s interval.
    assert 0.09 <= elapsed < 1.0
