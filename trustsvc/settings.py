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

    # -- the HTTP service ------------------------------------------------------------------------------------------

    upload_limit: int = Field(default=100 * 1024 * 1024, gt=0)
    """Largest request body accepted, in bytes (413 beyond)."""

    bid_max_files: int = Field(default=50, gt=0)
    """Most files in one request (a bid)."""

    fetch_timeout: float = Field(default=10.0, gt=0)
    """Seconds allowed for each outbound OCSP, CRL, certificate or trusted-list download."""

    offline: bool | None = None
    """Never fetch revocation data, validate from what documents embed. Default: offline with the demo trust (its
    test PKI is not on the network), online otherwise."""

    key_cache_seconds: float = Field(default=30.0, ge=0)
    """How long a worker remembers an API key lookup (a revoked key stops working within this time)."""

    refresh_interval: float = Field(default=6 * 3600, ge=0)
    """Seconds between background refreshes of the trusted lists; 0 disables them (another replica refreshes)."""

    snapshot_poll_interval: float = Field(default=60.0, gt=0)
    """Seconds between checks for a snapshot another process stored."""

    public_rate: float = Field(default=10.0, gt=0)
    """Requests per second one client address may make to the public endpoints (policies, lists, health)."""

    public_burst: int = Field(default=30, gt=0)

    report_key: Path | None = None
    """PEM private key that signs the service's reports (with report_cert); default: the demo operator's."""

    report_cert: Path | None = None
    """PEM certificate of report_key, followed by its chain."""

    report_key_password: str | None = None

    log_format: str = "json"
    """``json`` (one object per line, with the request id) or ``text``."""

    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings()
