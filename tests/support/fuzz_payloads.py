"""Hostile MQTT messages for the ingest, each invalid by construction, with the number of
quarantine entries it must produce.

:func:`fuzz_messages` builds ``count`` messages from a seed, the same ones every time: the
first of each kind in :data:`KINDS` order, the rest drawn by :data:`WEIGHTS`. A message is
refused as a whole (one entry) or reading by reading (one entry per member of a batch); none
carries a reading the ingest may store. Every entry is distinct in what the quarantine keys it
by (topic, raw, batch index), because each message holds its own serial number, so the
quarantine must end with exactly ``sum(m.entries for m in messages)`` rows.

Times are Unix seconds; ``now`` is about when the messages will be received (a valid ``ts``
lies hours before it, a "future" one ten days or more after it).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec

__all__ = ["KINDS", "MAX_PAYLOAD_BYTES", "WEIGHTS", "FuzzMessage", "fuzz_messages"]

MAX_PAYLOAD_BYTES: Final = 1_048_576
"""The ingest's payload limit (``parse_message``'s default); the broker sets none."""
KINDS: Final = (
    "not_utf8",
    "not_json",
    "truncated_json",
    "wrong_json_type",
    "missing_fields",
    "wrong_field_types",
    "out_of_range",
    "impossible_levels",
    "topic_mismatch",
    "unknown_sensor",
    "oversized",
    "bad_batch",
)
WEIGHTS: Final = dict.fromkeys(KINDS, 1.0) | {"oversized": 0.012}
"""Relative frequency of each kind after the first round; an oversized message is 1 MiB, so
about one in a thousand."""
_WHITESPACE: Final = (b" ", b"\t", b"\r", b"\n")


@dataclass(frozen=True, slots=True)
class FuzzMessage:
    """One hostile message and the quarantine entries it must produce."""

    kind: str
    topic: str
    payload: bytes
    entries: int


def fuzz_messages(
    count: int, *, prefix: str, sensors: Sequence[str], now: float, seed: int = 0
) -> list[FuzzMessage]:
    """``count`` hostile messages on ``{prefix}/<id>/levels`` topics; ``sensors`` are the
    registered ids (at least one), ``now`` the approximate receive time (Unix s)."""
    if not sensors:
        raise ValueError("at least one registered sensor is needed")
    maker = _Maker(random.Random(seed), prefix, tuple(sensors), now)
    kinds = list(KINDS[:count])
    kinds += maker.rng.choices(
        list(WEIGHTS), weights=list(WEIGHTS.values()), k=max(count - len(KINDS), 0)
    )
    return [maker.make(kind) for kind in kinds]


def _ws(serial: int) -> bytes:
    """``serial`` written in JSON whitespace (base 4): makes otherwise equal payloads unique."""
    digits = [_WHITESPACE[0]]
    while serial:
        serial, digit = divmod(serial, 4)
        digits.append(_WHITESPACE[digit])
    return b"".join(digits)


class _Maker:
    """Builds messages; ``serial`` numbers them (it goes in every payload as ``seq`` or text)."""

    def __init__(self, rng: random.Random, prefix: str, sensors: tuple[str, ...], now: float):
        self.rng = rng
        self.prefix = prefix
        self.sensors = sensors
        self.now = now
        self.serial = 0
        self._emptied: set[str] = set()
        self._kinds: dict[str, Callable[[], tuple[str, bytes, int]]] = {
            kind: getattr(self, f"_{kind}") for kind in KINDS
        }

    def make(self, kind: str) -> FuzzMessage:
        self.serial += 1
        topic, payload, entries = self._kinds[kind]()
        return FuzzMessage(kind, topic, payload, entries)

    # -- pieces ----------------------------------------------------------------------------

    def topic(self, sensor_id: str | None = None) -> str:
        """A registered sensor's topic, or ``sensor_id``'s."""
        return f"{self.prefix}/{sensor_id or self.rng.choice(self.sensors)}/levels"

    def reading(self, offset: int = 0) -> dict[str, Any]:
        """A valid reading (``seq`` first, so any cut keeps it), ``offset`` s after a random
        past second."""
        rng = self.rng
        laeq = round(rng.uniform(35.0, 85.0), 1)
        reading: dict[str, Any] = {
            "seq": self.serial * 100 + offset,
            "ts": round(self.now - rng.uniform(3_600.0, 86_400.0)) + offset,
            "laeq": laeq,
        }
        if rng.random() < 0.5:
            reading["lafmax"] = round(laeq + rng.uniform(0.0, 15.0), 1)
        return reading

    def encode(self, value: Any) -> bytes:
        return msgspec.json.encode(value)

    def spoiled(self, spoilers: Sequence[Callable[[dict[str, Any]], Any]], offset: int) -> Any:
        """A reading broken by one of ``spoilers`` (a JSON value a batch may hold)."""
        return self.rng.choice(spoilers)(self.reading(offset))

    # -- kinds: (topic, payload, entries) -----------------------------------------------------

    def _not_utf8(self) -> tuple[str, bytes, int]:
        rng = self.rng
        # Bytes that occur in no UTF-8 text, whatever surrounds them.
        bad = rng.choice([b"\xff", b"\xfe", b"\xc0\xaf", b"\xc1\xbf", b"\xf8\x88\x80\x80"])
        noise = rng.randbytes(rng.randint(0, 256))
        cut = rng.randint(0, len(noise))
        return self.topic(), noise[:cut] + bad + str(self.serial).encode() + noise[cut:], 1

    def _not_json(self) -> tuple[str, bytes, int]:
        n, laeq = self.serial, round(self.rng.uniform(30, 90), 1)
        text = self.rng.choice(
            [
                f"laeq={laeq} seq={n}",
                f"{{'seq': {n}, 'laeq': {laeq}}}",
                f'{{"seq": {n}, "laeq": {laeq},}}',
                f'{{"seq": {n}, "laeq": NaN}}',
                f'{{"seq": {n}, "laeq": Infinity}}',
                f'{{"seq": {n}, "laeq": -Infinity}}',
                f'<reading seq="{n}" laeq="{laeq}"/>',
                f'{{"seq": {n}}}{{"laeq": {laeq}}}',
                f'// reading\n{{"seq": {n}}}',
                f"seq{n}",
                f'{{"seq": {n}, "laeq": 0x2A}}',
            ]
        )
        return self.topic(), text.encode(), 1

    def _truncated_json(self) -> tuple[str, bytes, int]:
        rng = self.rng
        readings = [self.reading(i) for i in range(rng.randint(1, 5))]
        whole = self.encode(readings[0] if len(readings) == 1 else readings)
        keep = whole.index(str(self.serial * 100).encode()) + len(str(self.serial * 100))
        return self.topic(), whole[: rng.randint(keep, len(whole) - 1)], 1

    def _wrong_json_type(self) -> tuple[str, bytes, int]:
        rng, n = self.rng, self.serial
        topic = self.topic()
        choice = rng.randrange(6)
        if choice == 0 and topic not in self._emptied:  # an empty payload, once per topic
            self._emptied.add(topic)
            return topic, b"", 1
        if choice <= 1:  # a number, string, boolean or null, made unique by whitespace
            scalar = rng.choice([n + rng.random(), f"reading {n}", True, False, None])
            return topic, self.encode(scalar) + _ws(n), 1
        if choice == 2:  # an array of non-objects: each member refused
            members = rng.sample([n, n + 0.5, f"reading {n}", -n, [n]], rng.randint(1, 5))
            return topic, self.encode(members), len(members)
        if choice == 3:  # an empty array
            return topic, b"[" + _ws(n) + b"]", 1
        # Too deep for any decoder's stack (one entry), or an array in an array (one member).
        depth = rng.randint(5_000, 20_000) if choice == 4 else rng.randint(2, 40)
        inner = self.encode({"seq": n}) if rng.random() < 0.5 else str(n).encode()
        return topic, b"[" * depth + inner + b"]" * depth, 1

    def _missing_fields(self) -> tuple[str, bytes, int]:
        return self.topic(), self.encode(self.spoiled(_MISSING, 0)), 1

    def _wrong_field_types(self) -> tuple[str, bytes, int]:
        return self.topic(), self.encode(self.spoiled(_WRONG_TYPES, 0)), 1

    def _out_of_range(self) -> tuple[str, bytes, int]:
        rng = self.rng
        reading = self.reading()
        if rng.random() < 0.3:
            reading["ts"] = self.now + rng.uniform(10 * 86_400, 1e9)  # far future
        elif rng.random() < 0.3:
            reading["ts"] = rng.choice([0, -1.5, 946_684_799, "1999-12-31T23:59:59Z", 1e3])
        else:
            reading = rng.choice(_OUT_OF_RANGE)(reading)
        return self.topic(), self.encode(reading), 1

    def _impossible_levels(self) -> tuple[str, bytes, int]:
        return self.topic(), self.encode(self.spoiled(_IMPOSSIBLE, 0)), 1

    def _topic_mismatch(self) -> tuple[str, bytes, int]:
        rng = self.rng
        reading = self.reading()
        if rng.random() < 0.5:
            reading["sensor_id"] = rng.choice(["someone-else", self.sensors[0] + "-x", "x"])
            return self.topic(), self.encode(reading), 1
        sensor = rng.choice(self.sensors)
        bad_id = rng.choice(
            [sensor.upper(), f"{sensor}_1", "-" + sensor, "a", "a" * 65, f"{sensor}.x", "ø-1"]
        )
        return self.topic(bad_id), self.encode(reading), 1

    def _unknown_sensor(self) -> tuple[str, bytes, int]:
        size = self.rng.choice([1, 1, 2, 5, 20])
        readings = [self.reading(i) for i in range(size)]
        payload = self.encode(readings[0] if size == 1 else readings)
        return self.topic(f"unregistered-{self.serial}"), payload, size

    def _oversized(self) -> tuple[str, bytes, int]:
        head = self.encode(self.reading())[:-1] + b', "note": "'
        size = MAX_PAYLOAD_BYTES + 1 + self.rng.randint(0, 100)
        filler = self.rng.choices(string.ascii_letters.encode(), k=size - len(head) - 2)
        return self.topic(), head + bytes(filler) + b'"}', 1

    def _bad_batch(self) -> tuple[str, bytes, int]:
        """A batch whose every member is refused; on an unregistered sensor's topic some
        members are valid readings, refused for the sensor."""
        rng = self.rng
        size = rng.randint(2, 24)
        spoilers = _MEMBER_SPOILERS
        topic = self.topic()
        if rng.random() < 0.2:
            spoilers = (*_MEMBER_SPOILERS, *([_unchanged] * 4))
            topic = self.topic(f"unregistered-{self.serial}")
        members = [self.spoiled(spoilers, i) for i in range(size)]
        return topic, self.encode(members), size


# -- how a valid reading is broken ---------------------------------------------------------
# Each takes a valid reading (a dict with seq, ts, laeq and maybe lafmax) and returns a JSON
# value one reading of a message may be, refused for one reason or more. Each keeps the
# reading's serial (``seq``, or a value made from it), which makes it unique.


def _with(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda reading: reading | fields


def _without(*names: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda reading: {k: v for k, v in reading.items() if k not in names}


def _unchanged(reading: dict[str, Any]) -> dict[str, Any]:
    return reading


_MISSING: Final = (
    _without("ts"),
    _without("laeq"),
    _without("ts", "laeq"),
    _without("ts", "laeq", "lafmax"),
    lambda r: {"seq": r["seq"], "time": r["ts"], "level": r["laeq"]},
)
_WRONG_TYPES: Final = (
    lambda r: r | {"ts": True},
    lambda r: r | {"ts": [r["ts"]]},
    lambda r: r | {"ts": {"unix": r["ts"]}},
    lambda r: r | {"ts": "yesterday"},
    lambda r: r | {"laeq": str(r["laeq"])},
    lambda r: r | {"laeq": True},
    lambda r: r | {"laeq": [r["laeq"]]},
    lambda r: r | {"laeq": {"value": r["laeq"]}},
    _with(duration="1s"),
    _with(duration=False),
    _with(lafmax="loud"),
    _with(lafmin=[]),
    _with(spectrum=[63, 125]),
    _with(spectrum={"bands_hz": "all", "lzeq": [50.0]}),
    lambda r: r | {"seq": str(r["seq"])},
    lambda r: r | {"seq": r["seq"] + 0.5},
    _with(sensor_id=42),
)
_OUT_OF_RANGE: Final = (
    _with(laeq="NaN"),
    _with(laeq="Infinity"),
    _with(laeq="-inf"),
    _with(laeq=-0.1),
    _with(laeq=160.5),
    _with(laeq=1e6),
    _with(duration=0),
    _with(duration=-1),
    _with(duration=-3600.5),
    _with(duration=3600.5),
    _with(duration=1e12),
    _with(lafmax=170.0),
    _with(lafmin=-3.0),
    lambda r: r | {"seq": -r["seq"]},
    lambda r: r | {"seq": 2**63 + r["seq"]},
    _with(spectrum={"bands_hz": [63.0, 125.0], "lzeq": [50.0, 200.0]}),
    _with(spectrum={"bands_hz": [0.0, 125.0], "lzeq": [50.0, 45.0]}),
)
_IMPOSSIBLE: Final = (
    lambda r: r | {"lafmax": round(r["laeq"] - 2.0 - (r["seq"] % 300) / 10, 1)},
    lambda r: r | {"l10": round(r["laeq"] - 5, 1), "l90": round(r["laeq"] - 1, 1)},
    lambda r: r | {"l10": round(r["laeq"] - 5, 1), "l50": round(r["laeq"] - 2, 1)},
    lambda r: r | {"l50": round(r["laeq"] - 9, 1), "l90": round(r["laeq"] - 3, 1)},
    lambda r: r | {"lafmin": r["laeq"] + 20, "lafmax": r["laeq"] + 10},
    _with(spectrum={"bands_hz": [125.0, 63.0], "lzeq": [50.0, 45.0]}),
    _with(spectrum={"bands_hz": [63.0, 125.0, 250.0], "lzeq": [50.0, 45.0]}),
)
_NOT_OBJECTS: Final = (
    lambda r: r["seq"],
    lambda r: f"reading {r['seq']}",
    lambda r: [r],
    lambda r: [[r["seq"]]],
    lambda r: -r["seq"] - 0.5,
)
"""Batch members that are no object (each unique: a ``null`` at one index of two batches on
one topic would be one quarantine entry)."""
_MEMBER_SPOILERS: Final = (
    *_MISSING,
    *_WRONG_TYPES,
    *_OUT_OF_RANGE,
    *_IMPOSSIBLE,
    _with(sensor_id="someone-else"),
    *_NOT_OBJECTS,
)
