"""Sensor files: the registry's CSV and JSON input, and loosely typed sensor fields.

A file lists sensors with the columns ``id,name,lat,lon,source,description,public`` (``id`` and
``name`` required); ``lat``/``lon`` in decimal degrees (WGS 84). Errors raise ``ConfigError``
naming the file and the bad row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import cast

from noiselab.errors import ConfigError
from noiselab.model import Sensor, SensorSource

__all__ = ["load_sensors_file", "sensor_from_fields"]

_COLUMNS = ("id", "name", "lat", "lon", "source", "description", "public")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def load_sensors_file(path: str | Path) -> list[Sensor]:
    """Read sensors from a ``.json`` file (an array of objects, or ``{"sensors": [...]}``) or a
    ``.csv`` file with a header row; columns ``id,name,lat,lon,source,description,public``
    (``id`` and ``name`` required). Empty ``source`` means unknown; empty ``public`` means
    true. Raises ``ConfigError`` naming the file and the bad row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ConfigError(f"{path}: expected a .json or .csv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    rows = _json_rows(path, text) if suffix == ".json" else _csv_rows(path, text)
    sensors: list[Sensor] = []
    seen: dict[str, str] = {}
    for where, fields in rows:
        sensor = sensor_from_fields(fields, f"{path}: {where}")
        if sensor.id in seen:
            raise ConfigError(f"{path}: {where}: sensor id {sensor.id!r} repeats {seen[sensor.id]}")
        seen[sensor.id] = where
        sensors.append(sensor)
    return sensors


def _json_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(document, dict) and set(document) == {"sensors"}:
        document = document["sensors"]
    if not isinstance(document, list):
        raise ConfigError(f'{path}: expected a JSON array of sensors or {{"sensors": [...]}}')
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: sensor {number}: expected an object")
        yield f"sensor {number}", item


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    reader = csv.DictReader(text.splitlines(), restkey="\0extra")
    try:
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        if not header:
            raise ConfigError(f"{path}: empty file, expected a header row")
        reader.fieldnames = header
        for row in reader:
            where = f"line {reader.line_num}"
            if "\0extra" in row:
                raise ConfigError(f"{path}: {where}: more values than columns")
            yield where, {k: v for k, v in row.items() if v is not None}
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {reader.line_num}: {exc}") from exc


def sensor_from_fields(fields: Mapping[str, object], where: str = "sensor") -> Sensor:
    """A ``Sensor`` from loosely typed fields (a CSV row, a JSON object, CLI options): numbers
    may be text, ``public`` may be ``true/false/yes/no/1/0``, empty means unset. Raises
    ``ConfigError`` starting with ``where`` and naming the bad field."""
    unknown = sorted(set(fields) - set(_COLUMNS))
    if unknown:
        raise ConfigError(f"{where}: unknown column {unknown[0]!r}; expected {', '.join(_COLUMNS)}")
    label = f"{where} (id {fields['id']!r})" if "id" in fields else where
    try:
        return Sensor(
            id=_text(fields, "id", required=True),
            name=_text(fields, "name", required=True),
            lat=_number(fields.get("lat"), "lat"),
            lon=_number(fields.get("lon"), "lon"),
            source=cast("SensorSource | None", _text(fields, "source") or None),
            description=_text(fields, "description"),
            public=_flag(fields.get("public")),
        )
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from exc


def _text(fields: Mapping[str, object], column: str, *, required: bool = False) -> str:
    value = fields.get(column)
    if value is None or value == "":
        if required:
            raise ValueError(f"{column} is required")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, got {value!r}")
    return value.strip()


def _number(value: object, column: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{column} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{column} must be a number, got {value!r}") from None


def _flag(value: object) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"public must be true or false, got {value!r}")
