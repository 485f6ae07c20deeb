"""Migration 0006 on existing data (SQLite file and PostgreSQL, ``meta_url``): rules get a
signing secret each, credentials leave their webhook URLs, the outbox refuses unknown
states; down and up again."""

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
NOW = datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    getattr(command, action)(config, revision)
    connection.commit()


def _rule(name: str, url: str | None) -> dict[str, object]:
    return {
        "name": name,
        "kind": "level",
        "metric": "laeq",
        "window_s": 900,
        "threshold": 60.0,
        "sensor_ids": "[]",
        "min_duration_s": 0,
        "cooldown_s": 900,
        "webhook_url": url,
        "enabled": True,
        "builtin": False,
        "created": NOW,
        "updated": NOW,
    }


def test_0006_gives_secrets_strips_credentials_and_goes_down_and_up(meta_url: str) -> None:
    engine = open_engine(meta_url)
    try:
        with engine.connect() as connection:
            _alembic(connection, "upgrade", "0005")
            rules = sa.table("alert_rules", *(sa.column(c) for c in _rule("x", None)))
            connection.execute(
                sa.insert(rules),
                [
                    _rule("creds", "https://alice:s3cr3t@hooks.example.org/a?b=1"),
                    _rule("plain", "https://hooks.example.org/p"),
                ],
            )
            connection.commit()
            _alembic(connection, "upgrade", "0006")
            rows = connection.execute(
                sa.text("SELECT name, webhook_url, webhook_secret FROM alert_rules ORDER BY id")
            ).all()
            secrets = [secret for _name, _url, secret in rows]
            assert all(s.startswith("whsec_") for s in secrets)
            assert len(set(secrets)) == len(rows) == 5  # three built in, two added
            urls = {name: url for name, url, _secret in rows}
            assert urls["creds"] == "https://hooks.example.org/a?b=1"
            assert urls["plain"] == "https://hooks.example.org/p"
            bad = {
                "rule_id": 1,
                "alert_id": 1,
                "event": "opened",
                "payload": "{}",
                "status": "lost",
                "attempts": 0,
                "next_attempt_at": NOW,
                "created": NOW,
                "updated": NOW,
            }
            outbox = sa.table("webhook_deliveries", *(sa.column(c) for c in bad))
            with pytest.raises(sa.exc.IntegrityError, match="ck_webhook_deliveries_status"):
                connection.execute(sa.insert(outbox), bad)
            connection.rollback()
            _alembic(connection, "downgrade", "0005")
            names = sa.inspect(connection).get_table_names()
            assert "webhook_deliveries" not in names
            columns = {c["name"] for c in sa.inspect(connection).get_columns("alert_rules")}
            assert "webhook_secret" not in columns
            connection.rollback()
            _alembic(connection, "upgrade", "head")
    finally:
        engine.dispose()
