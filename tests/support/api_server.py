"""A real API server for tests that need real HTTP: ``uvicorn`` in a subprocess on a free
loopback port, over real SQLite files, and the data it serves.

:func:`build_week` writes several days of 1-s readings of one public sensor (a steady road
with a loud pass-by every ten minutes, so event detection has work to do) and a staff key.
:class:`ApiServer` serves them; ``settings`` become :class:`~noiselab.api.settings.ApiSettings`
fields and ``limits`` the fields of its ``Limits`` (ignored by code from before ``Limits``
existed, so the same test can be run against that code to show what it guards against).
``memory_bytes()`` reads the server's resident memory (now, or its peak) from ``/proc``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from noiselab.api.auth import create_key
from noiselab.model import Reading
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore
from support.readings import sensor

__all__ = ["SENSOR", "ApiServer", "Week", "build_week", "free_port", "make_app"]

SENSOR = "vb-road-1"
TESTS = Path(__file__).resolve().parent.parent
_CONFIG = "NOISELAB_TEST_SERVER"


@dataclass(frozen=True)
class Week:
    """Stored data: the files, the first second (Unix s), how many days, a staff key."""

    root: Path
    start: float
    days: int
    staff_key: str

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.root / 'readings.db'}"

    @property
    def meta_url(self) -> str:
        return f"sqlite:///{self.root / 'metadata.db'}"


def build_week(root: Path, start: float, days: int) -> Week:
    """``days`` days of 1-s readings of the public sensor ``SENSOR`` from ``start`` (Unix s,
    a whole minute): 55 dB ± 2 (seeded), +25 dB for 20 s every 600 s."""
    root.mkdir(parents=True, exist_ok=True)
    with MetadataStore(f"sqlite:///{root / 'metadata.db'}") as meta:
        meta.sensors.add([sensor(SENSOR)], replace=True)
        staff_key = create_key(meta, role="staff", name="staff key")[1]
    rng = np.random.default_rng(17)
    with SqliteStore(root / "readings.db") as store:
        for day in range(days):
            ts = start + day * 86_400 + np.arange(86_400, dtype=np.float64)
            laeq = 55.0 + rng.normal(0.0, 2.0, ts.size)
            laeq[(ts % 600) < 20] += 25.0
            rows = [
                Reading(SENSOR, t, a, 1.0, a + 3.0)
                for t, a in zip(ts.tolist(), np.round(laeq, 2).tolist(), strict=True)
            ]
            store.write(rows, received_at=float(ts[-1]) + 1.0)
    return Week(root, start, days, staff_key)


def free_port() -> int:
    """A TCP port free on the loopback address now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_app() -> object:
    """The app ``uvicorn --factory`` serves, from the JSON in ``$NOISELAB_TEST_SERVER``."""
    from noiselab.api.app import create_app
    from noiselab.api.settings import ApiSettings

    config = json.loads(os.environ[_CONFIG])
    fields: dict[str, Any] = dict(config["settings"])
    try:
        from noiselab.api.limits import Limits
    except ImportError:  # code from before the limits: serve it without them
        pass
    else:
        fields["limits"] = Limits(**config["limits"])
    return create_app(ApiSettings(store_url=config["store"], meta_url=config["meta"], **fields))


class ApiServer:
    """``uvicorn`` serving ``week`` on a free port for a ``with`` block."""

    def __init__(self, week: Week, settings: dict[str, Any], limits: dict[str, Any]) -> None:
        self.week = week
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._config = {
            "store": week.store_url,
            "meta": week.meta_url,
            "settings": settings,
            "limits": limits,
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> ApiServer:
        inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        paths = [str(TESTS), *(str(Path(p).resolve()) for p in inherited if p)]  # cwd changes
        env = os.environ | {_CONFIG: json.dumps(self._config), "PYTHONPATH": os.pathsep.join(paths)}
        self._process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "support.api_server:make_app"),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--no-access-log", "--log-level", "warning"),
            ],
            env=env,
            cwd=TESTS,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the API server exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("the API server did not answer /healthz within 30 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def memory_bytes(self, field: str = "VmRSS") -> int:
        """The server's resident memory now (``VmRSS``) or at its highest (``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc status")
