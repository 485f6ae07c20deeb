"""Request dependencies: the shared resources the lifespan put on ``app.state``.

Route signatures take ``store: StoreDep``, ``meta: MetaDep``, ``sensors: SensorsDep`` (the
registered sensors, briefly kept), ``validity: ValidityDep`` (each sensor's corrections and
exclusion spans, briefly kept), ``settings: SettingsDep``; the
caller's identity comes from :mod:`noiselab.api.auth` (``OptionalPrincipal``, ``require_role``)
and what it may see and do from :mod:`noiselab.api.access` (``Staff``, ``visible_sensor``, ...).

The getters are ``async``: FastAPI runs a plain ``def`` dependency in a worker thread, a hop
that costs more than reading an attribute (and under load, a place in the thread pool's queue).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from noiselab.api.sensor_cache import SensorCache
from noiselab.api.settings import ApiSettings
from noiselab.api.validity_cache import ValidityCache
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = [
    "MetaDep",
    "SensorsDep",
    "SettingsDep",
    "StoreDep",
    "ValidityDep",
    "get_meta",
    "get_sensors",
    "get_settings",
    "get_store",
]


async def get_store(request: Request) -> ReadingStore:
    """The time-series store opened by the lifespan."""
    store: ReadingStore = request.app.state.store
    return store


async def get_meta(request: Request) -> MetadataStore:
    """The metadata database opened by the lifespan."""
    meta: MetadataStore = request.app.state.meta
    return meta


async def get_sensors(request: Request) -> SensorCache:
    """The registered sensors, each kept ``ApiSettings.registry_cache_s`` seconds."""
    sensors: SensorCache = request.app.state.sensors
    return sensors


async def get_validity(request: Request) -> ValidityCache:
    """Each sensor's validity (corrections, weather, annotations, calibration), kept
    ``ApiSettings.registry_cache_s`` seconds."""
    validity: ValidityCache = request.app.state.validity
    return validity


async def get_settings(request: Request) -> ApiSettings:
    """The settings the app was created with."""
    settings: ApiSettings = request.app.state.settings
    return settings


StoreDep = Annotated[ReadingStore, Depends(get_store)]
MetaDep = Annotated[MetadataStore, Depends(get_meta)]
SensorsDep = Annotated[SensorCache, Depends(get_sensors)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
ValidityDep = Annotated[ValidityCache, Depends(get_validity)]
