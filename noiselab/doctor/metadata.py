"""The metadata database check: it answers within the time limit, its Alembic revision is this
noiselab's head, and its sensor registry can be read.

Nothing is migrated or written: the services upgrade the schema when they start
(:class:`~noiselab.store.metadata.MetadataStore`), so a database behind head means none of this
version has started against it yet (or its migration failed), which is worth knowing before it
serves.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc

from noiselab.doctor.check import CheckFailed, Step
from noiselab.errors import ConfigError
from noiselab.store.metadata.engine import MIGRATIONS, parse_url

__all__ = ["MIGRATIONS", "head_revisions", "metadata_steps", "open_checked_engine"]


CONNECT_FIX = (
    "check --meta (NOISELAB_META): host, database, user and password (in the compose stack"
    " POSTGRES_PASSWORD in .env) and that the database runs: docker compose ps postgres"
)
MISSING_FIX = (
    "check the path in --meta (NOISELAB_META); the api and the ingest create the file on start"
)
BEHIND_FIX = (
    "start the api (or the ingest) of this noiselab version once: it upgrades the schema on"
    " start (docker compose up -d api) and logs why if it cannot"
)
AHEAD_FIX = "the database was migrated by a newer noiselab: upgrade this one"


def metadata_steps(url: str, timeout_s: float) -> list[Step]:
    """``metadata database`` (connection and revision) and ``metadata reads``."""
    return [
        Step("metadata database", lambda: _revision(url, timeout_s)),
        Step("metadata reads", lambda: _reads(url, timeout_s), requires=("metadata database",)),
    ]


def open_checked_engine(url: str, timeout_s: float) -> sa.Engine:
    """An engine for ``url`` whose connections give up after ``timeout_s`` (connect and each
    statement); an existing SQLite file only (never created). ``ConfigError`` for a bad URL."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any]
    if backend == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or not path.is_file():
            raise CheckFailed(f"no metadata database file at {path}", MISSING_FIX)
        connect_args = {"timeout": timeout_s}
    else:
        connect_args = {
            "connect_timeout": max(1, math.ceil(timeout_s)),
            "options": f"-c statement_timeout={round(timeout_s * 1000)}",
        }
    try:
        return sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise ConfigError(f"metadata URL {url!r}: {exc}") from exc


def head_revisions() -> set[str]:
    """The newest Alembic revisions this noiselab knows."""
    return set(_scripts().get_heads())


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _revision(url: str, timeout_s: float) -> str:
    engine = open_checked_engine(url, timeout_s)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa_exc.SQLAlchemyError as exc:
        raise CheckFailed(f"cannot open {shown}: {_first_line(exc)}", CONNECT_FIX) from exc
    finally:
        engine.dispose()
    scripts = _scripts()
    heads = set(scripts.get_heads())
    known = {rev.revision for rev in scripts.walk_revisions()}
    if not current:
        raise CheckFailed(f"{shown} has no schema (no Alembic revision)", BEHIND_FIX)
    if current - known:
        raise CheckFailed(
            f"{shown} is at revision {', '.join(sorted(current))}, unknown to this noiselab"
            f" (head {', '.join(sorted(heads))})",
            AHEAD_FIX,
        )
    if current != heads:
        raise CheckFailed(
            f"{shown} is at revision {', '.join(sorted(current))}, behind this noiselab's head"
            f" {', '.join(sorted(heads))}",
            BEHIND_FIX,
        )
    return f"{shown}: revision {', '.join(sorted(current))} (head)"


def _reads(url: str, timeout_s: float) -> str:
    from noiselab.store.metadata.tables import api_keys_table, sensors_table

    engine = open_checked_engine(url, timeout_s)
    try:
        with engine.connect() as connection:
            sensors = connection.execute(
                sa.select(sa.func.count()).select_from(sensors_table)
            ).scalar_one()
            keys = connection.execute(
                sa.select(sa.func.count()).select_from(api_keys_table)
            ).scalar_one()
    except sa_exc.SQLAlchemyError as exc:
        raise CheckFailed(f"cannot read the registry: {_first_line(exc)}", CONNECT_FIX) from exc
    finally:
        engine.dispose()
    return f"sensors registered: {sensors}, API keys: {keys}"


def _first_line(exc: sa_exc.SQLAlchemyError) -> str:
    """The driver's message without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
