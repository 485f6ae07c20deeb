"""Shared fixtures: a real Mosquitto per test session, ingest processes, unique topics, metadata
databases; and the ``process`` marker's guard: a test that starts a process must say so."""

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
from support.processes import MARKER, ProcessGuard

from noiselab.broker import MosquittoBroker

pytest_plugins = ("pytester",)  # test_process_marker runs this conftest in a pytest of its own

PROCESS_FIXTURES = frozenset({"broker", "ingest_factory", "postgres_admin_url"})
"""The fixtures below that start a process (Mosquitto, ``noiselab ingest``, a throwaway
PostgreSQL): a test that uses one, even through another fixture, must carry the ``process``
marker. ``meta_url`` asks for ``postgres_admin_url`` only in its PostgreSQL runs, which carry
the marker through their parameter."""

_GUARD = pytest.StashKey[ProcessGuard]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Stop the run before anything starts when a test uses a process fixture unmarked."""
    unmarked = [
        f"  {item.nodeid} uses {', '.join(sorted(used))}"
        for item in items
        if item.get_closest_marker(MARKER) is None
        and (used := PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())))
    ]
    if unmarked:
        raise pytest.UsageError(
            f"tests that start a process through a fixture must be marked '{MARKER}'"
            f" (@pytest.mark.{MARKER} or a module-level pytestmark):\n" + "\n".join(unmarked)
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Run a test without the ``process`` marker, its fixtures' setup and teardown included,
    with every process start refused (see ``support.processes``)."""
    if item.get_closest_marker(MARKER) is not None:
        return (yield)
    guard = item.stash[_GUARD] = ProcessGuard(item.nodeid)
    with guard.active():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Fail an unmarked test that tried to start a process even if the code under test caught
    the refusal."""
    report: pytest.TestReport = yield
    guard = item.stash.get(_GUARD, None)
    attempts = [] if guard is None else guard.take_attempts()
    if attempts and report.passed:
        report.outcome = "failed"
        report.longrepr = "\n".join(attempts)
    return report


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


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The admin URL of a PostgreSQL for the whole session: ``NOISELAB_TEST_POSTGRES_URL``, the
    local server, or a throwaway cluster started here and removed at the end (see
    ``support.databases``). Without any: a skip, and under CI a failure."""
    from support.databases import missing_postgres, plan_postgres
    from support.postgres_cluster import PostgresCluster

    plan = plan_postgres(os.environ)
    if plan.url is not None:
        yield plan.url
    elif plan.cluster_bin is not None:
        with PostgresCluster(plan.cluster_bin) as cluster:
            yield cluster.admin_url
    else:
        missing_postgres(plan.why, os.environ)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.process)])
def meta_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A metadata database URL: a fresh SQLite file, then a fresh PostgreSQL database on
    ``postgres_admin_url``. The PostgreSQL runs carry the ``process`` marker, as that fixture
    may start a server; it is requested here only for them, so the SQLite runs stay unmarked."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    from support.databases import fresh_postgres_database

    with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield url
