"""``support.influx_fake.FakeInflux`` served over a real socket, with the InfluxDB 2 endpoints
``noiselab doctor`` uses besides write and query:

- ``GET /health``: ``{"status": "pass"}`` (``ready=False``: 503 ``"fail"``, as while starting);
- ``GET /api/v2/buckets?org=&name=``: the fake's bucket in org ``org`` (404 for another org, an
  empty list for another name, as InfluxDB answers);
- ``POST /api/v2/delete?org=&bucket=``: removes the points whose tag matches a predicate
  ``tag="value"`` within ``[start, stop)``, 204 (``refuse_delete``: 403);
- the activity query of the adapter (``noiselab.store.influx_flux.activity_query``), which
  the fake does not interpret: answered from the stored ``noise_activity`` points with each
  sensor's maximum ``last_ts`` (result ``latest_ts``) and its latest point (``received``).

Every request must carry ``Authorization: Token TOKEN`` (401 otherwise, as InfluxDB answers).
What this is not: the real server (see ``influx_fake``'s docstring); the live suite runs the
adapter against a real InfluxDB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from support.http_fake import Answer, RecordingServer, Request
from support.influx_fake import CSV_TYPE, FakeInflux

ORG = "vallensbaek"
TOKEN = "doctor-token"
_PREDICATE = re.compile(r'^\s*(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')


@dataclass
class InfluxServer:
    """The served fake and its switches."""

    fake: FakeInflux
    server: RecordingServer
    ready: bool = True
    refuse_delete: bool = False

    @property
    def url(self) -> str:
        return self.server.url

    def respond(self, request: Request) -> Answer:
        if request.path == "/health":
            status = "pass" if self.ready else "fail"
            body = {
                "name": "influxdb",
                "status": status,
                "message": "ready for queries and writes",
                "version": "v2.7-fake",
            }
            return _json(200 if self.ready else 503, body)
        if request.headers.get("authorization") != f"Token {TOKEN}":
            return _json(401, {"code": "unauthorized", "message": "unauthorized access"})
        if request.path == "/api/v2/buckets":
            return self._buckets(request)
        if request.path == "/api/v2/delete":
            return self._delete(request)
        if request.path == "/api/v2/query" and b"latest_ts" in request.body:
            return self._activity()
        return self.fake.respond(request)

    def _buckets(self, request: Request) -> Answer:
        if request.query.get("org") != ORG:
            org = request.query.get("org")
            return _json(
                404, {"code": "not found", "message": f'organization name "{org}" not found'}
            )
        found = [{"name": self.fake.bucket, "retentionRules": []}]
        if request.query.get("name") not in (None, self.fake.bucket):
            found = []
        return _json(200, {"buckets": found})

    def _delete(self, request: Request) -> Answer:
        if self.refuse_delete:
            return _json(
                403, {"code": "forbidden", "message": "insufficient permissions for delete"}
            )
        if request.query.get("bucket") != self.fake.bucket:
            return _json(404, {"code": "not found", "message": "bucket not found"})
        body = json.loads(request.body)
        match = _PREDICATE.match(body["predicate"])
        if match is None:
            return _json(400, {"code": "invalid", "message": "predicate not interpreted"})
        tag, value = match[1], match[2]
        start, stop = _ns(body["start"]), _ns(body["stop"])
        self.fake.log = [
            [p for p in batch if not (p.tags.get(tag) == value and start <= p.ts_ns < stop)]
            for batch in self.fake.log
        ]
        return Answer(204)

    def _activity(self) -> Answer:
        rows = [
            "#datatype,string,long,string,dateTime:RFC3339,double",
            "#group,false,false,true,false,false",
            "#default,,,,,",
            ",result,table,sensor_id,_time,_value",
        ]
        by_sensor: dict[str, list[tuple[int, float]]] = {}
        for point in self.fake.points("noise_activity"):
            by_sensor.setdefault(point.tags["sensor_id"], []).append(
                (point.ts_ns, point.fields["last_ts"])
            )
        for table, (sensor, points) in enumerate(sorted(by_sensor.items())):
            latest = max(points, key=lambda p: p[1])
            newest = max(points)
            for result, (ts_ns, value) in (("latest_ts", latest), ("received", newest)):
                rows.append(f",{result},{table},{sensor},{_rfc3339(ts_ns)},{value!r}")
        return Answer(200, ("\r\n".join(rows) + "\r\n\r\n").encode(), CSV_TYPE)


def _rfc3339(ts_ns: int) -> str:
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ns:09d}Z"


def _ns(text: str) -> int:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(when.timestamp() * 1e9)


def _json(status: int, body: object) -> Answer:
    return Answer(status, json.dumps(body).encode())


@contextmanager
def influx_server(bucket: str = "noise") -> Iterator[InfluxServer]:
    """A served fake InfluxDB with ``bucket`` in org ``ORG``; closed afterwards."""
    served = InfluxServer(FakeInflux(bucket=bucket), RecordingServer())
    served.server.responder = served.respond
    try:
        yield served
    finally:
        served.server.close()
