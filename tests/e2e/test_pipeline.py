"""End to end with real parts: Mosquitto, `noiselab ingest` processes, SQLite, the API.

Each test publishes with a real MQTT client (paho, or the mosquitto_pub CLI), lets a real ingest
process store the readings, then reads them back through the store and the HTTP API.
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
import pytest
from support.pipeline import PipelineLab, messages_logged, publish_all

from noiselab.broker import MosquittoBroker
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

pytestmark = pytest.mark.process

# 2026-11-25T10:00:00Z, a minute boundary in the past (so no reading is "in the future").
T0 = 1_795_600_800.0
assert T0 % 300 == 0


@pytest.fixture
def lab(tmp_path: Path, broker: MosquittoBroker, prefix: str) -> PipelineLab:
    return PipelineLab(tmp_path, broker, prefix)


def reading(ts: float, laeq: float, **extra: object) -> dict[str, object]:
    return {"ts": ts, "laeq": laeq, **extra}


def energetic(levels: Iterable[float], durations: Iterable[float]) -> float:
    """10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ), written out independently of the package."""
    pairs = list(zip(levels, durations, strict=True))
    total = sum(d for _, d in pairs)
    return 10 * math.log10(sum(d * 10 ** (lv / 10) for lv, d in pairs) / total)


def test_paho_to_api_end_to_end(lab: PipelineLab, ingest_factory: Callable[..., object]) -> None:
    """Two minutes at 60 then 70 dB, as single readings and as a batch, read back exactly.

    By hand: each 1-min bucket is its constant level; the 5-min bucket holds 120 measured
    seconds: 10·log10((60·10^6 + 60·10^7)/120) = 10·log10(5.5·10^6) = 67.4036 dB, coverage
    120/300 = 0.4.
    """
    lab.register("kbm-a")
    ingest_factory(*lab.ingest_args())
    first = [
        (lab.topic("kbm-a"), json.dumps(reading(T0 + i, 60.0, lafmax=61.5)).encode())
        for i in range(60)
    ]
    second = [
        (
            lab.topic("kbm-a"),
            json.dumps([reading(T0 + 60 + i, 70.0, lafmax=72.0) for i in range(60)]).encode(),
        )
    ]
    publish_all(lab.broker, first + second)
    assert lab.wait_count(120) == 120

    client = lab.client()
    staff = lab.staff()
    with client:
        start, end = "2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z"
        raw = client.get(
            "/api/v1/sensors/kbm-a/levels",
            params={"start": start, "end": end, "every": "1s"},
            headers=staff,
        ).json()["points"]
        assert [p["laeq"] for p in raw] == [60.0] * 60 + [70.0] * 60
        assert raw[0]["t"] == "2026-11-25T10:00:00Z"
        assert raw[119]["t"] == "2026-11-25T10:01:59Z"
        minutes = client.get(
            "/api/v1/sensors/kbm-a/levels",
            params={"start": start, "end": end, "every": "1m"},
            headers=staff,
        ).json()["points"]
        assert [(p["laeq"], p["lafmax"], p["coverage"]) for p in minutes] == [
            (60.0, 61.5, 1.0),
            (70.0, 72.0, 1.0),
        ]
        five = client.get(
            "/api/v1/sensors/kbm-a/levels",
            params={"start": start, "end": end, "every": "5m"},
            headers=staff,
        ).json()["points"]
        assert len(five) == 1
        by_hand = energetic([60.0] * 60 + [70.0] * 60, [1.0] * 120)
        assert five[0]["laeq"] == pytest.approx(by_hand, abs=0.005)
        assert five[0]["laeq"] == pytest.approx(67.40, abs=0.005)
        assert five[0]["coverage"] == pytest.approx(0.4)
        sensors = client.get("/api/v1/sensors").json()
        assert [s["id"] for s in sensors] == ["kbm-a"]


def test_mosquitto_pub_cli_reading_is_stored(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """A reading published by the mosquitto_pub CLI (RFC 3339 time, MQTT v5, QoS 1)."""
    lab.register("cli-sensor")
    ingest_factory(*lab.ingest_args())
    payload = json.dumps({"ts": "2026-11-25T11:00:00+01:00", "laeq": 55.25, "duration": 60})
    subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            str(lab.broker.port),
            "-V",
            "mqttv5",
            "-q",
            "1",
            "-t",
            lab.topic("cli-sensor"),
            "-m",
            payload,
        ],
        check=True,
        timeout=30,
    )
    lab.wait_count(1)
    with SqliteStore(lab.db) as store:
        [stored] = store.readings("cli-sensor", T0 - 3600, T0 + 3600)
    assert stored.ts == T0  # 11:00+01:00 is 10:00Z
    assert (stored.laeq, stored.duration) == (55.25, 60.0)


def test_bad_input_is_quarantined_and_good_readings_survive(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """A mixed batch keeps its good readings; every bad message or reading has a reason."""
    lab.register("mix")
    ingest = ingest_factory(*lab.ingest_args())
    batch = [
        reading(T0, 50.0),
        reading(T0 + 1, 171.0),
        {"laeq": 50.0},
        reading(T0 + 3, True),
        reading(T0 + 4, 52.0),
    ]
    messages = [
        (lab.topic("mix"), json.dumps(batch).encode()),
        (lab.topic("mix"), b"not json"),
        (lab.topic("mix"), b""),
        (lab.topic("mix"), b"x" * (1024 * 1024 + 1)),
        (lab.topic("mix"), b'{"ts": 1795600900, "laeq": NaN}'),
        (lab.topic("mix"), json.dumps(reading(time.time() + 3600, 50.0)).encode()),
        (lab.topic("mix"), json.dumps(reading(T0 + 9, 50.0, sensor_id="other")).encode()),
        (lab.topic("unregistered"), json.dumps(reading(T0, 50.0)).encode()),
    ]
    publish_all(lab.broker, messages)
    deadline = time.monotonic() + 30
    while len(lab.quarantine()) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    entries = lab.quarantine()
    reasons = sorted(str(getattr(e, "reason", "")) for e in entries)
    assert len(entries) == 10, reasons
    assert lab.count() == 2
    text = " | ".join(reasons).lower()
    for fragment in ("laeq", "ts", "json", "empty", "bytes", "future", "differs", "unknown sensor"):
        assert fragment in text, fragment
    assert ingest.process.poll() is None  # type: ignore[attr-defined]


def test_auto_register_accepts_unknown_sensors(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    ingest_factory(*lab.ingest_args("--auto-register"))
    publish_all(lab.broker, [(lab.topic("new-one"), json.dumps(reading(T0, 44.0)).encode())])
    lab.wait_count(1)
    with MetadataStore(lab.meta_url) as meta:
        sensor = meta.sensors.get("new-one")
    assert sensor is not None
    assert not sensor.public


def _kill_test_messages(lab: PipelineLab, sensors: int, per_sensor: int) -> list[tuple[str, bytes]]:
    return [
        (lab.topic(f"k{s}"), msgspec.json.encode(reading(T0 + i, 40.0 + (i * 7 + s) % 50 / 2)))
        for i in range(per_sensor)
        for s in range(sensors)
    ]


def test_kill_minus_nine_loses_nothing_and_stores_nothing_twice(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """20,000 QoS 1 readings; the ingest is SIGKILLed mid-stream and restarted."""
    sensors, per_sensor = 10, 2000
    lab.register(*(f"k{s}" for s in range(sensors)))
    messages = _kill_test_messages(lab, sensors, per_sensor)
    first = ingest_factory(*lab.ingest_args("--flush-interval", "0.05"), name="first")
    publisher = threading.Thread(target=publish_all, args=(lab.broker, messages))
    publisher.start()
    lab.wait_count(3000, timeout_s=60)
    first.kill()  # type: ignore[attr-defined]
    killed_at = lab.count()
    publisher.join(120)
    assert not publisher.is_alive()
    assert killed_at < len(messages), "the kill came too late to test anything"

    ingest_factory(*lab.ingest_args(), name="second")
    assert lab.wait_count(len(messages), timeout_s=120) == len(messages)
    time.sleep(1.0)  # anything re-delivered late would show up now
    with SqliteStore(lab.db) as store:
        assert store.count_readings() == len(messages)
        for s in range(sensors):
            got = store.readings(f"k{s}", T0, T0 + per_sensor)
            assert [r.ts for r in got] == [T0 + i for i in range(per_sensor)]
            assert [r.laeq for r in got] == [40.0 + (i * 7 + s) % 50 / 2 for i in range(per_sensor)]
            assert store.rollup_rows(f"k{s}") == store.recompute_rollup_from_raw(f"k{s}")
    assert lab.quarantine() == []


def test_shared_subscription_splits_the_stream(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """Two workers in one share group store every reading once, each taking a part. They take
    their client ids from numbered slots, as scaled-out replicas do."""
    lab.register("s1", "s2")
    group = f"{lab.prefix}-share"
    args = lab.ingest_args("--share-group", group)
    args[args.index("--client-id") + 1] = "slot"
    workers = []
    for n in (1, 2):
        workers.append(ingest_factory(*args, name=f"worker{n}"))
        assert f"client_id={group}-{n}" in workers[-1].log.read_text()  # type: ignore[attr-defined]
    messages = [
        (lab.topic(f"s{1 + i % 2}"), json.dumps(reading(T0 + i // 2, 50.0)).encode())
        for i in range(4000)
    ]
    publish_all(lab.broker, messages)
    assert lab.wait_count(4000) == 4000
    for worker in workers:
        assert worker.stop() == 0  # type: ignore[attr-defined]
    shares = [messages_logged(w.log) for w in workers]  # type: ignore[attr-defined]
    assert sum(shares) == 4000
    assert all(share > 0 for share in shares), shares


def test_sigterm_flushes_acks_and_exits_cleanly(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """After SIGTERM the worker exits 0, and a restart finds nothing left to redeliver."""
    lab.register("term")
    ingest = ingest_factory(*lab.ingest_args("--flush-interval", "30"))
    publish_all(
        lab.broker,
        [(lab.topic("term"), json.dumps(reading(T0 + i, 45.0)).encode()) for i in range(500)],
    )
    time.sleep(1.0)
    assert lab.count() == 0  # received, waiting for the 30-s flush: only in memory
    assert ingest.stop() == 0  # type: ignore[attr-defined]
    assert lab.count() == 500
    again = ingest_factory(*lab.ingest_args(), name="again")
    time.sleep(1.5)
    assert again.stop() == 0  # type: ignore[attr-defined]
    assert messages_logged(again.log) == 0  # type: ignore[attr-defined]


def test_worker_reconnects_after_a_broker_restart_and_loses_nothing(
    tmp_path: Path, prefix: str, ingest_factory: Callable[..., object]
) -> None:
    """The broker goes down mid-stream and comes back on the same port with its persisted
    sessions: the worker reconnects by itself and every reading is stored once."""
    own = MosquittoBroker(tmp_path / "own-broker")
    own.start()
    try:
        lab = PipelineLab(tmp_path, own, prefix)
        lab.register("rc")
        ingest = ingest_factory(*lab.ingest_args())
        publish_all(
            own,
            [(lab.topic("rc"), json.dumps(reading(T0 + i, 50.0)).encode()) for i in range(1000)],
        )
        lab.wait_count(1000)
        own.stop()
        time.sleep(1.0)
        own.start()
        ingest.wait_for_log("mqtt connected", timeout_s=60, count=2)  # type: ignore[attr-defined]
        publish_all(
            own,
            [
                (lab.topic("rc"), json.dumps(reading(T0 + i, 50.0)).encode())
                for i in range(1000, 2000)
            ],
        )
        assert lab.wait_count(2000) == 2000
        assert "mqtt disconnected; reconnecting" in ingest.log.read_text()  # type: ignore[attr-defined]
    finally:
        own.stop()


def test_ingest_serves_its_counters(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """--metrics-port exposes received/acked/stored/quarantined counters in Prometheus text."""
    import urllib.request

    from noiselab.broker import free_port

    lab.register("met")
    port = free_port()
    ingest_factory(*lab.ingest_args("--metrics-port", str(port)))
    publish_all(
        lab.broker,
        [(lab.topic("met"), json.dumps(reading(T0 + i, 50.0)).encode()) for i in range(50)]
        + [(lab.topic("met"), b"{}")],
    )
    lab.wait_count(50)
    deadline = time.monotonic() + 10
    values: dict[str, float] = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        values = {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("noiselab_ingest_") and " " in line
        }
        if values.get("noiselab_ingest_messages_acked_total") == 51:
            break
        time.sleep(0.1)
    assert values["noiselab_ingest_messages_received_total"] == 51
    assert values["noiselab_ingest_messages_acked_total"] == 51
    assert values["noiselab_ingest_readings_stored_total"] == 50
    assert values["noiselab_ingest_rejections_total"] == 1


def test_a_broker_granting_only_qos_0_stops_the_worker(
    tmp_path: Path, prefix: str, ingest_factory: Callable[..., object]
) -> None:
    """At QoS 0 the broker would not redeliver what a killed worker had not stored: the
    worker refuses to run (exit 2) and says why."""
    own = MosquittoBroker(tmp_path / "qos0-broker", extra_config="max_qos 0\n")
    own.start()
    try:
        lab = PipelineLab(tmp_path, own, prefix)
        ingest = ingest_factory(*lab.ingest_args())
        assert ingest.process.wait(30) == 2  # type: ignore[attr-defined]
        assert "granted QoS 0" in ingest.log.read_text()  # type: ignore[attr-defined]
    finally:
        own.stop()


def test_history_is_immutable_and_a_conflict_is_quarantined_and_acknowledged(
    lab: PipelineLab, ingest_factory: Callable[..., object]
) -> None:
    """71.5 dB stored for a second, then 120 dB offered for the same second: the stored value
    stays, the conflict is quarantined with both values, and its message is acknowledged (a
    restarted worker of the same persistent session gets nothing redelivered). An exact
    re-delivery adds nothing; an impossible reading (LAFmax 50 dB with LAeq 120 dB) is
    quarantined with its reason code."""
    lab.register("hist")
    ingest = ingest_factory(*lab.ingest_args())
    first = json.dumps(reading(T0, 71.5, lafmax=74.0)).encode()
    publish_all(lab.broker, [(lab.topic("hist"), first)])
    assert lab.wait_count(1) == 1
    later = [
        json.dumps(reading(T0, 120.0, lafmax=125.0)).encode(),  # the rewrite
        first,  # re-delivered
        json.dumps(reading(T0 + 1, 120.0, lafmax=50.0)).encode(),  # impossible
        json.dumps(reading(T0 + 2, 60.0, lafmax=61.0)).encode(),  # new
    ]
    publish_all(lab.broker, [(lab.topic("hist"), payload) for payload in later])
    assert lab.wait_count(2) == 2
    deadline = time.monotonic() + 30
    while len(lab.quarantine()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    reasons = sorted(q.reason for q in lab.quarantine())
    assert reasons == [
        "conflicts with stored reading: at 2026-11-25T10:00:00Z: laeq stored 71.5, offered"
        " 120.0; lafmax stored 74.0, offered 125.0",
        "lafmax below laeq: lafmax 50.0 dB is more than 0.61 dB below laeq 120.0 dB (over"
        " 1.0 s the fast maximum lies at most 10·log10(1 + 0.125 s/T) below the mean)",
    ]
    with SqliteStore(lab.db) as store:
        stored = store.readings("hist", T0, T0 + 10)
    assert [(r.ts, r.laeq, r.lafmax) for r in stored] == [(T0, 71.5, 74.0), (T0 + 2, 60.0, 61.0)]
    with lab.client() as client:
        points = client.get(
            "/api/v1/sensors/hist/levels",
            params={"start": "2026-11-25T10:00:00Z", "end": "2026-11-25T10:00:01Z", "every": "1s"},
            headers=lab.staff(),
        ).json()["points"]
    assert [p["laeq"] for p in points] == [71.5]

    assert ingest.stop() == 0  # type: ignore[attr-defined]
    assert messages_logged(ingest.log) == 5  # type: ignore[attr-defined]
    again = ingest_factory(*lab.ingest_args(), name="again")
    time.sleep(1.5)
    assert again.stop() == 0  # type: ignore[attr-defined]
    assert messages_logged(again.log) == 0  # type: ignore[attr-defined]
    assert len(lab.quarantine()) == 2
