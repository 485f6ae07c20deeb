"""Metadata databases for tests: a SQLite file, and a fresh PostgreSQL database when a server
answers (``NOISELAB_TEST_POSTGRES_URL``, else the local one on 127.0.0.1:5432)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import sqlalchemy as sa

POSTGRES_ENV = "NOISELAB_TEST_POSTGRES_URL"
LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@cache
def postgres_admin_url() -> tuple[str | None, str]:
    """``(url, why)``: the admin URL of a PostgreSQL that answers, or ``None`` and the reason
    the PostgreSQL runs are skipped."""
    url = os.environ.get(POSTGRES_ENV) or LOCAL_POSTGRES
    try:
        import psycopg  # noqa: F401 - only to tell a missing driver from a missing server
    except ImportError:
        return None, "psycopg is not installed (pip install 'noiselab[postgres]')"
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return None, f"no PostgreSQL at {url} ({first}); set {POSTGRES_ENV} to run these"
    finally:
        engine.dispose()
    return url, ""


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    admin_url, why = postgres_admin_url()
    if admin_url is None:
        raise RuntimeError(why)
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
