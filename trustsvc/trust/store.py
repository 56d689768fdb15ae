"""The trust store: every trusted list ever received, which version of each list is current, and trust snapshots.

Rules (issue 3, "Store"), applied by :meth:`TrustStore.record`:

- a list whose signature did not verify is recorded as refused, with its reason; the previous accepted version of
  that list stays current (nothing already stored is lost);
- a lower sequence number never replaces the current one (``lower-sequence``); the same sequence number with the
  same bytes changes nothing (``unchanged``); the same sequence number with other bytes is refused
  (``same-sequence-different-content``: a list is never re-issued under the same number);
- a list past its NextUpdate is accepted if otherwise fine; "stale" is computed by the readers against a given
  ``now``, never stored, so it cannot go out of date itself.

The bytes are kept exactly as received (the enveloped signature covers them byte for byte). The services of each
accepted version, with their status history, are stored too, with an index from certificate keys to services for
``tl show``, diagnostics and cold starts; validation itself reads the in-memory registry built from a snapshot.

Concurrent refreshes are safe: the database refuses a second accepted row for the same list and sequence number
(and a second refusal of the same bytes for the same reason), and the loser reads the winner's row back as
``unchanged``.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from asn1crypto import x509
from sqlalchemy import ColumnElement, Engine, Table, and_, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, defer
from sqlmodel import Session, SQLModel

from ..db.tables import (
    ACCEPTED,
    REFUSED,
    CertificateIndexRow,
    ListVersionRow,
    ServiceRow,
    ServiceStatusRow,
    SnapshotMemberRow,
    SnapshotRow,
)
from .cert_keys import certificate_keys, subject_key
from .tsl_model import ListVerification, ServiceState, ServiceStatus, TrustedList, TrustService, list_label

__all__ = [
    "TrustStore",
    "RecordStatus",
    "RecordOutcome",
    "VersionStatus",
    "VersionInfo",
    "CurrentVersion",
    "SnapshotInfo",
    "StatusInfo",
    "ServiceInfo",
    "StatusChange",
    "ListDiff",
    "NotStoredError",
    "certificate_keys",
    "subject_key",
    "LOWER_SEQUENCE",
    "SAME_SEQUENCE_DIFFERENT_CONTENT",
    "UNPARSEABLE",
    "NOT_VERIFIED",
]

log = logging.getLogger(__name__)

#: Refusal codes of the store's own rules (the verification's codes are kept as they come).
LOWER_SEQUENCE = "lower-sequence"
SAME_SEQUENCE_DIFFERENT_CONTENT = "same-sequence-different-content"
UNPARSEABLE = "unparseable"
NOT_VERIFIED = "not-verified"

#: How often a record is decided again after losing a race to a concurrent writer.
_RECORD_ATTEMPTS = 3


class RecordStatus(enum.StrEnum):
    """What :meth:`TrustStore.record` did with a list."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNCHANGED = "unchanged"
    """Already stored with the same outcome (same bytes): nothing was written."""


class VersionStatus(enum.StrEnum):
    ACCEPTED = ACCEPTED
    REFUSED = REFUSED


class NotStoredError(LookupError):
    """The version or snapshot asked for is not in the store."""


@dataclass(frozen=True)
class RecordOutcome:
    """The result of recording one list.

    :param version_id: the row written; for ``unchanged``, the row that already holds these bytes.
    :param code: the refusal code (for ``refused``, and for ``unchanged`` when the earlier row was a refusal).
    """

    status: RecordStatus
    version_id: int
    code: str | None = None
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is RecordStatus.ACCEPTED


@dataclass(frozen=True)
class VersionInfo:
    """Metadata of one stored list version (the bytes stay in the database: :meth:`TrustStore.load`)."""

    id: int
    territory: str | None
    tsl_type: str | None
    is_lotl: bool
    sequence: int | None
    version: int | None
    issued: datetime | None
    next_update: datetime | None
    sha256: str
    size: int
    source: str
    received_at: datetime
    signer_sha256: str | None
    signer_subject: str | None
    signing_time: datetime | None
    verified: bool
    verification_code: str | None
    verification_reason: str | None
    status: VersionStatus
    refusal_code: str | None
    refusal_reason: str | None
    lotl_version_id: int | None

    @property
    def label(self) -> str:
        """How reports name the list, e.g. ``TL FR #174`` or ``LOTL EU #332``."""
        return list_label(self.is_lotl, self.territory, self.sequence)

    def is_stale(self, now: datetime) -> bool:
        """Past its NextUpdate at `now` (a closed list, with no NextUpdate, is not stale)."""
        _require_aware(now, "now")
        return self.next_update is not None and now > self.next_update


@dataclass(frozen=True)
class CurrentVersion:
    """The version of a list in force, and whether it was stale at the moment asked about."""

    version: VersionInfo
    stale: bool


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    created_at: datetime
    version_ids: tuple[int, ...]


@dataclass(frozen=True)
class StatusInfo:
    """One state of a service: the current one first, then its history, newest first."""

    type: str
    name: str
    status: ServiceStatus
    start: datetime


@dataclass(frozen=True)
class ServiceInfo:
    """A service of a stored list version, with its status history."""

    id: int
    version_id: int
    territory: str
    provider: str
    name: str
    type: str
    status: ServiceStatus
    start: datetime
    identity_digest: str
    statuses: tuple[StatusInfo, ...]


@dataclass(frozen=True)
class StatusChange:
    before: ServiceInfo
    after: ServiceInfo


@dataclass(frozen=True)
class ListDiff:
    """Between two versions: services that appeared, services no longer listed, and status changes.

    A service is the same in both versions when its digital identity and its type are; a service whose status went
    to ``withdrawn`` is a status change, one that left the list altogether is removed.
    """

    old_version_id: int
    new_version_id: int
    added: tuple[ServiceInfo, ...]
    removed: tuple[ServiceInfo, ...]
    status_changes: tuple[StatusChange, ...]


@dataclass(frozen=True)
class _Decision:
    status: VersionStatus | None  # None: unchanged
    code: str | None = None
    reason: str | None = None
    existing_id: int | None = None


class TrustStore:
    """Trusted-list versions, snapshots and services over one SQLAlchemy engine (SQLite or PostgreSQL).

    Each call uses its own session, so one store can be shared by threads.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- writing -------------------------------------------------------------------------------------------------

    def record(
        self,
        raw: bytes,
        parsed: TrustedList | None,
        verification: ListVerification,
        source: str,
        received_at: datetime,
        lotl_version_id: int | None = None,
        *,
        territory: str | None = None,
    ) -> RecordOutcome:
        """Store one list as received, accepted or refused by the rules of this module.

        :param raw: the bytes exactly as downloaded or read.
        :param parsed: the list, or None when the bytes could not be parsed (then it is refused).
        :param verification: the outcome of authenticating the list's signature.
        :param source: the URL or file the bytes came from.
        :param lotl_version_id: the stored LOTL version that pointed at this list.
        :param territory: the territory the list was fetched for (from the LOTL pointer); used only when `parsed`
            is None, so that a refusal of unreadable bytes still shows in that territory's history.
        :raises ValueError: `received_at` is naive, or `lotl_version_id` is not a stored version.
        """
        _require_aware(received_at, "received_at")
        digest = hashlib.sha256(raw).hexdigest()
        if lotl_version_id is not None:
            with Session(self.engine) as session:
                if session.get(ListVersionRow, lotl_version_id) is None:
                    raise ValueError(f"LOTL version {lotl_version_id} is not stored")
        lost: IntegrityError | None = None
        for attempt in range(_RECORD_ATTEMPTS):
            with Session(self.engine) as session:
                decision = _decide(session, digest, parsed, verification)
            if decision.status is None:
                assert decision.existing_id is not None
                return RecordOutcome(RecordStatus.UNCHANGED, decision.existing_id, decision.code, decision.reason)
            row = _version_row(raw, digest, parsed, verification, source, received_at, lotl_version_id, territory)
            row.status = decision.status.value
            row.refusal_code = decision.code
            row.refusal_reason = decision.reason
            try:
                with Session(self.engine) as session:
                    session.add(row)
                    session.flush()
                    assert row.id is not None
                    version_id = row.id
                    if decision.status is VersionStatus.ACCEPTED and parsed is not None:
                        _insert_services(session, version_id, parsed)
                    session.commit()
            except IntegrityError as exc:
                # A concurrent refresh stored the same list (or another one under this sequence number) first:
                # decide again against what it wrote.
                log.debug("record of %s lost a race (attempt %d); deciding again", digest, attempt + 1)
                lost = exc
                continue
            if decision.status is VersionStatus.ACCEPTED:
                log.info("accepted %s from %s", _describe(parsed, territory), source)
                return RecordOutcome(RecordStatus.ACCEPTED, version_id)
            log.warning(
                "refused %s from %s: %s (%s)", _describe(parsed, territory), source, decision.code, decision.reason
            )
            return RecordOutcome(RecordStatus.REFUSED, version_id, decision.code, decision.reason)
        raise RuntimeError(f"could not record list {digest} after {_RECORD_ATTEMPTS} attempts") from lost

    def create_snapshot(self, version_ids: Iterable[int], *, created_at: datetime | None = None) -> int:
        """Fix a set of accepted versions (the LOTL and at most one version per list) that validations will use.

        :raises ValueError: the set is empty, names a version that is not stored or not accepted, or holds two
            versions of the same list.
        """
        ids = sorted(set(version_ids))
        if not ids:
            raise ValueError("a snapshot needs at least one list version")
        created_at = created_at or datetime.now(timezone.utc)
        _require_aware(created_at, "created_at")
        with Session(self.engine) as session:
            rows = session.scalars(
                select(ListVersionRow).options(defer(ListVersionRow.raw)).where(ListVersionRow.id.in_(ids))
            ).all()
            found = {row.id for row in rows}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValueError(f"list versions {missing} are not stored")
            refused = [row.id for row in rows if row.status != ACCEPTED]
            if refused:
                raise ValueError(f"list versions {refused} were refused and cannot enter a snapshot")
            lists = Counter((row.territory, row.is_lotl) for row in rows)
            doubled = sorted(
                f"{'LOTL' if lotl else 'TL'} {territory}" for (territory, lotl), n in lists.items() if n > 1
            )
            if doubled:
                raise ValueError(f"a snapshot holds one version per list; several given for {', '.join(doubled)}")
            snapshot = SnapshotRow(created_at=created_at)
            session.add(snapshot)
            session.flush()
            assert snapshot.id is not None
            snapshot_id = snapshot.id
            session.execute(insert(SnapshotMemberRow), [{"snapshot_id": snapshot_id, "version_id": i} for i in ids])
            session.commit()
        return snapshot_id

    # -- reading -------------------------------------------------------------------------------------------------

    def current_versions(self, now: datetime) -> tuple[CurrentVersion, ...]:
        """The accepted version in force for each list (the LOTL first, then by territory), stale or not at `now`."""
        _require_aware(now, "now")
        version = ListVersionRow
        with Session(self.engine) as session:
            rows = session.scalars(
                select(version).options(defer(version.raw)).where(version.status == ACCEPTED, _is_current(version))
            ).all()
            infos = sorted((_version_info(row) for row in rows), key=_list_order)
        return tuple(CurrentVersion(info, info.is_stale(now)) for info in infos)

    def recent_refusals(self, since: datetime) -> tuple[VersionInfo, ...]:
        """Lists whose newest version received since `since` was refused: the territories where the last good
        version stays in force although a newer one was offered (for health reporting)."""
        _require_aware(since, "since")
        version = ListVersionRow
        with Session(self.engine) as session:
            rows = session.scalars(
                select(version)
                .options(defer(version.raw))
                .where(version.received_at >= since)
                .order_by(version.received_at, version.id)
            ).all()
            newest: dict[tuple[str | None, bool], ListVersionRow] = {}
            for row in rows:
                newest[(row.territory, row.is_lotl)] = row
            refused = [_version_info(row) for row in newest.values() if row.status == REFUSED]
        return tuple(sorted(refused, key=_list_order))

    def history(self, territory: str) -> tuple[VersionInfo, ...]:
        """Every version received for `territory` (the LOTL's is ``EU``), accepted and refused, newest first."""
        version = ListVersionRow
        with Session(self.engine) as session:
            rows = session.scalars(
                select(version)
                .options(defer(version.raw))
                .where(version.territory == territory)
                .order_by(version.received_at.desc(), version.id.desc())
            ).all()
            return tuple(_version_info(row) for row in rows)

    def version(self, version_id: int) -> VersionInfo:
        """Metadata of one version.

        :raises NotStoredError: no such version.
        """
        with Session(self.engine) as session:
            row = session.get(ListVersionRow, version_id, options=[defer(ListVersionRow.raw)])
            if row is None:
                raise NotStoredError(f"no trusted-list version {version_id}")
            return _version_info(row)

    def load(self, version_id: int) -> bytes:
        """The bytes of a version exactly as they were received.

        :raises NotStoredError: no such version.
        """
        with Session(self.engine) as session:
            raw = session.scalar(select(ListVersionRow.raw).where(ListVersionRow.id == version_id))
        if raw is None:
            raise NotStoredError(f"no trusted-list version {version_id}")
        return bytes(raw)

    def latest_snapshot(self) -> SnapshotInfo | None:
        with Session(self.engine) as session:
            snapshot_id = session.scalar(select(SnapshotRow.id).order_by(SnapshotRow.id.desc()).limit(1))
            return None if snapshot_id is None else _snapshot_info(session, snapshot_id)

    def snapshot(self, snapshot_id: int) -> SnapshotInfo:
        """:raises NotStoredError: no such snapshot."""
        with Session(self.engine) as session:
            return _snapshot_info(session, snapshot_id)

    def snapshot_versions(self, snapshot_id: int) -> tuple[VersionInfo, ...]:
        """The versions a snapshot holds, the LOTL first, then by territory.

        :raises NotStoredError: no such snapshot.
        """
        version = ListVersionRow
        with Session(self.engine) as session:
            if session.get(SnapshotRow, snapshot_id) is None:
                raise NotStoredError(f"no trust snapshot {snapshot_id}")
            rows = session.scalars(
                select(version)
                .options(defer(version.raw))
                .join(SnapshotMemberRow, SnapshotMemberRow.version_id == version.id)
                .where(SnapshotMemberRow.snapshot_id == snapshot_id)
            ).all()
            return tuple(sorted((_version_info(row) for row in rows), key=_list_order))

    def services(self, version_id: int) -> tuple[ServiceInfo, ...]:
        """The services of an accepted version, in list order (a refused version has none)."""
        with Session(self.engine) as session:
            return _services_where(session, ServiceRow.version_id == version_id)

    def services_for_key(self, key: str, *, snapshot_id: int | None = None) -> tuple[ServiceInfo, ...]:
        """The services a key identifies (see :func:`certificate_keys`), in the current versions or in a snapshot.

        One indexed query on ``certificate_index`` (plus one for the status histories of what it found).
        """
        return self._services_for_keys((key,), snapshot_id)

    def services_for_certificate(self, der: bytes, *, snapshot_id: int | None = None) -> tuple[ServiceInfo, ...]:
        """The services a certificate matches by any of its keys: itself, its public key, its SKI or its subject.

        For diagnostics ("is this CA listed?"); a subject or declared-SKI match alone does not prove the key.
        """
        return self._services_for_keys(certificate_keys(der), snapshot_id)

    def _services_for_keys(self, keys: Sequence[str], snapshot_id: int | None) -> tuple[ServiceInfo, ...]:
        index = CertificateIndexRow
        version = ListVersionRow
        query = select(index.service_id).where(index.key.in_(keys) if len(keys) > 1 else index.key == keys[0])
        if snapshot_id is None:
            query = query.join(version, version.id == index.version_id).where(_is_current(version))
        else:
            query = query.join(
                SnapshotMemberRow,
                and_(SnapshotMemberRow.version_id == index.version_id, SnapshotMemberRow.snapshot_id == snapshot_id),
            )
        with Session(self.engine) as session:
            return _services_where(session, ServiceRow.id.in_(query))

    def diff(self, old_version_id: int, new_version_id: int) -> ListDiff:
        """Services added, removed (no longer listed) and changed in status from one accepted version to another.

        :raises NotStoredError: a version is not stored.
        :raises ValueError: a version was refused (refused versions have no services).
        """
        with Session(self.engine) as session:
            for version_id in (old_version_id, new_version_id):
                status = session.scalar(select(ListVersionRow.status).where(ListVersionRow.id == version_id))
                if status is None:
                    raise NotStoredError(f"no trusted-list version {version_id}")
                if status != ACCEPTED:
                    raise ValueError(f"trusted-list version {version_id} was refused: it has no services to compare")
            old = _by_identity(_services_where(session, ServiceRow.version_id == old_version_id))
            new = _by_identity(_services_where(session, ServiceRow.version_id == new_version_id))
        added = tuple(service for key, service in new.items() if key not in old)
        removed = tuple(service for key, service in old.items() if key not in new)
        changes = tuple(
            StatusChange(old[key], service)
            for key, service in new.items()
            if key in old and (old[key].status, old[key].start) != (service.status, service.start)
        )
        return ListDiff(old_version_id, new_version_id, added, removed, changes)


# -- the rules ---------------------------------------------------------------------------------------------------


def _decide(session: Session, digest: str, parsed: TrustedList | None, verification: ListVerification) -> _Decision:
    if parsed is None:
        if not verification.verified and verification.code:
            decision = _Decision(VersionStatus.REFUSED, verification.code, verification.reason)
        else:
            decision = _Decision(VersionStatus.REFUSED, UNPARSEABLE, verification.reason or "the list cannot be read")
    elif not verification.verified:
        decision = _Decision(
            VersionStatus.REFUSED,
            verification.code or NOT_VERIFIED,
            verification.reason or "the list's signature was not verified",
        )
    else:
        current = _current_row(session, parsed.territory, parsed.is_lotl)
        if current is None or current.sequence is None or parsed.sequence > current.sequence:
            return _Decision(VersionStatus.ACCEPTED)
        if parsed.sequence < current.sequence:
            decision = _Decision(
                VersionStatus.REFUSED,
                LOWER_SEQUENCE,
                f"sequence number {parsed.sequence} is lower than {current.sequence}, the current one",
            )
        elif current.sha256 == digest:
            return _Decision(None, existing_id=current.id)
        else:
            decision = _Decision(
                VersionStatus.REFUSED,
                SAME_SEQUENCE_DIFFERENT_CONTENT,
                f"sequence number {parsed.sequence} is already stored with other content (sha256 {current.sha256})",
            )
    earlier = session.scalar(
        select(ListVersionRow.id).where(
            ListVersionRow.status == REFUSED,
            ListVersionRow.sha256 == digest,
            ListVersionRow.refusal_code == decision.code,
        )
    )
    if earlier is not None:
        return _Decision(None, decision.code, decision.reason, existing_id=earlier)
    return decision


def _current_row(session: Session, territory: str, is_lotl: bool) -> ListVersionRow | None:
    version = ListVersionRow
    return session.scalars(
        select(version)
        .options(defer(version.raw))
        .where(version.status == ACCEPTED, version.territory == territory, version.is_lotl == is_lotl)
        .order_by(version.sequence.desc())
        .limit(1)
    ).first()


#: The other versions of the same list, in the "is current" condition (made once: building an alias costs more
#: than running the query).
_NEWER = aliased(ListVersionRow, name="newer")


def _is_current(version: Any) -> ColumnElement[bool]:
    """SQL condition: `version` is accepted and no accepted version of the same list has a higher sequence."""
    newer = _NEWER
    return and_(
        version.status == ACCEPTED,
        ~exists().where(
            newer.territory == version.territory,
            newer.is_lotl == version.is_lotl,
            newer.status == ACCEPTED,
            newer.sequence > version.sequence,
        ),
    )


def _version_row(
    raw: bytes,
    digest: str,
    parsed: TrustedList | None,
    verification: ListVerification,
    source: str,
    received_at: datetime,
    lotl_version_id: int | None,
    territory: str | None,
) -> ListVersionRow:
    signer = verification.signer_certificate
    return ListVersionRow(
        territory=parsed.territory if parsed is not None else territory,
        tsl_type=parsed.tsl_type if parsed is not None else None,
        is_lotl=parsed.is_lotl if parsed is not None else False,
        sequence=parsed.sequence if parsed is not None else None,
        version=parsed.version if parsed is not None else None,
        issued=parsed.issued if parsed is not None else None,
        next_update=parsed.next_update if parsed is not None else None,
        sha256=digest,
        size=len(raw),
        raw=bytes(raw),
        source=source,
        received_at=received_at,
        signer_sha256=hashlib.sha256(signer).hexdigest() if signer else None,
        signer_subject=_subject_text(signer) if signer else None,
        signing_time=verification.signing_time,
        verified=verification.verified,
        verification_code=verification.code,
        verification_reason=verification.reason,
        status=REFUSED,
        lotl_version_id=lotl_version_id,
    )


def _insert_services(session: Session, version_id: int, parsed: TrustedList) -> None:
    """The services of an accepted list, their states and their index keys, in three batched inserts."""
    services = list(parsed.services())
    if not services:
        return
    service_rows = []
    for position, (provider, service) in enumerate(services):
        current = service.current
        service_rows.append(
            {
                "version_id": version_id,
                "position": position,
                "provider": provider.name,
                "name": current.name,
                "type": current.type,
                "status": current.status.value,
                "status_start": _utc(current.start),
                "identity_digest": _identity_digest(provider.name, current),
            }
        )
    table = _table(ServiceRow)
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), service_rows).scalars()
    status_rows = []
    key_rows = []
    for service_id, (_provider, service) in zip(ids, services, strict=True):
        for position, state in enumerate(service.states):
            status_rows.append(
                {
                    "service_id": service_id,
                    "position": position,
                    "type": state.type,
                    "name": state.name,
                    "status": state.status.value,
                    "start": _utc(state.start),
                }
            )
        for key in _service_keys(service):
            key_rows.append({"key": key, "service_id": service_id, "version_id": version_id})
    _insert_many(session, _table(ServiceStatusRow), status_rows)
    _insert_many(session, _table(CertificateIndexRow), key_rows)


def _insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction; through COPY on PostgreSQL.

    psycopg sends an executemany as one INSERT per row: for the EU lists (about 28,000 status and key rows) COPY
    is several times faster. Values must already be what the database stores (UTC datetimes, plain strings).
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.driver != "psycopg":
        session.execute(insert(table), rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    dbapi_connection = connection.connection.driver_connection
    assert dbapi_connection is not None
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _table(model: type[SQLModel]) -> Table:
    """The Core table of a model: batched inserts through it skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


# -- reading rows back -------------------------------------------------------------------------------------------


def _version_info(row: ListVersionRow) -> VersionInfo:
    assert row.id is not None
    return VersionInfo(
        id=row.id,
        territory=row.territory,
        tsl_type=row.tsl_type,
        is_lotl=row.is_lotl,
        sequence=row.sequence,
        version=row.version,
        issued=row.issued,
        next_update=row.next_update,
        sha256=row.sha256,
        size=row.size,
        source=row.source,
        received_at=row.received_at,
        signer_sha256=row.signer_sha256,
        signer_subject=row.signer_subject,
        signing_time=row.signing_time,
        verified=row.verified,
        verification_code=row.verification_code,
        verification_reason=row.verification_reason,
        status=VersionStatus(row.status),
        refusal_code=row.refusal_code,
        refusal_reason=row.refusal_reason,
        lotl_version_id=row.lotl_version_id,
    )


def _list_order(info: VersionInfo) -> tuple[bool, str]:
    return (not info.is_lotl, info.territory or "")


def _snapshot_info(session: Session, snapshot_id: int) -> SnapshotInfo:
    snapshot = session.get(SnapshotRow, snapshot_id)
    if snapshot is None:
        raise NotStoredError(f"no trust snapshot {snapshot_id}")
    ids = session.scalars(
        select(SnapshotMemberRow.version_id)
        .where(SnapshotMemberRow.snapshot_id == snapshot_id)
        .order_by(SnapshotMemberRow.version_id)
    ).all()
    return SnapshotInfo(snapshot_id, snapshot.created_at, tuple(ids))


def _services_where(session: Session, condition: ColumnElement[bool]) -> tuple[ServiceInfo, ...]:
    service = ServiceRow
    rows = session.execute(
        select(service, ListVersionRow.territory)
        .join(ListVersionRow, ListVersionRow.id == service.version_id)
        .where(condition)
        .order_by(service.version_id, service.position)
    ).all()
    if not rows:
        return ()
    ids = [row.id for row, _territory in rows]
    states: dict[int, list[StatusInfo]] = {service_id: [] for service_id in ids}
    for chunk in _chunks(ids, 1000):
        for state in session.scalars(
            select(ServiceStatusRow)
            .where(ServiceStatusRow.service_id.in_(chunk))
            .order_by(ServiceStatusRow.service_id, ServiceStatusRow.position)
        ):
            states[state.service_id].append(
                StatusInfo(state.type, state.name, _service_status(state.status), state.start)
            )
    return tuple(
        ServiceInfo(
            id=row.id,
            version_id=row.version_id,
            territory=territory,
            provider=row.provider,
            name=row.name,
            type=row.type,
            status=_service_status(row.status),
            start=row.status_start,
            identity_digest=row.identity_digest,
            statuses=tuple(states[row.id]),
        )
        for row, territory in rows
    )


def _by_identity(services: Sequence[ServiceInfo]) -> dict[tuple[str, str, int], ServiceInfo]:
    """Services keyed by (identity, type, occurrence): a list that names one service twice keeps both."""
    seen: Counter[tuple[str, str]] = Counter()
    keyed = {}
    for service in services:
        base = (service.identity_digest, service.type)
        keyed[(*base, seen[base])] = service
        seen[base] += 1
    return keyed


def _service_status(value: str) -> ServiceStatus:
    try:
        return ServiceStatus(value)
    except ValueError:
        return ServiceStatus.UNKNOWN


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utc(moment: datetime) -> datetime:
    """A moment from a parsed list as stored; the model promises UTC, and a naive value would be misread."""
    _require_aware(moment, "a service status start")
    return moment.astimezone(timezone.utc)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


def _describe(parsed: TrustedList | None, territory: str | None = None) -> str:
    if parsed is None:
        return f"the list of {territory}" if territory else "a list"
    return f"{'LOTL' if parsed.is_lotl else 'TL'} {parsed.territory} #{parsed.sequence}"


# -- index keys --------------------------------------------------------------------------------------------------


def _subject_text(der: bytes) -> str | None:
    try:
        return x509.Certificate.load(der).subject.human_friendly
    except (ValueError, TypeError, KeyError):
        return None


def _service_keys(service: TrustService) -> list[str]:
    """Every key of every state of a service (a service may change certificates over its history)."""
    keys: dict[str, None] = {}
    for state in service.states:
        identity = state.identity
        for der in identity.certificates:
            keys.update(dict.fromkeys(certificate_keys(der)))
        for ski in identity.skis:
            keys[f"ski:{ski.hex()}"] = None
        for name in identity.subject_names:
            subject = subject_key(name)
            if subject:
                keys[subject] = None
    return list(keys)


def _identity_digest(provider: str, state: ServiceState) -> str:
    """What makes a service the same service in two versions: its certificates, else SKIs, else subject names."""
    identity = state.identity
    if identity.certificates:
        parts = ["cert", *sorted(hashlib.sha256(der).hexdigest() for der in identity.certificates)]
    elif identity.skis:
        parts = ["ski", *sorted(ski.hex() for ski in identity.skis)]
    elif identity.subject_names:
        parts = ["subject", *sorted(subject_key(name) for name in identity.subject_names)]
    else:
        parts = ["name", provider, state.name]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
