"""The request path under load: what is answered on the event loop and what is kept.

A repeated indicators request (a recently verified key, a kept sensor row, a kept answer) runs
nothing in a worker thread; the sensor rows it relies on are kept ``registry_cache_s`` seconds,
so a change to a registered sensor shows within that window, and a new one at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from support.grafana import FROM
from support.lab import ApiLab, staff
from support.readings import sensor

from noiselab.api.sensor_cache import SensorCache
from noiselab.api.settings import ApiSettings
from noiselab.errors import ConfigError
from noiselab.model import Reading
from noiselab.store.metadata import MetadataStore

MARCH_2 = FROM.timestamp()  # local midnight starting 2026-03-02 (UTC+1)
URL = "/api/v1/sensors/{}/indicators?start=2026-03-02&end=2026-03-03"


def _day(sensor_id: str, level: float) -> list[Reading]:
    first = int(MARCH_2)
    return [Reading(sensor_id, float(t), level, 60.0) for t in range(first, first + 86_400, 60)]


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to a worker thread while the test runs (every route,
    dependency and ``run_in_threadpool`` goes through ``anyio.to_thread.run_sync``)."""
    calls: list[str] = []
    original = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__qualname__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return calls


def _road_lab(tmp_path: Path, **settings: Any) -> ApiLab:
    """vb-road-1 (public) with the local day 2026-03-02 at 60 dB, three days later."""
    lab = ApiLab(tmp_path, now=MARCH_2 + 3 * 86_400, **settings)
    lab.sensors(sensor("vb-road-1"))
    lab.write(_day("vb-road-1", 60.0), received_at=MARCH_2 + 3 * 86_400)
    return lab


@pytest.mark.parametrize("keyed", [True, False], ids=["staff key", "public"])
def test_a_repeated_request_runs_nothing_in_a_worker_thread(
    tmp_path: Path, thread_calls: list[str], keyed: bool
) -> None:
    with _road_lab(tmp_path).client() as client:
        headers = staff(client) if keyed else {}
        first = client.get(URL.format("vb-road-1"), headers=headers)
        assert first.json()["days"][0]["lday"] == 60.0
        assert thread_calls, "the first request reads the key, the sensor and the store"
        thread_calls.clear()
        again = client.get(URL.format("vb-road-1"), headers=headers)
        assert again.status_code == 200
        assert again.content == first.content
        assert thread_calls == []


def test_a_sensor_made_private_is_hidden_within_the_registry_window(tmp_path: Path) -> None:
    lab = _road_lab(tmp_path, registry_cache_s=5.0)
    with lab.client() as client:
        assert client.get(URL.format("vb-road-1")).status_code == 200
        lab.sensors(sensor("vb-road-1", public=False))
        lab.clock.now += 4
        assert client.get(URL.format("vb-road-1")).status_code == 200  # kept 5 s
        lab.clock.now += 2
        hidden = client.get(URL.format("vb-road-1"))
        assert hidden.status_code == 404
        assert hidden.json() == {"detail": "unknown sensor 'vb-road-1'"}
        assert client.get(URL.format("vb-road-1"), headers=staff(client)).status_code == 200


@pytest.mark.parametrize("path", ["", "/levels?every=1h", "/events"])
def test_every_sensor_route_follows_the_same_window(tmp_path: Path, path: str) -> None:
    lab = ApiLab(tmp_path, now=MARCH_2 + 3 * 86_400, registry_cache_s=0.0)
    lab.sensors(sensor("vb-road-1"))
    with lab.client() as client:
        assert client.get(f"/api/v1/sensors/vb-road-1{path}").status_code == 200
        lab.sensors(sensor("vb-road-1", public=False))
        assert client.get(f"/api/v1/sensors/vb-road-1{path}").status_code == 404


def test_a_new_sensor_is_seen_at_once(tmp_path: Path) -> None:
    """An unknown id is never kept: registering it right after a 404 shows it."""
    lab = ApiLab(tmp_path, now=MARCH_2 + 3 * 86_400, registry_cache_s=60.0)
    with lab.client() as client:
        assert client.get(URL.format("vb-new-1")).status_code == 404
        lab.sensors(sensor("vb-new-1"))
        assert client.get(URL.format("vb-new-1")).status_code == 200


def test_the_sensor_cache_reads_each_sensor_once_per_window(tmp_path: Path) -> None:
    now = [1000.0]
    with MetadataStore(f"sqlite:///{tmp_path / 'm.db'}") as meta:
        meta.sensors.add([sensor("vb-road-1")])
        cache = SensorCache(meta, 5.0, lambda: now[0])
        assert cache.peek("vb-road-1") is None  # never blocks to read
        kept = cache.get("vb-road-1")
        assert kept is not None
        assert kept.public
        meta.sensors.add([sensor("vb-road-1", public=False)], replace=True)
        assert cache.peek("vb-road-1") == kept
        assert cache.get("vb-road-1") == kept
        now[0] += 5.0
        assert cache.peek("vb-road-1") is None
        fresh = cache.get("vb-road-1")
        assert fresh is not None
        assert not fresh.public
        assert cache.get("vb-unknown") is None
        assert cache.peek("vb-unknown") is None


def test_the_registry_window_is_validated() -> None:
    with pytest.raises(ConfigError, match="registry cache"):
        ApiSettings(store_url="sqlite:///x.db", meta_url="sqlite:///m.db", registry_cache_s=-1)
