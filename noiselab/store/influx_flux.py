"""The Flux queries of the InfluxDB adapter, as plain text (pure functions, no I/O).

Every query starts from one bucket and a half-open time range ``[start, stop)`` (Flux ``range``
is start-inclusive, stop-exclusive), filters on the measurement, sensors and fields the adapter
writes (:mod:`noiselab.store.influx_lines`), and pivots fields into columns so that each result
row is one point. Strings are quoted with Flux's escapes (see ``flux_string``); times are
RFC 3339 UTC literals with millisecond precision, the store's key resolution.

Reference: Flux language specification and standard library (``range``, ``filter``, ``pivot``,
``group``, ``sort``, ``last``), https://docs.influxdata.com/flux/v0/.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

__all__ = [
    "activity_query",
    "bands_query",
    "flux_string",
    "flux_time",
    "hour_query",
    "minute_query",
    "raw_query",
    "rollup_query",
    "spectra_query",
    "stored_query",
    "weather_query",
]

RAW_FIELDS = ("duration", "laeq", "lafmax", "lafmin")
STORED_FIELDS = (*RAW_FIELDS, "seq")
ROLLUP_FIELDS = ("energy", "hist", "lafmax", "lafmin", "seconds")
WEATHER_COLUMNS = (
    "duration",
    "precipitation",
    "temperature",
    "wind_direction",
    "wind_gust",
    "wind_speed",
)
_ESCAPES = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "$": "\\x24"}
)


def flux_string(text: str) -> str:
    """``text`` as a Flux string literal: double quotes; backslash, quote, newline, carriage
    return and tab escaped; every ``$`` written as the byte escape ``\\x24``.

    A ``$`` cannot stay as it is: before ``{`` it starts an interpolation, and Flux's lexer
    takes the character after any other ``$`` as it stands, so in ``"$\\{"`` or ``"$\\""`` the
    ``$`` swallows the backslash of the escape that follows and the literal breaks (Flux has
    ``\\${`` but no ``\\$``). ``\\x24`` is a plain ``$`` in every position."""
    return '"' + text.translate(_ESCAPES) + '"'


def flux_time(instant: datetime | float) -> str:
    """An RFC 3339 UTC time literal with milliseconds, from an aware datetime or Unix seconds."""
    if isinstance(instant, datetime):
        if instant.tzinfo is None:
            raise ValueError("flux_time needs an aware datetime")
        seconds = instant.timestamp()
    else:
        seconds = float(instant)
    ms = round(seconds * 1000.0)
    whole, frac = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:03d}Z"


def _any_of(column: str, values: Iterable[str]) -> str:
    terms = [f"r.{column} == {flux_string(value)}" for value in values]
    if not terms:
        raise ValueError(f"no {column} values to filter on")
    return " or ".join(terms)


def _points(
    bucket: str,
    measurement: str,
    *,
    sensors: Iterable[str],
    fields: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> list[str]:
    return [
        f"from(bucket: {flux_string(bucket)})",
        f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
        f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
        f"  |> filter(fn: (r) => {_any_of('sensor_id', sensors)})",
        f"  |> filter(fn: (r) => {_any_of('_field', fields)})",
        # One table per sensor whatever its source tag was when each point was written, so a
        # re-registered source cannot split (or duplicate) a sensor's series.
        '  |> group(columns: ["sensor_id", "_field"])',
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
        '  |> group(columns: ["sensor_id"])',
        '  |> sort(columns: ["_time"])',
    ]


def raw_query(
    bucket: str,
    measurement: str,
    sensors: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Raw readings of ``sensors`` with ``start <= ts < stop``: one row per reading with
    ``sensor_id``, ``_time``, ``duration``, ``laeq``, ``lafmax``, ``lafmin`` (absent fields
    empty), sorted by time within each sensor."""
    lines = _points(bucket, measurement, sensors=sensors, fields=RAW_FIELDS, start=start, stop=stop)
    lines.append(
        '  |> keep(columns: ["sensor_id", "_time", "duration", "laeq", "lafmax", "lafmin"])'
    )
    return "\n".join(lines)


def stored_query(
    bucket: str,
    measurement: str,
    sensors: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Every field of the stored readings (measurement ``noise``) of ``sensors`` with
    ``start <= ts < stop``, for comparing a batch with what is stored: ``raw_query``'s
    columns and ``seq``."""
    lines = _points(
        bucket, measurement, sensors=sensors, fields=STORED_FIELDS, start=start, stop=stop
    )
    lines.append(
        '  |> keep(columns: ["sensor_id", "_time", "duration", "laeq", "lafmax", "lafmin", "seq"])'
    )
    return "\n".join(lines)


def spectra_query(
    bucket: str,
    measurement: str,
    sensors: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """The stored spectra (measurement ``noise_spectrum``, every field: ``lz_<centre>``,
    ``e_<centre>``, ``duration``) of ``sensors`` with ``start <= ts < stop``, one row each."""
    return "\n".join(
        [
            f"from(bucket: {flux_string(bucket)})",
            f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
            f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
            f"  |> filter(fn: (r) => {_any_of('sensor_id', sensors)})",
            '  |> group(columns: ["sensor_id", "_field"])',
            '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
            '  |> group(columns: ["sensor_id"])',
            '  |> sort(columns: ["_time"])',
        ]
    )


def rollup_query(
    bucket: str,
    measurement: str,
    sensors: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Roll-up cells (``noise_1m`` minutes or ``noise_1h`` hours) of ``sensors`` starting in
    ``[start, stop)``: one row per cell with ``sensor_id``, ``_time``, ``energy``, ``seconds``,
    ``lafmax``, ``lafmin`` and ``hist`` (absent fields empty), sorted by time within each
    sensor. Cells with zero seconds (emptied, see :mod:`noiselab.store.influx`) are included."""
    lines = _points(
        bucket, measurement, sensors=sensors, fields=ROLLUP_FIELDS, start=start, stop=stop
    )
    lines.append(
        '  |> keep(columns: ["sensor_id", "_time", "energy", "seconds", "lafmax", "lafmin",'
        ' "hist"])'
    )
    return "\n".join(lines)


def minute_query(
    bucket: str,
    measurement: str,
    sensor_id: str,
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Per-minute roll-up points of one sensor for minutes starting in ``[start, stop)``: one row
    per minute with ``energy``, ``seconds``, ``lafmax``, ``lafmin`` and ``hist``."""
    return rollup_query(bucket, measurement, [sensor_id], start, stop)


def hour_query(
    bucket: str,
    measurement: str,
    sensor_id: str,
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Hourly roll-up points of one sensor for UTC hours starting in ``[start, stop)``, with the
    same columns as ``minute_query``."""
    return rollup_query(bucket, measurement, [sensor_id], start, stop)


def activity_query(bucket: str, measurement: str) -> str:
    """Activity of every sensor, as two results: ``latest_ts`` rows hold the end of the sensor's
    latest reading (``_value``, Unix s, the maximum ever written, since late data may arrive
    after newer data) and ``received`` rows the time the last batch with its data was written
    (``_time``)."""
    return "\n".join(
        [
            f"data = from(bucket: {flux_string(bucket)})",
            "  |> range(start: 0)",
            f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
            '  |> filter(fn: (r) => r._field == "last_ts")',
            '  |> group(columns: ["sensor_id"])',
            'data |> max() |> keep(columns: ["sensor_id", "_time", "_value"])'
            ' |> yield(name: "latest_ts")',
            'data |> last() |> keep(columns: ["sensor_id", "_time", "_value"])'
            ' |> yield(name: "received")',
        ]
    )


def bands_query(
    bucket: str,
    measurement: str,
    sensor_id: str,
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Hourly sums of the band energies ``e_<centre>`` and of ``duration`` of one sensor's
    spectra: one row per UTC hour (``_time`` its start) with a column per field."""
    return "\n".join(
        [
            'import "strings"',
            "",
            f"from(bucket: {flux_string(bucket)})",
            f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
            f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
            f"  |> filter(fn: (r) => r.sensor_id == {flux_string(sensor_id)})",
            '  |> filter(fn: (r) => r._field == "duration"'
            ' or strings.hasPrefix(v: r._field, prefix: "e_"))',
            '  |> group(columns: ["sensor_id", "_field"])',
            '  |> aggregateWindow(every: 1h, fn: sum, createEmpty: false, timeSrc: "_start")',
            '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
            '  |> group(columns: ["sensor_id"])',
            '  |> sort(columns: ["_time"])',
        ]
    )


def weather_query(
    bucket: str,
    measurement: str,
    stations: Iterable[str],
    start: datetime | float,
    stop: datetime | float,
) -> str:
    """Weather observations (measurement ``weather``) of ``stations`` with
    ``start <= ts < stop``: one row per observation with ``station_id``, ``_time``,
    ``duration`` and the measured values (empty when not observed), sorted by time within
    each station."""
    columns = ", ".join(flux_string(c) for c in ("station_id", "_time", *WEATHER_COLUMNS))
    return "\n".join(
        [
            f"from(bucket: {flux_string(bucket)})",
            f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
            f"  |> filter(fn: (r) => r._measurement == {flux_string(measurement)})",
            f"  |> filter(fn: (r) => {_any_of('station_id', stations)})",
            '  |> group(columns: ["station_id", "_field"])',
            '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
            '  |> group(columns: ["station_id"])',
            '  |> sort(columns: ["_time"])',
            f"  |> keep(columns: [{columns}])",
        ]
    )
