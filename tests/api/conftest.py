"""Fixtures shared by the API test modules that were split by topic from one module.

- ``lab`` and ``levels_lab``: the sensor and level modules (``test_sensors_api.py``,
  ``test_levels_api.py``, ``test_level_parameters_api.py``, ``test_operations_api.py``);
- ``setup``: the trial modules (``test_trials_api.py``, ``test_trial_evaluation_api.py``);
- ``office`` and ``client``: the alert modules (``test_alert_rules_api.py``,
  ``test_alerts_api.py``).

A module that defines a fixture of the same name (several define their own ``lab``, ``client``
or ``setup``) uses its own. Shared plain helpers live in ``support``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.alert_office import Office
from support.lab import ApiLab
from support.levels_api import T0
from support.readings import sensor, steady
from support.trials import Setup, trial_setup

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def lab(tmp_path: Path) -> ApiLab:
    """An empty lab whose clock is T0 + 3600 s."""
    return ApiLab(tmp_path, now=T0 + 3600)


@pytest.fixture
def levels_lab(lab: ApiLab) -> Iterator[TestClient]:
    """vb-road-1: 60 s at 60 dB (LAFmax 65) from T0, then 60 s at 70 dB (LAFmax 75)."""
    lab.sensors(sensor("vb-road-1"), sensor("vb-private-1", public=False))
    lab.write(
        steady("vb-road-1", T0, 60, 60.0, lafmax=65.0)
        + steady("vb-road-1", T0 + 60, 60, 70.0, lafmax=75.0),
        received_at=T0 + 120,
    )
    with lab.client() as client:
        yield client


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """An app over an empty store."""
    yield from trial_setup(tmp_path)


@pytest.fixture
def office(tmp_path: Path) -> Office:
    """An office whose clock is the alert tests' ``T0``."""
    return Office(tmp_path)


@pytest.fixture
def client(office: Office) -> Iterator[TestClient]:
    """A client of the office's app."""
    with office.client() as test_client:
        yield test_client
