"""Request dependencies: the shared resources the lifespan put on ``app.state``.

Route signatures take ``store: StoreDep``, ``meta: MetaDep``, ``settings: SettingsDep``; the
caller's identity comes from :mod:`noiselab.api.auth` (``OptionalPrincipal``, ``require_role``)
and what it may see and do from :mod:`noiselab.api.access` (``Staff``, ``visible_sensor``, ...).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from noiselab.api.settings import ApiSettings
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = ["MetaDep", "SettingsDep", "StoreDep", "get_meta", "get_settings", "get_store"]


def get_store(request: Request) -> ReadingStore:
    """The time-series store opened by the lifespan."""
    store: ReadingStore = request.app.state.store
    return store


def get_meta(request: Request) -> MetadataStore:
    """The metadata database opened by the lifespan."""
    meta: MetadataStore = request.app.state.meta
    return meta


def get_settings(request: Request) -> ApiSettings:
    """The settings the app was created with."""
    settings: ApiSettings = request.app.state.settings
    return settings


StoreDep = Annotated[ReadingStore, Depends(get_store)]
MetaDep = Annotated[MetadataStore, Depends(get_meta)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
