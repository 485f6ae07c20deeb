"""The simulator's sensors, plans and readings obey the MQTT contract and the physical model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from support.paths import ROOT
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.config import parse_mqtt_url
from noiselab.errors import ConfigError
from noiselab.ingest.message import parse_message
from noiselab.sensors_sim.generate import generate, readings
from noiselab.sensors_sim.publisher import (
    SimulatorSettings,
    _LiveDays,
    barrier_for,
    plan_backfill,
)
from noiselab.sensors_sim.site_specs import load_sites
from noiselab.sensors_sim.sites import (
    load_site_file,
    numbered_sensors,
    registry_sensors,
    sensors_from_spec,
)
from noiselab.store.metadata import MetadataStore

DAY = datetime(2026, 6, 10, tzinfo=UTC).timestamp()
SITE_FILE = ROOT / "noiselab" / "sensors_sim" / "vallensbaek.json"


def test_default_sensors_are_the_twelve_vallensbaek_sites() -> None:
    sites = sensors_from_spec("default")
    assert len(sites) == 12
    assert sites == load_sites()
    assert {"kbm-25m", "ring-100m", "trial-blade-treated"} <= {s.id for s in sites}
    sensors = registry_sensors(sites)
    assert all(s.lat is not None and s.public and s.description for s in sensors)
    assert {s.source for s in sensors} == {"road", "rail", "background"}


def test_numbered_sensors_cycle_over_the_sites() -> None:
    assert [s.id for s in sensors_from_spec("3")] == ["sim-0000", "sim-0001", "sim-0002"]
    many = numbered_sensors(30)
    assert len({s.id for s in many}) == 30
    assert many[12].road == load_sites()[0].road
    assert all(s.role is None for s in many)


def test_bad_sensor_specs_say_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected 'default'"):
        sensors_from_spec("some")
    with pytest.raises(ConfigError, match="1 to 100000"):
        sensors_from_spec("0")
    bad = tmp_path / "sites.json"
    bad.write_text(json.dumps({"sites": [{"id": "x1", "name": "x"}]}))
    with pytest.raises(ConfigError, match="site 1: missing field"):
        sensors_from_spec(str(bad))


def test_a_site_file_like_vallensbaek_json_is_accepted(tmp_path: Path) -> None:
    document = json.loads(SITE_FILE.read_text())
    document["sites"] = document["sites"][:2]
    document["sites"][1]["id"] = "my-site"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document))
    assert [s.id for s in sensors_from_spec(str(path))] == ["kbm-25m", "my-site"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(document["sites"]))
    assert [s.id for s in load_site_file(bare)] == ["kbm-25m", "my-site"]


def test_sensors_import_takes_the_site_file_and_default_sites(tmp_path: Path) -> None:
    meta = f"sqlite:///{tmp_path / 'meta.db'}"
    runner = CliRunner()
    result = runner.invoke(app, ["sensors", "import", str(SITE_FILE), "--meta", meta])
    assert result.exit_code == 0, result.output
    assert "imported 12 sensors" in result.output
    result = runner.invoke(app, ["sensors", "import", "--default-sites", "--meta", meta])
    assert result.exit_code == 0, result.output
    with MetadataStore(meta) as registry:
        stored = {s.id: s for s in registry.sensors.all()}
    assert len(stored) == 12
    assert stored["ring-25m"].source == "rail"
    assert stored["ring-25m"].lat == pytest.approx(55.64728)
    result = runner.invoke(app, ["sensors", "import", "--meta", meta])
    assert result.exit_code == 2


def test_backfill_plan_interleaves_sensors_and_passes_the_parser() -> None:
    sites = load_sites()[:3]
    plan = list(plan_backfill(sites, DAY, DAY + 1500, seed=1, batch=600))
    assert [p.sensor_id for p in plan[:4]] == [s.id for s in sites] + [sites[0].id]
    assert [len(p.readings) for p in plan if p.sensor_id == sites[0].id] == [600, 600, 300]
    for p in plan:
        parsed = parse_message(
            f"noiselab/{p.sensor_id}/levels", msgspec.json.encode(list(p.readings)), DAY + 86400
        )
        assert parsed.rejections == []
    first = [r for p in plan if p.sensor_id == sites[0].id for r in p.readings]
    assert [r["seq"] for r in first] == list(range(1500))
    g = generate(sites[0], DAY, DAY + 1500, seed=1)
    assert first == readings(g)


def test_backfill_across_midnight_and_same_seed_same_data() -> None:
    sites = load_sites()[:2]
    a = list(plan_backfill(sites, DAY - 600, DAY + 600, seed=4, batch=500))
    b = list(plan_backfill(sites, DAY - 600, DAY + 600, seed=4, batch=500))
    c = list(plan_backfill(sites, DAY - 600, DAY + 600, seed=5, batch=500))
    assert a == b
    assert a != c
    ts = [r["ts"] for p in a if p.sensor_id == sites[0].id for r in p.readings]
    assert ts == [DAY - 600 + i for i in range(1200)]


def test_live_rows_equal_the_backfilled_ones() -> None:
    sites = load_sites()
    settings = SimulatorSettings(mqtt=parse_mqtt_url("mqtt://127.0.0.1"), sensors=sites, seed=3)
    treated = next(s for s in sites if s.role == "treated")
    days = _LiveDays(settings, barrier_at=DAY)
    live = days.rows(treated, DAY - 5, DAY + 5, first_seq=100)
    g = generate(treated, DAY - 5, DAY + 5, 3, barrier=barrier_for(treated, DAY))
    assert live == readings(g, first_seq=100)
    assert barrier_for(sites[0], DAY) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "dropout=2"], "rate from 0 to 1"),
        (["--faults", "bogus=0.1"], "unknown fault"),
        (["--start", "yesterday"], "expected YYYY-MM-DD"),
        (["--start", "2999-01-01"], "in the future"),
        (["--sensors", "nope"], "expected 'default'"),
        (["--rate", "0.013"], "must divide a day"),
    ],
)
def test_simulate_rejects_bad_options_before_connecting(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--mqtt", "mqtt://127.0.0.1:1", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_spectra_ride_along_and_pass_the_parser() -> None:
    """With spectra on, every reading carries 18 third-octave LZeq bands (100 Hz-5 kHz) whose
    A-weighted total is the reading's LAeq (to 0.05 dB, after rounding to 0.01 dB per band)."""
    from noiselab.analysis.spectra import band_levels_to_laeq

    site = load_sites()[0]
    [planned, *_] = plan_backfill([site], DAY, DAY + 120, seed=2, batch=600, spectra=True)
    payload = msgspec.json.encode(list(planned.readings))
    parsed = parse_message(f"noiselab/{site.id}/levels", payload, DAY + 86_400)
    assert parsed.rejections == []
    for reading in parsed.readings:
        assert reading.spectrum is not None
        assert len(reading.spectrum.bands_hz) == 18
        total = band_levels_to_laeq(reading.spectrum.lzeq, reading.spectrum.bands_hz)
        assert abs(float(total) - reading.laeq) < 0.05
