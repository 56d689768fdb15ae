"""API keys of the service's clients: tendering platforms, curators of the agreement, administrators.

A key is shown once, when it is created (``trustsvc keys create``); the database keeps its SHA-256 only. Keys are
32 random bytes, so the hash cannot be reversed by guessing and one index probe authenticates a request.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..db.tables import ApiKeyRow
from ..errors import ConfigurationError

__all__ = ["Role", "Client", "ApiKeys", "KEY_PREFIX"]

KEY_PREFIX = "tsk_"


class Role(enum.StrEnum):
    PLATFORM = "platform"
    """A tendering platform: validates bids, reads back its own evidence."""
    CURATOR = "curator"
    """A legal team member: curates the cross-pilot agreement."""
    ADMIN = "admin"
    """Operates the service: refreshes trust, manages keys."""


@dataclass(frozen=True)
class Client:
    """Who is calling, as far as the service is concerned."""

    name: str
    role: Role
    pilot: str | None = None


class ApiKeys:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, name: str, role: Role, pilot: str | None = None, *, now: datetime | None = None) -> str:
        """Store a new client and return its key (the only time it is ever available)."""
        if not name or len(name) > 128:
            raise ConfigurationError("a key name is 1 to 128 characters", code="key-name")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            name=name,
            role=role.value,
            pilot=pilot,
            key_sha256=_digest(key),
            created_at=now or datetime.now(timezone.utc),
        )
        try:
            with Session(self.engine) as session:
                session.add(row)
                session.commit()
        except IntegrityError as e:
            raise ConfigurationError(f"a key named {name!r} already exists", code="key-exists") from e
        return key

    def authenticate(self, key: str) -> Client | None:
        """The client a presented key belongs to; None for an unknown or revoked key."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        with Session(self.engine) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == _digest(key)))
            if row is None or row.revoked_at is not None:
                return None
            return Client(row.name, Role(row.role), row.pilot)

    def revoke(self, name: str, *, now: datetime | None = None) -> bool:
        with Session(self.engine) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name))
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now or datetime.now(timezone.utc)
            session.add(row)
            session.commit()
            return True

    def list(self) -> list[tuple[Client, datetime, datetime | None]]:
        with Session(self.engine) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name)).all()
            return [(Client(r.name, Role(r.role), r.pilot), r.created_at, r.revoked_at) for r in rows]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
