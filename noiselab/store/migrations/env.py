"""Alembic environment for the metadata database, configured in code (no ``alembic.ini``).

``MetadataStore`` runs ``upgrade head`` with an open connection in
``config.attributes["connection"]`` (already in a transaction it commits). Without one, the URL
comes from the ``sqlalchemy.url`` main option, so a maintainer can build a ``Config`` by hand::

    config = Config()
    config.set_main_option("script_location", "noiselab/store/migrations")
    config.set_main_option("sqlalchemy.url", "sqlite:///data/metadata.db")
    command.revision(config, "add trials", autogenerate=True)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from noiselab.store.metadata.tables import METADATA


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs by table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Emit the SQL for the configured URL instead of running it."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=METADATA,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate through the given connection, or connect to ``sqlalchemy.url``."""
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pass a connection in config.attributes or set sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as owned:
            _run(owned)
            owned.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
