"""Cost of parsing and validating sensor messages, in µs per reading.

Compares ``noiselab.ingest.message.parse_message`` with straightforward alternatives doing the
same work on the same payload (decode, check every SPEC rule, build ``Reading`` records):
pydantic v2 ``TypeAdapter``, orjson plus hand checks, stdlib json plus hand checks.
Each row is the median of 5 repeats of a ``time.perf_counter`` loop.

Run: ``.venv/bin/python benchmarks/parse_validate.py``
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
import orjson
import pydantic

from noiselab.ingest.message import ParsedMessage, parse_message
from noiselab.model import Reading, Spectrum

TOPIC = "noiselab/vb-001/levels"
RECEIVED_AT = 1_774_744_200.0
LATEST = RECEIVED_AT + 300.0
MIN_TS = 946_684_800.0
BANDS = [
    25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
    1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000,
]  # fmt: skip


def reading(i: int, *, spectrum: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ts": RECEIVED_AT - 100 + i,
        "laeq": 55.2 + (i % 7) * 0.1,
        "duration": 1,
        "lafmax": 61.4,
        "lafmin": 50.3,
        "seq": 1234 + i,
        "sensor_id": "vb-001",
    }
    if spectrum:
        item["spectrum"] = {"bands_hz": BANDS, "lzeq": [40.0 + k * 0.5 for k in range(len(BANDS))]}
    return item


SINGLE = json.dumps(reading(0), separators=(",", ":")).encode()
SINGLE_SPECTRUM = json.dumps(reading(0, spectrum=True), separators=(",", ":")).encode()
BATCH = json.dumps([reading(i) for i in range(100)], separators=(",", ":")).encode()
BATCH_ONE_BAD = BATCH.replace(b'"laeq":55.2,', b'"laeq":171.2,', 1)


def ours(payload: bytes) -> list[Reading]:
    parsed = parse_message(TOPIC, payload, RECEIVED_AT)
    assert not parsed.rejections
    return parsed.readings


def ours_with_rejections(payload: bytes) -> ParsedMessage:
    return parse_message(TOPIC, payload, RECEIVED_AT)


Level = Annotated[float, pydantic.Field(ge=0.0, le=160.0)]


class PSpectrum(pydantic.BaseModel):
    bands_hz: Annotated[
        list[Annotated[float, pydantic.Field(gt=0.0)]], pydantic.Field(min_length=1, max_length=64)
    ]
    lzeq: Annotated[list[Level], pydantic.Field(min_length=1, max_length=64)]


class PReading(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=True)

    ts: float | str
    laeq: Level
    duration: Annotated[float, pydantic.Field(gt=0.0, le=3600.0)] | None = None
    lafmax: Level | None = None
    lafmin: Level | None = None
    spectrum: PSpectrum | None = None
    seq: Annotated[int, pydantic.Field(ge=0)] | None = None
    sensor_id: str | None = None


P_ADAPTER: pydantic.TypeAdapter[list[PReading] | PReading] = pydantic.TypeAdapter(
    list[PReading] | PReading
)


def ts_seconds(value: Any) -> float:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.timestamp()
    return float(value)


def check_ts(ts: float) -> float:
    if not MIN_TS <= ts <= LATEST:
        raise ValueError("ts window")
    return ts


def via_pydantic(payload: bytes) -> list[Reading]:
    decoded = P_ADAPTER.validate_json(payload)
    items = decoded if isinstance(decoded, list) else [decoded]
    out = []
    for p in items:
        if p.lafmax is not None and p.lafmin is not None and p.lafmin > p.lafmax:
            raise ValueError("lafmin")
        if p.sensor_id is not None and p.sensor_id != "vb-001":
            raise ValueError("sensor_id")
        spectrum = None
        if p.spectrum is not None:
            spectrum = hand_spectrum({"bands_hz": p.spectrum.bands_hz, "lzeq": p.spectrum.lzeq})
        ts = check_ts(ts_seconds(p.ts))
        duration = 1.0 if p.duration is None else p.duration
        out.append(Reading("vb-001", ts, p.laeq, duration, p.lafmax, p.lafmin, spectrum, p.seq))
    return out


def is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def level(value: Any, *, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if not is_number(value) or not 0.0 <= value <= 160.0:
        raise ValueError("level")
    return float(value)


def hand_spectrum(value: Any) -> Spectrum | None:
    if value is None:
        return None
    bands, lzeq = value["bands_hz"], value["lzeq"]
    if not (isinstance(bands, list) and isinstance(lzeq, list)):
        raise ValueError("spectrum")
    if not 1 <= len(bands) == len(lzeq) <= 64:
        raise ValueError("spectrum")
    if not all(is_number(b) and b > 0 for b in bands) or bands != sorted(set(bands)):
        raise ValueError("spectrum")
    return Spectrum(tuple(map(float, bands)), tuple(level(z) or 0.0 for z in lzeq))


def hand_reading(item: Any) -> Reading:
    if type(item) is not dict:
        raise ValueError("object")
    ts_value = item["ts"]
    if type(ts_value) is not str and not is_number(ts_value):
        raise ValueError("ts")
    ts = check_ts(ts_seconds(ts_value))
    laeq = level(item["laeq"], optional=False)
    assert laeq is not None
    duration = item.get("duration")
    duration = 1.0 if duration is None else duration
    if not is_number(duration) or not 0.0 < duration <= 3600.0:
        raise ValueError("duration")
    lafmax, lafmin = level(item.get("lafmax")), level(item.get("lafmin"))
    if lafmax is not None and lafmin is not None and lafmin > lafmax:
        raise ValueError("lafmin")
    seq = item.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0):
        raise ValueError("seq")
    if item.get("sensor_id", "vb-001") != "vb-001":
        raise ValueError("sensor_id")
    spectrum = hand_spectrum(item.get("spectrum"))
    return Reading("vb-001", ts, laeq, float(duration), lafmax, lafmin, spectrum, seq)


def hand(decoded: Any) -> list[Reading]:
    items = decoded if isinstance(decoded, list) else [decoded]
    return [hand_reading(item) for item in items]


def via_orjson(payload: bytes) -> list[Reading]:
    return hand(orjson.loads(payload))


def via_json(payload: bytes) -> list[Reading]:
    return hand(json.loads(payload))


UNTYPED = msgspec.json.Decoder(dict[str, Any])


def us_per_reading(fn: Callable[[bytes], object], payload: bytes, readings: int) -> float:
    loops = max(200, 200_000 // readings)
    for _ in range(loops // 10):
        fn(payload)
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(loops):
            fn(payload)
        samples.append((time.perf_counter() - start) / (loops * readings) * 1e6)
    return statistics.median(samples)


def main() -> None:
    for alternative in (via_pydantic, via_orjson, via_json):
        for payload in (SINGLE, SINGLE_SPECTRUM, BATCH):
            assert alternative(payload) == ours(payload), alternative.__name__
    assert len(ours_with_rejections(BATCH_ONE_BAD).rejections) == 1
    rows: list[tuple[str, Callable[[bytes], object], bytes, int]] = [
        ("(a) parse_message, single reading", ours, SINGLE, 1),
        ("(b) parse_message, 100-reading batch", ours, BATCH, 100),
        ("(b') same batch with one bad reading", ours_with_rejections, BATCH_ONE_BAD, 100),
        ("(c) pydantic v2 TypeAdapter, single", via_pydantic, SINGLE, 1),
        ("(d) orjson + hand checks, single", via_orjson, SINGLE, 1),
        ("(e) stdlib json + hand checks, single", via_json, SINGLE, 1),
        ("(a') parse_message, single with 30-band spectrum", ours, SINGLE_SPECTRUM, 1),
        ("(c') pydantic, single with spectrum", via_pydantic, SINGLE_SPECTRUM, 1),
        ("(d') orjson + hand checks, single with spectrum", via_orjson, SINGLE_SPECTRUM, 1),
        ("(ref) msgspec untyped decode only, single", UNTYPED.decode, SINGLE, 1),
    ]
    print(f"single payload: {len(SINGLE)} bytes; batch: {len(BATCH):,} bytes")
    print(f"{'case':<52} {'µs/reading':>10}")
    for name, fn, payload, count in rows:
        print(f"{name:<52} {us_per_reading(fn, payload, count):>10.2f}")


if __name__ == "__main__":
    main()
