"""Fault injection: the misbehaviour of real sensors that the ingest must survive.

Faults transform the *planned* messages of the simulator (each a sensor id and the readings it
would send) into the messages actually published. Every rate is 0 (off) by default and is a
probability, drawn from a random stream per sensor derived from the seed, so the same seed and
the same plan give the same faults:

- ``dropout``: per reading, the reading is never sent (a gap in ``seq``).
- ``offline``: per reading, the sensor goes offline for ``offline_s`` seconds of readings; it
  buffers them and uploads them as one JSON array when it comes back (split at 10,000).
- ``stuck``: per reading, the sensor's levels freeze for ``stuck_s`` seconds of readings at the
  values of the first one (timestamps and ``seq`` advance).
- ``skew``: per reading, the sensor's clock is off for ``skew_s`` seconds of readings by a random
  offset of 1-60 s either way plus a fraction of a second (so skewed readings never land on
  another reading's second); ``ts`` is shifted by it.
- ``duplicate``: per message, the message is published twice.
- ``malformed``: per message, an extra malformed message follows it on the same topic (invalid
  JSON, an out-of-range ``laeq`` or a missing ``ts``, each carrying the message's first ``ts``
  or ``seq`` so no two are alike; each is one quarantine entry).

:func:`apply_faults` is the pure form; :class:`FaultInjector` keeps per-sensor state across
calls (the live publisher feeds it one message at a time). Both return a :class:`FaultLog` of
exactly what was done.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields

import msgspec
import numpy as np

from noiselab.errors import ConfigError
from noiselab.sensors_sim.generate import ContractReading, ContractValue

__all__ = [
    "FaultInjector",
    "FaultLog",
    "FaultSettings",
    "Outgoing",
    "Planned",
    "apply_faults",
    "parse_faults",
]

Reading = Mapping[str, ContractValue]
MAX_BATCH = 10_000
MALFORMED_KINDS = ("invalid-json", "laeq-out-of-range", "missing-ts")


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Rates (probabilities, 0..1) and durations (seconds of readings) of each fault."""

    dropout: float = 0.0
    offline: float = 0.0
    stuck: float = 0.0
    skew: float = 0.0
    duplicate: float = 0.0
    malformed: float = 0.0
    offline_s: float = 600.0
    stuck_s: float = 300.0
    skew_s: float = 300.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_s"):
                if not value > 0:
                    raise ConfigError(f"faults: {f.name}={value} must be a positive duration")
            elif not 0.0 <= value <= 1.0:
                raise ConfigError(f"faults: {f.name}={value} must be a rate from 0 to 1")

    @property
    def any(self) -> bool:
        """Whether any fault is switched on."""
        return any(
            getattr(self, n) > 0
            for n in ("dropout", "offline", "stuck", "skew", "duplicate", "malformed")
        )


def parse_faults(text: str) -> FaultSettings:
    """``dropout=0.01,offline=0.0001,duplicate=0.02`` (rates 0..1, and optionally
    ``offline_s``, ``stuck_s``, ``skew_s`` in seconds) into settings; empty means none.
    Raises ``ConfigError`` naming the bad item."""
    known = {f.name for f in fields(FaultSettings)}
    values: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(f"--faults {item!r}: expected NAME=RATE, e.g. dropout=0.01")
        if name not in known:
            raise ConfigError(
                f"--faults {item!r}: unknown fault {name!r}; known: {', '.join(sorted(known))}"
            )
        if name in values:
            raise ConfigError(f"--faults: {name} given twice")
        try:
            values[name] = float(raw)
        except ValueError as exc:
            raise ConfigError(f"--faults {item!r}: {raw.strip()!r} is not a number") from exc
    return FaultSettings(**values)


@dataclass(frozen=True, slots=True)
class Planned:
    """A message the simulator means to send: ``batch`` means a JSON array even of one."""

    sensor_id: str
    readings: tuple[Reading, ...]
    batch: bool = True


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish on the sensor's levels topic."""

    sensor_id: str
    payload: bytes


@dataclass(slots=True)
class FaultLog:
    """What the injector did. Timestamps are the planned ``ts`` of the readings affected."""

    dropped: list[tuple[str, float]] = field(default_factory=list)
    offline_uploads: list[tuple[str, int]] = field(default_factory=list)
    """(sensor, readings) of each batch upload after an offline period."""
    offline_readings: list[tuple[str, float]] = field(default_factory=list)
    stuck: list[tuple[str, float]] = field(default_factory=list)
    skewed: list[tuple[str, float, float]] = field(default_factory=list)
    """(sensor, planned ts, sent ts)."""
    duplicated: int = 0
    malformed: list[tuple[str, str]] = field(default_factory=list)
    """(sensor, kind) of each malformed message."""


@dataclass(slots=True)
class _SensorState:
    rng: np.random.Generator
    offline_left: int = 0
    buffer: list[Reading] = field(default_factory=list)
    stuck_left: int = 0
    stuck_values: tuple[float, float, float] | None = None
    skew_left: int = 0
    skew_offset: float = 0.0


def _readings_for(seconds: float, duration: float) -> int:
    return max(1, round(seconds / duration))


class FaultInjector:
    """Applies :class:`FaultSettings` to a stream of planned messages, per sensor state."""

    def __init__(self, settings: FaultSettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed
        self.log = FaultLog()
        self._state: dict[str, _SensorState] = {}

    def _sensor(self, sensor_id: str) -> _SensorState:
        state = self._state.get(sensor_id)
        if state is None:
            key = zlib.crc32(sensor_id.encode("utf-8"))
            seq = np.random.SeedSequence([self.seed & 0xFFFFFFFF, key, 0xFA017])
            state = self._state[sensor_id] = _SensorState(np.random.default_rng(seq))
        return state

    def feed(self, message: Planned) -> list[Outgoing]:
        """The messages to publish for ``message`` (possibly none, possibly several)."""
        s = self.settings
        if not s.any:
            return [_encode(message.sensor_id, list(message.readings), batch=message.batch)]
        state = self._sensor(message.sensor_id)
        rng = state.rng
        out: list[Outgoing] = []
        sent: list[Reading] = []
        n = len(message.readings)
        # Draw every decision for the message at once, in a fixed order (determinism).
        u_drop, u_off, u_stuck, u_skew = rng.random((4, n))
        u_dup, u_bad = rng.random(2)
        for i, planned in enumerate(message.readings):
            reading = dict(planned)
            duration = _number(reading, "duration", 1.0)
            ts = _number(reading, "ts")
            self._start_periods(state, (u_off[i], u_stuck[i], u_skew[i]), duration)
            self._shape(state, reading, message.sensor_id, ts)
            dropped = u_drop[i] < s.dropout
            if dropped:
                self.log.dropped.append((message.sensor_id, ts))
            if state.offline_left > 0:
                state.offline_left -= 1
                if not dropped:
                    state.buffer.append(reading)
                    self.log.offline_readings.append((message.sensor_id, ts))
                if state.offline_left == 0:
                    if sent:
                        out.append(_encode(message.sensor_id, sent, batch=message.batch))
                        sent = []
                    out.extend(self._upload(message.sensor_id, state))
            elif not dropped:
                sent.append(reading)
        if sent:
            out.append(_encode(message.sensor_id, sent, batch=message.batch))
        if out and u_dup < s.duplicate:
            out.append(out[-1])
            self.log.duplicated += 1
        if u_bad < s.malformed:
            kind = MALFORMED_KINDS[int(rng.integers(len(MALFORMED_KINDS)))]
            out.append(Outgoing(message.sensor_id, _malformed(kind, message)))
            self.log.malformed.append((message.sensor_id, kind))
        return out

    def _start_periods(
        self, state: _SensorState, draws: tuple[float, float, float], duration: float
    ) -> None:
        s = self.settings
        u_off, u_stuck, u_skew = draws
        if state.offline_left == 0 and u_off < s.offline:
            state.offline_left = _readings_for(s.offline_s, duration)
        if state.stuck_left == 0 and u_stuck < s.stuck:
            state.stuck_left = _readings_for(s.stuck_s, duration)
            state.stuck_values = None
        if state.skew_left == 0 and u_skew < s.skew:
            state.skew_left = _readings_for(s.skew_s, duration)
            sign = 1.0 if state.rng.random() < 0.5 else -1.0
            whole = float(state.rng.integers(1, 61))
            state.skew_offset = round(sign * (whole + float(state.rng.uniform(0.2, 0.8))), 3)

    def _shape(
        self, state: _SensorState, reading: ContractReading, sensor_id: str, ts: float
    ) -> None:
        """Stuck levels and skewed clock, in place."""
        if state.stuck_left > 0:
            state.stuck_left -= 1
            if state.stuck_values is None:
                state.stuck_values = (
                    _number(reading, "laeq"),
                    _number(reading, "lafmax", _number(reading, "laeq")),
                    _number(reading, "lafmin", _number(reading, "laeq")),
                )
            else:
                self.log.stuck.append((sensor_id, ts))
            laeq, lafmax, lafmin = state.stuck_values
            reading.update(laeq=laeq, lafmax=lafmax, lafmin=lafmin)
        if state.skew_left > 0:
            state.skew_left -= 1
            reading["ts"] = round(ts + state.skew_offset, 3)
            self.log.skewed.append((sensor_id, ts, _number(reading, "ts")))

    def _upload(self, sensor_id: str, state: _SensorState) -> list[Outgoing]:
        out = [
            _encode(sensor_id, state.buffer[i : i + MAX_BATCH], batch=True)
            for i in range(0, len(state.buffer), MAX_BATCH)
        ]
        if state.buffer:
            self.log.offline_uploads.append((sensor_id, len(state.buffer)))
        state.buffer = []
        return out

    def flush(self) -> list[Outgoing]:
        """Upload what sensors still hold offline (the end of a run: they come back)."""
        out: list[Outgoing] = []
        for sensor_id, state in self._state.items():
            state.offline_left = 0
            out.extend(self._upload(sensor_id, state))
        return out


def _encode(sensor_id: str, readings: Sequence[Reading], *, batch: bool) -> Outgoing:
    body: object = list(readings) if batch or len(readings) != 1 else readings[0]
    return Outgoing(sensor_id, msgspec.json.encode(body))


def _malformed(kind: str, message: Planned) -> bytes:
    ts = _number(message.readings[0], "ts") if message.readings else 0.0
    if kind == "invalid-json":
        return b'{"ts": ' + str(ts).encode() + b', "laeq": 5'
    if kind == "laeq-out-of-range":
        return msgspec.json.encode({"ts": ts, "laeq": 999.0})
    seq = message.readings[0].get("seq", 0) if message.readings else 0
    return msgspec.json.encode({"laeq": 55.0, "seq": seq})


def apply_faults(
    messages: Iterable[Planned], settings: FaultSettings, seed: int
) -> tuple[list[Outgoing], FaultLog]:
    """The messages to publish for the planned ``messages`` and a log of the faults, including
    the final upload of readings still buffered offline. Pure: same arguments, same result."""
    injector = FaultInjector(settings, seed)
    out: list[Outgoing] = []
    for message in messages:
        out.extend(injector.feed(message))
    out.extend(injector.flush())
    return out, injector.log


def _number(reading: Reading, key: str, default: float | None = None) -> float:
    """A numeric field of a contract reading (``default`` when absent)."""
    value = reading.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"reading field {key!r} is not a number: {value!r}")
    return float(value)
