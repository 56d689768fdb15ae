"""Alembic environment: runs on the connection that :func:`trustsvc.db.migrate` hands over.

Used from the command line (``python -m trustsvc.db.migrate``) it connects to ``TRUSTSVC_DATABASE_URL`` instead.
SQLite gets batch mode, since it cannot alter most table definitions in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from trustsvc.db.session import engine_from_settings
from trustsvc.db.tables import metadata
from trustsvc.settings import get_settings


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    if context.is_offline_mode():
        context.configure(url=get_settings().database_url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = engine_from_settings(get_settings())
    try:
        with engine.begin() as connection:
            _configure(connection)
    finally:
        engine.dispose()


_run()
