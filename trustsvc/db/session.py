"""Engines and sessions from a database URL: SQLite by default, PostgreSQL (psycopg 3) when the URL says so.

Nothing here runs at import time: callers make one engine per process (from :func:`trustsvc.settings.get_settings`
or a test fixture) and pass it on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from ..errors import ConfigurationError
from ..settings import Settings

__all__ = ["database_url", "make_engine", "engine_from_settings", "session_scope"]

#: How long a SQLite writer waits for another one (seconds); refreshes and validations share one file.
SQLITE_BUSY_TIMEOUT = 30.0


def database_url(url: str | URL) -> URL:
    """The URL with its driver made explicit: ``postgresql://`` means psycopg 3, not SQLAlchemy's psycopg2 default."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for `url`, set up the way trustsvc relies on.

    SQLite: the file's folder is created on demand, WAL journaling (readers never wait for the refresh writing),
    foreign keys enforced (off by default in SQLite), and a busy timeout so concurrent writers queue instead of
    failing. PostgreSQL: psycopg 3 with pre-ping, so a restarted server does not fail the first request.

    :raises ConfigurationError: the URL names a database trustsvc does not support, or its driver is not installed.
    """
    parsed = database_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    if backend == "postgresql":
        try:
            return create_engine(parsed, echo=echo, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigurationError(
                f"PostgreSQL needs the psycopg driver ({exc.name} is missing): pip install 'trustsvc[postgres]'"
            ) from exc
    raise ConfigurationError(f"unsupported database {backend!r} in TRUSTSVC_DATABASE_URL: use sqlite or postgresql")


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url, echo=settings.database_echo)


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        # One connection shared by every thread, or each connection would see its own empty database.
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
        )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: sqlite3.Connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
