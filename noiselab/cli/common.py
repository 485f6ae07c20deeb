"""Small pieces every ``noiselab`` command uses: a clean exit on a user's mistake, and signal
handling for long-running commands."""

from __future__ import annotations

import signal
from collections.abc import Callable

import typer

__all__ = ["fail", "on_signals"]


def fail(exc: Exception) -> typer.Exit:
    """Print ``noiselab: <exc>`` on stderr; the exit (code 2) to raise."""
    typer.echo(f"noiselab: {exc}", err=True)
    return typer.Exit(2)


def on_signals(handler: Callable[[], object]) -> None:
    """Call ``handler`` on SIGINT and SIGTERM (it must be signal-safe: set an event)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _s, _f: handler())
