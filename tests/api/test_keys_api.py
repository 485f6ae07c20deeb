"""``/api/v1/keys``: admins list, create and revoke keys; staff and vendors 403, no key 401."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, headers_by_name

from noiselab.model import Sensor

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

KEYS = "/api/v1/keys"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """An app with a key of each role (the vendor's for its private sensor ``mine``), and the
    request headers of each holder."""
    lab = ApiLab(tmp_path, auth_cache_s=60)
    with lab.meta():
        lab.sensors(Sensor(id="mine", name="mine", source="road", public=False))
        keys = {
            "admin": lab.key("admin", "ops"),
            "staff": lab.key("staff", "kommune"),
            "vendor": lab.key("vendor", "acme", sensors=("mine",)),
        }
    with lab.client() as client:
        yield client, headers_by_name(keys)


@pytest.mark.parametrize(("who", "status"), [("public", 401), ("staff", 403), ("vendor", 403)])
def test_only_admins_manage_keys(setup, who: str, status: int) -> None:
    client, headers = setup
    assert client.get(KEYS, headers=headers[who]).status_code == status
    body = {"name": "x", "role": "staff"}
    assert client.post(KEYS, json=body, headers=headers[who]).status_code == status
    kid = headers["staff"]["Authorization"].split("_")[1]
    assert client.delete(f"{KEYS}/{kid}", headers=headers[who]).status_code == status
    assert client.get("/api/v1/sensors", headers=headers["staff"]).status_code == 200


def test_list_shows_keys_without_secrets(setup) -> None:
    client, headers = setup
    response = client.get(KEYS, headers=headers["admin"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    keys = response.json()
    assert [(k["name"], k["role"], k["sensors"]) for k in keys] == [
        ("ops", "admin", []),
        ("kommune", "staff", []),
        ("acme", "vendor", ["mine"]),
    ]
    secrets = [h["Authorization"].split("_", 2)[2] for h in headers.values() if h]
    assert not any(secret in response.text for secret in secrets)
    assert all("key" not in k and k["revoked_at"] is None for k in keys)


def test_create_returns_the_key_once_and_it_works(setup) -> None:
    client, headers = setup
    body = {"name": "nordic barriers", "role": "vendor", "sensors": ["mine"]}
    response = client.post(KEYS, json=body, headers=headers["admin"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["role"], created["sensors"]) == (
        "nordic barriers",
        "vendor",
        ["mine"],
    )
    assert created["key"].startswith(f"nl_{created['id']}_")
    sensors = client.get("/api/v1/sensors", headers={"Authorization": f"Bearer {created['key']}"})
    assert [s["id"] for s in sensors.json()] == ["mine"]
    listed = client.get(KEYS, headers=headers["admin"]).json()
    assert created["id"] in [k["id"] for k in listed]
    assert created["key"] not in client.get(KEYS, headers=headers["admin"]).text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "role": "staff"},
        {"name": "x", "role": "root"},
        {"name": "x", "role": "staff", "sensors": ["mine"]},
        {"name": "x", "role": "vendor", "sensors": ["Bad Id!"]},
        {"name": "x", "role": "staff", "secret": "mine"},
    ],
)
def test_bad_new_keys_are_422(setup, body: dict[str, object]) -> None:
    client, headers = setup
    response = client.post(KEYS, json=body, headers=headers["admin"])
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_revoke_takes_effect_at_once_despite_the_cache(setup) -> None:
    client, headers = setup
    assert client.get("/api/v1/sensors", headers=headers["staff"]).status_code == 200  # cached
    kid = headers["staff"]["Authorization"].split("_")[1]
    response = client.delete(f"{KEYS}/{kid}", headers=headers["admin"])
    assert response.status_code == 204
    assert client.get("/api/v1/sensors", headers=headers["staff"]).status_code == 401
    listed = {k["id"]: k for k in client.get(KEYS, headers=headers["admin"]).json()}
    assert listed[kid]["revoked_at"] is not None
    assert client.delete(f"{KEYS}/{kid}", headers=headers["admin"]).status_code == 204
    missing = client.delete(f"{KEYS}/0123456789abcdef", headers=headers["admin"])
    assert missing.status_code == 404
    assert missing.json()["detail"] == "unknown API key '0123456789abcdef'"
