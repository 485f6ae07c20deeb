"""Readings as InfluxDB line protocol: the exact bytes the InfluxDB adapter writes.

One reading becomes one point of measurement ``noise``::

    noise,sensor_id=kbm-25m,source=road duration=1.0,energy=1737800.8287493763,laeq=62.4,
        lafmax=66.0,lafmin=58.1,seq=1042i 1795600800000

(one line, wrapped here)

- tags ``sensor_id`` and ``source`` (``unknown`` when the registry does not say), sorted by key
  as InfluxDB recommends;
- fields ``laeq``, ``lafmax``, ``lafmin`` (dB, absent when the reading has none), ``duration``
  (s), ``seq`` (integer, when sent) and the linear **energy** ``duration·10^(laeq/10)`` (s, in
  units of the reference pressure squared), so that any query language aggregates energetically
  with plain sums: ``Leq = 10·log10(Σ energy / Σ duration)``;
- the timestamp is the reading's ``ts`` (start of its interval) in **milliseconds**, the store's
  key resolution: a re-delivered reading overwrites the same point (same series, same time), so
  writes are idempotent like the SQLite store's.

A spectrum becomes a point of measurement ``noise_spectrum`` with the same tags and time, the
band levels as fields ``lz_<centre Hz>`` (dB, Z-weighted) and their energies ``e_<centre Hz>``
(``duration·10^(Lz/10)``), plus ``duration``.

A weather observation becomes a point of measurement ``weather`` with the tag ``station_id``
and the fields ``duration`` (s) and each measured value it carries (``wind_speed``,
``wind_gust``, ``wind_direction``, ``precipitation``, ``temperature``), at its ``ts`` in
milliseconds::

    weather,station_id=vb-weather duration=60.0,precipitation=0.4,wind_speed=7.0 1795600800000

Reference: InfluxDB 2 line protocol
(https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/): commas and spaces
are escaped in measurement names; commas, equals signs and spaces in tag keys, tag values and
field keys. Integers carry an ``i`` suffix. Non-finite floats cannot be written, so they are
refused here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from noiselab.model import Reading, Spectrum, WeatherObservation, ts_key

__all__ = [
    "MEASUREMENT",
    "SPECTRUM_MEASUREMENT",
    "UNKNOWN_SOURCE",
    "WEATHER_MEASUREMENT",
    "band_field",
    "escape_key",
    "escape_measurement",
    "format_float",
    "reading_lines",
    "readings_payload",
    "weather_line",
    "weather_payload",
]

MEASUREMENT = "noise"
SPECTRUM_MEASUREMENT = "noise_spectrum"
UNKNOWN_SOURCE = "unknown"
WEATHER_MEASUREMENT = "weather"
_WEATHER_FIELDS = ("wind_speed", "wind_gust", "wind_direction", "precipitation", "temperature")

_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})


def escape_key(text: str) -> str:
    """A tag key, tag value or field key with commas, equals signs and spaces escaped.

    A trailing backslash would escape the separator after it, so it is refused."""
    if text.endswith("\\"):
        raise ValueError(f"line protocol: {text!r} may not end with a backslash")
    if not text:
        raise ValueError("line protocol: empty tag or field key/value")
    return text.translate(_KEY_ESCAPES)


def escape_measurement(text: str) -> str:
    """A measurement name with commas and spaces escaped."""
    return text.translate(_MEASUREMENT_ESCAPES)


def format_float(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``repr``), refusing NaN and
    infinities, which line protocol cannot carry."""
    if not math.isfinite(value):
        raise ValueError(f"line protocol: {value!r} is not a finite number")
    return repr(float(value))


def band_field(prefix: str, centre_hz: float) -> str:
    """The field key of a band: ``lz_1000``, ``e_12.5`` (integral centres without ``.0``)."""
    centre = int(centre_hz) if float(centre_hz).is_integer() else centre_hz
    return f"{prefix}_{centre}"


def _energy(duration: float, level_db: float) -> float:
    return duration * math.pow(10.0, level_db / 10.0)


def _line(measurement: str, tags: str, fields: Iterable[tuple[str, str]], ts_ms: int) -> str:
    body = ",".join(f"{escape_key(name)}={value}" for name, value in fields)
    return f"{escape_measurement(measurement)},{tags} {body} {ts_ms}"


def _spectrum_fields(spectrum: Spectrum, duration: float) -> list[tuple[str, str]]:
    fields = [("duration", format_float(duration))]
    for centre, level in zip(spectrum.bands_hz, spectrum.lzeq, strict=True):
        fields.append((band_field("e", centre), format_float(_energy(duration, level))))
        fields.append((band_field("lz", centre), format_float(level)))
    return sorted(fields)


def reading_lines(reading: Reading, source: str | None) -> list[str]:
    """The line(s) of one reading: its ``noise`` point, and a ``noise_spectrum`` point when it
    carries a spectrum. ``source`` is the sensor's source type from the registry."""
    tags = (
        f"sensor_id={escape_key(reading.sensor_id)},source={escape_key(source or UNKNOWN_SOURCE)}"
    )
    fields: list[tuple[str, str]] = [
        ("duration", format_float(reading.duration)),
        ("energy", format_float(_energy(reading.duration, reading.laeq))),
        ("laeq", format_float(reading.laeq)),
    ]
    if reading.lafmax is not None:
        fields.append(("lafmax", format_float(reading.lafmax)))
    if reading.lafmin is not None:
        fields.append(("lafmin", format_float(reading.lafmin)))
    if reading.seq is not None:
        fields.append(("seq", f"{int(reading.seq)}i"))
    ts_ms = ts_key(reading.ts)
    lines = [_line(MEASUREMENT, tags, fields, ts_ms)]
    if reading.spectrum is not None:
        spectrum_fields = _spectrum_fields(reading.spectrum, reading.duration)
        lines.append(_line(SPECTRUM_MEASUREMENT, tags, spectrum_fields, ts_ms))
    return lines


def readings_payload(readings: Iterable[Reading], source_of: Callable[[str], str | None]) -> bytes:
    """The UTF-8 body of one write request (``precision=ms``): one line per point, ``\\n``
    separated. ``source_of(sensor_id)`` gives each sensor's source type (or ``None``)."""
    lines: list[str] = []
    for reading in readings:
        lines.extend(reading_lines(reading, source_of(reading.sensor_id)))
    return "\n".join(lines).encode()


def weather_line(observation: WeatherObservation) -> str:
    """The ``weather`` point of one observation: fields ``duration`` and the values it has,
    sorted by key; values not observed are left out."""
    fields = [("duration", format_float(observation.duration))]
    for name in _WEATHER_FIELDS:
        value = getattr(observation, name)
        if value is not None:
            fields.append((name, format_float(value)))
    tags = f"station_id={escape_key(observation.station_id)}"
    return _line(WEATHER_MEASUREMENT, tags, sorted(fields), ts_key(observation.ts))


def weather_payload(observations: Iterable[WeatherObservation]) -> bytes:
    """The UTF-8 body of one write request of observations (``precision=ms``)."""
    return "\n".join(weather_line(o) for o in observations).encode()
