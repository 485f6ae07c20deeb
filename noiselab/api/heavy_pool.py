"""A bounded pool for heavy reads, so they cannot take the threads and the CPU of cheap ones.

Starlette runs every blocking route and ``run_in_threadpool`` call in one shared pool of 40
threads. Twenty-four 2-second reads in it leave the event loop one of 25 threads competing
for the interpreter lock: every request, a cached map included, then waits seconds for it
(docs/benchmarks.md, "Reads under abuse"). :class:`HeavyPool` admits ``workers`` heavy reads
at a time; a read that finds them busy waits at most ``wait_s`` seconds, with at most
``queue`` others, before it is refused with :class:`BusyError` (the routes answer 503 with
``Retry-After``).

Even a few threads are not enough: single calls into C inside a heavy read (building arrays of
600,000 rows, numpy's fancy indexing) hold the interpreter lock for 100-300 ms at a time, and
the event loop waits that long. So with a ``store_url`` the pool computes in ``workers``
processes of its own (started with ``spawn`` on first use, each with its own store opened
read-side on that URL); an admitted read's thread then only waits for its process.
:meth:`HeavyPool.call` runs a module-level function ``fn(store, *args)`` there, or in the
calling thread with the app's store when the pool has no processes.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from noiselab.store import open_store
from noiselab.store.base import ReadingStore

__all__ = ["BusyError", "HeavyPool"]

T = TypeVar("T")

_worker_store: ReadingStore | None = None
"""The store of a worker process, opened by :func:`_open_worker_store`."""


def _open_worker_store(store_url: str) -> None:
    global _worker_store  # noqa: PLW0603 (one store per worker process, for its life)
    _worker_store = open_store(store_url)


def _in_worker(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    assert _worker_store is not None, "the worker's store was not opened"
    return fn(_worker_store, *args)


class BusyError(Exception):
    """The pool is full: retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"busy; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class HeavyPool:
    """``workers`` reads at a time; a caller waits at most ``wait_s`` s, behind at most
    ``queue``. With ``store_url``, :meth:`call` computes in worker processes."""

    def __init__(self, workers: int, wait_s: float, queue: int, store_url: str | None) -> None:
        self.workers, self.wait_s, self.queue = workers, wait_s, queue
        self.store_url = store_url
        self._slots: anyio.Semaphore | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._processes: ProcessPoolExecutor | None = None
        self._starting = threading.Lock()
        self.waiting = 0

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in a thread of the pool; :class:`BusyError` when no place frees in time."""
        if self._slots is None or self._threads is None:
            self._slots = anyio.Semaphore(self.workers)
            self._threads = anyio.CapacityLimiter(self.workers)
        if self._slots.value == 0 and self.waiting >= self.queue:
            raise BusyError(self._retry_after())
        self.waiting += 1
        try:
            with anyio.move_on_after(self.wait_s) as waited:
                await self._slots.acquire()
        finally:
            self.waiting -= 1
        if waited.cancelled_caught:
            raise BusyError(self._retry_after())
        try:
            return await anyio.to_thread.run_sync(work, limiter=self._threads)
        finally:
            self._slots.release()

    def call(self, store: ReadingStore, fn: Callable[..., T], *args: Any) -> T:
        """``fn(store, *args)``: in a worker process (over its own store) when the pool has
        them, else here over ``store``. Blocking; ``fn`` and ``args`` must pickle."""
        if self.store_url is None:
            return fn(store, *args)
        with self._starting:
            if self._processes is None:
                self._processes = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_open_worker_store,
                    initargs=(self.store_url,),
                )
            processes = self._processes
        return processes.submit(_in_worker, fn, args).result()

    def close(self) -> None:
        """Stop the worker processes, after the reads running in them (waiting ones are
        dropped)."""
        with self._starting:
            processes, self._processes = self._processes, None
        if processes is not None:
            processes.shutdown(wait=True, cancel_futures=True)

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.wait_s / 2))
