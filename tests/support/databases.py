"""Metadata databases for tests: which PostgreSQL the PostgreSQL runs use, and a fresh database
on it per test.

:func:`plan_postgres` chooses, in this order:

1. ``NOISELAB_TEST_POSTGRES_URL``, an admin URL, when set (it must answer);
2. the local server, ``postgres@127.0.0.1:5432``, when it answers;
3. a throwaway cluster (:mod:`support.postgres_cluster`) when Debian's server binaries are
   installed (``apt-get install postgresql``; ``bash scripts/test`` does it as root).

``NOISELAB_TEST_POSTGRES=cluster`` skips 1 and 2: always the throwaway cluster. When none is
possible the PostgreSQL tests are skipped, and under CI (``CI`` set) fail instead
(:func:`missing_postgres`): CI must not pass without the PostgreSQL half of the suite.
The session fixture ``postgres_admin_url`` in ``tests/conftest.py`` carries the plan out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

from support.postgres_cluster import DEBIAN_POSTGRESQL, newest_bin_dir

__all__ = [
    "LOCAL_POSTGRES",
    "POSTGRES_MODE_ENV",
    "POSTGRES_URL_ENV",
    "PostgresPlan",
    "fresh_postgres_database",
    "missing_postgres",
    "plan_postgres",
]

POSTGRES_URL_ENV = "NOISELAB_TEST_POSTGRES_URL"
POSTGRES_MODE_ENV = "NOISELAB_TEST_POSTGRES"
"""``cluster``: always a throwaway cluster; unset or empty: the order above."""
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOW_TO_FIX = (
    f"install Debian's server (apt-get install postgresql; bash scripts/test does it as root)"
    f" so the tests start a throwaway cluster, or set {POSTGRES_URL_ENV} to an admin URL"
    " such as postgresql+psycopg://postgres@host:5432/postgres"
)


@dataclass(frozen=True)
class PostgresPlan:
    """Where the PostgreSQL tests run: a server at ``url``, a throwaway cluster from
    ``cluster_bin``, or nowhere (both ``None``), with ``why``."""

    url: str | None = None
    cluster_bin: Path | None = None
    why: str = ""


def plan_postgres(
    env: Mapping[str, str], debian_root: Path = DEBIAN_POSTGRESQL, local: str = LOCAL_POSTGRES
) -> PostgresPlan:
    """The plan for the environment ``env`` (see the module docstring); probes the servers."""
    try:
        import psycopg  # noqa: F401 - only to tell a missing driver from a missing server
    except ImportError:
        return PostgresPlan(why="psycopg is not installed (pip install 'noiselab[postgres]')")
    mode = env.get(POSTGRES_MODE_ENV, "")
    if mode not in ("", "cluster"):
        return PostgresPlan(why=f"{POSTGRES_MODE_ENV}={mode!r}: expected 'cluster' or nothing")
    given = env.get(POSTGRES_URL_ENV, "")
    if given and mode != "cluster":
        failure = connection_failure(given)
        if failure is None:
            return PostgresPlan(url=given)
        return PostgresPlan(why=f"{POSTGRES_URL_ENV}={given} does not answer ({failure})")
    local_failure = None if mode == "cluster" else connection_failure(local)
    if mode != "cluster" and local_failure is None:
        return PostgresPlan(url=local)
    cluster_bin = newest_bin_dir(debian_root)
    if cluster_bin is not None:
        return PostgresPlan(cluster_bin=cluster_bin)
    tried = "" if local_failure is None else f"no PostgreSQL at {local} ({local_failure}), and "
    return PostgresPlan(why=f"{tried}no initdb under {debian_root}/<version>/bin")


def connection_failure(url: str) -> str | None:
    """``None`` when ``url`` accepts a connection and ``SELECT 1``, else the first line of
    the driver's error."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    except sa.exc.ArgumentError as exc:
        return f"not an SQLAlchemy URL: {exc}"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        text = str(exc.orig).strip() if exc.orig else str(exc)
        return text.splitlines()[0] if text else type(exc.orig).__name__
    finally:
        engine.dispose()
    return None


def missing_postgres(why: str, env: Mapping[str, str]) -> NoReturn:
    """Skip the running test because no PostgreSQL is possible; under CI fail it instead."""
    message = f"no PostgreSQL for the metadata tests: {why}; {HOW_TO_FIX}"
    if env.get("CI"):
        pytest.fail(f"{message} (CI runs them, so a skip is a failure)", pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of ``admin_url``, dropped afterwards."""
    name = f"noiselab_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
