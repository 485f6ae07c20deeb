"""The sources configuration (noiselab.ingest.sources) and foreign formats end to end.

The end-to-end test runs a real `noiselab ingest --sources FILE --auto-register` process on
the session's Mosquitto, publishes one documented example of each format at QoS 1 and reads
the SQLite store and the quarantine back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.paths import PAYLOADS, ROOT

from noiselab.broker import MosquittoBroker
from noiselab.errors import ConfigError
from noiselab.ingest.adapters.base import FixedId, PointerId, TopicLevel
from noiselab.ingest.sources import SourceRouter, load_sources, parse_sources
from noiselab.model import Reading
from noiselab.store.metadata import MetadataStore, QuarantineEntry
from noiselab.store.sqlite import SqliteStore

GOOD = """
[[source]]
name = "ttn"
topic = "v3/+/devices/+/up"
format = "ws302"
interval_s = 300
[source.ids]
"dev1" = "vb-roof-1"

[[source]]
name = "acme"
topic = "acme/+/noise"
format = "mapping"
sensor_id = "topic:1"
[source.fields]
laeq = "/leq"
duration = "/seconds"

[[source]]
name = "dnms"
topic = "dnms/#"
format = "sensor-community"
sensor_id = "pointer:/esp8266id"

[[source]]
name = "fixed"
topic = "cesva"
format = "sentilo"
sensor_id = "vb-cesva-1"
"""


MAPPING = '[[source]]\nname = "m"\ntopic = "m/+"\nformat = "mapping"\n[source.fields]\n'


def test_a_good_file_loads() -> None:
    ttn, acme, dnms, fixed = parse_sources(GOOD)
    assert (ttn.name, ttn.topic, ttn.format) == ("ttn", "v3/+/devices/+/up", "ws302")
    assert ttn.options.interval_s == 300.0
    assert dict(ttn.options.ids) == {"dev1": "vb-roof-1"}
    assert acme.options.sensor_id == TopicLevel(1)
    assert acme.options.fields is not None
    assert (acme.options.fields.laeq, acme.options.fields.duration) == ("/leq", "/seconds")
    assert dnms.options.sensor_id == PointerId("/esp8266id")
    assert fixed.options.sensor_id == FixedId("vb-cesva-1")
    assert ttn.subscription("noiselab-ingest") == "$share/noiselab-ingest/v3/+/devices/+/up"
    assert ttn.subscription(None) == "v3/+/devices/+/up"


def test_the_shipped_example_loads_and_covers_every_format() -> None:
    sources = load_sources(ROOT / "deploy" / "sources.example.toml")
    assert {s.format for s in sources} == {
        "fiware",
        "sensor-community",
        "sentilo",
        "ws302",
        "mapping",
    }


def test_the_router_picks_the_first_matching_source() -> None:
    router = SourceRouter(parse_sources(GOOD))
    assert router.match("v3/app1@ttn/devices/dev1/up").name == "ttn"  # type: ignore[union-attr]
    assert router.match("dnms/a/b/c").name == "dnms"  # type: ignore[union-attr]
    assert router.match("cesva").name == "fixed"  # type: ignore[union-attr]
    assert router.match("elsewhere/x") is None


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            '[[source]]\nname = "a"\ntopic = "a/+"\nformat = "csv"\n',
            ["[[source]] #1: format", "Invalid enum value 'csv'"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a/b+"\nformat = "ws302"\n',
            ["'a'", "topic 'a/b+'", "not a whole level"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a/#/b"\nformat = "ws302"\n',
            ["'#' before the last level"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = ""\nformat = "ws302"\n',
            ["topic ''", "must not be empty"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "$share/g/a"\nformat = "ws302"\n',
            ["must not start with '$'"],
        ),
        (
            MAPPING + 'ts = "/t"\n',
            ["[[source]] #1: fields", "missing required field `laeq`"],
        ),
        (
            '[[source]]\nname = "m"\ntopic = "m/+"\nformat = "mapping"\n',
            ["needs [source.fields] with a laeq"],
        ),
        (
            MAPPING + 'laeq = "leq"\n',
            ["fields.laeq", "must be empty or start with '/'"],
        ),
        (
            MAPPING + 'laeq = "/l"\nts_format = "%Y"\n',
            ["fields.ts_format '%Y'", "%z"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a/+"\nformat = "ws302"\nsensor_id = "Topic 1"\n',
            ["sensor_id 'Topic 1' must be topic:N"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a/+"\nformat = "ws302"\nsensor_id = "topic:5"\n',
            ["has only 2 levels"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "ws302"\nsensor_id = "pointer:x"\n',
            ["sensor_id", "start with '/'"],
        ),
        ('[[source]]\nname = "a"\ntopic = "a"\nformat = "sensor-community"\n', ["needs sensor_id"]),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "sentilo"\ninterval_s = 60\n',
            ["interval_s does not apply"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "ws302"\ninterval_s = 7200\n',
            ["interval_s must be more than 0 and at most 3600"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "ws302"\n[source.ids]\nx = "Bad Id"\n',
            ["'x' maps to 'Bad Id'"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "ws302"\ncolour = 1\n',
            ["unknown field `colour`"],
        ),
        (
            '[[source]]\nname = "a"\ntopic = "a"\nformat = "ws302"\n'
            '[[source]]\nname = "a"\ntopic = "b"\nformat = "ws302"\n',
            ["two sources are named 'a'"],
        ),
        ("", ["has no [[source]] table"]),
        ("[[source]\n", ["is not valid TOML"]),
    ],
)
def test_each_kind_of_mistake_is_named(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sources(text, "sources.toml")
    message = str(caught.value)
    assert message.startswith("sources.toml")
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.process
def test_the_cli_exits_2_on_a_bad_file_before_connecting(tmp_path: Path) -> None:
    bad = tmp_path / "sources.toml"
    bad.write_text('[[source]]\nname = "a"\ntopic = "a"\nformat = "csv"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "noiselab",
            "ingest",
            "--mqtt",
            "mqtt://127.0.0.1:9",
            "--store",
            f"sqlite:///{tmp_path / 'r.db'}",
            "--sources",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Invalid enum value 'csv'" in result.stderr
    assert not (tmp_path / "r.db").exists()


# -- end to end ------------------------------------------------------------------------------


def publish_all(broker: MosquittoBroker, messages: Iterable[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for info in [client.publish(topic, payload, qos=1) for topic, payload in messages]:
            info.wait_for_publish(60)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def e2e_sources(prefix: str) -> str:
    return f"""
[[source]]
name = "fiware"
topic = "{prefix}/fiware/+"
format = "fiware"
[source.ids]
"Vitoria-NoiseLevelObserved-2016-12-28T11:00:00_2016-12-28T12:00:00" = "vitoria-1"

[[source]]
name = "dnms"
topic = "{prefix}/dnms/+"
format = "sensor-community"
sensor_id = "topic:2"

[[source]]
name = "sentilo"
topic = "{prefix}/sentilo"
format = "sentilo"

[[source]]
name = "ttn"
topic = "{prefix}/v3/+/devices/+/up"
format = "ws302"

[[source]]
name = "chirpstack"
topic = "{prefix}/application/+/device/+/event/up"
format = "ws302"
[source.ids]
"0101010101010101" = "vb-hall-1"

[[source]]
name = "acme"
topic = "{prefix}/acme/+/noise"
format = "mapping"
sensor_id = "topic:2"
[source.fields]
items = "/readings"
laeq = "/leq"
ts = "/start"
ts_format = "unix"
duration = 60
"""


@pytest.mark.process
def test_one_message_of_each_format_is_stored_and_a_bad_one_quarantined(
    tmp_path: Path, broker: MosquittoBroker, prefix: str, ingest_factory: Callable[..., object]
) -> None:
    """Expected: 1 FIWARE hour + 1 DNMS interval + 60 TA120 seconds + 2 WS302 uplinks +
    2 mapped minutes + 1 native reading = 67 readings; the DNMS 'abc' push is quarantined."""
    sources = tmp_path / "sources.toml"
    sources.write_text(e2e_sources(prefix))
    db, meta_url = tmp_path / "readings.db", f"sqlite:///{tmp_path / 'metadata.db'}"
    ingest_factory(
        "--mqtt",
        broker.url,
        "--store",
        f"sqlite:///{db}",
        "--meta",
        meta_url,
        "--topic-prefix",
        prefix,
        "--client-id",
        f"{prefix}-ingest",
        "--auto-register",
        "--sources",
        str(sources),
    )
    t0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z
    mapped = {"readings": [{"start": t0, "leq": "50.5"}, {"start": t0 + 60, "leq": 51}]}
    bad_dnms = b'{"sensordatavalues": [{"value_type": "noise_LAeq", "value": "abc"}]}'
    before = time.time()
    publish_all(
        broker,
        [
            (f"{prefix}/fiware/vitoria", (PAYLOADS / "fiware-normalized.json").read_bytes()),
            (f"{prefix}/dnms/esp8266-42", (PAYLOADS / "dnms-sensor-community.json").read_bytes()),
            (f"{prefix}/sentilo", (PAYLOADS / "sentilo-ta120.json").read_bytes()),
            (
                f"{prefix}/v3/app1@ttn/devices/dev1/up",
                (PAYLOADS / "ws302-ttn-v3.json").read_bytes(),
            ),
            (
                f"{prefix}/application/17c8/device/0101010101010101/event/up",
                (PAYLOADS / "ws302-chirpstack-v4.json").read_bytes(),
            ),
            (f"{prefix}/acme/kbm-7/noise", json.dumps(mapped).encode()),
            (f"{prefix}/native-1/levels", json.dumps({"ts": t0, "laeq": 44.0}).encode()),
            (f"{prefix}/dnms/esp8266-43", bad_dnms),
        ],
    )
    quarantined = _wait_quarantine(meta_url, 1)
    with SqliteStore(db) as store:
        deadline = time.monotonic() + 30
        while store.count_readings() < 67 and time.monotonic() < deadline:
            time.sleep(0.1)
        # The ingest receives a message after the broker acknowledged it to the publisher:
        # the receive time is bounded by now, once everything is stored.
        after = time.time()
        assert store.count_readings() == 67
        everything = (0.0, 4e9)
        assert store.readings("vitoria-1", *everything) == [
            Reading("vitoria-1", 1_482_922_800.0, 67.8, 3600.0, lafmax=94.5)
        ]
        [dnms] = store.readings("esp8266-42", *everything)
        assert (dnms.laeq, dnms.lafmin, dnms.lafmax, dnms.duration) == (54.52, 48.31, 67.09, 145.0)
        assert before - 145.0 - 1 <= dnms.ts <= after - 145.0
        seconds = store.readings("ta120-t246177", *everything)
        assert [r.ts for r in seconds] == [1_514_892_120.0 + k for k in range(60)]
        assert (seconds[0].laeq, seconds[-1].laeq) == (44.0, 44.5)
        [ttn] = store.readings("dev1", *everything)
        assert ttn.ts == pytest.approx(1_581_519_946.014773, abs=1e-3)
        assert (ttn.laeq, ttn.lafmax, ttn.duration) == (47.4, 61.8, 600.0)
        [chirp] = store.readings("vb-hall-1", *everything)
        assert chirp.ts == pytest.approx(1_658_136_255.775023, abs=1e-3)
        acme = store.readings("kbm-7", *everything)
        assert [(r.ts, r.laeq, r.duration) for r in acme] == [
            (t0, 50.5, 60.0),
            (t0 + 60, 51.0, 60.0),
        ]
        assert [r.laeq for r in store.readings("native-1", *everything)] == [44.0]
    [entry] = quarantined
    assert entry.reason == "dnms: noise_LAeq 'abc' is not a number"
    assert entry.topic == f"{prefix}/dnms/esp8266-43"


def _wait_quarantine(meta_url: str, expected: int) -> list[QuarantineEntry]:
    deadline = time.monotonic() + 30
    while True:
        with MetadataStore(meta_url) as meta:
            entries = list(meta.quarantine.newest(limit=100))
        if len(entries) >= expected or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)
