"""Refusing weak secrets: the example values of ``.env.example``, empty and short ones.

Two callers. ``noiselab check-secrets`` (the compose stack's ``secrets-guard`` one-shot service,
which every other service waits for) checks the variables of ``.env`` that the third-party
containers and noiselab's services receive, plus the sensors' broker passwords. And every
noiselab command, when ``NOISELAB_REQUIRE_STRONG_SECRETS`` is true (the compose stack sets it),
checks the secrets it was started with before it does anything: its ``NOISELAB_*`` tokens,
passwords and keys, and the password of every URL in its environment or on its command line.

A value is weak when it is empty, shorter than :data:`MIN_LENGTH` characters, contains one of
:data:`PLACEHOLDERS` (case and separators ignored), or has fewer than :data:`MIN_DISTINCT`
different characters. ``python3 -c "import secrets; print(secrets.token_urlsafe(32))"`` (43
characters) always passes. Problems name the variable, never its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = [
    "COMPOSE_OPTIONAL",
    "COMPOSE_REQUIRED",
    "MIN_DISTINCT",
    "MIN_LENGTH",
    "PLACEHOLDERS",
    "check_compose_secrets",
    "check_service_secrets",
    "read_env_file",
    "read_sensor_passwords",
    "strict_mode",
    "weakness",
]

MIN_LENGTH = 16
MIN_DISTINCT = 6
# Compared with letters and digits only, lower case: "Change_Me" and "CHANGEME" are "changeme".
PLACEHOLDERS = ("changeme", "password", "secret", "example", "placeholder", "xxxxxx")

# The secrets of .env that docker-compose.yml hands to a container; an optional one is checked
# only when it is set (its feature is off otherwise).
COMPOSE_REQUIRED = (
    "INFLUXDB_ADMIN_PASSWORD",
    "INFLUXDB_TOKEN",
    "POSTGRES_PASSWORD",
    "MQTT_INGEST_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)
COMPOSE_OPTIONAL = (
    "INFLUXDB_READ_TOKEN",
    "MQTT_SIM_PASSWORD",
    "MQTT_FIWARE_PASSWORD",
    "NOISELAB_GRAFANA_KEY",
)

_SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|KEY|SECRET)$")


@dataclass(frozen=True)
class Problem:
    """One weak secret: where it is (a variable, a URL's password, a sensor) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def weakness(value: str) -> str | None:
    """Why ``value`` is not an acceptable secret, or ``None`` when it is."""
    if not value:
        return "empty"
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    for placeholder in PLACEHOLDERS:
        if placeholder in folded:
            return f'an example value (contains "{placeholder}")'
    if len(value) < MIN_LENGTH:
        return f"too short ({len(value)} characters, at least {MIN_LENGTH})"
    if len(set(value)) < MIN_DISTINCT:
        return f"too few different characters ({len(set(value))}, at least {MIN_DISTINCT})"
    return None


def strict_mode(environ: Mapping[str, str]) -> bool:
    """Whether ``NOISELAB_REQUIRE_STRONG_SECRETS`` asks noiselab's commands to check."""
    return environ.get("NOISELAB_REQUIRE_STRONG_SECRETS", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def read_env_file(path: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of a compose ``.env`` file (comments and blank lines skipped,
    one pair of surrounding quotes removed), as docker compose reads them."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def read_sensor_passwords(path: Path) -> dict[str, str]:
    """``secrets/mqtt-sensors.txt``: one ``SENSOR_ID PASSWORD`` per line, ``#`` comments."""
    passwords: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        passwords[parts[0]] = parts[1] if len(parts) > 1 else ""
    return passwords


def check_compose_secrets(
    values: Mapping[str, str], sensor_passwords: Mapping[str, str] | None = None
) -> list[Problem]:
    """The weak secrets among the compose stack's variables and the sensors' passwords."""
    problems = []
    for name in COMPOSE_REQUIRED:
        if name not in values:
            problems.append(Problem(name, "not set"))
        elif (reason := weakness(values[name])) is not None:
            problems.append(Problem(name, reason))
    for name in COMPOSE_OPTIONAL:
        value = values.get(name, "")
        if value and (reason := weakness(value)) is not None:
            problems.append(Problem(name, reason))
    for sensor, password in (sensor_passwords or {}).items():
        if (reason := weakness(password)) is not None:
            problems.append(Problem(f"sensor {sensor}'s MQTT password", reason))
    return problems


def _url_password(text: str) -> str | None:
    """The password of ``text`` when it is a URL that carries one (``scheme://user:pw@...``)."""
    if "://" not in text or "@" not in text:
        return None
    try:
        password = urlsplit(text.strip()).password
    except ValueError:
        return None
    return None if password is None else unquote(password)


def check_service_secrets(environ: Mapping[str, str], argv: Iterable[str]) -> list[Problem]:
    """The weak secrets a noiselab command was started with: ``NOISELAB_*`` variables named
    like a secret (``…_TOKEN``, ``…_PASSWORD``, ``…_KEY``, ``…_SECRET``) when set, and the
    password of every URL in a ``NOISELAB_*`` variable or a command-line argument."""
    found: list[tuple[str, str]] = []
    for name, value in sorted(environ.items()):
        if not name.startswith("NOISELAB_") or not value:
            continue
        if _SECRET_NAME.search(name):
            found.append((name, value))
        elif (password := _url_password(value)) is not None:
            found.append((f"the password in {name}", password))
    for position, argument in enumerate(argv):
        if (password := _url_password(argument)) is not None:
            found.append((f"the password in command-line argument {position}", password))
    return [
        Problem(where, reason) for where, value in found if (reason := weakness(value)) is not None
    ]
