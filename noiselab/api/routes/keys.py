"""``/api/v1/keys``: API key management, admin keys only (staff and vendor 403, no key 401).

A created key's text is returned once; only its salted hash is stored. Revoking drops the key
from this process's verification cache, so it stops working here at once (other API processes
notice within their ``auth_cache_s``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from noiselab.api.access import Admin, no_store
from noiselab.api.auth import KeyVerifier, create_key
from noiselab.api.deps import MetaDep
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.keys import KeyCreatedOut, KeyIn, KeyOut
from noiselab.model import ApiKey

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])

_GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No key, or a bad or revoked one."},
    403: {"model": ErrorOut, "description": "Not an admin key."},
    429: {
        "model": ErrorOut,
        "description": "Too many requests without a valid key from this address; see "
        "`Retry-After`.",
    },
}


def _out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "sensors": list(key.sensors),
        "created": key.created,
        "revoked_at": key.revoked_at,
        "last_used": key.last_used,
    }


@router.get("", summary="List API keys", responses=_GUARDED)
def list_keys(response: Response, meta: MetaDep, _admin: Admin) -> list[KeyOut]:
    """All keys, revoked ones included, oldest first; never their secrets."""
    no_store(response)
    return [KeyOut(**_out(key)) for key in meta.keys.all()]


@router.post(
    "",
    summary="Create an API key",
    status_code=201,
    responses={**_GUARDED, 422: {"model": ErrorOut, "description": "A bad name, role or sensor."}},
)
def create(body: KeyIn, response: Response, meta: MetaDep, _admin: Admin) -> KeyCreatedOut:
    """Create a key and return it with its text, which is shown only this once."""
    no_store(response)
    sensors = tuple(dict.fromkeys(s.strip() for s in body.sensors if s.strip()))
    try:
        key, text = create_key(meta, role=body.role, name=body.name, sensors=sensors)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return KeyCreatedOut(**_out(key), key=text)


@router.delete(
    "/{key_id}",
    summary="Revoke an API key",
    status_code=204,
    response_class=Response,
    responses={
        **_GUARDED,
        404: {"model": ErrorOut, "description": "No such key."},
        422: {"model": ErrorOut, "description": "A bad key id."},
    },
)
def revoke(key_id: str, request: Request, meta: MetaDep, _admin: Admin) -> Response:
    """Revoke a key (revoking again keeps the first time). It stops working at once here."""
    if not meta.keys.revoke(key_id):
        raise HTTPException(404, f"unknown API key {key_id!r}")
    verifier: KeyVerifier = request.app.state.keys
    verifier.forget(key_id)
    return Response(status_code=204, headers={"Cache-Control": "private, no-store"})
