"""Shared fixtures: a real Mosquitto per test session, ingest processes, unique topics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from noiselab.broker import MosquittoBroker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A real Mosquitto on a free loopback port, for the whole test session."""
    with MosquittoBroker(tmp_path_factory.mktemp("mosquitto")) as running:
        yield running


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test uses, so tests share the broker without crosstalk."""
    return f"t{uuid.uuid4().hex[:10]}"


class IngestProcess:
    """``noiselab ingest`` as a subprocess, with its log kept for assertions."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "noiselab", "ingest", *self.args],
                stdout=out,
                stderr=out,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.wait_for_log("mqtt connected", timeout_s=20)
        return self

    def wait_for_log(self, text: str, timeout_s: float, *, count: int = 1) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.log.read_text().count(text) >= count:
                time.sleep(0.2)  # the subscription follows the connect
                return
            assert self.process is not None
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"ingest never logged {text!r}:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout_s)
        return self.process.returncode


@pytest.fixture
def ingest_factory(tmp_path: Path) -> Iterator[object]:
    """Start ingest subprocesses; all are killed at the end of the test."""
    started: list[IngestProcess] = []

    def start(*args: str, name: str = "ingest") -> IngestProcess:
        proc = IngestProcess(list(args), tmp_path / f"{name}.log").start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.process is not None and proc.process.poll() is None:
            proc.kill()


@pytest.fixture(params=["sqlite", "postgresql"])
def meta_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A metadata database URL: a fresh SQLite file, then a fresh PostgreSQL database (skipped,
    with the reason, when no PostgreSQL server answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    from support.databases import fresh_postgres_database, postgres_admin_url

    admin_url, why = postgres_admin_url()
    if admin_url is None:
        pytest.skip(why)
    with fresh_postgres_database() as url:
        yield url
