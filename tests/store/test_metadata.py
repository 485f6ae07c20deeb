"""The metadata database: migrations, sensor registry, quarantine, files.

Tests taking ``meta`` or ``meta_url`` run on a real SQLite file and on a fresh PostgreSQL
database (a throwaway server when none answers, see ``support.databases``); ``sqlite_meta`` ones
check what is specific to SQLite files. The migrations themselves: ``test_migrations.py``."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from support.paths import ROOT

from noiselab.errors import ConfigError, StoreError, StoreUnavailable
from noiselab.model import ApiKey, Rejection, Sensor
from noiselab.store.metadata import METADATA, MetadataStore, load_sensors_file, sensor_from_fields
from noiselab.store.metadata.tables import api_keys_table
from noiselab.store.metadata.trials import Trial, UnknownSensors

MIGRATIONS = ROOT / "noiselab" / "store" / "migrations"
T0 = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "metadata.db"


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    yield store
    store.close()


@pytest.fixture
def sqlite_meta(db_path: Path):
    store = MetadataStore(f"sqlite:///{db_path}")
    yield store
    store.close()


def alembic_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def rejection(n: int = 0, **changes: object) -> Rejection:
    fields: dict[str, object] = {
        "topic": "noiselab/vb-road-1/levels",
        "sensor_id": "vb-road-1",
        "raw": b'{"ts": 1, "laeq": 999}',
        "reason": "laeq 999 is outside 0-160 dB",
        "received_at": 1_774_785_600.0 + n,
        "index": n,
    }
    fields.update(changes)
    return Rejection(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- migrations


def test_open_creates_directory_schema_and_records_alembic_head(sqlite_meta, db_path):
    assert db_path.exists()
    with sqlite3.connect(db_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"sensors", "quarantine", "alembic_version"} <= tables
    assert version == [(alembic_head(),)]
    assert journal == "wal"


def test_migrated_schema_matches_the_table_definitions(meta, meta_url):
    """Alembic's autogenerate finds nothing to change: migrations and METADATA agree."""
    engine = sa.create_engine(meta_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), METADATA)
    engine.dispose()
    assert diff == []


def test_reopening_is_a_no_op_and_keeps_data(meta, meta_url):
    meta.sensors.add([Sensor(id="vb-road-1", name="Road", created=T0)])
    meta.close()
    with MetadataStore(meta_url) as again:
        assert [s.id for s in again.sensors.all()] == ["vb-road-1"]
        with again.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert [tuple(row) for row in versions] == [(alembic_head(),)]


def test_concurrent_opens_of_a_new_database_migrate_once(meta_url):
    url = meta_url
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            MetadataStore(url).close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_database_from_a_newer_noiselab_is_refused(meta, meta_url):
    with meta.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    meta.close()
    with pytest.raises(StoreError, match="migration failed"):
        MetadataStore(meta_url)


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://host/db", "sqlite+nosuchdriver:///x.db", "sqlite:///"]
)
def test_bad_urls_are_config_errors(url):
    if url == "sqlite:///":
        MetadataStore(url).close()  # an in-memory database is fine
        return
    with pytest.raises(ConfigError, match="metadata URL"):
        MetadataStore(url)


def test_an_unopenable_file_is_a_store_error(tmp_path):
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="metadata database"):
        MetadataStore(f"sqlite:///{tmp_path / 'dir.db'}")


# --------------------------------------------------------------------------- sensors


def test_add_and_list_sensors_round_trip(meta):
    road = Sensor(
        id="vb-road-1",
        name="Køge Bugt Motorvejen",
        lat=55.626,
        lon=12.388,
        source="road",
        description="by the S-train",
        created=T0,
    )
    rail = Sensor(id="vb-rail-1", name="Ringsted line", source="rail", public=False, created=T0)
    assert meta.sensors.add([road, rail]) == 2
    assert meta.sensors.all() == [rail, road]  # ordered by id
    assert meta.sensors.get("vb-road-1") == road
    assert meta.sensors.get("vb-road-1").created.tzinfo is UTC
    assert meta.sensors.get("nope") is None
    assert meta.sensors.ids() == frozenset({"vb-road-1", "vb-rail-1"})


def test_adding_an_existing_sensor_without_replace_fails_and_writes_nothing(meta):
    meta.sensors.add([Sensor(id="vb-road-1", name="Road", created=T0)])
    with pytest.raises(StoreError, match="already registered: vb-road-1"):
        meta.sensors.add([Sensor(id="vb-new-1", name="New"), Sensor(id="vb-road-1", name="X")])
    assert meta.sensors.ids() == frozenset({"vb-road-1"})
    with pytest.raises(ValueError, match="twice"):
        meta.sensors.add([Sensor(id="vb-a-1", name="A"), Sensor(id="vb-a-1", name="B")])


def test_replace_updates_existing_sensors_and_keeps_created(meta):
    meta.sensors.register_unknown(["vb-road-1"], now=T0.timestamp())
    updated = Sensor(id="vb-road-1", name="Road", lat=55.6, lon=12.3, source="road")
    new = Sensor(id="vb-bg-1", name="Background", source="background", created=T0)
    assert meta.sensors.add([updated, new], replace=True) == 2
    stored = meta.sensors.get("vb-road-1")
    assert stored is not None
    assert (stored.name, stored.lat, stored.lon, stored.source, stored.public) == (
        "Road",
        55.6,
        12.3,
        "road",
        True,
    )
    assert stored.created == T0
    assert meta.sensors.get("vb-bg-1") == new
    assert meta.sensors.add([], replace=True) == 0


def test_register_unknown_adds_private_sensors_and_ignores_known_ones(meta):
    meta.sensors.add([Sensor(id="vb-road-1", name="Road", source="road", created=T0)])
    count = meta.sensors.register_unknown(
        ["vb-road-1", "new-1", "new-1", "new-2"], now=T0.timestamp()
    )
    assert count == 2
    new = meta.sensors.get("new-1")
    assert new == Sensor(id="new-1", name="new-1", source=None, public=False, created=T0)
    assert meta.sensors.get("vb-road-1").name == "Road"
    assert meta.sensors.register_unknown([], now=0.0) == 0
    with pytest.raises(ValueError, match="sensor id"):
        meta.sensors.register_unknown(["Bad_Id"], now=0.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "X"}, "sensor id 'X'"),
        ({"id": "a"}, "sensor id 'a'"),
        ({"id": "-ab"}, "sensor id '-ab'"),
        ({"id": "a" * 65}, "sensor id"),
        ({"name": " "}, "name"),
        ({"source": "air"}, "source 'air'"),
        ({"lat": 91.0, "lon": 0.0}, "lat 91.0 is outside -90..90"),
        ({"lat": 0.0, "lon": -180.5}, "lon -180.5"),
        ({"lat": float("nan"), "lon": 0.0}, "lat nan"),
        ({"lat": 55.0}, "together"),
        ({"created": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_invalid_sensors_are_refused(fields, message):
    base: dict[str, object] = {"id": "vb-road-1", "name": "Road"}
    with pytest.raises(ValueError, match=message):
        Sensor(**(base | fields))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- quarantine


def test_quarantine_stores_rejections_with_their_fields(meta):
    rejections = [rejection(0), rejection(1, sensor_id=None, index=None, topic="bad/topic")]
    assert meta.quarantine.add(rejections) == 2
    newest, oldest = meta.quarantine.newest()
    assert (newest.topic, newest.sensor_id, newest.index) == ("bad/topic", None, None)
    assert (oldest.sensor_id, oldest.raw, oldest.reason, oldest.index) == (
        "vb-road-1",
        b'{"ts": 1, "laeq": 999}',
        "laeq 999 is outside 0-160 dB",
        0,
    )
    assert oldest.received_at == datetime.fromtimestamp(1_774_785_600.0, UTC)
    assert meta.quarantine.count() == 2


def test_quarantine_is_idempotent_under_redelivery(meta):
    """The same message delivered again (later) is stored once, even when its reason is
    worded with a time-dependent figure; another topic, raw reading or position counts."""
    assert meta.quarantine.add([rejection(0), rejection(0)]) == 1
    assert meta.quarantine.add([rejection(0, received_at=2e9)]) == 0
    assert meta.quarantine.add([rejection(0, reason="ts: 3599.3 s in the future")]) == 0
    variants = [
        rejection(0, topic="noiselab/other/levels"),
        rejection(0, raw=b"{}"),
        rejection(0, index=None),
        rejection(0, index=1),
    ]
    assert meta.quarantine.add(variants) == 4
    assert meta.quarantine.add([*variants, rejection(0)]) == 0
    assert meta.quarantine.count() == 5
    assert meta.quarantine.add([]) == 0


def test_quarantine_survives_reopening(meta, meta_url):
    meta.quarantine.add([rejection(0)])
    meta.close()
    with MetadataStore(meta_url) as again:
        assert again.quarantine.add([rejection(0)]) == 0
        assert again.quarantine.count() == 1


def test_a_locked_database_is_retryable(sqlite_meta, db_path, monkeypatch):
    """Another writer holds the lock past the busy timeout: StoreUnavailable (retryable)."""
    monkeypatch.setattr("noiselab.store.metadata.engine.SQLITE_BUSY_TIMEOUT_MS", 50)
    sqlite_meta.close()  # reconnect with the short timeout
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="database is locked") as caught:
            sqlite_meta.quarantine.add([rejection(0)])
        assert caught.value.retryable
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sqlite_meta.quarantine.add([rejection(0)]) == 1


def test_list_quarantine_is_newest_first_with_limit_and_sensor_filter(meta):
    meta.quarantine.add([rejection(n, sensor_id=f"s{n % 2}-x") for n in range(6)])
    assert [e.index for e in meta.quarantine.newest()] == [5, 4, 3, 2, 1, 0]
    assert [e.index for e in meta.quarantine.newest(limit=2)] == [5, 4]
    assert [e.index for e in meta.quarantine.newest(sensor_id="s0-x")] == [4, 2, 0]
    assert meta.quarantine.newest(sensor_id="nobody") == []
    with pytest.raises(ValueError, match="limit"):
        meta.quarantine.newest(limit=0)


# --------------------------------------------------------------------------- API keys


def test_api_keys_round_trip_with_their_times_salt_and_hash(meta):
    """Stored and read back alike on both backends: aware UTC times, bytes, the sensor list;
    revoking keeps the first time; an id that exists is refused."""
    vendor = ApiKey(id="k1", name="acme", role="vendor", sensors=("vb-road-1",), created=T0)
    device = ApiKey(id="k2", name="box", role="sensor", sensors=("vb-rail-1",), created=T0)
    meta.keys.add(vendor, salt=b"\x00salt", digest=b"\xffhash")
    meta.keys.add(device, salt=b"s", digest=b"h")
    assert meta.keys.all() == [vendor, device]
    assert meta.keys.secret("k1") == (vendor, b"\x00salt", b"\xffhash")
    assert meta.keys.secret("nope") is None
    later = datetime(2026, 3, 29, 14, 30, 15, 250_000, tzinfo=UTC)
    meta.keys.touch("k1", later)
    assert meta.keys.revoke("k1", later)
    assert meta.keys.revoke("k1", T0)  # again: the first time is kept
    assert not meta.keys.revoke("nope")
    stored = meta.keys.secret("k1")[0]
    assert (stored.revoked_at, stored.last_used) == (later, later)
    assert stored.revoked_at.tzinfo is UTC
    with pytest.raises(StoreError, match="add an API key"):
        meta.keys.add(vendor, salt=b"s", digest=b"h")


def test_the_database_refuses_an_unknown_role(meta):
    """The role check of migration 0005, past the model's own validation."""
    row = {"id": "k9", "name": "x", "role": "root", "sensors": "[]", "salt": b"s", "hash": b"h"}
    with pytest.raises(sa.exc.IntegrityError), meta.engine.begin() as conn:
        conn.execute(api_keys_table.insert().values(row | {"created": T0}))


# --------------------------------------------------------------------------- trials


def test_trials_round_trip_replace_and_delete(meta):
    """Periods come back as aware UTC on both backends; replacing keeps ``created``."""
    meta.sensors.add([Sensor(id=f"vb-road-{n}", name=f"Road {n}", created=T0) for n in (1, 2)])
    hour = timedelta(hours=1)
    trial = Trial(
        id="tr-000000000001",
        name="Blade barrier",
        vendor="acme",
        treated=("vb-road-1",),
        control=("vb-road-2",),
        before_start=T0,
        before_end=T0 + 24 * hour,
        after_start=T0 + 48 * hour,
        after_end=T0 + 72 * hour,
        hours=(7, 8),
        description="æøå",
        created=T0,
        updated=T0,
    )
    assert meta.trials.create(trial) == trial
    assert meta.trials.get(trial.id) == trial
    assert meta.trials.get(trial.id).after_end.tzinfo is UTC
    assert meta.trials.all("acme") == [trial]
    assert meta.trials.all("other") == []
    assert meta.trials.vendor_sensors("acme") == frozenset({"vb-road-1", "vb-road-2"})
    changed = msgspec.structs.replace(trial, hours=(), created=T0 + hour, updated=T0 + hour)
    assert meta.trials.replace(changed) == msgspec.structs.replace(changed, created=T0)
    with pytest.raises(UnknownSensors, match="vb-gone-1"):
        meta.trials.replace(msgspec.structs.replace(trial, control=("vb-gone-1",)))
    assert meta.trials.delete(trial.id)
    assert not meta.trials.delete(trial.id)
    assert meta.trials.replace(trial) is None


# --------------------------------------------------------------------------- sensor files


def test_load_sensors_from_csv(tmp_path):
    path = tmp_path / "sensors.csv"
    path.write_text(
        "\ufeffid,name,lat,lon,source,description,public\n"
        'vb-road-1,Køge Bugt Motorvejen,55.626,12.388,road,"estimate, by the S-train",true\n'
        "vb-bg-1,Garden,,,,,\n"
        "\n"
        "vb-rail-1, Ringsted line ,55.648,12.37,rail,,no\n",
        encoding="utf-8",
    )
    road, garden, rail = load_sensors_file(path)
    assert (road.id, road.name, road.lat, road.lon, road.source) == (
        "vb-road-1",
        "Køge Bugt Motorvejen",
        55.626,
        12.388,
        "road",
    )
    assert road.description == "estimate, by the S-train"
    assert (garden.lat, garden.source, garden.public) == (None, None, True)
    assert (rail.name, rail.public) == ("Ringsted line", False)


def test_load_sensors_from_json(tmp_path):
    path = tmp_path / "sensors.json"
    rows = [
        {"id": "vb-road-1", "name": "Road", "lat": 55.6, "lon": 12.3, "source": "road"},
        {"id": "vb-bg-1", "name": "Garden", "source": None, "public": False},
    ]
    path.write_text(json.dumps(rows))
    assert [s.id for s in load_sensors_file(path)] == ["vb-road-1", "vb-bg-1"]
    path.write_text(json.dumps({"sensors": rows}))
    road, garden = load_sensors_file(path)
    assert (road.lat, garden.public, garden.source) == (55.6, False, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,name\nvb-1,A\nBAD,B\n", r"line 3 \(id 'BAD'\): sensor id 'BAD'"),
        ("id,name,lat,lon\nvb-1,A,95,10\n", r"line 2 \(id 'vb-1'\): lat 95.0 is outside"),
        ("id,name,lat,lon\nvb-1,A,north,10\n", "line 2.*lat must be a number, got 'north'"),
        ("id,name,source\nvb-1,A,air\n", "line 2.*source 'air'"),
        ("id,name,public\nvb-1,A,maybe\n", "line 2.*public must be true or false"),
        ("id,name\nvb-1,\n", "line 2.*name is required"),
        ("id,name\nvb-1,A,extra\n", "line 2: more values than columns"),
        ("id,name,lattitude\nvb-1,A,55\n", "line 2: unknown column 'lattitude'"),
        ("id,name\nvb-1,A\nvb-1,B\n", "line 3: sensor id 'vb-1' repeats line 2"),
        ("", "empty file"),
    ],
)
def test_bad_csv_rows_are_named(tmp_path, content, message):
    path = tmp_path / "sensors.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_sensors_file(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('[{"id": "vb-1", "name": "A"}, {"id": "vb-2"}]', r"sensor 2 \(id 'vb-2'\): name is"),
        ('[{"id": "vb-1", "name": "A", "lat": true, "lon": 1}]', "lat must be a number"),
        ('[{"id": 7, "name": "A"}]', "id must be text"),
        ('[{"id": "vb-1", "name": "A", "public": "sometimes"}]', "public must be"),
        ("[1]", "sensor 1: expected an object"),
        ('{"id": "vb-1"}', "expected a JSON array"),
        ("[{", "not valid JSON"),
    ],
)
def test_bad_json_rows_are_named(tmp_path, document, message):
    path = tmp_path / "sensors.json"
    path.write_text(document)
    with pytest.raises(ConfigError, match=message):
        load_sensors_file(path)


def test_unreadable_or_unknown_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"expected a \.json or \.csv"):
        load_sensors_file(tmp_path / "sensors.txt")
    with pytest.raises(ConfigError, match="cannot read"):
        load_sensors_file(tmp_path / "missing.csv")


def test_sensor_from_fields_accepts_typed_cli_values():
    sensor = sensor_from_fields(
        {"id": "vb-1", "name": "A", "lat": 55.0, "lon": 12.0, "source": None, "public": False}
    )
    assert (sensor.lat, sensor.source, sensor.public) == (55.0, None, False)
    with pytest.raises(ConfigError, match=r"^sensor \(id 'x'\): sensor id 'x'"):
        sensor_from_fields({"id": "x", "name": "A"})
