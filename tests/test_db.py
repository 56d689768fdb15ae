"""The database layer: settings, engines, and the packaged migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from trustsvc.db import current_revision, database_url, head_revision, make_engine, migrate
from trustsvc.db.migrate import downgrade
from trustsvc.db.tables import metadata
from trustsvc.errors import ConfigurationError
from trustsvc.settings import Settings, get_settings

pytest_plugins = ["conftest_db"]

TABLES = {
    "trusted_list_version",
    "trust_snapshot",
    "trust_snapshot_version",
    "trust_service",
    "trust_service_status",
    "certificate_index",
}


def test_migrations_create_the_schema(db_engine: Engine) -> None:
    names = set(inspect(db_engine).get_table_names())
    assert TABLES <= names
    assert "alembic_version" in names
    assert current_revision(db_engine) == head_revision() is not None
    indexes = {index["name"] for index in inspect(db_engine).get_indexes("trusted_list_version")}
    assert {"uq_trusted_list_version_accepted_sequence", "uq_trusted_list_version_refused_content"} <= indexes


def test_migrations_match_the_table_definitions(db_engine: Engine) -> None:
    """A table changed without a migration (or the reverse) shows up here, on each database."""
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migrate_twice_changes_nothing(db_engine: Engine) -> None:
    migrate(db_engine)
    assert current_revision(db_engine) == head_revision()


def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert current_revision(engine) is None
        migrate(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "trustsvc.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.parent.is_dir()
        migrate(engine)  # the migration turns foreign keys off for its own run only
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(db_engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="(?i)foreign key"), db_engine.begin() as connection:
        connection.execute(text("INSERT INTO trust_snapshot_version (snapshot_id, version_id) VALUES (999, 999)"))


def test_postgresql_urls_use_psycopg_3() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///x.db").drivername == "sqlite"


def test_unsupported_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        make_engine("mysql://u@h/db")


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME decides the data folder on Linux only")
def test_default_database_is_sqlite_in_the_user_data_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRUSTSVC_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = Settings().database_url
    assert url == f"sqlite:///{tmp_path / 'data' / 'trustsvc' / 'trustsvc.db'}"
    assert not (tmp_path / "data").exists()  # reading settings creates nothing
    engine = make_engine(url)
    engine.dispose()
    assert (tmp_path / "data" / "trustsvc").is_dir()


def test_settings_come_from_the_environment_once(monkeypatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("TRUSTSVC_DATABASE_URL", "postgresql://somebody@db.invalid/trust")
        first = get_settings()
        assert first.database_url == "postgresql://somebody@db.invalid/trust"
        monkeypatch.setenv("TRUSTSVC_DATABASE_URL", "sqlite:///elsewhere.db")
        assert get_settings() is first
    finally:
        get_settings.cache_clear()
