"""Apply the packaged Alembic migrations to an engine, with no alembic.ini.

The service (and every test) calls :func:`migrate` at start; it is safe to call on an up-to-date database and from
several processes at once (PostgreSQL takes an advisory lock, SQLite an immediate write lock).

Developers make a new revision from the table definitions with::

    TRUSTSVC_DATABASE_URL=sqlite:////tmp/dev.db python -m trustsvc.db revision "add something"
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

__all__ = ["migrate", "downgrade", "current_revision", "head_revision", "alembic_config"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: pg_advisory_xact_lock key: "trustsvc" read as an integer, so that concurrent starts migrate one after the other.
_PG_LOCK_KEY = int.from_bytes(b"trustsvc", "big") >> 1


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged scripts (and at `connection`, when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (the latest by default)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (``base`` drops every trustsvc table)."""
    _run(engine, lambda config: command.downgrade(config, revision))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The latest revision this version of trustsvc ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(engine: Engine, step) -> None:
    if engine.dialect.name == "sqlite":
        _run_sqlite(engine, step)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        step(alembic_config(connection))


def _run_sqlite(engine: Engine, step) -> None:
    """Migrate in one write transaction with foreign keys off.

    Batch mode copies a table and drops the old one; with foreign keys on, that drop would cascade into the rows
    that refer to it. SQLite ignores the pragma inside a transaction, hence the order; the keys are checked before
    the connection goes back to the pool with enforcement on again.
    """
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                step(alembic_config(connection))
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign keys broken by the migration: {problems[:5]}")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
