"""The public noise map: GeoJSON and the page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="", tags=["map"])
