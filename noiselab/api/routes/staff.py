"""Staff views: the quarantine and sensor health."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["staff"])
