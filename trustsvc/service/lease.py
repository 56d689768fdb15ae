"""A lease in the database, so that one process at a time does a job (the trust refresh) across workers and
replicas; a holder that dies stops renewing and the lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..db.tables import LeaseRow

__all__ = ["acquire_lease", "release_lease"]


def acquire_lease(engine: Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take (or renew) the lease `name` for `holder` until now + ttl; False if someone else holds it."""
    with Session(engine) as session:
        taken = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name)
            .where((LeaseRow.holder == holder) | (LeaseRow.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount:
            session.commit()
            return True
        if session.get(LeaseRow, name) is not None:
            return False
        session.add(LeaseRow(name=name, holder=holder, expires_at=now + ttl))
        try:
            session.commit()
        except IntegrityError:  # another process created it first
            return False
        return True


def release_lease(engine: Engine, name: str, holder: str) -> None:
    with Session(engine) as session:
        released = update(LeaseRow).where(LeaseRow.name == name).where(LeaseRow.holder == holder)
        session.execute(released.values(expires_at=datetime(1970, 1, 1, tzinfo=timezone.utc)))
        session.commit()
