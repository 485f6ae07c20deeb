"""Payload adapters: the formats real noise sensors and platforms publish, mapped onto readings.

Each format is a function ``(payload, context) -> ParsedMessage`` that never raises; its
readings are judged by the same rules as our own messages (see :mod:`.base`). :data:`FORMATS`
is the registry the sources configuration names formats from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from noiselab.ingest.adapters.base import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.fiware import parse_fiware
from noiselab.ingest.adapters.mapping import parse_mapping
from noiselab.ingest.adapters.sensor_community import parse_dnms, parse_sensor_community
from noiselab.ingest.adapters.sentilo import parse_sentilo
from noiselab.ingest.adapters.ws302 import parse_ws302
from noiselab.ingest.message import ParsedMessage

__all__ = [
    "FORMATS",
    "AdapterContext",
    "AdapterOptions",
    "Parser",
    "parse_sensor_community",
]

Parser = Callable[[bytes, AdapterContext], ParsedMessage]

FORMATS: Final[Mapping[str, Parser]] = MappingProxyType(
    {
        "fiware": parse_fiware,
        "sensor-community": parse_dnms,
        "sentilo": parse_sentilo,
        "ws302": parse_ws302,
        "mapping": parse_mapping,
    }
)
"""The parser of each format name a source may use."""
