"""API keys and roles on real SQLite files: hashing, constant-time comparison, the 401/403/404
matrix over every endpoint and role, revocation and its cache window, the ``keys`` CLI, and
migration 0002 on a database created at 0001.

Sensors: ``pub`` is public, ``mine`` is private and attached to the vendor key, ``theirs`` is
private and attached to no key.
"""

from __future__ import annotations

import hmac
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi import APIRouter, Depends
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab
from support.paths import ROOT
from typer.testing import CliRunner

from noiselab.api.app import create_app
from noiselab.api.auth import Principal, create_key, require_role
from noiselab.api.settings import ApiSettings
from noiselab.cli import app as cli
from noiselab.errors import ConfigError
from noiselab.model import Reading, Sensor
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
MIGRATIONS = ROOT / "noiselab" / "store" / "migrations"
SENSORS = ("pub", "mine", "theirs")


class Lab(ApiLab):
    """Store and metadata files with three sensors and an hour of readings each, one key per
    role, and a revoked staff key."""

    def __init__(self, root: Path, cache_s: float = 0.0) -> None:
        super().__init__(root, now=T0 + 3600, auth_cache_s=cache_s)
        for sid in SENSORS:
            hour = [Reading(sensor_id=sid, ts=T0 + i, laeq=60.0) for i in range(3600)]
            self.write(hour, received_at=T0 + 3600)
        with self.meta() as meta:
            self.sensors(
                *(Sensor(id=sid, name=sid, source="road", public=sid == "pub") for sid in SENSORS)
            )
            self.keys = {
                "vendor": self.key("vendor", "acme", sensors=("mine",)).text,
                "staff": self.key("staff", "kommune").text,
                "admin": self.key("admin", "ops").text,
            }
            revoked = self.key("staff", "gone")
            meta.keys.revoke(revoked.id)
        self.keys["revoked"] = revoked.text

    def client(self, **kwargs: Any) -> TestClient:
        """The app with one more route, ``/test/staff``, guarded by ``require_role``."""
        app = create_app(self.settings)
        guarded = APIRouter()

        @guarded.get("/test/staff")
        def staff_only(
            principal: Annotated[Principal, Depends(require_role("staff", "admin"))],
        ) -> dict[str, str]:
            return {"role": principal.role}

        app.include_router(guarded)
        return TestClient(app, **kwargs)

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "public" else {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
def client(lab: Lab) -> Iterator[TestClient]:
    with lab.client() as running:
        yield running


def key_id(key: str) -> str:
    return key.split("_")[1]


# --------------------------------------------------------------------------- keys at rest


def test_only_salt_and_hash_are_stored(lab: Lab) -> None:
    """The row of each key holds a 16-byte salt and a 32-byte scrypt hash, never the secret."""
    with sqlite3.connect(lab.meta_path) as conn:
        rows = conn.execute("SELECT * FROM api_keys").fetchall()
        dump = "\n".join(conn.iterdump())
    assert len(rows) == 4
    for key in lab.keys.values():
        secret = key.split("_", 2)[2]
        assert secret not in dump
        assert key not in dump
        salt, digest = conn_row(lab, key_id(key))
        assert len(salt) == 16
        assert len(digest) == 32
    salts = [conn_row(lab, key_id(key))[0] for key in lab.keys.values()]
    assert len(set(salts)) == len(salts)


def conn_row(lab: Lab, kid: str) -> tuple[bytes, bytes]:
    with sqlite3.connect(lab.meta_path) as conn:
        salt, digest = conn.execute(
            "SELECT salt, hash FROM api_keys WHERE id = ?", (kid,)
        ).fetchone()
    return bytes(salt), bytes(digest)


def test_keys_have_the_documented_shape(lab: Lab) -> None:
    for key in lab.keys.values():
        prefix, kid, secret = key.split("_", 2)
        assert prefix == "nl"
        assert len(kid) == 16
        assert len(secret) == 43


def test_keys_are_compared_in_constant_time(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    with lab.client() as client:
        response = client.get("/api/v1/sensors", headers=lab.headers("staff"))
    assert response.status_code == 200
    assert len(calls) == 1
    assert calls[0][1] == conn_row(lab, key_id(lab.keys["staff"]))[1]


# --------------------------------------------------------------------------- the matrix

ENDPOINTS = (
    "/api/v1/sensors/{id}",
    "/api/v1/sensors/{id}/levels",
    "/api/v1/sensors/{id}/indicators",
    "/api/v1/sensors/{id}/events",
)
SEES = {
    "public": {"pub"},
    "vendor": {"pub", "mine"},
    "staff": set(SENSORS),
    "admin": set(SENSORS),
}


@pytest.mark.parametrize("who", sorted(SEES))
def test_the_sensor_list_shows_what_each_role_may_see(client: TestClient, lab: Lab, who: str):
    response = client.get("/api/v1/sensors", headers=lab.headers(who))
    assert response.status_code == 200
    assert {s["id"] for s in response.json()} == SEES[who]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("who", sorted(SEES))
@pytest.mark.parametrize("sensor_id", SENSORS)
def test_each_endpoint_answers_each_role(
    client: TestClient, lab: Lab, path: str, who: str, sensor_id: str
) -> None:
    """200 for a visible sensor; 404 reading exactly like an unknown sensor otherwise."""
    response = client.get(path.format(id=sensor_id), headers=lab.headers(who))
    if sensor_id in SEES[who]:
        assert response.status_code == 200, response.text
    else:
        unknown = client.get(path.format(id="no-such"), headers=lab.headers(who))
        assert response.status_code == unknown.status_code == 404
        assert response.json()["detail"] == unknown.json()["detail"].replace("no-such", sensor_id)


BAD_HEADERS = {
    "revoked": None,
    "unknown id": "Bearer nl_0123456789abcdef_" + "x" * 43,
    "wrong secret": None,
    "not a key": "Bearer hello",
    "empty bearer": "Bearer ",
    "basic scheme": "Basic dXNlcjpwYXNz",
    "no scheme": "nl_0123456789abcdef_xyz",
}


def bad_header(lab: Lab, case: str) -> str:
    if case == "revoked":
        return f"Bearer {lab.keys['revoked']}"
    if case == "wrong secret":
        return f"Bearer {lab.keys['admin'][:-4]}AAAA"
    header = BAD_HEADERS[case]
    assert header is not None
    return header


@pytest.mark.parametrize("path", ["/api/v1/sensors", *ENDPOINTS, "/test/staff"])
@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_bad_credentials_answer_401_with_a_challenge(
    client: TestClient, lab: Lab, path: str, case: str
) -> None:
    response = client.get(path.format(id="pub"), headers={"Authorization": bad_header(lab, case)})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("who", "status"), [("public", 401), ("vendor", 403), ("staff", 200), ("admin", 200)]
)
def test_a_role_guarded_route_answers_401_403_or_200(
    client: TestClient, lab: Lab, who: str, status: int
) -> None:
    response = client.get("/test/staff", headers=lab.headers(who))
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if status == 403:
        assert "vendor" in response.json()["detail"]


def test_openapi_documents_the_bearer_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"


# --------------------------------------------------------------------------- revocation


def revoke(lab: Lab, key: str) -> None:
    with MetadataStore(lab.settings.meta_url) as meta:
        assert meta.keys.revoke(key_id(key))


def test_revocation_takes_effect_at_once_without_a_cache(tmp_path: Path) -> None:
    lab = Lab(tmp_path, cache_s=0.0)
    with lab.client() as client:
        assert client.get("/test/staff", headers=lab.headers("admin")).status_code == 200
        revoke(lab, lab.keys["admin"])
        assert client.get("/test/staff", headers=lab.headers("admin")).status_code == 401


def test_revocation_takes_effect_within_the_cache_window(tmp_path: Path) -> None:
    lab = Lab(tmp_path, cache_s=60.0)
    with lab.client() as client:
        assert client.get("/test/staff", headers=lab.headers("admin")).status_code == 200
        revoke(lab, lab.keys["admin"])
        lab.clock.now += 59
        assert client.get("/test/staff", headers=lab.headers("admin")).status_code == 200
        lab.clock.now += 2
        assert client.get("/test/staff", headers=lab.headers("admin")).status_code == 401


def test_verification_records_last_use(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    with lab.client() as client:
        client.get("/api/v1/sensors", headers=lab.headers("vendor"))
    with MetadataStore(lab.settings.meta_url) as meta:
        used = {key.name: key.last_used for key in meta.keys.all()}
    assert used["acme"] == datetime.fromtimestamp(lab.clock.now, UTC)
    assert used["ops"] is None


def test_the_cache_window_is_validated() -> None:
    with pytest.raises(ConfigError, match="auth cache"):
        ApiSettings(store_url="sqlite:///x.db", meta_url="sqlite:///m.db", auth_cache_s=-1)


# --------------------------------------------------------------------------- the CLI


def test_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", f"sqlite:///{tmp_path / 'r.db'}"]
    created = runner.invoke(
        cli, ["keys", "create", "--role", "vendor", "--name", "acme", "--sensors", "a1,b2", *store]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    prefix, kid, _secret = key.split("_", 2)
    assert prefix == "nl"
    listed = runner.invoke(cli, ["keys", "list", *store])
    assert listed.exit_code == 0
    assert listed.stdout.split("\n")[0].split("\t") == [
        kid,
        "vendor",
        "active",
        "-",
        "a1,b2",
        "acme",
    ]
    assert key.split("_", 2)[2] not in listed.stdout
    assert runner.invoke(cli, ["keys", "revoke", kid, *store]).exit_code == 0
    assert "\trevoked " in runner.invoke(cli, ["keys", "list", *store]).stdout
    unknown = runner.invoke(cli, ["keys", "revoke", "0000000000000000", *store])
    assert unknown.exit_code == 2
    assert "no API key" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss", "--name", "x"], "--role 'boss'"),
        (["--role", "staff", "--name", "x", "--sensors", "a1"], "only vendor and sensor keys"),
        (["--role", "sensor", "--name", "x"], "a sensor key must list the sensors"),
        (["--role", "vendor", "--name", " "], "name must be"),
        (["--role", "vendor", "--name", "x", "--sensors", "Bad_Id"], "sensor id 'Bad_Id'"),
    ],
)
def test_cli_refuses_bad_keys(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        cli, ["keys", "create", *args, "--store", f"sqlite:///{tmp_path / 'r.db'}"]
    )
    assert result.exit_code == 2
    assert message in result.stderr


# --------------------------------------------------------------------------- migration


def test_migration_0002_keeps_the_data_of_a_0001_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0001")
    with sqlite3.connect(tmp_path / "meta.db") as conn:
        conn.execute(
            "INSERT INTO sensors (id, name, description, public, created) "
            "VALUES ('old-1', 'Old', '', 0, '2026-01-01 00:00:00')"
        )
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "api_keys" not in tables
    with MetadataStore(url) as meta:
        old = meta.sensors.get("old-1")
        assert old is not None
        assert old.name == "Old"
        assert not old.public
        created, _key = create_key(meta, role="staff", name="after")
        assert [k.id for k in meta.keys.all()] == [created.id]
    with sqlite3.connect(tmp_path / "meta.db") as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert int(version) >= 2  # migrated past 0002 (to whatever the head is now)
