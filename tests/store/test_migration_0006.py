"""Migration 0006 on existing data (SQLite file and PostgreSQL, ``meta_url``): rules get a
signing secret each, credentials leave their webhook URLs, the outbox refuses unknown
states; alerts and their history survive it unchanged; down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from support.paths import ROOT

from noiselab.store.metadata import MetadataStore
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


Rows = list[tuple[object, ...]]

ALERT_COLUMNS = (
    "id",
    "rule_id",
    "sensor_id",
    "state",
    "open_key",
    "opened_at",
    "last_held_at",
    "acknowledged_at",
    "resolved_at",
    "value",
    "last_value",
    "threshold",
    "unit",
    "evidence",
)
EVENT_COLUMNS = ("id", "alert_id", "at", "action", "actor", "actor_key_id", "note")
RULE_COLUMNS = (
    "id",
    "name",
    "kind",
    "metric",
    "window_s",
    "threshold",
    "sensor_ids",
    "source",
    "local_from",
    "local_to",
    "min_duration_s",
    "cooldown_s",
    "webhook_url",
    "enabled",
    "builtin",
    "created",
    "updated",
)


def _at(hour: int, minute: int = 0, second: float = 0.0) -> datetime:
    """A naive UTC time of 2026-11-30 (both backends take it as stored)."""
    whole = int(second)
    return datetime(2026, 11, 30, hour, minute, whole, round((second - whole) * 1e6))


def _alert(
    rule_id: int, state: str, sensor_id: str = "kbm-25m", **changes: object
) -> dict[str, object]:
    """An ``alerts`` row as the alert engine writes it (open ones hold their ``open_key``)."""
    row: dict[str, object] = {
        "rule_id": rule_id,
        "sensor_id": sensor_id,
        "state": state,
        "open_key": None if state == "resolved" else f"{rule_id}:{sensor_id}",
        "opened_at": _at(22, 15, 0.25),
        "last_held_at": _at(22, 30),
        "acknowledged_at": None,
        "resolved_at": None,
        "value": 67.4,
        "last_value": 66.9,
        "threshold": 60.0,
        "unit": "dB",
        "evidence": '{"window_s": 900, "laeq": 67.4}',
    }
    return row | changes


def _rows(connection: Connection, table: str, columns: tuple[str, ...]) -> Rows:
    query = sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(table))
    return [tuple(row) for row in connection.execute(query.order_by(sa.column("id")))]


def _insert(connection: Connection, table: str, row: dict[str, object]) -> int:
    """Insert ``row`` into ``table``; the id the database gave it."""
    columns = sa.table(table, *map(sa.column, row), sa.column("id"))
    return int(connection.execute(sa.insert(columns).returning(columns.c.id), row).scalar_one())


def _uncredentialed(url: object) -> object:
    """``url`` without a ``user:password@`` part, as 0006 leaves it."""
    return url.replace("ops:pw@", "") if isinstance(url, str) else url


def _seed_alerts(connection: Connection) -> None:
    """At 0005: two rules of staff (one with a URL that has credentials) besides the three
    built in, alerts of a built-in rule and of both staff rules, and their history."""
    night = _rule("Night LAeq above 60 dB", "https://hooks.example.org/night")
    night |= {"sensor_ids": '["kbm-25m"]', "local_from": 1320, "local_to": 420}
    day = _rule("Day", "https://ops:pw@hooks.example.org/day") | {"enabled": False}
    day["source"] = "road"
    night_id = _insert(connection, "alert_rules", night)
    day_id = _insert(connection, "alert_rules", day)
    opened = _insert(connection, "alerts", _alert(night_id, "open"))
    resolved = _alert(
        night_id, "resolved", acknowledged_at=_at(22, 40), resolved_at=_at(23, 5, 12.5)
    )
    resolved_id = _insert(connection, "alerts", resolved)
    offline = _alert(1, "acknowledged", sensor_id="bg-strandpark", value=None, unit="s")
    offline_id = _insert(connection, "alerts", offline)
    _insert(connection, "alerts", _alert(day_id, "open", sensor_id="007", last_value=None))
    events = [
        (opened, _at(22, 15, 0.25), "opened", "system", None, ""),
        (resolved_id, _at(22, 40), "acknowledged", "J. Hansen", "k0123456789abcdef", "on my way"),
        (resolved_id, _at(23, 5, 12.5), "resolved", "system", None, "below 60 dB for 15 min"),
        (offline_id, _at(23, 0), "acknowledged", "M. Berg", None, "Strandpark: mains works"),
    ]
    for event in events:
        _insert(connection, "alert_events", dict(zip(EVENT_COLUMNS[1:], event, strict=True)))
    connection.commit()


def _assert_kept(connection: Connection, rules: Rows, alerts: Rows, events: Rows) -> None:
    """The rules present at 0005 (the built-in ones and two of staff), every alert and every
    event read as given."""
    assert _rows(connection, "alert_rules", RULE_COLUMNS)[: len(rules)] == rules
    assert _rows(connection, "alerts", ALERT_COLUMNS) == alerts
    assert _rows(connection, "alert_events", EVENT_COLUMNS) == events
    connection.rollback()


def test_0006_keeps_every_rule_alert_and_event_up_to_head_and_down_again(meta_url: str) -> None:
    """Alerts refer to their rules and their history to them, so on SQLite (foreign keys on)
    the copy of ``alert_rules`` that makes ``webhook_secret`` NOT NULL must not lose or refuse
    them. Every row reads the same afterwards: up to the newest revision as the application
    migrates (opening the store), down to 0005 and up again; the rules differ only in the URL
    credentials removed (and the secret added)."""
    engine = open_engine(meta_url)
    try:
        with engine.connect() as connection:
            _alembic(connection, "upgrade", "0005")
            _seed_alerts(connection)
            rules = _rows(connection, "alert_rules", RULE_COLUMNS)
            alerts = _rows(connection, "alerts", ALERT_COLUMNS)
            events = _rows(connection, "alert_events", EVENT_COLUMNS)
            assert (len(rules), len(alerts), len(events)) == (5, 4, 4)
            url = RULE_COLUMNS.index("webhook_url")
            stripped = [(*r[:url], _uncredentialed(r[url]), *r[url + 1 :]) for r in rules]
            assert stripped[4][url] == "https://hooks.example.org/day"
            connection.rollback()
            MetadataStore(meta_url).close()  # migrates to the newest revision
            _assert_kept(connection, stripped, alerts, events)
            _alembic(connection, "downgrade", "0005")
            _assert_kept(connection, stripped, alerts, events)
            _alembic(connection, "upgrade", "head")
            _assert_kept(connection, stripped, alerts, events)
    finally:
        engine.dispose()
