"""The harness of the API tests: a readings store and a metadata database in real SQLite files
of a temporary directory, API settings over them with a settable clock, and apps on top.

Each test module builds its own data on an :class:`ApiLab` (registering sensors, writing
readings, creating keys) and asks it for ``TestClient`` s of the app; subclasses add what only
one module needs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noiselab.api.app import create_app
from noiselab.api.auth import create_key
from noiselab.api.limits import Limits
from noiselab.api.settings import ApiSettings
from noiselab.model import Reading, Sensor
from noiselab.store.metadata import MetadataStore, WeatherStation
from noiselab.store.sqlite import SqliteStore
from support.clock import Clock

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@dataclass(frozen=True)
class Key:
    """An API key as its holder has it: the key id and the full ``nl_<id>_<secret>`` text."""

    id: str
    text: str

    @property
    def headers(self) -> dict[str, str]:
        """The request headers that present this key."""
        return {"Authorization": f"Bearer {self.text}"}


def headers_by_name(keys: Mapping[str, Key]) -> dict[str, dict[str, str]]:
    """The request headers of each named key, and ``"public"``: no key at all."""
    return {name: key.headers for name, key in keys.items()} | {"public": {}}


class ApiLab:
    """Real readings and metadata files in ``root``, and API settings over them.

    ``now`` (Unix s) starts a settable :class:`Clock` that the app uses (``lab.clock.now`` moves
    it); without it the app keeps the real clock and ``clock`` is ``None``. ``settings`` are
    further :class:`ApiSettings` fields (``auth_cache_s``, rate limits, map settings...).
    """

    def __init__(self, root: Path, *, now: float | None = None, **settings: Any) -> None:
        self.root = root
        self.store_path = root / "readings.db"
        self.store_url = f"sqlite:///{self.store_path}"
        self.meta_path = root / "metadata.db"
        self.meta_url = f"sqlite:///{self.meta_path}"
        self.clock = None if now is None else Clock(now)
        if self.clock is not None:
            settings = {"clock": self.clock} | settings
        # Heavy reads computed in the app's threads: these tests start no processes.
        settings = {"limits": Limits(heavy_processes=False)} | settings
        self.settings = ApiSettings(store_url=self.store_url, meta_url=self.meta_url, **settings)
        self._meta: MetadataStore | None = None

    @contextmanager
    def meta(self) -> Iterator[MetadataStore]:
        """The metadata database, open for the ``with`` block. Inside such a block the lab's
        other methods use the same open store (opening one runs the migration check, so a
        setup of several sensors and keys opens it once)."""
        if self._meta is not None:
            yield self._meta
            return
        self._meta = MetadataStore(self.meta_url)
        try:
            yield self._meta
        finally:
            meta, self._meta = self._meta, None
            meta.close()

    def sensors(self, *sensors: Sensor) -> None:
        """Register ``sensors``, replacing any of the same id."""
        with self.meta() as meta:
            meta.sensors.add(sensors, replace=True)

    def weather_station(self, station_id: str, height_m: float = 10.0) -> None:
        """Register (or replace) the weather station ``station_id``."""
        with self.meta() as meta:
            station = WeatherStation(id=station_id, name=station_id, height_m=height_m)
            meta.weather.add(station, replace=True)

    def key(self, role: str, name: str | None = None, sensors: Iterable[str] = ()) -> Key:
        """A new API key of ``role`` (named ``"<role> key"`` unless ``name`` is given) for
        ``sensors``."""
        with self.meta() as meta:
            record, text = create_key(
                meta,
                role=role,  # type: ignore[arg-type]
                name=f"{role} key" if name is None else name,
                sensors=tuple(sensors),
            )
        return Key(record.id, text)

    def write(self, readings: Iterable[Reading], received_at: float) -> None:
        """Store ``readings`` as the ingest would, received at ``received_at`` (Unix s)."""
        with SqliteStore(self.store_path) as store:
            store.write(list(readings), received_at)

    def readings(self, sensor_id: str, start: float = 0, end: float = 2e9) -> list[Reading]:
        """The stored readings of ``sensor_id`` in ``[start, end)``."""
        with SqliteStore(self.store_path) as store:
            return store.readings(sensor_id, start, end)

    def quarantine(self, limit: int = 10_000) -> list[Any]:
        """The quarantined messages, newest first (at most ``limit``)."""
        with self.meta() as meta:
            return list(meta.quarantine.newest(limit=limit))

    def client(self, **kwargs: Any) -> TestClient:
        """A ``TestClient`` of a new app over the lab's settings; ``kwargs`` go to
        ``TestClient`` (e.g. ``client=(address, port)``). Use it in a ``with`` block so that
        the app's lifespan runs."""
        return TestClient(create_app(self.settings), **kwargs)


def staff(client: TestClient) -> dict[str, str]:
    """Headers with a staff key of the running app (created once per app): finer buckets than
    15m need a key."""
    state = client.app.state  # type: ignore[attr-defined]
    if getattr(state, "test_staff_key", None) is None:
        state.test_staff_key = create_key(state.meta, role="staff", name="tests")[1]
    return {"Authorization": f"Bearer {state.test_staff_key}"}
