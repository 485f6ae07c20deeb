"""The runner and the report: any exception becomes a FAIL line carrying the error, a step
whose requirement failed is skipped, and a failure's fix is printed under it."""

from __future__ import annotations

from noiselab.doctor import Check, CheckFailed, CheckSkipped, Status, Step, report_lines, run_steps
from noiselab.doctor.runner import UNEXPECTED_FIX


def _raise(exc: Exception):
    def run() -> str:
        raise exc

    return run


def test_each_outcome_becomes_one_check():
    steps = [
        Step("good", lambda: "fine"),
        Step("bad", _raise(CheckFailed("it broke", "mend it"))),
        Step("idle", _raise(CheckSkipped("nothing to do"))),
        Step("crash", _raise(ZeroDivisionError("division by zero"))),
    ]
    assert list(run_steps(steps)) == [
        Check(Status.OK, "good", "fine"),
        Check(Status.FAIL, "bad", "it broke", "mend it"),
        Check(Status.SKIP, "idle", "nothing to do"),
        Check(Status.FAIL, "crash", "ZeroDivisionError: division by zero", UNEXPECTED_FIX),
    ]


def test_a_step_runs_only_after_what_it_requires_passed():
    ran: list[str] = []

    def mark(name: str):
        def run() -> str:
            ran.append(name)
            return name

        return run

    steps = [
        Step("first", _raise(CheckFailed("down", "start it"))),
        Step("second", mark("second"), requires=("first",)),
        Step("third", mark("third")),
        Step("fourth", mark("fourth"), requires=("third",)),
    ]
    checks = list(run_steps(steps))
    assert [c.status for c in checks] == [Status.FAIL, Status.SKIP, Status.OK, Status.OK]
    assert checks[1].detail == "needs first"
    assert ran == ["third", "fourth"]


def test_a_failure_is_reported_with_its_fix_under_it():
    lines = report_lines(Check(Status.FAIL, "mqtt broker", "refused", "check MQTT_PASSWORD"))
    assert lines[0].split() == ["FAIL", "mqtt", "broker", "refused"]
    assert lines[1] == "      fix: check MQTT_PASSWORD"
    assert report_lines(Check(Status.OK, "grafana", "fine")) == [f"ok    {'grafana':<36} fine"]
