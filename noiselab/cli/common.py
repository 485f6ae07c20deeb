"""Small pieces every ``noiselab`` command uses: a clean exit on a user's mistake, signal
handling for long-running commands, and the stores a command's ``--store``/``--meta`` name."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from noiselab.config import default_meta_url, parse_store_url

if TYPE_CHECKING:
    from noiselab.store.base import ReadingStore
    from noiselab.store.metadata import MetadataStore

__all__ = ["fail", "metadata_url", "on_signals", "open_stores", "signals_during"]


def fail(exc: Exception) -> typer.Exit:
    """Print ``noiselab: <exc>`` on stderr; the exit (code 2) to raise."""
    typer.echo(f"noiselab: {exc}", err=True)
    return typer.Exit(2)


def on_signals(handler: Callable[[], object]) -> None:
    """Call ``handler`` on SIGINT and SIGTERM (it must be signal-safe: set an event)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _s, _f: handler())


@contextmanager
def signals_during(handler: Callable[[], object]) -> Iterator[None]:
    """``on_signals(handler)`` for the ``with`` block; the previous handlers are restored after
    it (for a command that may run inside another program, such as a test)."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    on_signals(handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def metadata_url(store: str, meta: str | None) -> str:
    """The metadata database: ``--meta``, else ``metadata.db`` beside a SQLite ``--store``."""
    return meta or default_meta_url(parse_store_url(store))


def open_stores(store: str, meta: str | None) -> tuple[ReadingStore, MetadataStore]:
    """The time-series store and the metadata database; neither is left open on failure."""
    from noiselab.store import open_store
    from noiselab.store.metadata import MetadataStore

    meta_url = metadata_url(store, meta)
    reading_store = open_store(store)
    try:
        return reading_store, MetadataStore(meta_url)
    except BaseException:
        reading_store.close()
        raise
