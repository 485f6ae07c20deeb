"""The InfluxDB checks: health, the bucket, and a probe written and read back through the
store's own adapter (:mod:`noiselab.store.influx`), then deleted.

The probe is one minute of 1-s readings (alternately 50 and 60 dB, so the minute's LAeq is
``10·log10((10^5 + 10^6) / 2)`` = 57.40 dB) of the sensor ``_doctor-<random>``, starting two
whole minutes before now. The adapter writes them with their ``noise_activity`` point and the
``noise_1m`` and ``noise_1h`` roll-ups, and the check reads them back with the Flux queries the
API runs: the raw series, 1-minute levels (from ``noise_1m``), 1-hour levels (from
``noise_1h``) and every sensor's activity. ``_doctor-…`` can never be a registered sensor id
(ids start with a letter or digit), so the API, which reads only registered sensors, never shows
it. Afterwards the probe is removed with InfluxDB's delete API (predicate
``sensor_id="_doctor-…"``, every measurement) and a last query checks that nothing of it is
left; if that fails, the report prints the ``influx delete`` command that removes it.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from noiselab.analysis.decibels import energy, level_from_energy
from noiselab.doctor.check import CheckFailed, CheckSkipped, Step
from noiselab.doctor.http import HttpService, json_object
from noiselab.errors import NoiselabError, StoreUnavailable
from noiselab.model import Reading
from noiselab.store.influx_flux import flux_string, flux_time

if TYPE_CHECKING:
    from noiselab.store.influx import InfluxStore

__all__ = ["PROBE_PREFIX", "InfluxTarget", "influx_steps", "probe_readings"]

PROBE_PREFIX = "_doctor-"
"""The start of the probe sensor's id: no registered sensor id can start with ``_``."""
PROBE_LEVELS = (50.0, 60.0)
TOLERANCE_DB = 0.01

REACH_FIX = (
    "is InfluxDB running and reachable there? check the host and port in --store"
    " (NOISELAB_STORE); in the compose stack: docker compose ps influxdb"
)
TOKEN_FIX = (  # advice about the token, not one
    "check the token in NOISELAB_INFLUX_TOKEN (INFLUXDB_TOKEN in .env): it must be an API token"  # noqa: S105
    " of the org with read and write access to the bucket"
)
BUCKET_FIX = (
    "check org= and bucket= in --store (NOISELAB_STORE; INFLUXDB_ORG and INFLUXDB_BUCKET in .env)"
    " or create the bucket: influx bucket create --org ORG --name BUCKET"
)
QUERY_FIX = (
    "InfluxDB took the probe but answered the adapter's Flux differently than expected: check"
    " that it is InfluxDB 2.x (compose pins influxdb:2.9) and read its log"
)


@dataclass(frozen=True, slots=True)
class InfluxTarget:
    """Where the store is: ``http://host:port``, the org, the bucket and the API token."""

    url: str
    org: str
    bucket: str
    token: str


def probe_readings(sensor_id: str, start_s: float) -> list[Reading]:
    """One minute of 1-s readings from ``start_s`` (Unix s), alternately 50 and 60 dB."""
    return [
        Reading(
            sensor_id=sensor_id,
            ts=start_s + second,
            laeq=PROBE_LEVELS[second % 2],
            lafmax=PROBE_LEVELS[second % 2] + 3.0,
        )
        for second in range(60)
    ]


def expected_laeq() -> float:
    """The probe minute's LAeq, dB: the energetic mean of its equal halves."""
    halves = energy(PROBE_LEVELS, [30.0] * len(PROBE_LEVELS))
    return level_from_energy(float(halves.sum()), 60.0)


def influx_steps(target: InfluxTarget, timeout_s: float) -> list[Step]:
    """``influxdb health``, ``influxdb bucket``, ``influxdb probe`` and ``influxdb cleanup``."""
    check = _InfluxCheck(target, timeout_s)
    return [
        Step("influxdb health", check.health),
        Step("influxdb bucket", check.bucket, requires=("influxdb health",)),
        Step("influxdb probe", check.probe, requires=("influxdb bucket",)),
        Step("influxdb cleanup", check.cleanup, requires=("influxdb bucket",)),
    ]


class _InfluxCheck:
    def __init__(self, target: InfluxTarget, timeout_s: float) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self.sensor_id = PROBE_PREFIX + secrets.token_hex(6)
        self.written_from: float | None = None
        """The start (Unix s) of the range the probe may occupy, once a write was tried."""

    def _service(self) -> HttpService:
        return HttpService(
            self.target.url,
            what="InfluxDB",
            reach_fix=REACH_FIX,
            timeout_s=self.timeout_s,
            headers={"Authorization": f"Token {self.target.token}"},
        )

    def health(self) -> str:
        service = self._service()
        try:
            response = service.request("GET", "/health")
        finally:
            service.close()
        body = json_object(response, "GET /health", REACH_FIX)
        if response.status_code != 200 or body.get("status") != "pass":
            raise CheckFailed(
                f"InfluxDB at {self.target.url} is not ready: HTTP {response.status_code}"
                f" {body.get('message', '')}".rstrip(),
                "read InfluxDB's log (docker compose logs influxdb); it may still be starting",
            )
        return f"{self.target.url}: {body.get('message', 'ready')} ({body.get('version', '?')})"

    def bucket(self) -> str:
        service = self._service()
        try:
            response = service.request(
                "GET",
                "/api/v2/buckets",
                params={"org": self.target.org, "name": self.target.bucket},
            )
        finally:
            service.close()
        body = json_object(response, "GET /api/v2/buckets", REACH_FIX)
        message = body.get("message", "")
        if response.status_code in (401, 403):
            raise CheckFailed(f"InfluxDB refused the token: {message}", TOKEN_FIX)
        if response.status_code == 404:
            raise CheckFailed(f"InfluxDB: {message}", BUCKET_FIX)
        if response.status_code != 200:
            raise CheckFailed(
                f"GET /api/v2/buckets: HTTP {response.status_code} {message}", REACH_FIX
            )
        found = [b for b in body.get("buckets", []) if b.get("name") == self.target.bucket]
        if not found:
            raise CheckFailed(
                f'no bucket "{self.target.bucket}" in org "{self.target.org}"', BUCKET_FIX
            )
        rules = found[0].get("retentionRules") or []
        seconds = rules[0].get("everySeconds", 0) if rules else 0
        kept = f"retention {seconds / 86400:g} days" if seconds else "kept forever"
        return f'bucket "{self.target.bucket}" in org "{self.target.org}", {kept}'

    def probe(self) -> str:
        from noiselab.store.influx import InfluxStore

        now = time.time()
        start_s = math.floor(now / 60.0) * 60.0 - 120.0
        self.written_from = math.floor(start_s / 3600.0) * 3600.0
        readings = probe_readings(self.sensor_id, start_s)
        store = InfluxStore(
            url=self.target.url,
            token=self.target.token,
            org=self.target.org,
            bucket=self.target.bucket,
            timeout_s=self.timeout_s,
        )
        try:
            store.write(readings, received_at=now)
            return self._read_back(store, start_s)
        except NoiselabError as exc:
            fix = REACH_FIX if isinstance(exc, StoreUnavailable) else TOKEN_FIX
            raise CheckFailed(str(exc), fix) from exc
        finally:
            store.close()

    def _read_back(self, store: InfluxStore, start_s: float) -> str:
        start = datetime.fromtimestamp(start_s, UTC)
        minute_end = start + timedelta(minutes=1)
        hour = start.replace(minute=0)
        want = expected_laeq()
        series = store.series(self.sensor_id, start, minute_end)
        if series.ts.size != 60:
            raise CheckFailed(f"wrote 60 probe readings, read back {series.ts.size}", QUERY_FIX)
        minutes = store.levels(self.sensor_id, start, minute_end, "1m")
        hours = store.levels(self.sensor_id, hour, hour + timedelta(hours=1), "1h")
        for every, points in (("1m", minutes), ("1h", hours)):
            if len(points) != 1 or not abs(points[0].laeq - want) <= TOLERANCE_DB:
                got = [round(p.laeq, 2) for p in points]
                raise CheckFailed(
                    f"{every} levels of the probe: {got}, expected [{want:.2f}]", QUERY_FIX
                )
        seen = [a for a in store.activity() if a.sensor_id == self.sensor_id]
        if not seen or seen[0].last_ts != start_s + 60.0:
            raise CheckFailed(f"the probe's activity is {seen}, expected its end", QUERY_FIX)
        return (
            f"{self.sensor_id}: 60 readings written and read back; 1m and 1h roll-ups"
            f" {want:.2f} dB as expected; activity seen"
        )

    def cleanup(self) -> str:
        if self.written_from is None:
            raise CheckSkipped("no probe was written")
        start = datetime.fromtimestamp(self.written_from - 3600.0, UTC)
        stop = datetime.fromtimestamp(time.time() + 3600.0, UTC)
        predicate = f"sensor_id={flux_string(self.sensor_id)}"
        manual = (
            f"remove the probe by hand: influx delete --org {self.target.org} --bucket"
            f" {self.target.bucket} --start {flux_time(start)} --stop {flux_time(stop)}"
            f" --predicate '{predicate}'"
        )
        service = self._service()
        try:
            response = service.request(
                "POST",
                "/api/v2/delete",
                params={"org": self.target.org, "bucket": self.target.bucket},
                json={"start": flux_time(start), "stop": flux_time(stop), "predicate": predicate},
            )
            if response.status_code != 204:
                raise CheckFailed(
                    f"InfluxDB refused to delete the probe: HTTP {response.status_code}"
                    f" {response.text[:200]}",
                    manual,
                )
            left = self._left(service, start, stop)
        except CheckFailed as exc:
            raise CheckFailed(exc.detail, manual) from exc
        finally:
            service.close()
        if left:
            raise CheckFailed(f"the probe {self.sensor_id} is still in the bucket", manual)
        return f"{self.sensor_id} deleted from every measurement; nothing of it left"

    def _left(self, service: HttpService, start: datetime, stop: datetime) -> bool:
        """Whether any point of the probe sensor is still in the bucket."""
        flux = "\n".join(
            [
                f"from(bucket: {flux_string(self.target.bucket)})",
                f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
                f"  |> filter(fn: (r) => r.sensor_id == {flux_string(self.sensor_id)})",
            ]
        )
        response = service.request(
            "POST",
            "/api/v2/query",
            params={"org": self.target.org},
            json={"query": flux, "type": "flux"},
            headers={"Accept": "application/csv"},
        )
        if response.status_code != 200:
            raise CheckFailed(
                f"cannot query for what is left of the probe: HTTP {response.status_code}"
                f" {response.text[:200]}",
                QUERY_FIX,
            )
        return bool(response.text.strip())
