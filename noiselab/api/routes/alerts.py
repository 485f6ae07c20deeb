"""Staff alerts: rules, alerts and their lifecycle."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["alerts"])
