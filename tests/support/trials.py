"""What the trial API test modules share: the blade-barrier trial pair and its periods, a valid
trial body, and an app with a key of each role over real SQLite files."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from noiselab.model import Sensor
from support.clock import Clock
from support.lab import ApiLab, headers_by_name

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CPH = ZoneInfo("Europe/Copenhagen")
TRIALS = "/api/v1/trials"
START = datetime(2026, 2, 9, tzinfo=CPH)  # a Monday, local midnight
INSTALLED = START + timedelta(days=14)
END = INSTALLED + timedelta(days=14)
TREATED, CONTROL = "trial-blade-treated", "trial-blade-control"


def zulu(t: datetime) -> str:
    """``t`` as RFC 3339 in UTC with ``Z``."""
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def trial_body(**changes: Any) -> dict[str, Any]:
    """A valid trial of vendor ``acme`` on the pair, two weeks before and two after the barrier
    was installed, with ``changes`` applied."""
    body: dict[str, Any] = {
        "name": "Blade barrier <Holbæk> & co",
        "vendor": "acme",
        "description": "Recycled wind-turbine blades.\n<script>alert(1)</script>",
        "treated": [TREATED],
        "control": [CONTROL],
        "before_start": zulu(START),
        "before_end": zulu(INSTALLED),
        "after_start": zulu(INSTALLED),
        "after_end": zulu(END),
        "hours": [],
    }
    return body | changes


@dataclass
class Setup:
    """A running app of the trial tests: its client, the request headers of each key holder
    (and ``"public"``), and the URLs of its store and metadata database."""

    client: TestClient
    headers: dict[str, dict[str, str]]
    store_url: str
    meta_url: str


def _sensor(sensor_id: str, *, public: bool = False) -> Sensor:
    return Sensor(id=sensor_id, name=sensor_id, source="road", public=public)


def trial_setup(root: Path, clock: Clock | None = None) -> Iterator[Setup]:
    """Private trial sensors, a public one, and a key of each role; two vendors. A
    ``readings.db`` already in ``root`` is the app's store."""
    lab = ApiLab(root, auth_cache_s=60, **({} if clock is None else {"clock": clock}))
    with lab.meta():
        lab.sensors(
            _sensor(TREATED),
            _sensor(CONTROL),
            _sensor("other-private"),
            _sensor("vb-public", public=True),
        )
        keys = {
            "admin": lab.key("admin", "ops"),
            "staff": lab.key("staff", "kommune"),
            "vendor": lab.key("vendor", "acme"),
            "other": lab.key("vendor", "rival"),
        }
    with lab.client() as client:
        yield Setup(client, headers_by_name(keys), lab.store_url, lab.meta_url)


def create(s: Setup, **changes: Any) -> dict[str, Any]:
    """Create :func:`trial_body` with ``changes`` as staff; the created trial."""
    response = s.client.post(TRIALS, json=trial_body(**changes), headers=s.headers["staff"])
    assert response.status_code == 201, response.text
    return response.json()
