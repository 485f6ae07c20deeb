"""The ``process`` marker's guard: a test without the marker cannot start a process, and a test
that uses a process fixture without it stops the run at collection."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.processes import ProcessGuard

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
NODE = "tests/test_example.py::test_example"


async def _asyncio_subprocess() -> None:
    await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")


STARTS: dict[str, Callable[[], object]] = {
    "popen": lambda: subprocess.Popen([sys.executable, "-c", "pass"]),
    "run": lambda: subprocess.run(["mosquitto", "-h"], check=False),
    "asyncio": lambda: asyncio.run(_asyncio_subprocess()),
    "multiprocessing_spawn": lambda: multiprocessing.get_context("spawn").Process().start(),
    "multiprocessing_fork": lambda: multiprocessing.get_context("fork").Process().start(),
    "os_system": lambda: os.system("true"),
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_the_guard_refuses_each_way_of_starting_a_process(start: Callable[[], object]) -> None:
    """Refused before anything runs, with the test's id, the command where there is one, and
    the marker to add; the attempt is remembered for the report."""
    guard = ProcessGuard(NODE)
    with guard.active(), pytest.raises(pytest.fail.Exception) as refused:
        start()
    message = str(refused.value)
    assert message.startswith(f"{NODE} started a process (")
    assert "@pytest.mark.process" in message
    assert guard.take_attempts() == [message]
    assert guard.take_attempts() == []


def test_the_refusal_names_the_command() -> None:
    guard = ProcessGuard(NODE)
    with (
        guard.active(),
        pytest.raises(pytest.fail.Exception, match=re.escape("'mosquitto -c m.conf'")),
    ):
        subprocess.Popen(["mosquitto", "-c", "m.conf"])


def test_the_guard_restores_what_it_replaced() -> None:
    before = (subprocess.Popen._execute_child, os.fork, os.system)  # type: ignore[attr-defined]
    with ProcessGuard(NODE).active():
        assert subprocess.Popen._execute_child is not before[0]  # type: ignore[attr-defined]
    assert (subprocess.Popen._execute_child, os.fork, os.system) == before  # type: ignore[attr-defined]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A test directory with this suite's conftest and marker, to run pytest in."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    process: starts a process\n")
    return pytester


def test_an_unmarked_test_that_starts_a_process_fails(suite: pytest.Pytester) -> None:
    """Also when the code under test catches the refusal."""
    suite.makepyfile(
        test_starts="""
        import subprocess
        import sys

        def test_popen():
            subprocess.Popen([sys.executable, "-c", "pass"])

        def test_popen_swallowed():
            try:
                subprocess.run([sys.executable, "-c", "pass"])
            except BaseException:
                pass

        def test_no_process():
            assert True
        """
    )
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        ["*test_starts.py::test_popen started a process (subprocess.Popen *) but is not marked*"]
    )
    assert "test_starts.py::test_popen_swallowed started a process" in result.stdout.str()


def test_an_unmarked_test_using_a_process_fixture_stops_the_run(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_fixtures="""
        import pytest

        @pytest.fixture
        def mqtt(broker):
            return broker

        def test_direct(broker):
            pass

        def test_through_a_fixture(mqtt):
            pass

        @pytest.mark.process
        def test_marked(ingest_factory):
            pass
        """
    )
    result = suite.runpytest_inprocess("--collect-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*must be marked 'process'*",
            "  test_fixtures.py::test_direct uses broker",
            "  test_fixtures.py::test_through_a_fixture uses broker",
        ]
    )
    assert "test_marked" not in result.stderr.str()
