"""Public rate limiting, public resolution and cache headers, with an injected clock.

Sensor ``pub`` is public with an hour of 60 dB readings from T0; now is T0 + 1 h.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.clock import Clock
from support.lab import ApiLab

from noiselab.api.app import create_app
from noiselab.api.ratelimit import RateLimiter
from noiselab.errors import ConfigError
from noiselab.model import Reading, Sensor

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

T0 = 1772452800.0  # 2026-03-02T12:00:00Z
SENSORS = "/api/v1/sensors"


class Lab(ApiLab):
    """Sensor ``pub`` (public, an hour of 60 dB readings) and ``mine`` (private), a staff key and
    a vendor key; requests come from ``10.0.0.1`` unless a client says otherwise."""

    def __init__(self, root: Path, **settings: object) -> None:
        super().__init__(root, now=T0 + 3600, **settings)
        with self.meta():
            self.sensors(
                Sensor(id="pub", name="pub", source="road", public=True),
                Sensor(id="mine", name="mine", source="road", public=False),
            )
            self.write([Reading(sensor_id="pub", ts=T0 + i, laeq=60.0) for i in range(3600)], T0)
            self.keys = {
                "staff": self.key("staff", "kommune"),
                "vendor": self.key("vendor", "acme", sensors=("mine",)),
            }

    def client(self, address: str = "10.0.0.1", **kwargs: Any) -> TestClient:
        return super().client(client=(address, 50000), **kwargs)

    def auth(self, who: str) -> dict[str, str]:
        return self.keys[who].headers


def statuses(client: TestClient, n: int, **kwargs: object) -> list[int]:
    return [client.get(SENSORS, **kwargs).status_code for _ in range(n)]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the limiter


def test_burst_then_429_with_retry_after(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=2.0, public_burst=5)
    with lab.client() as client:
        assert statuses(client, 5) == [200] * 5
        response = client.get(SENSORS)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert "too many requests" in response.json()["detail"]


def test_tokens_refill_over_time(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=2.0, public_burst=5)
    with lab.client() as client:
        assert statuses(client, 6) == [200] * 5 + [429]
        lab.clock.now += 0.5  # one token back
        assert statuses(client, 2) == [200, 429]
        lab.clock.now += 60  # full again, never more than the burst
        assert statuses(client, 6) == [200] * 5 + [429]


def test_addresses_have_separate_buckets(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=1.0, public_burst=2)
    app = create_app(lab.settings)
    with (
        TestClient(app, client=("10.0.0.1", 1)) as one,
        TestClient(app, client=("10.0.0.2", 1)) as two,
    ):
        assert statuses(one, 3) == [200, 200, 429]
        assert statuses(two, 2) == [200, 200]


def test_valid_keys_are_not_limited(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=1.0, public_burst=2, auth_cache_s=60)
    with lab.client() as client:
        assert statuses(client, 3) == [200, 200, 429]
        assert statuses(client, 10, headers=lab.auth("staff")) == [200] * 10
        assert client.get(SENSORS).status_code == 429


def test_failed_authentication_counts_against_the_address(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=1.0, public_burst=3)
    bad = {"Authorization": "Bearer nl_0123456789abcdef_" + "x" * 43}
    with lab.client() as client:
        assert statuses(client, 3, headers=bad) == [401] * 3
        assert client.get(SENSORS, headers=bad).status_code == 429
        assert client.get(SENSORS).status_code == 429


def test_zero_disables_the_limit(tmp_path: Path) -> None:
    for settings in ({"public_rate_per_s": 0.0}, {"public_burst": 0}):
        root = tmp_path / next(iter(settings))
        root.mkdir()
        lab = Lab(root, **settings)
        with lab.client() as client:
            assert statuses(client, 150) == [200] * 150


def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path: Path) -> None:
    lab = Lab(tmp_path, public_rate_per_s=1.0, public_burst=1, trusted_proxies=("10.0.0.1",))
    app = create_app(lab.settings)
    with (
        TestClient(app, client=("10.0.0.1", 1)) as proxy,
        TestClient(app, client=("6.6.6.6", 1)) as other,
    ):
        for client_ip in ("1.1.1.1", "2.2.2.2"):
            headers = {"X-Forwarded-For": f"9.9.9.9, {client_ip}"}
            assert statuses(proxy, 2, headers=headers) == [200, 429]
        spoof = {"X-Forwarded-For": "3.3.3.3"}
        assert statuses(other, 2, headers=spoof) == [200, 429]


def test_idle_buckets_are_evicted() -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(10.0, 5, clock, max_buckets=100)
    for i in range(100):
        limiter.take(f"a{i}")
    clock.now = 1.0  # every bucket is full again
    limiter.take("new")
    assert len(limiter) == 1
    for i in range(500):
        limiter.take(f"b{i}")  # none idle: the least recently used go
    assert len(limiter) == 100


def test_bad_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="public rate"):
        Lab(tmp_path, public_rate_per_s=-1.0)
    with pytest.raises(ConfigError, match="public burst"):
        Lab(tmp_path, public_burst=-1)


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize("every", ["1s", "1m", "5m"])
def test_public_levels_are_15m_or_coarser(tmp_path: Path, every: str) -> None:
    lab = Lab(tmp_path)
    path = "/api/v1/sensors/pub/levels"
    with lab.client() as client:
        response = client.get(path, params={"every": every})
        assert response.status_code == 403
        assert response.json()["detail"] == (
            "public access serves 15m buckets or coarser; use an API key for finer data"
        )
        assert (
            client.get(path, params={"every": every}, headers=lab.auth("staff")).status_code == 200
        )
        # a vendor key on a public sensor that is not its own gets the public resolution
        assert (
            client.get(path, params={"every": every}, headers=lab.auth("vendor")).status_code == 403
        )
        for coarse in ("15m", "1h", "1d"):
            assert client.get(path, params={"every": coarse}).status_code == 200
        assert client.get(path).json()["every"] == "15m"
        assert client.get(path, headers=lab.auth("staff")).json()["every"] == "1m"


# --------------------------------------------------------------------------- cache headers


def test_cache_headers(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    with lab.client() as client:
        cc = lambda path, **kw: client.get(path, **kw).headers["cache-control"]  # noqa: E731
        assert cc(SENSORS) == "public, max-age=15"
        assert cc("/api/v1/sensors/pub") == "public, max-age=15"
        assert cc(SENSORS, headers=lab.auth("staff")) == "private, no-store"
        levels = "/api/v1/sensors/pub/levels?every=15m"
        assert cc(levels) == "public, max-age=15"  # ends now
        assert cc(levels + "&end=2026-03-02T12:00:00Z") == "public, max-age=300"
        assert cc(levels, headers=lab.auth("staff")) == "private, no-store"
        assert cc("/api/v1/sensors/pub/indicators") == "public, max-age=15"
        assert cc("/api/v1/sensors/pub/indicators?end=2026-03-01") == "public, max-age=300"
        assert cc("/api/v1/sensors/pub/events") == "public, max-age=15"
        assert cc("/api/v1/sensors/pub/events?end=2026-03-02T00:00:00Z") == "public, max-age=300"
        assert cc("/healthz") == "no-store"
        assert cc("/metrics") == "no-store"
        assert client.get(SENSORS).headers["vary"] == "Authorization"
