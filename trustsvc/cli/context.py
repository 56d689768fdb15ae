"""What several commands need: the settings, the trust store, the configured trust sources, the clock."""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from ..db import make_engine, migrate
from ..errors import ConfigurationError
from ..policy.catalogue import PolicySet, default_policies_dir, load_policy_set
from ..settings import get_settings
from ..trust.sources import TrustSource, load_sources
from ..trust.store import TrustStore

__all__ = ["open_store", "trust_source", "now", "policy_set"]


def now() -> datetime:
    return datetime.now(timezone.utc)


@functools.cache
def open_store() -> TrustStore:
    """The store of the configured database, migrated to the current schema."""
    settings = get_settings()
    engine = make_engine(settings.database_url, echo=settings.database_echo)
    migrate(engine)
    return TrustStore(engine)


def trust_source(name: str | None = None) -> TrustSource:
    settings = get_settings()
    sources, default = load_sources(settings.trust_lists_dir)
    chosen = name or settings.trust_source or default
    if chosen not in sources:
        raise ConfigurationError(
            f"unknown trust source {chosen!r} (configured: {', '.join(sorted(sources))})", code="trust-source"
        )
    return sources[chosen]


@functools.cache
def policy_set() -> PolicySet:
    """The acceptance policies of the configured folder, each file checked on its own."""
    return load_policy_set(get_settings().policies_dir or default_policies_dir())
