"""The options several ``noiselab`` commands share, and their defaults.

Each is an ``Annotated`` type for a typer parameter, named by the option it declares; every
option also reads its ``NOISELAB_*`` environment variable.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = [
    "DEFAULT_DAY",
    "DEFAULT_EVENING",
    "DEFAULT_HOT_WINDOW",
    "DEFAULT_MQTT",
    "DEFAULT_STORE",
    "DayOpt",
    "EveningOpt",
    "LogJsonOpt",
    "LogLevelOpt",
    "MetaOpt",
    "MqttOpt",
    "PrefixOpt",
    "RetentionDaysOpt",
    "StoreOpt",
    "WebhookAllowOpt",
]

DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
DEFAULT_STORE = "sqlite:///noiselab-data/readings.db"

MqttOpt = Annotated[
    str,
    # The brackets are escaped from rich markup, which would swallow "[user:pass@]".
    typer.Option("--mqtt", envvar="NOISELAB_MQTT", help="mqtt://\\[user:pass@]host\\[:port]"),
]
StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="NOISELAB_STORE",
        help="sqlite:///PATH or influxdb://HOST:PORT?org=&bucket=",
    ),
]
MetaOpt = Annotated[
    str | None,
    typer.Option(
        "--meta",
        envvar="NOISELAB_META",
        help="Metadata database (SQLAlchemy URL); default metadata.db beside a SQLite store.",
    ),
]
PrefixOpt = Annotated[
    str, typer.Option("--topic-prefix", envvar="NOISELAB_TOPIC_PREFIX", help="MQTT topic prefix.")
]
DEFAULT_DAY = "7-19"
"""Denmark's day period, local hours (Miljøstyrelsen: Lden with 12 h day, 3 h evening)."""
DEFAULT_EVENING = "19-22"
"""Denmark's evening period, local hours; the night is the rest (22-07)."""
DayOpt = Annotated[
    str, typer.Option("--day", envvar="NOISELAB_DAY", help="Day period, local hours FROM-TO.")
]
EveningOpt = Annotated[
    str,
    typer.Option(
        "--evening", envvar="NOISELAB_EVENING", help="Evening period, local hours FROM-TO."
    ),
]
DEFAULT_HOT_WINDOW = "48h"
"""Readings younger than this stay uncompacted in a SQLite store (``DEFAULT_HOT_WINDOW_S``)."""
RetentionDaysOpt = Annotated[
    float | None,
    typer.Option(
        "--retention-days",
        envvar="NOISELAB_RETENTION_DAYS",
        help="Remove the raw readings (1-s detail) of compacted hours older than this many days,"
        " keeping every roll-up; at least the hot window. Default: keep them.",
        show_default=False,
    ),
]
LogLevelOpt = Annotated[
    str, typer.Option("--log-level", envvar="NOISELAB_LOG_LEVEL", help="debug|info|warning|error")
]
LogJsonOpt = Annotated[
    bool, typer.Option("--log-json", envvar="NOISELAB_LOG_JSON", help="Log JSON lines.")
]
WebhookAllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        envvar="NOISELAB_WEBHOOK_ALLOW",
        help="Internal webhook receivers allowed: a CIDR or host name (repeatable; commas).",
    ),
]
