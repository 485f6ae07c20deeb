"""Response models of ``/healthz`` (anyone) and ``/api/v1/health`` (staff: the stores' detail)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example

__all__ = ["HealthDetailOut", "HealthOut", "SensorDiskOut"]


class HealthOut(Out):
    """The service and the databases behind it answer."""

    model_config = with_example(status="ok")

    status: Literal["ok"]


class SensorDiskOut(Out):
    """One sensor's share of the time-series store on disk."""

    model_config = with_example(sensor_id="kbm-25m", disk_bytes=48_210_944)

    sensor_id: str
    disk_bytes: int | None = Field(
        description="Bytes this sensor's data takes in the SQLite file: its share of the pages"
        " of each table by its rows there (raw readings, minute, hour and day roll-ups), plus"
        " its compacted chunks by their size. Null for an InfluxDB store."
    )


class HealthDetailOut(Out):
    """The service and its databases answer; what the time-series store holds on disk."""

    model_config = with_example(
        status="ok",
        store="sqlite",
        disk_bytes=96_421_888,
        disk_measured_at="2026-03-03T09:15:00Z",
        sensors=[
            {"sensor_id": "kbm-25m", "disk_bytes": 48_210_944},
            {"sensor_id": "kbm-50m", "disk_bytes": 48_210_944},
        ],
    )

    status: Literal["ok"]
    store: Literal["sqlite", "influxdb"] = Field(description="The kind of time-series store.")
    disk_bytes: int | None = Field(
        description="The sensors' disk_bytes summed: the data in the SQLite file, without its"
        " free pages and write-ahead log. Null for an InfluxDB store (it manages and"
        " compresses its own storage)."
    )
    disk_measured_at: UtcTime | None = Field(
        description="When the disk figures were measured: measuring reads every page of the"
        " file, so they are kept for 5 minutes. Null for an InfluxDB store."
    )
    sensors: list[SensorDiskOut] = Field(
        description="Every sensor with data in the store, by id (for InfluxDB: with"
        " disk_bytes null)."
    )
