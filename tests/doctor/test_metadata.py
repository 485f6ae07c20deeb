"""The metadata database checks on a real SQLite file and a real PostgreSQL database (skipped,
with the reason, when no PostgreSQL answers): a database at head passes; one behind head, one
without a schema, one at a revision this noiselab does not know, a wrong password and a server
that never answers fail with their fix. Nothing is migrated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from support.silent_server import silent_server

from noiselab.doctor import Check, Status, run_steps
from noiselab.doctor.metadata import MIGRATIONS, head_revisions, metadata_steps
from noiselab.store.metadata import MetadataStore


def run(url: str, timeout_s: float = 3.0) -> list[Check]:
    return list(run_steps(metadata_steps(url, timeout_s)))


def upgrade(url: str, revision: str) -> None:
    """Migrate ``url`` to ``revision`` with the project's migrations."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            config = Config(attributes={"connection": connection})
            config.set_main_option("script_location", str(MIGRATIONS))
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def revision_of(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            )
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.process)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "metadata.db"
        sa.create_engine(f"sqlite:///{path}").connect().close()
        yield f"sqlite:///{path}"
        return
    from support.databases import fresh_postgres_database

    with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


def test_a_database_at_head_passes(empty_url):
    MetadataStore(empty_url).close()
    checks = run(empty_url)
    assert [c.name for c in checks] == ["metadata database", "metadata reads"]
    assert [c.status for c in checks] == [Status.OK, Status.OK], checks
    (head,) = head_revisions()
    assert f"revision {head} (head)" in checks[0].detail
    assert checks[1].detail == "sensors registered: 0, API keys: 0"


def test_a_database_behind_head_fails_and_is_not_migrated(empty_url):
    upgrade(empty_url, "0004")
    checks = run(empty_url)
    assert checks[0].status is Status.FAIL
    (head,) = head_revisions()
    assert f"at revision 0004, behind this noiselab's head {head}" in checks[0].detail
    assert "upgrades the schema on start" in checks[0].fix
    assert checks[1].status is Status.SKIP
    assert revision_of(empty_url) == "0004"


def test_a_database_without_a_schema_fails(empty_url):
    check = run(empty_url)[0]
    assert check.status is Status.FAIL
    assert "has no schema" in check.detail


def test_a_revision_from_a_newer_noiselab_fails(empty_url):
    MetadataStore(empty_url).close()
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    check = run(empty_url)[0]
    assert check.status is Status.FAIL
    assert "revision 0099, unknown to this noiselab" in check.detail
    assert "upgrade this one" in check.fix


def test_a_missing_sqlite_file_fails_and_is_not_created(tmp_path):
    path = tmp_path / "nowhere" / "metadata.db"
    check = run(f"sqlite:///{path}")[0]
    assert check.status is Status.FAIL
    assert "NOISELAB_META" in check.fix
    assert not path.parent.exists()


@pytest.mark.process
def test_a_wrong_postgres_user_fails_with_the_connection_fix(postgres_admin_url: str):
    """A role that does not exist (the test server trusts any password of a real one)."""
    url = sa.make_url(postgres_admin_url).set(
        username="doctor_no_such_role", password="certainly-wrong"
    )
    check = run(url.render_as_string(hide_password=False))[0]
    assert check.status is Status.FAIL
    assert "cannot open" in check.detail
    assert "doctor_no_such_role" in check.detail
    assert "certainly-wrong" not in check.detail
    assert "POSTGRES_PASSWORD" in check.fix


def test_a_postgres_that_never_answers_times_out():
    with silent_server() as port:
        check = run(f"postgresql+psycopg://noiselab:pw@127.0.0.1:{port}/noiselab", 0.5)[0]
    assert check.status is Status.FAIL
    assert "cannot open" in check.detail
    assert "docker compose ps postgres" in check.fix
