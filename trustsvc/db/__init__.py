"""Persistence: SQLModel tables, engines from a URL, and the packaged Alembic migrations.

Tables are for persistence only; the rest of trustsvc works with the values of ``trustsvc.trust`` and
``trustsvc.verdict``, and the store code maps between the two.
"""

from .migrate import current_revision, head_revision, migrate
from .session import database_url, engine_from_settings, make_engine, session_scope

__all__ = [
    "current_revision",
    "database_url",
    "engine_from_settings",
    "head_revision",
    "make_engine",
    "migrate",
    "session_scope",
]
