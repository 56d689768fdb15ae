"""Service settings, read from ``TRUSTSVC_*`` environment variables.

Read once through :func:`get_settings` (cached), never at import time, so that tests and the CLI can set the
environment first and the API can override the dependency.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "default_data_dir", "default_database_url"]

APP_NAME = "trustsvc"


def default_data_dir() -> Path:
    """The user's data folder for trustsvc (``~/.local/share/trustsvc`` on Linux); not created here."""
    return user_data_path(APP_NAME, appauthor=False)


def default_database_url() -> str:
    """SQLite in the user's data folder: the service works with no configuration at all.

    The folder is created when the engine is made (:func:`trustsvc.db.make_engine`), not when settings are read.
    """
    return f"sqlite:///{default_data_dir() / 'trustsvc.db'}"


class Settings(BaseSettings):
    """What a deployment configures; every field is ``TRUSTSVC_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="TRUSTSVC_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    """SQLAlchemy URL: ``sqlite:///PATH`` (default) or ``postgresql://USER@HOST/DB`` (psycopg 3)."""

    database_echo: bool = False
    """Log every SQL statement (diagnostics only)."""

    trust_source: str | None = None
    """Which source of trust_lists/sources.yaml to ingest (``eu``, ``demo``...); default: the file's default."""

    trust_lists_dir: Path | None = None
    """The folder holding sources.yaml and the demo lists; default: trust_lists/ of the checkout."""

    policies_dir: Path | None = None
    """The folder of the acceptance policies (``*.yaml``, ``suites/``); default: policies/ of the checkout."""


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings()
