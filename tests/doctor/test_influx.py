"""The InfluxDB checks against ``support.influx_fake`` served on a real socket
(``support.influx_server``): the probe goes through the real adapter and the real HTTP client,
and is deleted afterwards; a wrong token, a missing bucket or org, a server that is not ready,
one that never answers, and a refused delete each fail with their fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.influx_server import ORG, TOKEN, InfluxServer, influx_server
from support.silent_server import silent_server

from noiselab.doctor import Check, Status, run_steps
from noiselab.doctor.influx import PROBE_PREFIX, InfluxTarget, expected_laeq, influx_steps

NAMES = ["influxdb health", "influxdb bucket", "influxdb probe", "influxdb cleanup"]


@pytest.fixture
def influx() -> Iterator[InfluxServer]:
    with influx_server() as served:
        yield served


def run(url: str, *, token: str = TOKEN, org: str = ORG, bucket: str = "noise") -> list[Check]:
    target = InfluxTarget(url=url, org=org, bucket=bucket, token=token)
    return list(run_steps(influx_steps(target, timeout_s=3.0)))


def test_expected_level_of_the_probe_minute():
    """Half the minute at 50 dB, half at 60 dB: 10·log10((10^5 + 10^6) / 2) = 57.40 dB."""
    assert expected_laeq() == pytest.approx(57.4036, abs=1e-4)


def test_a_healthy_influxdb_passes_and_keeps_nothing_of_the_probe(influx):
    checks = run(influx.url)
    assert [c.name for c in checks] == NAMES
    assert [c.status for c in checks] == [Status.OK] * 4, checks
    assert "57.40 dB" in checks[2].detail
    writes = [r.body.decode() for r in influx.server.requests if r.path == "/api/v2/write"]
    assert len(writes) == 3  # readings and activity, minutes, hours
    assert all(f"sensor_id={PROBE_PREFIX}" in body for body in writes)
    for measurement in ("noise", "noise_1m", "noise_1h", "noise_activity"):
        assert influx.fake.points(measurement) == [], measurement


def test_a_wrong_token_fails_with_the_token_fix(influx):
    checks = run(influx.url, token="wrong")
    assert checks[1].status is Status.FAIL
    assert "refused the token" in checks[1].detail
    assert "NOISELAB_INFLUX_TOKEN" in checks[1].fix
    assert [c.status for c in checks[2:]] == [Status.SKIP, Status.SKIP]
    assert influx.fake.log == []


def test_a_missing_bucket_fails_with_the_bucket_fix(influx):
    checks = run(influx.url, bucket="noize")
    assert checks[1].status is Status.FAIL
    assert 'no bucket "noize"' in checks[1].detail
    assert "INFLUXDB_BUCKET" in checks[1].fix


def test_a_missing_org_fails_with_the_bucket_fix(influx):
    checks = run(influx.url, org="nowhere")
    assert checks[1].status is Status.FAIL
    assert 'organization name "nowhere" not found' in checks[1].detail
    assert "INFLUXDB_ORG" in checks[1].fix


def test_an_influxdb_still_starting_fails_health(influx):
    influx.ready = False
    checks = run(influx.url)
    assert checks[0].status is Status.FAIL
    assert "not ready: HTTP 503" in checks[0].detail
    assert "docker compose logs influxdb" in checks[0].fix


def test_a_silent_influxdb_times_out():
    with silent_server() as port:
        target = InfluxTarget(url=f"http://127.0.0.1:{port}", org=ORG, bucket="noise", token=TOKEN)
        checks = list(run_steps(influx_steps(target, timeout_s=0.3)))
    assert checks[0].status is Status.FAIL
    assert "did not answer GET /health within 0.3 s" in checks[0].detail
    assert "docker compose ps influxdb" in checks[0].fix


def test_a_refused_delete_prints_the_command_that_removes_the_probe(influx):
    influx.refuse_delete = True
    checks = run(influx.url)
    assert checks[2].status is Status.OK
    cleanup = checks[3]
    assert cleanup.status is Status.FAIL
    assert "HTTP 403" in cleanup.detail
    sensor = influx.fake.points("noise")[0].tags["sensor_id"]
    assert f"influx delete --org {ORG} --bucket noise" in cleanup.fix
    assert f"--predicate 'sensor_id=\"{sensor}\"'" in cleanup.fix
