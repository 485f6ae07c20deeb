"""Publishes simulated readings over MQTT, as real Living Lab sensors would.

Readings come from the physical model (:mod:`noiselab.sensors_sim.generate`), so the same seed
gives the same data whether it is backfilled or published live. Backfill first (a sensor
uploading what it buffered: JSON arrays of ``batch`` readings, sensors interleaved, one UTC day
of arrays per sensor in memory), then live readings every ``1/rate_hz`` seconds, one message
per sensor, with interval starts on the ``1/rate_hz`` grid so backfill and live data meet
without a gap or an overlap. Faults (:mod:`.faults`, off by default) transform the planned
messages before they are published. Each sensor's status topic carries a retained ``online``
and, as the MQTT will, ``offline``.

With ``weather`` the noise model adds the wind and rain noise of the simulated weather station
(:mod:`.weather`), and the station's per-minute observations are published on
``{prefix}/vb-weather/weather``: the backfill's first, a UTC day per message, then each minute
once it has ended (faults are not applied to them).

Each sensor also publishes a nightly calibrator-tone check
(:mod:`.tone_checks`) on ``{prefix}/{sensor_id}/calibration``: the backfill's after its
readings, then each as its time passes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import paho.mqtt.client as mqtt

from noiselab.config import MqttUrl
from noiselab.logs import event
from noiselab.mqtt import new_client, stop_client
from noiselab.sensors_sim import weather as sim_weather
from noiselab.sensors_sim.faults import FaultInjector, FaultSettings, Outgoing, Planned
from noiselab.sensors_sim.generate import (
    DAY_S,
    ContractReading,
    Generated,
    Weather,
    generate,
    generate_chunks,
    readings,
)
from noiselab.sensors_sim.site_specs import Barrier, Site
from noiselab.sensors_sim.sites import default_sites
from noiselab.sensors_sim.tone_checks import next_check, tone_messages

__all__ = ["Simulator", "SimulatorSettings", "barrier_for", "plan_backfill"]

log = logging.getLogger("noiselab.simulate")


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """What to simulate. Times in Unix seconds; ``rate_hz`` readings per second per sensor.

    ``start`` overrides the backfill start (default: ``backfill_s`` before now). The treated
    site of a trial pair gets its barrier at ``barrier_at`` (default: the middle of the
    backfill, or the start of live publishing without one)."""

    mqtt: MqttUrl
    sensors: Sequence[Site] = field(default_factory=default_sites)
    rate_hz: float = 1.0
    backfill_s: float = 0.0
    start: float | None = None
    live: bool = True
    seed: int = 0
    topic_prefix: str = "noiselab"
    batch: int = 600
    client_id: str = "noiselab-simulator"
    faults: FaultSettings = field(default_factory=FaultSettings)
    barrier_at: float | None = None
    progress: bool = False
    spectra: bool = False
    weather: bool = False
    """Simulate the weather station ``vb-weather``: its wind and rain noise in the readings,
    and its observations published."""
    tone_checks: bool = True
    """Publish the nightly calibrator-tone checks (:mod:`.tone_checks`)."""
    drift_at: float | None = None
    """When the drifting demo sensor starts to read high (default: the middle of the
    backfill; no drift without one)."""


def barrier_for(site: Site, installed_at: float) -> Barrier | None:
    """The barrier of ``site`` (a trial's treated site) installed at ``installed_at``."""
    if site.role != "treated" or site.insertion_loss_db is None:
        return None
    return Barrier(
        installed_at=installed_at,
        insertion_loss_db=site.insertion_loss_db,
        band_il_db=site.band_il_db,
    )


def plan_backfill(
    sites: Sequence[Site],
    start: float,
    end: float,
    *,
    seed: int,
    rate_hz: float = 1.0,
    batch: int = 600,
    barrier_at: float | None = None,
    spectra: bool = False,
    weather: Weather | None = None,
) -> Iterator[Planned]:
    """The backfill of ``[start, end)`` as batch messages of up to ``batch`` readings, one UTC
    day at a time with sensors interleaved batch by batch; ``seq`` counts from 0 per sensor.
    ``weather`` adds its wind and rain noise (``generate``)."""
    installed = start + (end - start) / 2 if barrier_at is None else barrier_at
    chunks = [
        generate_chunks(
            s,
            start,
            end,
            seed,
            rate_hz=rate_hz,
            barrier=barrier_for(s, installed),
            spectra=spectra,
            weather=weather,
        )
        for s in sites
    ]
    seq = [0] * len(sites)
    while True:
        days = [next(it, None) for it in chunks]
        if all(g is None for g in days):
            return
        rows = []
        for k, g in enumerate(days):
            rows.append([] if g is None else readings(g, rate_hz=rate_hz, first_seq=seq[k]))
            seq[k] += len(rows[-1])
        longest = max(len(r) for r in rows)
        for offset in range(0, longest, batch):
            for site, r in zip(sites, rows, strict=True):
                part = r[offset : offset + batch]
                if part:
                    yield Planned(site.id, tuple(part), batch=True)


class _Progress:
    """A rich progress bar on a terminal, else a log line every 10 %."""

    def __init__(self, total: int, *, bar: bool) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._next_log = 0.1
        self._bar = None
        if bar:
            from rich.progress import Progress

            self._bar = Progress(transient=False)
            self._task = self._bar.add_task("backfill", total=self.total)
            self._bar.start()

    def advance(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
        elif self.done / self.total >= self._next_log:
            event(log, "backfill progress", percent=round(100 * self.done / self.total))
            while self._next_log <= self.done / self.total:
                self._next_log += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


class Simulator:
    """Connects, backfills, then publishes live until ``request_stop``."""

    def __init__(self, settings: SimulatorSettings) -> None:
        if not settings.sensors:
            raise ValueError("no sensors to simulate")
        self.settings = settings
        self._stop = threading.Event()
        self._faults = FaultInjector(settings.faults, settings.seed)
        self.published = 0
        self.tone_checks_published = 0
        self._drift_at: float | None = settings.drift_at
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.settings.mqtt, self.settings.client_id)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        # One will per connection, so the simulator's will marks its first sensor offline;
        # the others are marked offline explicitly on a clean stop.
        first = self.settings.sensors[0].id
        client.will_set(self._status_topic(first), b'{"state":"offline"}', qos=1, retain=True)
        return client

    def _status_topic(self, sensor_id: str) -> str:
        return f"{self.settings.topic_prefix}/{sensor_id}/status"

    def _levels_topic(self, sensor_id: str) -> str:
        return f"{self.settings.topic_prefix}/{sensor_id}/levels"

    def _publish_weather(self, start: float, end: float) -> mqtt.MQTTMessageInfo | None:
        """The station's observations of the minutes starting in ``[start, end)``, as one
        message (``None`` when there are none)."""
        found = sim_weather.observations(self.settings.seed, start, end)
        if not found:
            return None
        topic = f"{self.settings.topic_prefix}/{sim_weather.STATION_ID}/weather"
        return self._client.publish(topic, msgspec.json.encode(found), qos=1)

    def request_stop(self) -> None:
        """Stop publishing after the current message."""
        self._stop.set()

    def run(self) -> None:
        """Backfill, then publish live (if enabled) until stopped."""
        s = self.settings
        self._client.connect(s.mqtt.host, s.mqtt.port, keepalive=30)
        self._client.loop_start()
        try:
            self._set_status("online")
            step = 1.0 / s.rate_hz
            live_start = math.floor(time.time() / step) * step
            if s.start is None:
                start, end = live_start - s.backfill_s, live_start
            else:
                start = math.floor(s.start / step) * step
                end = min(live_start, start + s.backfill_s) if s.backfill_s > 0 else live_start
            barrier_at = s.barrier_at
            if barrier_at is None:
                barrier_at = start + (end - start) / 2 if end > start else live_start
            if self._drift_at is None and end > start:
                self._drift_at = start + (end - start) / 2
            if end > start:
                self._backfill(start, end, barrier_at)
                self._publish_tone_checks(start, end)
            if s.live:
                self._live(live_start, barrier_at, seq_origin=start)
        finally:
            for out in self._faults.flush():
                self._publish(out)
            self._set_status("offline")
            stop_client(self._client)
            event(log, "simulator stopped", published=self.published)

    def _set_status(self, state: str) -> None:
        for sensor in self.settings.sensors:
            body = msgspec.json.encode({"state": state, "ts": time.time()})
            self._client.publish(self._status_topic(sensor.id), body, qos=1, retain=True)

    def _publish(self, message: Outgoing) -> mqtt.MQTTMessageInfo:
        info = self._client.publish(self._levels_topic(message.sensor_id), message.payload, qos=1)
        self.published += 1
        return info

    def _publish_tone_checks(self, start: float, end: float) -> None:
        """Publish the checks of ``[start, end)`` (all sensors), waiting for the broker."""
        s = self.settings
        if not s.tone_checks:
            return
        ids = [site.id for site in s.sensors]
        messages = tone_messages(ids, start, end, seed=s.seed, drift_at=self._drift_at)
        infos = [
            self._client.publish(f"{s.topic_prefix}/{m.sensor_id}/calibration", m.payload, qos=1)
            for m in messages
        ]
        for info in infos:
            info.wait_for_publish(30)
        self.tone_checks_published += len(messages)

    def _backfill(self, start: float, end: float, barrier_at: float) -> None:
        """Publish ``[start, end)`` in batches, sensors interleaved, waiting for the broker."""
        s = self.settings
        step = 1.0 / s.rate_hz
        total = round((end - start) / step) * len(s.sensors)
        event(log, "backfill started", sensors=len(s.sensors), readings=total, start=start)
        progress = _Progress(total, bar=s.progress)
        pending: list[mqtt.MQTTMessageInfo] = []
        weather = None
        if s.weather:
            weather = sim_weather.weather_between(s.seed, start, end)
            for day in range(math.floor(start / DAY_S), math.ceil(end / DAY_S)):
                first, last = max(start, day * float(DAY_S)), min(end, (day + 1) * float(DAY_S))
                info = self._publish_weather(first, last)
                if info is not None:
                    pending.append(info)
        try:
            plan = plan_backfill(
                s.sensors,
                start,
                end,
                seed=s.seed,
                rate_hz=s.rate_hz,
                batch=s.batch,
                barrier_at=barrier_at,
                spectra=s.spectra,
                weather=weather,
            )
            for planned in plan:
                if self._stop.is_set():
                    return
                pending.extend(self._publish(out) for out in self._faults.feed(planned))
                progress.advance(len(planned.readings))
                if len(pending) > 2000:
                    for info in pending:
                        info.wait_for_publish(30)
                    pending.clear()
            for info in pending:
                info.wait_for_publish(30)
        finally:
            progress.close()
        event(log, "backfill done", readings=total)

    def _live(self, start: float, barrier_at: float, seq_origin: float) -> None:
        s = self.settings
        step = 1.0 / s.rate_hz
        days = _LiveDays(s, barrier_at)
        t = start
        minute = math.floor(start / 60.0) * 60.0  # the next weather minute to publish
        tone_due = next_check(start - 1)
        while not self._stop.is_set():
            # An interval is published once it has ended; a late loop catches up in one go.
            wait = t + step - time.time()
            if wait > 0 and self._stop.wait(wait):
                return
            end = max(t + step, math.floor(time.time() / step) * step)
            first_seq = round((t - seq_origin) / step)
            for site in s.sensors:
                for row in days.rows(site, t, end, first_seq):
                    for out in self._faults.feed(Planned(site.id, (row,), batch=False)):
                        self._publish(out)
            if s.weather and minute + 60.0 <= end:
                done = math.floor(end / 60.0) * 60.0
                self._publish_weather(minute, done)
                minute = done
            if end > tone_due:
                self._publish_tone_checks(tone_due, end)
                tone_due = next_check(end - 1)
            t = end


class _LiveDays:
    """The current UTC day of every sensor's readings, generated once per day (the model works
    in whole days), so live publishing costs a slice per second. Holds four float arrays per
    sensor (about 2.8 MB each at 1 Hz)."""

    def __init__(self, settings: SimulatorSettings, barrier_at: float) -> None:
        self.settings = settings
        self.barrier_at = barrier_at
        self._days: dict[str, tuple[int, Generated]] = {}
        self._weather: tuple[int, Weather | None] = (-1, None)

    def _day_weather(self, day: int) -> Weather | None:
        if not self.settings.weather:
            return None
        if self._weather[0] != day:
            start = day * float(DAY_S)
            self._weather = (day, sim_weather.weather_between(self.settings.seed, start, start))
        return self._weather[1]

    def _day(self, site: Site, day: int) -> Generated:
        cached = self._days.get(site.id)
        if cached is None or cached[0] != day:
            s = self.settings
            g = generate(
                site,
                day * float(DAY_S),
                (day + 1) * float(DAY_S),
                s.seed,
                rate_hz=s.rate_hz,
                barrier=barrier_for(site, self.barrier_at),
                spectra=s.spectra,
                weather=self._day_weather(day),
            )
            cached = self._days[site.id] = (day, g)
        return cached[1]

    def rows(self, site: Site, start: float, end: float, first_seq: int) -> list[ContractReading]:
        """The readings of ``site`` in ``[start, end)`` as contract objects."""
        rate = self.settings.rate_hz
        out: list[ContractReading] = []
        t = start
        while t < end:
            day = int(t // DAY_S)
            stop = min(end, (day + 1) * float(DAY_S))
            g = self._day(site, day)
            i, j = (int(k) for k in np.searchsorted(g.ts, [t, stop]))
            part = Generated(**{f: _cut(getattr(g, f), g.ts.size, i, j) for f in _FIELDS})
            out.extend(readings(part, rate_hz=rate, first_seq=first_seq + len(out)))
            t = stop
        return out


_FIELDS = tuple(Generated.__dataclass_fields__)


def _cut(value: Any, n: int, i: int, j: int) -> Any:
    """Rows ``i:j`` of a per-interval array; other arrays (train events) emptied; ``None``
    (optional outputs) kept."""
    if isinstance(value, np.ndarray):
        return value[i:j] if value.shape[:1] == (n,) else value[:0]
    return value
