"""The sources configuration: which foreign MQTT topics the ingest reads, in which format.

A TOML file of ``[[source]]`` tables (see ``deploy/sources.example.toml`` and docs/devices.md)::

    [[source]]
    name = "roof-ws302"                     # unique, names the source in errors
    topic = "v3/+/devices/+/up"             # an MQTT topic filter (no $share: it is added)
    format = "ws302"                        # fiware | sensor-community | sentilo | ws302 | mapping
    sensor_id = "topic:3"                   # optional: topic:N | pointer:/json/pointer | an id
    interval_s = 600                        # where the format needs one
    [source.ids]                            # optional: device id -> our sensor id
    "eui-24e124..." = "vb-roof-1"
    [source.fields]                         # mapping only: JSON pointers per reading field
    laeq = "/leq"

It is decoded and validated up front, without network, and every mistake raises
:class:`~noiselab.errors.ConfigError` naming the file, the source and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

import msgspec
from paho.mqtt.client import topic_matches_sub

from noiselab.errors import ConfigError
from noiselab.ingest.adapters import FORMATS, AdapterOptions, Parser
from noiselab.ingest.adapters.base import FixedId, IdRule, MappingFields, PointerId, TopicLevel
from noiselab.ingest.adapters.mapping import TS_FORMATS
from noiselab.ingest.adapters.pointer import PointerError, parse_pointer
from noiselab.ingest.message import is_sensor_id
from noiselab.ingest.reading_rules import MAX_DURATION_S

__all__ = ["Source", "SourceRouter", "load_sources", "parse_sources"]

Format = Literal["fiware", "sensor-community", "sentilo", "ws302", "mapping"]

_MAX_FILTER_BYTES: Final = 65_535
_TOPIC_RULE: Final = re.compile(r"topic:(\d+)", re.ASCII)
_USES_INTERVAL: Final = frozenset({"fiware", "sensor-community", "ws302"})


class _FieldsConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    laeq: str
    ts: str | None = None
    ts_format: str = "unix"
    duration: str | float | None = None
    lafmax: str | None = None
    lafmin: str | None = None
    sensor_id: str | None = None
    items: str | None = None


class _SourceConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    topic: str
    format: Format
    sensor_id: str | None = None
    ids: dict[str, str] = msgspec.field(default_factory=dict)
    interval_s: float | None = None
    fields: _FieldsConfig | None = None


class _SourcesFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    source: list[_SourceConfig] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Source:
    """One validated source: its MQTT topic filter, format parser and mapping options."""

    name: str
    topic: str
    format: str
    parser: Parser
    options: AdapterOptions

    def subscription(self, share_group: str | None) -> str:
        """The filter to subscribe to: shared (``$share/GROUP/FILTER``) unless no group."""
        return f"$share/{share_group}/{self.topic}" if share_group else self.topic


class SourceRouter:
    """Finds the source of a topic: the first, in file order, whose filter matches it."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = tuple(sources)
        self.match = lru_cache(maxsize=4096)(self._match)

    def _match(self, topic: str) -> Source | None:
        for source in self.sources:
            if topic_matches_sub(source.topic, topic):
                return source
        return None


def load_sources(path: str | Path) -> tuple[Source, ...]:
    """Read and validate a sources TOML file; ``ConfigError`` names what is wrong."""
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read sources file {origin}: {exc}") from exc
    return parse_sources(text, origin)


def parse_sources(text: str, origin: str = "sources file") -> tuple[Source, ...]:
    """Validate the TOML text of a sources file; ``ConfigError`` names what is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin} is not valid TOML: {exc}") from exc
    try:
        config = msgspec.convert(document, _SourcesFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{origin}: {_friendly(str(exc))}") from exc
    if not config.source:
        raise ConfigError(f"{origin} has no [[source]] table")
    _check_unique(config.source, origin)
    return tuple(_source(raw, f"{origin}: [[source]] {raw.name!r}") for raw in config.source)


def _friendly(message: str) -> str:
    """msgspec's ``... - at `$.source[0].topic``` as ``source #1: topic: ...``."""
    match = re.fullmatch(r"(?P<what>.*) - at `\$\.source\[(?P<i>\d+)\]\.?(?P<key>.*)`", message)
    if match is None:
        return message.replace("`$`", "the file").replace("`$.", "`")
    where = f"[[source]] #{int(match['i']) + 1}"
    return f"{where}{': ' + match['key'] if match['key'] else ''}: {match['what']}"


def _check_unique(configs: Iterable[_SourceConfig], origin: str) -> None:
    names: set[str] = set()
    topics: dict[str, str] = {}
    for raw in configs:
        if raw.name in names:
            raise ConfigError(f"{origin}: two sources are named {raw.name!r}")
        names.add(raw.name)
        if raw.topic in topics:
            raise ConfigError(
                f"{origin}: sources {topics[raw.topic]!r} and {raw.name!r} both use topic "
                f"{raw.topic!r}"
            )
        topics[raw.topic] = raw.name


def _source(raw: _SourceConfig, where: str) -> Source:
    if not raw.name.strip():
        raise ConfigError(f"{where}: name must not be empty")
    _check_topic_filter(raw.topic, where)
    rule = _id_rule(raw.sensor_id, raw.topic, where)
    for device, sensor in raw.ids.items():
        if not is_sensor_id(sensor):
            raise ConfigError(
                f"{where}: ids: {device!r} maps to {sensor!r}, which is not a sensor id "
                "([a-z0-9][a-z0-9-]{1,63})"
            )
    _check_seconds(raw.interval_s, "interval_s", where)
    if raw.interval_s is not None and raw.format not in _USES_INTERVAL:
        raise ConfigError(f"{where}: interval_s does not apply to format {raw.format!r}")
    fields = _fields(raw, where)
    if raw.format == "sensor-community" and rule is None:
        raise ConfigError(
            f"{where}: format sensor-community needs sensor_id (its payload names no device)"
        )
    options = AdapterOptions(rule, MappingProxyType(dict(raw.ids)), raw.interval_s, fields)
    return Source(raw.name, raw.topic, raw.format, FORMATS[raw.format], options)


def _check_topic_filter(topic: str, where: str) -> None:
    """An MQTT topic filter (MQTT 5.0, section 4.7), without a ``$share/`` prefix."""
    problem = None
    levels = topic.split("/")
    if not topic:
        problem = "must not be empty"
    elif len(topic.encode("utf-8")) > _MAX_FILTER_BYTES or "\0" in topic:
        problem = "is too long or contains U+0000"
    elif topic.startswith("$"):
        problem = "must not start with '$' (the share group is added from --share-group)"
    elif any(("+" in level or "#" in level) and level not in ("+", "#") for level in levels):
        problem = "has '+' or '#' that is not a whole level"
    elif "#" in levels[:-1]:
        problem = "has '#' before the last level"
    if problem:
        raise ConfigError(f"{where}: topic {topic!r} {problem}")


def _id_rule(text: str | None, topic: str, where: str) -> IdRule | None:
    if text is None:
        return None
    match = _TOPIC_RULE.fullmatch(text)
    if match is not None:
        level = int(match[1])
        levels = topic.split("/")
        if level >= len(levels) and levels[-1] != "#":
            raise ConfigError(
                f"{where}: sensor_id {text!r}: topic {topic!r} has only {len(levels)} levels "
                "(counted from 0)"
            )
        return TopicLevel(level)
    if text.startswith("pointer:"):
        pointer = text.removeprefix("pointer:")
        try:
            parse_pointer(pointer)
        except PointerError as exc:
            raise ConfigError(f"{where}: sensor_id: {exc}") from exc
        return PointerId(pointer)
    if is_sensor_id(text):
        return FixedId(text)
    raise ConfigError(
        f"{where}: sensor_id {text!r} must be topic:N, pointer:/json/pointer or a sensor id "
        "([a-z0-9][a-z0-9-]{1,63})"
    )


def _fields(raw: _SourceConfig, where: str) -> MappingFields | None:
    if raw.format != "mapping":
        if raw.fields is not None:
            raise ConfigError(f"{where}: [source.fields] applies to format 'mapping' only")
        return None
    config = raw.fields
    if config is None:
        raise ConfigError(f"{where}: format mapping needs [source.fields] with a laeq pointer")
    for key in ("laeq", "ts", "lafmax", "lafmin", "sensor_id", "items"):
        _check_pointer(getattr(config, key), f"{where}: fields.{key}")
    if isinstance(config.duration, str):
        _check_pointer(config.duration, f"{where}: fields.duration")
    else:
        _check_seconds(config.duration, "fields.duration", where)
    _check_ts_format(config.ts_format, where)
    return MappingFields(
        laeq=config.laeq,
        ts=config.ts,
        ts_format=config.ts_format,
        duration=config.duration,
        lafmax=config.lafmax,
        lafmin=config.lafmin,
        sensor_id=config.sensor_id,
        items=config.items,
    )


def _check_pointer(pointer: str | None, where: str) -> None:
    if pointer is None:
        return
    try:
        parse_pointer(pointer)
    except PointerError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _check_seconds(value: float | None, key: str, where: str) -> None:
    if value is not None and not 0.0 < value <= MAX_DURATION_S:
        raise ConfigError(
            f"{where}: {key} must be more than 0 and at most {MAX_DURATION_S:g} s, got {value!r}"
        )


def _check_ts_format(ts_format: str, where: str) -> None:
    if ts_format in TS_FORMATS:
        return
    if "%z" not in ts_format:
        raise ConfigError(
            f"{where}: fields.ts_format {ts_format!r} must be unix, unix_ms, rfc3339 or a "
            "strptime pattern with %z (the UTC offset)"
        )
