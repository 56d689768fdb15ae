"""Database fixtures: every database test runs on SQLite (a temporary file) and on PostgreSQL.

Load them in a test module with ``pytest_plugins = ["conftest_db"]``.

PostgreSQL is ``TRUSTSVC_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); when it cannot
be reached the PostgreSQL cases skip and say why. Each PostgreSQL test gets a schema of its own, migrated from
scratch and dropped afterwards; schemas left behind by a test run that was killed are dropped by the next run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, make_url, text

from trustsvc.db import make_engine, migrate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "trustsvc_test_"
BACKENDS = ("sqlite", "postgresql")


def postgres_test_url() -> str:
    return os.environ.get("TRUSTSVC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL database (public schema), or skip when there is none."""
    url = postgres_test_url()
    engine = make_engine(make_url(url).update_query_dict({"connect_timeout": "3"}))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        engine.dispose()
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        pytest.skip(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} is not reachable: {reason}")
    _drop_orphan_schemas(engine)
    yield engine
    engine.dispose()


def _drop_orphan_schemas(engine: Engine) -> None:
    """Drop the schemas of earlier test runs whose process is gone (a killed run cannot clean up after itself)."""
    with engine.begin() as connection:
        names = connection.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"), {"prefix": SCHEMA_PREFIX + "%"}
        ).scalars()
        for name in list(names):
            pid = name.removeprefix(SCHEMA_PREFIX).split("_", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL to an empty database of each kind (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trustsvc.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"{SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_test_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """A migrated database of each kind."""
    engine = make_engine(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
