"""The guard behind the ``process`` marker: while a test without the marker runs, every way of
starting a process is refused with a message naming the test and the command.

``tests/conftest.py`` turns it on around each unmarked test (its fixtures' setup included), so
``pytest -m "not process"`` really runs no process. It patches the places every process start
in this code base goes through: ``subprocess.Popen`` (and so ``subprocess.run``, asyncio's
subprocesses, Playwright's driver and Chromium, ``MosquittoBroker``), ``os.fork`` (a
``multiprocessing`` fork), ``_posixsubprocess.fork_exec`` (a ``multiprocessing`` spawn),
``os.posix_spawn``/``os.posix_spawnp`` and ``os.system``.
"""

from __future__ import annotations

import _posixsubprocess
import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

MARKER = "process"


class ProcessGuard:
    """Refuses process starts on behalf of test ``nodeid`` and remembers each attempt, so the
    test fails even where the code under test swallows the error."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.attempts: list[str] = []

    def message(self, what: str) -> str:
        """Why the start of ``what`` was refused, and what to do about it."""
        return (
            f"{self.nodeid} started a process ({what}) but is not marked "
            f"'{MARKER}': add @pytest.mark.{MARKER} (or a module-level pytestmark) so that "
            f'`pytest -m "not {MARKER}"` (bash scripts/test --fast) leaves it out'
        )

    def refuse(self, what: str) -> None:
        """Record the attempt to start ``what`` and fail the running test."""
        text = self.message(what)
        self.attempts.append(text)
        pytest.fail(text, pytrace=False)

    def take_attempts(self) -> list[str]:
        """The refusals since the last call (one per attempt), forgetting them."""
        attempts, self.attempts = self.attempts, []
        return attempts

    @contextmanager
    def active(self) -> Iterator[ProcessGuard]:
        """Refuse process starts for the ``with`` block."""
        with ExitStack() as patches:
            patches.enter_context(_patched(subprocess.Popen, "_execute_child", self._popen))
            for name in ("fork", "posix_spawn", "posix_spawnp", "system"):
                if hasattr(os, name):
                    patches.enter_context(_patched(os, name, self._call(f"os.{name}")))
            patches.enter_context(
                _patched(_posixsubprocess, "fork_exec", self._call("a multiprocessing spawn"))
            )
            yield self

    def _popen(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        """Stands in for the bound ``Popen._execute_child``: ``args`` is the command."""
        self.refuse(f"subprocess.Popen {_command(args)}")

    def _call(self, what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            self.refuse(what)

        return refused


def _command(args: Any) -> str:
    """A short readable form of a ``Popen`` argument list (or string)."""
    if isinstance(args, str | bytes | os.PathLike):
        return repr(os.fsdecode(args))
    assert isinstance(args, Sequence)
    return repr(" ".join(os.fsdecode(a) for a in args)[:200])


@contextmanager
def _patched(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    """``owner.name`` is ``replacement`` for the ``with`` block, then the original again."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
