"""The hand-off between the MQTT network thread and the batch writer.

The network thread ``put``s every received message; the writer ``take``s a batch when it is
full (by messages or payload bytes) or when its oldest message has waited ``max_wait_s``, so
latency stays bounded even when the broker's receive-maximum window holds fewer messages than a
full batch.

The inbox is bounded (``max_pending`` messages, ``max_pending_bytes``): ``put`` blocks the
network thread while it is full, so TCP backpressure stops the broker even when the broker does
not honour the client's Receive Maximum (Mosquitto 2.0 resets the quota on every PUBACK and can
send a whole queued backlog at once). Blocking there cannot deadlock: the writer only queues
acknowledgements and never waits for the network thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import NamedTuple

__all__ = ["Inbound", "Inbox"]


class Inbound(NamedTuple):
    """A received MQTT message awaiting a durable write and its acknowledgement.

    ``received_at`` is the wall-clock receive time (Unix s, for readings and metrics),
    ``arrived`` the monotonic one (for the flush timer). ``generation`` counts the connections
    of the client: a message received on an earlier connection must not be acknowledged on a
    later one, where its packet id may name another message (the broker redelivers it instead).
    """

    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: float
    arrived: float
    generation: int


class Inbox:
    """A thread-safe, bounded FIFO of ``Inbound`` messages with size- and age-triggered
    batches."""

    def __init__(
        self,
        *,
        max_messages: int,
        max_bytes: int,
        max_wait_s: float,
        max_pending: int,
        max_pending_bytes: int,
    ) -> None:
        self._items: deque[Inbound] = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._max_wait_s = max_wait_s
        self._max_pending = max(max_pending, 1)
        self._max_pending_bytes = max(max_pending_bytes, 1)
        self._closed = False
        self.peak = 0
        """The most messages ever held at once."""

    def put(self, item: Inbound) -> None:
        """Add a message (called on the network thread); waits while the inbox is full."""
        with self._cond:
            while not self._closed and (
                len(self._items) >= self._max_pending or self._bytes >= self._max_pending_bytes
            ):
                self._cond.wait()
            self._items.append(item)
            self._bytes += len(item.payload)
            self.peak = max(self.peak, len(self._items))
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        """Stop bounding ``put`` and wake every waiter (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self, *, timeout_s: float, drain: bool = False) -> list[Inbound]:
        """The next batch, waiting at most ``timeout_s`` for one to be due.

        A batch is due when it is full or its oldest message is ``max_wait_s`` old; with
        ``drain`` whatever is queued is due at once. Returns ``[]`` when nothing is due in time.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not (drain and self._items) and not self._due():
                now = time.monotonic()
                if now >= deadline or (drain and self._closed):
                    return []
                wait = deadline - now
                if self._items:
                    oldest_age = now - self._items[0].arrived
                    wait = min(wait, max(self._max_wait_s - oldest_age, 0.0))
                self._cond.wait(wait)
            batch = self._pop_batch()
            self._cond.notify_all()
            return batch

    def _full(self) -> bool:
        return len(self._items) >= self._max_messages or self._bytes >= self._max_bytes

    def _due(self) -> bool:
        if not self._items:
            return False
        return self._full() or time.monotonic() - self._items[0].arrived >= self._max_wait_s

    def _pop_batch(self) -> list[Inbound]:
        batch: list[Inbound] = []
        size = 0
        while self._items and len(batch) < self._max_messages and size < self._max_bytes:
            item = self._items.popleft()
            batch.append(item)
            size += len(item.payload)
        self._bytes -= size
        return batch
