"""The outbox survives the ``noiselab alerts`` process: killed while a delivery is being
retried, a new process sends it. Real processes, a real HTTP receiver, real SQLite files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.receiver import Receiver, receiver

from noiselab.model import Reading, Sensor
from noiselab.store.metadata import AlertRule, MetadataStore
from noiselab.store.sqlite import SqliteStore

PATH_TOKEN = "/hook/t0k3n-in-path"

pytestmark = pytest.mark.process


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _loud_store(tmp_path: Path, hook_url: str) -> tuple[str, str, str]:
    """Readings of the last 10 min at 74.9/75.1 dB (LAeq 75 dB) and a 70 dB LAeq,5min rule
    with a webhook: the evaluator's first pass opens an alert and queues its delivery.
    Returns the store and metadata URLs and the rule's secret."""
    store_url = f"sqlite:///{tmp_path / 'readings.db'}"
    meta_url = f"sqlite:///{tmp_path / 'metadata.db'}"
    now = time.time()
    with MetadataStore(meta_url) as meta, SqliteStore(tmp_path / "readings.db") as store:
        meta.sensors.add([Sensor(id="road-1", name="road 1", source="road")])
        rule = AlertRule(
            name="loud", metric="laeq", window_s=300, threshold=70.0, webhook_url=hook_url
        )
        rule_id = meta.alerts.add_rule(rule).id
        assert rule_id is not None
        secret = meta.alerts.webhook_secret(rule_id)
        assert secret is not None
        start = (now // 60 - 10) * 60
        levels = [74.9, 75.1]
        store.write(
            [Reading("road-1", start + s, levels[s % 2]) for s in range(int(now - start))], now
        )
    return store_url, meta_url, secret


def _start(store_url: str, meta_url: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "noiselab", "alerts", "--store", store_url, "--meta", meta_url]
    options = ["--webhook-allow", "127.0.0.1", "--webhook-backoff", "2", "--log-level", "debug"]
    with log.open("ab") as sink:
        return subprocess.Popen(
            command + options,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _status(meta_url: str) -> list[str]:
    with MetadataStore(meta_url) as meta:
        return [d.status for d in meta.deliveries.list()]


def test_a_delivery_survives_a_killed_process(tmp_path: Path) -> None:
    with receiver(503) as hook:
        store_url, meta_url, secret = _loud_store(tmp_path, hook.url + PATH_TOKEN)
        log = tmp_path / "alerts.log"
        first = _start(store_url, meta_url, log)
        try:
            _wait(lambda: len(hook.received) >= 1, "the first, failing, try")
        finally:
            first.kill()  # SIGKILL: no clean shutdown
            first.wait(timeout=30)
        assert _status(meta_url) == ["pending"]
        _succeed_from_now(hook)
        second = _start(store_url, meta_url, log)
        try:
            _wait(lambda: _status(meta_url) == ["delivered"], "the delivery after the restart")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
    ids = {got.headers["x-noiselab-delivery"] for got in hook.received}
    assert len(ids) == 1  # the same delivery, tried again
    text = log.read_text(encoding="utf-8")
    assert "webhook will be retried" in text
    assert "webhook delivered" in text
    assert secret not in text
    assert "t0k3n" not in text  # httpx's request lines (full URL) stay silent


def _succeed_from_now(hook: Receiver) -> None:
    with hook.lock:
        hook.statuses = [503] * len(hook.received) + [204]
