"""Request and response models of ``/api/v1/keys``: API keys, never their secrets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.api.schemas.base import Out, with_example

__all__ = ["KeyCreatedOut", "KeyIn", "KeyOut"]

_KEY_EXAMPLE: dict[str, Any] = {
    "id": "3f9c1a7b2d4e6f80",
    "name": "acme",
    "role": "vendor",
    "sensors": ["vb-acme-1"],
    "created": "2026-11-20T09:12:03Z",
    "revoked_at": None,
    "last_used": "2026-11-25T14:58:10Z",
}


class KeyOut(Out):
    """An API key as listed: never its secret (only a salted hash of it is stored)."""

    model_config = with_example(**_KEY_EXAMPLE)

    id: str = Field(examples=["3f9c1a7b2d4e6f80"])
    name: str = Field(examples=["acme"])
    role: Literal["vendor", "staff", "admin", "sensor"]
    sensors: list[str] = Field(
        description="Vendor keys: the private sensors they may see; sensor keys: the sensors "
        "they may push readings for."
    )
    created: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used: AwareDatetime | None


class KeyCreatedOut(KeyOut):
    """A new key; ``key`` is shown this once and cannot be retrieved again."""

    model_config = with_example(
        **{**_KEY_EXAMPLE, "last_used": None},
        key="nl_3f9c1a7b2d4e6f80_q3Jt0WlN4xS9v8HcE2pYzR7uKbA1mD5gF6hX0iLoTnU",
    )

    key: str = Field(description="The full key to send as `Authorization: Bearer KEY`.")


class KeyIn(BaseModel):
    """A key to create: vendor keys may name the sensors they may see besides public ones;
    sensor keys must name the sensors they may push readings for."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "acme", "role": "vendor", "sensors": ["vb-acme-1"]}]
        },
    )

    name: str = Field(min_length=1, max_length=200, examples=["acme"])
    role: Literal["vendor", "staff", "admin", "sensor"]
    sensors: list[str] = Field(default_factory=list, max_length=1000, examples=[["vb-road-1"]])
