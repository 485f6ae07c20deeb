"""The Alembic migrations of the metadata database, on a real SQLite file and a real PostgreSQL
database (``meta_url``): up to the newest revision, down to none, up again; after each upgrade
the schema is the one of the table definitions (``METADATA``).

Alembic's comparison (``compare_metadata``) covers tables, columns, types, nullability, indexes,
unique and foreign keys, not CHECK constraints: those are compared here by name, and by what
they refuse. One documented difference remains, see :data:`MIGRATED_CHECK_NAMES`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from support.paths import ROOT

from noiselab.store.metadata import METADATA
from noiselab.store.metadata.engine import open_engine

MIGRATIONS = ROOT / "noiselab" / "store" / "migrations"

MIGRATED_CHECK_NAMES = {
    "ck_sensors_source": "ck_sensors_ck_sensors_source",
    "ck_alerts_state": "ck_alerts_ck_alerts_state",
}
"""CHECK constraints whose name in a migrated database differs from the table definitions'.

0001 and 0004 gave full names (``ck_sensors_source``) where the naming convention
(``ck_<table>_<name>``) expects the short one, so the convention doubled them. Databases in use
hold these names; renaming them needs a migration of its own (on SQLite a copy of tables that
others reference). The application never names a constraint; a migration that drops one must
use the name here (``op.f("ck_sensors_ck_sensors_source")``). ``ck_api_keys_role`` matches:
0005 replaced 0002's doubled name; ``ck_alert_rules_kind`` too: 0010 replaced 0004's."""


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    """The application's engine for ``url`` (SQLite with its pragmas), disposed afterwards."""
    engine = open_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def alembic(connection: Connection, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade revision`` through ``connection``, committed."""
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    getattr(command, action)(config, revision)
    connection.commit()


def schema_differences(connection: Connection, metadata: sa.MetaData = METADATA) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``metadata``."""
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def check_names(connection: Connection) -> dict[str, set[str]]:
    """The CHECK constraint names of each table of the database, alembic's table left out."""
    inspector = sa.inspect(connection)
    return {
        table: {str(check["name"]) for check in inspector.get_check_constraints(table)}
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def expected_check_names() -> dict[str, set[str]]:
    """The CHECK constraint names of ``METADATA``, as migrated (:data:`MIGRATED_CHECK_NAMES`)."""
    return {
        table.name: {
            MIGRATED_CHECK_NAMES.get(str(check.name), str(check.name))
            for check in table.constraints
            if isinstance(check, sa.CheckConstraint)
        }
        for table in METADATA.sorted_tables
    }


def api_key(role: str) -> dict[str, object]:
    """An ``api_keys`` row of ``role`` (times naive UTC, which both backends accept)."""
    now = datetime(2026, 3, 29, 12, tzinfo=UTC).replace(tzinfo=None)
    return {
        "id": f"k{role}",
        "name": role,
        "role": role,
        "sensors": "[]",
        "salt": b"s",
        "hash": b"h",
        "created": now,
    }


def insert_refused(engine: Engine, row: dict[str, object]) -> bool:
    """Whether the database refuses ``row`` in ``api_keys`` (an integrity error); rolled back
    either way."""
    table = sa.table("api_keys", *(sa.column(name) for name in row))
    with engine.connect() as connection:
        try:
            connection.execute(sa.insert(table).values(row))
        except sa.exc.IntegrityError:
            return True
        finally:
            connection.rollback()
    return False


def head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    revision = ScriptDirectory.from_config(config).get_current_head()
    assert revision is not None
    return revision


def test_migrations_go_up_down_and_up_again_to_the_defined_schema(meta_url: str) -> None:
    with opened(meta_url) as engine, engine.connect() as connection:
        for action, revision in [("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")]:
            alembic(connection, action, revision)
            if action == "downgrade":
                assert sa.inspect(connection).get_table_names() == ["alembic_version"]
                assert MigrationContext.configure(connection).get_current_revision() is None
                continue
            assert MigrationContext.configure(connection).get_current_revision() == head()
            assert schema_differences(connection) == []
            assert check_names(connection) == expected_check_names()
            connection.rollback()  # the inspector's reads


def test_0005_widens_the_role_check_and_its_downgrade_narrows_it_again(meta_url: str) -> None:
    """The check constraint refuses what it should at 0004, at 0005, and at 0004 again: the
    downgrade restores 0002's constraint, under its name, so the upgrade can run again."""
    steps = [("upgrade", "0004"), ("upgrade", "0005"), ("downgrade", "0004"), ("upgrade", "0005")]
    with opened(meta_url) as engine, engine.connect() as connection:
        for action, revision in steps:
            alembic(connection, action, revision)
            assert insert_refused(engine, api_key("nobody"))
            assert insert_refused(engine, api_key("sensor")) is (revision == "0004")
            assert not insert_refused(engine, api_key("staff"))


def test_the_schema_comparison_sees_a_difference(meta_url: str) -> None:
    """Negative control: tables that are not the migrated ones (a column more, an index less)
    are reported."""
    changed = sa.MetaData(naming_convention=METADATA.naming_convention)
    for table in METADATA.sorted_tables:
        table.to_metadata(changed)
    sa.Table("sensors", changed, sa.Column("altitude_m", sa.Float), extend_existing=True)
    changed.tables["trials"].indexes.clear()
    with opened(meta_url) as engine, engine.connect() as connection:
        alembic(connection, "upgrade", "head")
        found = {
            (diff[0], getattr(diff[-1], "name", None))
            for diff in schema_differences(connection, changed)
            if isinstance(diff, tuple)
        }
    assert found == {("add_column", "altitude_m"), ("remove_index", "ix_trials_vendor")}


def test_the_check_name_comparison_sees_a_difference(meta_url: str) -> None:
    """Negative control: at 0004 ``api_keys`` holds 0002's doubled name and ``alert_rules``
    0004's, which the comparison reports (the tables of later revisions left out)."""
    with opened(meta_url) as engine, engine.connect() as connection:
        alembic(connection, "upgrade", "0004")
        names = check_names(connection)
    assert names["api_keys"] == {"ck_api_keys_ck_api_keys_role"}
    expected = {table: checks for table, checks in expected_check_names().items() if table in names}
    assert names != expected
    assert {
        **names,
        "api_keys": {"ck_api_keys_role"},
        "alert_rules": {"ck_alert_rules_kind"},
    } == expected
