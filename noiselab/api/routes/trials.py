"""Vendor trials: CRUD, evaluation, report and CSV export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/trials", tags=["trials"])
