"""Migration 0010 on existing data (SQLite file and PostgreSQL, ``meta_url``): alerts of
existing rules survive the copy of ``alert_rules``, the built-in drift rule appears, the kind
check admits ``calibration_drift`` only from 0010 on; down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from support.paths import ROOT

from noiselab.store.metadata.engine import open_engine

MIGRATIONS = ROOT / "noiselab" / "store" / "migrations"
NOW = datetime(2027, 1, 5, tzinfo=UTC).replace(tzinfo=None)


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    getattr(command, action)(config, revision)
    connection.commit()


def _rule(kind: str) -> dict[str, object]:
    return {
        "name": f"a {kind} rule",
        "kind": kind,
        "window_s": 900,
        "sensor_ids": "[]",
        "min_duration_s": 0,
        "cooldown_s": 900,
        "webhook_secret": "whsec_x",
        "enabled": True,
        "builtin": False,
        "created": NOW,
        "updated": NOW,
    }


def _drift_rule_refused(connection: Connection) -> bool:
    rules = sa.table("alert_rules", *(sa.column(c) for c in _rule("calibration_drift")))
    try:
        connection.execute(sa.insert(rules), _rule("calibration_drift"))
    except sa.exc.IntegrityError:
        return True
    finally:
        connection.rollback()
    return False


def _kinds(connection: Connection) -> list[tuple[str, bool]]:
    rows = connection.execute(sa.text("SELECT kind, builtin FROM alert_rules ORDER BY id"))
    return [(str(kind), bool(builtin)) for kind, builtin in rows]


def test_0010_keeps_alerts_seeds_the_drift_rule_and_goes_down_and_up(meta_url: str) -> None:
    engine = open_engine(meta_url)
    try:
        with engine.connect() as connection:
            _alembic(connection, "upgrade", "0007")
            assert _drift_rule_refused(connection)
            alert = {
                "rule_id": 1,
                "sensor_id": "kbm-25m",
                "state": "open",
                "open_key": "1:kbm-25m",
                "opened_at": NOW,
                "last_held_at": NOW,
                "unit": "s",
                "evidence": "{}",
            }
            connection.execute(sa.insert(sa.table("alerts", *map(sa.column, alert))), alert)
            connection.commit()
            _alembic(connection, "upgrade", "0010")
            assert _kinds(connection)[-1] == ("calibration_drift", True)
            assert len(_kinds(connection)) == 4  # three health rules, the drift rule
            assert connection.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 1
            assert not _drift_rule_refused(connection)
            assert "calibrations" in sa.inspect(connection).get_table_names()
            connection.rollback()
            _alembic(connection, "downgrade", "0007")
            assert [kind for kind, _ in _kinds(connection)] == [
                "offline",
                "stuck",
                "quarantine_rate",
            ]
            assert connection.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 1
            assert "calibrations" not in sa.inspect(connection).get_table_names()
            assert _drift_rule_refused(connection)
            _alembic(connection, "upgrade", "head")
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["field", "tone"])
def test_0010_refuses_an_adjustment_on_a_tone_check(meta_url: str, kind: str) -> None:
    """The table itself refuses ``after_db`` on a tone check; a field calibration may have it."""
    engine = open_engine(meta_url)
    try:
        with engine.connect() as connection:
            _alembic(connection, "upgrade", "head")
            sensor = {
                "id": "kbm-25m",
                "name": "KBM",
                "description": "",
                "public": True,
                "created": NOW,
            }
            connection.execute(sa.insert(sa.table("sensors", *map(sa.column, sensor))), sensor)
            row = {
                "sensor_id": "kbm-25m",
                "ts": NOW,
                "kind": kind,
                "reference_db": 94.0,
                "before_db": 94.6,
                "after_db": 94.0,
                "by": "x",
                "note": "",
                "created_at": NOW,
            }
            table = sa.table("calibrations", *map(sa.column, row))
            if kind == "tone":
                with pytest.raises(sa.exc.IntegrityError, match="tone_adjusts_nothing"):
                    connection.execute(sa.insert(table), row)
            else:
                connection.execute(sa.insert(table), row)
            connection.rollback()
    finally:
        engine.dispose()
