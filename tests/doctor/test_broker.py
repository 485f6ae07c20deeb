"""The broker check against real Mosquitto brokers: the session's anonymous broker and the
production configuration (passwords and ACL of deploy/mosquitto). The probe makes its round
trip for the ingest's user; a wrong password, a user the ACL denies the probe topic, a broker
that is down and one that never answers fail with their fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.production_broker import production_broker as start_production_broker
from support.silent_server import silent_server

from noiselab.broker import MosquittoBroker, free_port
from noiselab.config import parse_mqtt_url
from noiselab.doctor import Check, Status, run_steps
from noiselab.doctor.broker import broker_steps

pytestmark = pytest.mark.process


@pytest.fixture
def production_broker(tmp_path: Path) -> Iterator[int]:
    with start_production_broker(tmp_path) as port:
        yield port


def check(url: str, prefix: str = "noiselab", timeout_s: float = 5.0) -> Check:
    (result,) = run_steps(broker_steps(parse_mqtt_url(url), prefix, timeout_s))
    assert result.name == "mqtt broker"
    return result


def test_the_probe_comes_back_from_a_local_broker(broker: MosquittoBroker, prefix: str):
    result = check(broker.url, prefix)
    assert result.status is Status.OK, result
    assert f"probe on {prefix}/_doctor/" in result.detail


def test_the_ingests_user_passes_on_the_production_broker(production_broker: int):
    result = check(f"mqtt://noiselab-ingest:pw-i@127.0.0.1:{production_broker}")
    assert result.status is Status.OK, result
    assert "noiselab-ingest:***@" in result.detail  # the password is never printed
    assert "pw-i" not in result.detail


def test_a_wrong_password_fails_with_the_credentials_fix(production_broker: int):
    result = check(f"mqtt://noiselab-ingest:wrong@127.0.0.1:{production_broker}")
    assert result.status is Status.FAIL
    assert "refused the connection" in result.detail
    assert "MQTT_INGEST_PASSWORD" in result.fix
    assert "wrong" not in result.detail


def test_a_user_the_acl_denies_fails_with_the_acl_fix(production_broker: int):
    result = check(f"mqtt://kbm-a:pw-a@127.0.0.1:{production_broker}")
    assert result.status is Status.FAIL
    # Mosquitto grants the subscription (it applies read rights when delivering) and refuses
    # the publication with PUBACK reason 0x87.
    assert "refused the probe on noiselab/_doctor/" in result.detail
    assert result.detail.endswith("Not authorized")
    assert "deploy/mosquitto/acl" in result.fix
    assert "topic readwrite noiselab/_doctor/#" in result.fix


def test_another_prefix_is_outside_the_acl(production_broker: int):
    result = check(f"mqtt://noiselab-ingest:pw-i@127.0.0.1:{production_broker}", "elsewhere")
    assert result.status is Status.FAIL
    assert "deploy/mosquitto/acl" in result.fix


def test_a_broker_that_is_down_fails_with_the_reach_fix():
    result = check(f"mqtt://127.0.0.1:{free_port()}")
    assert result.status is Status.FAIL
    assert "Connection refused" in result.detail
    assert "docker compose ps mosquitto" in result.fix


def test_a_broker_that_never_answers_times_out():
    with silent_server() as port:
        result = check(f"mqtt://127.0.0.1:{port}", timeout_s=0.5)
    assert result.status is Status.FAIL
    assert result.detail == f"no CONNACK from mqtt://127.0.0.1:{port} within 0.5 s"
    assert "check the host and port in --mqtt" in result.fix
