"""`noiselab sensor` end to end with real parts: the command as a subprocess, real Mosquitto
brokers, a real `noiselab ingest` writing SQLite, and generated WAV files whose levels are
known.

The simulated microphone has a gain of 0.05 FS per pascal, so the right calibration offset is
20·log10(1 / 0.05) = 26.0206 dB, and a tone of L dB re 20 µPa is recorded at an RMS of
0.05 · 20e-6 · 10^(L/20) FS: 74 dB → 5.0119e-3 FS, 64 dB → 1.5849e-3 FS.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from noiselab.analysis.octave import DEFAULT_BANDS_HZ
from noiselab.analysis.weighting import AWeightedMeter
from noiselab.broker import MosquittoBroker, free_port
from noiselab.edge.buffer import ReadingBuffer
from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

pytestmark = pytest.mark.process

FS = 48_000
GAIN = 0.05  # FS per Pa
OFFSET = 20 * math.log10(1 / GAIN)
T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z
START = "2026-11-25T10:00:00Z"


def rms_fs(level_db: float) -> float:
    return GAIN * 20e-6 * 10 ** (level_db / 20)


def tone(freq: float, level_db: float, seconds: float) -> np.ndarray:
    t = np.arange(round(FS * seconds)) / FS
    return rms_fs(level_db) * math.sqrt(2) * np.sin(2 * math.pi * freq * t)


def write_wav24(path: Path, x: np.ndarray) -> np.ndarray:
    """Write ``x`` (FS) as 24-bit PCM; returns the samples exactly as the file holds them."""
    ints = np.clip(np.round(x * 2**23), -(2**23), 2**23 - 1).astype("<i4")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(FS)
        out.writeframes(ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return ints / 2**23


class Recorder:
    """A paho subscriber on ``{prefix}/#`` with a persistent session, keeping every message."""

    def __init__(self, port: int, prefix: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"rec-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.reconnect_delay_set(1, 2)
        self._client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 600
        self._client.connect("127.0.0.1", port, clean_start=False, properties=props)
        self._client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def levels(self) -> list[Any]:
        """The level payloads, decoded, in arrival order."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith("/levels")]

    def readings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for payload in self.levels():
            out.extend(payload if isinstance(payload, list) else [payload])
        return out

    def states(self) -> list[str]:
        with self._lock:
            return [json.loads(p)["state"] for t, p, _ in self.messages if t.endswith("/status")]

    def wait(self, check: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"never saw {what}; got {self.messages[-5:]}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def retained_status(port: int, topic: str) -> dict[str, object]:
    """The retained message of ``topic``, read by a fresh subscriber."""
    got: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, m: got.append(bytes(m.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    assert got, f"no retained message on {topic}"
    return dict(json.loads(got[0]))


class Sensor:
    """``noiselab sensor`` as a subprocess in ``cwd``, its log kept."""

    def __init__(self, cwd: Path, *args: str, name: str = "sensor") -> None:
        self.log = cwd / f"{name}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "noiselab", "sensor", *args],
                cwd=cwd,
                stdout=out,
                stderr=out,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def wait(self, timeout_s: float = 60) -> int:
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"sensor did not exit:\n{self.log.read_text()[-3000:]}") from None


@pytest.fixture
def sensors() -> Iterator[Callable[..., Sensor]]:
    started: list[Sensor] = []

    def start(cwd: Path, *args: str, name: str = "sensor") -> Sensor:
        started.append(Sensor(cwd, *args, name=name))
        return started[-1]

    yield start
    for s in started:
        if s.process.poll() is None:
            s.process.kill()
            s.process.wait()


@pytest.fixture
def recorders() -> Iterator[Callable[[int, str], Recorder]]:
    made: list[Recorder] = []

    def make(port: int, prefix: str) -> Recorder:
        made.append(Recorder(port, prefix))
        return made[-1]

    yield make
    for r in made:
        r.close()


def ingest_args(url: str, tmp_path: Path, prefix: str) -> list[str]:
    return [
        "--mqtt",
        url,
        "--store",
        f"sqlite:///{tmp_path / 'readings.db'}",
        "--meta",
        f"sqlite:///{tmp_path / 'metadata.db'}",
        "--topic-prefix",
        prefix,
        "--client-id",
        f"{prefix}-ingest",
        "--auto-register",
    ]


def stored(tmp_path: Path, sensor_id: str, expected: int, timeout_s: float = 30) -> list[Reading]:
    """The stored readings of ``sensor_id`` once there are ``expected`` of them."""
    deadline = time.monotonic() + timeout_s
    rows: list[Reading] = []
    while time.monotonic() < deadline:
        if (tmp_path / "readings.db").exists():
            with SqliteStore(tmp_path / "readings.db") as store:
                rows = list(store.readings(sensor_id, 0, 4e9))
            if len(rows) >= expected:
                return sorted(rows, key=lambda r: r.ts)
        time.sleep(0.1)
    raise AssertionError(f"stored {len(rows)} readings of {sensor_id}, expected {expected}")


def buffered(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
    finally:
        conn.close()


def sensor_args(url: str, prefix: str, sensor_id: str, wav: str, *extra: str) -> list[str]:
    return [
        "--mqtt",
        url,
        "--id",
        sensor_id,
        "--wav",
        wav,
        "--topic-prefix",
        prefix,
        "--calibration-offset",
        f"{OFFSET:.4f}",
        "--start",
        START,
        "--buffer",
        f"{sensor_id}.db",
        *extra,
    ]


def test_replayed_wav_is_stored_exactly_as_the_meter_computes_it(
    tmp_path, broker, prefix, ingest_factory, sensors, recorders
):
    """5 s of 1 kHz at 74 dB, 5 s at 64 dB, 5 s of noise at about 40 dB and half a second
    more (not a whole second: not reported). Expected: 15 readings at T0..T0+14 equal to
    AWeightedMeter on the same samples, the tones at 74 and 64 dB within 0.1 dB."""
    rng = np.random.default_rng(7)
    signal_fs = np.concatenate(
        [
            tone(1000.0, 74.0, 5.0),
            tone(1000.0, 64.0, 5.0),
            rng.normal(0.0, rms_fs(40.0), 5 * FS + FS // 2),
        ]
    )
    samples = write_wav24(tmp_path / "segments.wav", signal_fs)
    expected = AWeightedMeter(FS, calibration_db=OFFSET).process(samples)
    assert len(expected) == 15
    ingest_factory(*ingest_args(broker.url, tmp_path, prefix))
    recorder = recorders(broker.port, prefix)

    sensor = sensors(tmp_path, *sensor_args(broker.url, prefix, "mic-e2e", "segments.wav"))
    assert sensor.wait() == 0, sensor.log.read_text()

    rows = stored(tmp_path, "mic-e2e", 15)
    assert len(rows) == 15
    assert [r.ts for r in rows] == [T0 + i for i in range(15)]
    assert [r.seq for r in rows] == list(range(15))
    # The Fast detector starts from zero: the first second has no meaningful minimum.
    assert rows[0].lafmin is None
    assert rows[1].lafmin is not None
    for i, (row, want) in enumerate(zip(rows, expected, strict=True)):
        assert row.duration == 1.0
        for name in ("laeq", "lafmax", "lafmin")[: 3 if i else 2]:
            assert abs(getattr(row, name) - getattr(want, name)) <= 0.01 + 1e-9, (row, want)
    # The first second of each tone holds the filters' settling; the rest is the tone level.
    assert all(abs(r.laeq - 74.0) <= 0.1 for r in rows[1:5])
    assert all(abs(r.laeq - 64.0) <= 0.1 for r in rows[6:10])
    assert all(30.0 < r.laeq < 45.0 for r in rows[11:])
    assert retained_status(broker.port, f"{prefix}/mic-e2e/status")["state"] == "offline"
    assert recorder.states()[0] == "online"
    assert buffered(tmp_path / "mic-e2e.db") == 0


def test_after_calibration_a_1_khz_tone_reads_its_level_as_published(
    tmp_path, broker, prefix, sensors, recorders
):
    """Calibrate with a 94 dB calibrator recorded through the microphone (RMS 0.0501 FS), then
    a 1 kHz tone of 81.5 dB (RMS 0.01188 FS) must be published as 81.5 ± 0.1 dB."""
    write_wav24(tmp_path / "calibrator.wav", tone(1000.0, 94.0, 5.0))
    done = subprocess.run(
        [sys.executable, "-m", "noiselab", "sensor", "calibrate", "--wav", "calibrator.wav"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    offset = done.stdout.split("--calibration-offset ")[1].split()[0]
    assert float(offset) == pytest.approx(OFFSET, abs=0.01)
    write_wav24(tmp_path / "tone.wav", tone(1000.0, 81.5, 4.0))
    recorder = recorders(broker.port, prefix)
    args = sensor_args(broker.url, prefix, "mic-cal", "tone.wav")
    args[args.index("--calibration-offset") + 1] = offset
    assert sensors(tmp_path, *args).wait() == 0
    recorder.wait(lambda: len(recorder.readings()) == 4, 10, "4 readings")
    published = recorder.readings()
    assert [r["ts"] for r in published] == [T0 + i for i in range(4)]
    for reading in published[1:]:
        assert abs(reading["laeq"] - 81.5) <= 0.1
        assert abs(reading["lafmax"] - 81.5) <= 0.1


def test_readings_wait_for_a_late_broker_and_go_up_as_one_array(
    tmp_path, prefix, ingest_factory, sensors, recorders
):
    """The broker is not there while 20 s of audio are measured: all 20 readings stay in the
    buffer, then go up in one array when Mosquitto starts, and each is stored once.

    The ingest and the recorder must be subscribed before the sensor's first message, so
    they first meet a broker on another port; it is restarted from its persistence file with
    the sensor's port added, and keeps their sessions. The ingest is stopped meanwhile and
    started again once the sensor is done, so its readings come from its queued session."""
    sensor_port = free_port()
    data_dir = tmp_path / "mosquitto"
    # Run as root, as started: Mosquitto would switch to its own user, which cannot write
    # the persistence file into the test's private directory.
    first = MosquittoBroker(data_dir, extra_config="user root\n").start()
    ingest = [*ingest_args(first.url, tmp_path, prefix), "--share-group", ""]
    try:
        # A plain subscription: Mosquitto 2.0.11 restores the session but not its shared
        # subscriptions from the persistence file.
        ingest_factory(*ingest).stop()
        recorder = recorders(first.port, prefix)
    finally:
        first.stop()
    write_wav24(tmp_path / "twenty.wav", tone(500.0, 60.0, 20.0))
    url = f"mqtt://127.0.0.1:{sensor_port}"
    sensor = sensors(tmp_path, *sensor_args(url, prefix, "mic-late", "twenty.wav"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (tmp_path / "mic-late.db").exists() and buffered(tmp_path / "mic-late.db") == 20:
            break
        time.sleep(0.1)
    assert buffered(tmp_path / "mic-late.db") == 20
    time.sleep(1.0)
    assert sensor.process.poll() is None  # still waiting for the broker

    second = MosquittoBroker(
        data_dir, port=first.port, extra_config=f"user root\nlistener {sensor_port} 127.0.0.1\n"
    ).start()
    try:
        assert sensor.wait() == 0, sensor.log.read_text()
        # Everything is acknowledged by the broker and queued for the stopped ingest's session.
        ingest_factory(*ingest, name="ingest-again")
        rows = stored(tmp_path, "mic-late", 20)
        recorder.wait(lambda: len(recorder.readings()) >= 20, 20, "20 readings")
    finally:
        second.stop()
    assert [r.ts for r in rows] == [T0 + i for i in range(20)]
    levels = recorder.levels()
    assert len(levels) == 1
    assert isinstance(levels[0], list)
    assert [r["seq"] for r in levels[0]] == list(range(20))
    assert buffered(tmp_path / "mic-late.db") == 0


def test_a_restarted_client_uploads_the_earlier_backlog_first(
    tmp_path, broker, prefix, ingest_factory, sensors, recorders
):
    """30 readings left in the buffer by an earlier run (ts T0-100..T0-71, seq 0..29) go up
    before the 3 new ones, which carry on with seq 30..32."""
    earlier = ReadingBuffer(tmp_path / "mic-again.db", "mic-again")
    earlier.append(
        [
            {"ts": T0 - 100 + i, "duration": 1, "laeq": 50.0, "lafmax": 52.0, "lafmin": 48.0}
            for i in range(30)
        ]
    )
    earlier.close()
    write_wav24(tmp_path / "three.wav", tone(1000.0, 70.0, 3.0))
    ingest_factory(*ingest_args(broker.url, tmp_path, prefix))
    recorder = recorders(broker.port, prefix)
    sensor = sensors(tmp_path, *sensor_args(broker.url, prefix, "mic-again", "three.wav"))
    assert sensor.wait() == 0, sensor.log.read_text()
    rows = stored(tmp_path, "mic-again", 33)
    assert [r.ts for r in rows] == [T0 - 100 + i for i in range(30)] + [T0, T0 + 1, T0 + 2]
    assert [r.seq for r in rows] == list(range(33))
    recorder.wait(lambda: len(recorder.readings()) >= 33, 10, "33 readings")
    first = recorder.levels()[0]
    assert isinstance(first, list)
    assert [r["ts"] for r in first[:30]] == [T0 - 100 + i for i in range(30)]
    assert buffered(tmp_path / "mic-again.db") == 0


def test_a_killed_client_is_marked_offline_by_its_will(
    tmp_path, broker, prefix, sensors, recorders
):
    write_wav24(tmp_path / "long.wav", tone(1000.0, 60.0, 30.0))
    recorder = recorders(broker.port, prefix)
    args = sensor_args(broker.url, prefix, "mic-will", "long.wav", "--realtime")
    sensor = sensors(tmp_path, *args, "--keepalive", "2")
    recorder.wait(lambda: len(recorder.readings()) >= 2, 20, "2 live readings")
    assert recorder.states() == ["online"]
    assert len(recorder.readings()) < 10  # paced at real time, not replayed at once
    os.kill(sensor.process.pid, signal.SIGKILL)
    sensor.process.wait()
    recorder.wait(lambda: recorder.states()[-1:] == ["offline"], 10, "the will")
    assert retained_status(broker.port, f"{prefix}/mic-will/status")["state"] == "offline"


def test_sigterm_flushes_publishes_offline_and_exits_zero(
    tmp_path, broker, prefix, sensors, recorders
):
    write_wav24(tmp_path / "long.wav", tone(1000.0, 60.0, 30.0))
    recorder = recorders(broker.port, prefix)
    sensor = sensors(
        tmp_path, *sensor_args(broker.url, prefix, "mic-term", "long.wav"), "--realtime"
    )
    recorder.wait(lambda: len(recorder.readings()) >= 2, 20, "2 live readings")
    sensor.process.send_signal(signal.SIGTERM)
    assert sensor.wait(15) == 0
    status = retained_status(broker.port, f"{prefix}/mic-term/status")
    assert status["state"] == "offline"
    assert buffered(tmp_path / "mic-term.db") == 0
    assert 2 <= len(recorder.readings()) < 30


def test_spectra_carry_27_bands_and_a_1_khz_tone_in_its_band(
    tmp_path, broker, prefix, sensors, recorders
):
    write_wav24(tmp_path / "tone.wav", tone(1000.0, 74.0, 3.0))
    recorder = recorders(broker.port, prefix)
    args = sensor_args(broker.url, prefix, "mic-bands", "tone.wav", "--spectra")
    assert sensors(tmp_path, *args).wait() == 0
    recorder.wait(lambda: len(recorder.readings()) == 3, 10, "3 readings")
    for reading in recorder.readings()[1:]:
        spectrum = reading["spectrum"]
        assert len(spectrum["bands_hz"]) == len(spectrum["lzeq"]) == 27
        assert list(spectrum["bands_hz"]) == [float(f) for f in DEFAULT_BANDS_HZ]
        band = spectrum["bands_hz"].index(1000.0)
        assert abs(spectrum["lzeq"][band] - 74.0) <= 0.2
