"""The pure parts of the request limits (JSON nesting, read costs, cost budgets, the heavy
pool's refusal) against hand-worked values, and the limits as the app applies them: reads
over the caller's budget (422, 429), JSON nested too deep (422), every write needing a key,
every body over its limit answering the 413 its operation declares.
Real HTTP, memory and load: ``test_abuse_http.py``."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from support.lab import ApiLab, staff
from support.readings import sensor

from noiselab.analysis.buckets import Every
from noiselab.api.body_guard import json_depth
from noiselab.api.cost import Cost, events_cost, indicators_cost, levels_cost
from noiselab.api.cost_budget import CostBudget
from noiselab.api.heavy_pool import BusyError, HeavyPool
from noiselab.api.limits import Limits
from noiselab.errors import ConfigError
from noiselab.model import Reading

T0 = datetime(2026, 3, 2, tzinfo=UTC)
NOW = T0.timestamp() + 10 * 86_400


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": [2]}]}', 4),
        (b'{"a": "[[[[[[", "b": ["\\"[["]}', 2),  # brackets inside strings do not count
        (b"[" * 1000 + b"]" * 1000, 1000),
        (b"[[[", 3),  # malformed: the open brackets count
    ],
)
def test_json_depth_counts_nesting_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_costs_count_rows_read_and_points_answered() -> None:
    """A day at 1s: 86,400 readings and 86,401 points; at 15m: 1,440 minute cells, 97 points;
    at 1h: 24 hourly cells, 25 points, and 60 minutes more for each of 3 hours an exclusion's
    edge cuts (at 15m the minutes are read anyway). Seven days of events: 604,800 s plus 600 s
    before and 900 s after. Seven dates of indicators: eight days of hourly cells, seven rows."""
    day = T0 + timedelta(days=1)
    assert levels_cost(T0, day, Every.S1) == Cost(86_400, 86_401)
    assert levels_cost(T0, day, Every.M15) == Cost(1_440, 97)
    assert levels_cost(T0, day, Every.H1) == Cost(24, 25)
    assert levels_cost(T0, day, Every.H1, cut_hours=3) == Cost(24 + 180, 25)
    assert levels_cost(T0, day, Every.M15, cut_hours=3) == Cost(1_440, 97)
    assert events_cost(T0, T0 + timedelta(days=7), 600.0, 900.0) == Cost(606_300, 0)
    assert indicators_cost(date(2026, 3, 2), date(2026, 3, 9)) == Cost(192, 7)
    assert Cost(10, 5).units == 15


def test_a_budget_pays_refills_and_refuses_what_it_never_could() -> None:
    now = [0.0]
    budget = CostBudget(rate=100.0, burst=1_000, clock=lambda: now[0])
    assert budget.take("a", 600) is None
    refused = budget.take("a", 600)  # 400 left: 2 s until 600
    assert refused is not None
    assert refused.wait_s == pytest.approx(2.0)
    assert budget.take("b", 600) is None  # another caller has its own
    now[0] += 2.0
    assert budget.take("a", 600) is None
    over = budget.take("a", 1_001)
    assert over is not None
    assert over.wait_s is None
    assert CostBudget(rate=0.0, burst=0, clock=lambda: 0.0).take("a", 10**9) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"max_body_bytes": 10},
        {"max_json_depth": 1},
        {"public_cost_per_s": -1.0},
        {"keyed_cost_burst": -5},
        {"heavy_wait_s": 0.0},
        {"heavy_workers": 1000},
    ],
)
def test_limits_refuse_bad_values(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        Limits(**bad)  # type: ignore[arg-type]


def test_a_full_heavy_pool_refuses_after_its_wait() -> None:
    """One worker busy; the next read waits 0.2 s, then BusyError; a queue of 0 refuses at
    once. Negative control: once the worker is free, a read runs."""
    release = threading.Event()

    async def main() -> None:
        pool = HeavyPool(workers=1, wait_s=0.2, queue=1, store_url=None)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pool.run, lambda: release.wait(5))
            await anyio.sleep(0.05)
            with pytest.raises(BusyError) as refused:
                await pool.run(lambda: 1)
            assert refused.value.retry_after_s >= 1
            release.set()
        assert await pool.run(lambda: 2) == 2

    anyio.run(main)


# --------------------------------------------------------------------------- in the app


def _week(tmp_path: Path, **limits: float) -> ApiLab:
    """vb-road-1 with a week of 60-s readings (the cost counts 1-s rows of the range)."""
    lab = ApiLab(tmp_path, now=NOW, limits=Limits(heavy_processes=False, **limits))  # type: ignore[arg-type]
    lab.sensors(sensor("vb-road-1"))
    first = int(T0.timestamp())
    lab.write(
        [Reading("vb-road-1", float(t), 60.0, 60.0) for t in range(first, first + 8 * 86_400, 60)],
        received_at=NOW,
    )
    return lab


EVENTS = "/api/v1/sensors/vb-road-1/events?start=2026-03-02T00:00:00Z&end={}"


def test_a_read_over_the_whole_budget_is_refused_naming_the_limit(tmp_path: Path) -> None:
    """Public budget bursts of 100,000: seven days of events (606,300) can never be paid: 422
    naming the figure; one day (87,900) is answered. Negative control: budgets off, 200."""
    with _week(tmp_path, public_cost_burst=100_000).client() as client:
        week = client.get(EVENTS.format("2026-03-09T00:00:00Z"))
        assert week.status_code == 422
        assert "at most 100,000 per request" in week.json()["detail"]
        assert client.get(EVENTS.format("2026-03-03T00:00:00Z")).status_code == 200
    with _week(tmp_path / "off", public_cost_per_s=0.0).client() as client:
        assert client.get(EVENTS.format("2026-03-09T00:00:00Z")).status_code == 200


def test_a_spent_budget_answers_429_with_retry_after(tmp_path: Path) -> None:
    """Bursts of 200,000 at 10,000/s: two one-day event reads (87,900 each) pass, the third
    waits ~7.6 s: 429, Retry-After 8. A kept answer costs nothing: the first again is 200."""
    lab = _week(tmp_path, public_cost_per_s=10_000.0, public_cost_burst=200_000)
    with lab.client() as client:
        for end in ("2026-03-03T00:00:00Z", "2026-03-03T01:00:00Z"):
            assert client.get(EVENTS.format(end)).status_code == 200
        spent = client.get(EVENTS.format("2026-03-03T02:00:00Z"))
        assert (spent.status_code, spent.headers["Retry-After"]) == (429, "8")
        assert "read budget of this address spent" in spent.json()["detail"]
        assert client.get(EVENTS.format("2026-03-03T00:00:00Z")).status_code == 200
        lab.clock.now += 8  # type: ignore[union-attr]
        assert client.get(EVENTS.format("2026-03-03T02:00:00Z")).status_code == 200


def test_a_key_has_its_own_budget(tmp_path: Path) -> None:
    """Keyed bursts of 100,000: a day of 1-s levels (172,801) is over it for the staff key
    (422) while the public budget is not what counts."""
    with _week(tmp_path, keyed_cost_burst=100_000).client() as client:
        url = "/api/v1/sensors/vb-road-1/levels?start=2026-03-02T00:00:00Z&end=2026-03-03T00:00:00Z"
        assert client.get(url + "&every=1s", headers=staff(client)).status_code == 422
        assert client.get(url + "&every=1m", headers=staff(client)).status_code == 200


def test_json_nested_too_deep_is_refused_before_parsing(tmp_path: Path) -> None:
    """A staff key and 100 nested arrays: 422 naming the depth. Negative control: a flat
    malformed body reaches the route's validation (422 about the fields)."""
    with _week(tmp_path).client() as client:
        deep = client.post(
            "/api/v1/trials",
            content=b"[" * 100 + b"]" * 100,
            headers=staff(client) | {"Content-Type": "application/json"},
        )
        assert deep.status_code == 422
        assert "nested deeper than 32" in deep.json()["detail"]
        flat = client.post("/api/v1/trials", json={"name": 1}, headers=staff(client))
        assert flat.status_code == 422
        assert "nested" not in flat.json()["detail"]


PUBLIC_WRITES = {("POST", "/api/v1/citizen-reports")}
"""The only writes made without a key: a citizen's report."""


def test_every_write_route_needs_a_key_before_its_body(tmp_path: Path) -> None:
    """BodyGuard answers 401 to any write with a body and no key, but to the public writes
    named here. Every other POST, PUT, PATCH, DELETE route gets 401 without a key; a public
    write gets its route's own answer (422 for an empty object: the body was read and
    validated)."""
    with _week(tmp_path).client() as client:
        paths = client.get("/openapi.json").json()["paths"]
        writes = [(m.upper(), p) for p, ops in paths.items() for m in ops if m != "get"]
        assert len(writes) >= 8
        assert set(writes) >= PUBLIC_WRITES
        for method, path in writes:
            url = path.replace("{", "").replace("}", "")
            answer = client.request(method, url, content=b"{}")
            expected = 422 if (method, path) in PUBLIC_WRITES else 401
            assert answer.status_code == expected, (method, path, answer.text)


def test_every_body_over_its_limit_answers_the_413_its_operation_declares(tmp_path: Path) -> None:
    """Each operation taking a body, sent one byte over its route's limit with a key it admits:
    413, which the operation declares (the guard answers it in front of the route). Negative
    control: a body of exactly the limit is not refused as too large."""
    limits = Limits(
        heavy_processes=False,
        max_body_bytes=2048,
        push_body_bytes=1024,
        citizen_body_bytes=1536,
        weather_body_bytes=1536,
    )
    lab = ApiLab(tmp_path, limits=limits, citizen_report_burst=0)
    admin, device = lab.key("admin"), lab.key("sensor", sensors=("esp8266-1",))
    with lab.client() as client:
        paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
        taking = [(m.upper(), p, op) for p, ops in paths.items() for m, op in ops.items()]
        taking = [(method, path, op) for method, path, op in taking if "requestBody" in op]
        assert len(taking) >= 8
        for method, path, operation in taking:
            push = path.startswith("/api/v1/push")
            limit = limits.push_body_bytes if push else limits.max_body_bytes
            if path.startswith("/api/v1/citizen-reports"):
                limit = limits.citizen_body_bytes
            elif path == "/api/v1/push/weather":
                limit = limits.weather_body_bytes
            headers = (device if push else admin).headers | {"Content-Type": "application/json"}
            url = path.replace("{", "").replace("}", "")
            for size, too_large in ((limit + 1, True), (limit, False)):
                answer = client.request(method, url, content=b" " * size, headers=headers)
                assert (answer.status_code == 413) == too_large, (method, path, answer.text)
            assert "413" in operation["responses"], (method, path)
