"""The database tables (persistence only: nothing outside ``trustsvc.db`` and the store code uses these types).

The same definitions hold on SQLite and PostgreSQL; the schema itself is created by the Alembic migrations in
``migrations/``, and a test checks that the migrations and these classes agree.

Every timestamp is stored in UTC and read back timezone-aware (:class:`UTCDateTime`), so that comparisons against
``now`` never mix naive and aware values, whichever database answered.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "metadata",
    "UTCDateTime",
    "ListVersionRow",
    "SnapshotRow",
    "SnapshotMemberRow",
    "ServiceRow",
    "ServiceStatusRow",
    "CertificateIndexRow",
    "ApiKeyRow",
    "ValidationRecordRow",
    "LeaseRow",
    "ACCEPTED",
    "REFUSED",
]

#: Constraint names are fixed so that migrations (and SQLite batch mode, which recreates tables) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: trustsvc's own metadata, so that other SQLModel tables in the process never end up in these migrations.
metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Values of ``trusted_list_version.status``.
ACCEPTED = "accepted"
REFUSED = "refused"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where a UTC moment is required")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class _Table(SQLModel):
    """Base of trustsvc's tables: binds them to :data:`metadata`."""

    metadata: ClassVar[MetaData] = metadata


_ACCEPTED_ONLY = text("status = 'accepted'")
_REFUSED_ONLY = text("status = 'refused'")


class ListVersionRow(_Table, table=True):
    """One trusted list as received (accepted or refused), kept byte for byte.

    The bytes are never re-serialised: the enveloped signature covers them exactly, so only the original bytes can
    be verified again later (by an auditor, or after a trust change).
    """

    __tablename__ = "trusted_list_version"
    __table_args__ = (
        # Two accepted versions of one list never share a sequence number; a concurrent duplicate fails here.
        Index(
            "uq_trusted_list_version_accepted_sequence",
            "territory",
            "is_lotl",
            "sequence",
            unique=True,
            sqlite_where=_ACCEPTED_ONLY,
            postgresql_where=_ACCEPTED_ONLY,
        ),
        # The same bytes refused for the same reason are recorded once, however often a refresh sees them.
        Index(
            "uq_trusted_list_version_refused_content",
            "sha256",
            "refusal_code",
            unique=True,
            sqlite_where=_REFUSED_ONLY,
            postgresql_where=_REFUSED_ONLY,
        ),
        Index("ix_trusted_list_version_territory_received_at", "territory", "received_at"),
        Index("ix_trusted_list_version_sha256", "sha256"),
        CheckConstraint("status IN ('accepted', 'refused')", name="status"),
        CheckConstraint(
            "status = 'refused' OR (territory IS NOT NULL AND sequence IS NOT NULL AND verified)",
            name="accepted_complete",
        ),
        CheckConstraint("status = 'accepted' OR refusal_code IS NOT NULL", name="refused_has_code"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    territory: str | None = Field(default=None, sa_column=Column(String(16)))
    """SchemeTerritory (``EU`` for the LOTL); for unparseable bytes, the territory they were fetched for, if known."""
    tsl_type: str | None = Field(default=None, sa_column=Column(String(64)))
    is_lotl: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger))
    version: int | None = Field(default=None, sa_column=Column(Integer))
    """TSLVersionIdentifier (5 or 6)."""
    issued: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    next_update: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    signer_sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    signer_subject: str | None = Field(default=None, sa_column=Column(Text))
    signing_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    verified: bool = Field(sa_column=Column(Boolean, nullable=False))
    verification_code: str | None = Field(default=None, sa_column=Column(String(64)))
    verification_reason: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    refusal_code: str | None = Field(default=None, sa_column=Column(String(64)))
    refusal_reason: str | None = Field(default=None, sa_column=Column(Text))
    lotl_version_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("trusted_list_version.id", ondelete="SET NULL"), index=True),
    )


class SnapshotRow(_Table, table=True):
    """A consistent set of accepted versions (the LOTL and one version per territory) that validations use."""

    __tablename__ = "trust_snapshot"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SnapshotMemberRow(_Table, table=True):
    __tablename__ = "trust_snapshot_version"

    snapshot_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trust_snapshot.id", ondelete="CASCADE"), primary_key=True)
    )
    version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trusted_list_version.id", ondelete="RESTRICT"), primary_key=True)
    )


class ServiceRow(_Table, table=True):
    """A TSPService of an accepted list version, as it currently stands in that version."""

    __tablename__ = "trust_service"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trusted_list_version.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    """Order of the service in the list (provider by provider), so diffs and displays follow the list."""
    provider: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    status: str = Field(sa_column=Column(String(64), nullable=False))
    status_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    identity_digest: str = Field(sa_column=Column(String(64), nullable=False))
    """SHA-256 over the service's digital identity; the same service in two versions has the same digest."""


class ServiceStatusRow(_Table, table=True):
    """One state of a service (position 0: the current information; then ServiceHistoryInstance, newest first)."""

    __tablename__ = "trust_service_status"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trust_service.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    type: str = Field(sa_column=Column(String(128), nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(64), nullable=False))
    start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CertificateIndexRow(_Table, table=True):
    """A key identifying a service (``cert:``, ``ski:``, ``spki:``, ``subject:``), for one indexed lookup."""

    __tablename__ = "certificate_index"
    # The unique index leads with `key`: it is also the index a lookup by key uses.
    __table_args__ = (UniqueConstraint("key", "service_id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    key: str = Field(sa_column=Column(Text, nullable=False))
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trust_service.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("trusted_list_version.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class ApiKeyRow(_Table, table=True):
    """A client of the HTTP service: a tendering platform, a curator or an administrator.

    Only the SHA-256 of the key is kept: keys are 256 random bits, so a fast hash is as strong as a slow one, and a
    lookup by hash costs one index probe per request.
    """

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint("role IN ('platform', 'curator', 'admin')", name="role"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    name: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    pilot: str | None = Field(default=None, sa_column=Column(String(32)))
    key_sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ValidationRecordRow(_Table, table=True):
    """The evidence of one validation: what was validated (digests only, never the bid), the report, and what it
    rested on (trust snapshot, policy versions), for the platform that asked."""

    __tablename__ = "validation_record"
    __table_args__ = (Index("ix_validation_record_platform_created_at", "platform", "created_at"),)

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    """``validation`` (one file) or ``bid`` (the files of one bid)."""
    platform: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    document_sha256: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    """The digest of the validated file (of a bid: of the sorted list of its files' digests)."""
    report_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    trust_snapshot_id: int | None = Field(default=None, sa_column=Column(Integer))
    trust_source: str | None = Field(default=None, sa_column=Column(String(256)))
    policies: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of {"id", "version"} of the policies applied."""
    report_json: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The report exactly as returned (its SHA-256 is report_sha256)."""
    report_xml: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    """The ETSI TS 119 102-2 report of the same validation."""


class LeaseRow(_Table, table=True):
    """A named lease (e.g. the trust refresh): the holder until `expires_at`, so that only one replica or worker
    refreshes at a time, and a crashed holder's lease runs out."""

    __tablename__ = "lease"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    holder: str = Field(sa_column=Column(String(128), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


# -- the cross-pilot CA agreement (trustsvc.trust.agreement) --------------------------------------------------------

#: Values of ``agreement_entry.status``; the SQL conditions below spell them out too.
_AGREEMENT_NOT_WITHDRAWN = text("status <> 'withdrawn'")


class AgreementEntryRow(_Table, table=True):
    """A CA proposed for, in, or withdrawn from the legal teams' curated agreement.

    At most one entry per certificate is not withdrawn: a concurrent second proposal of the same CA fails on the
    partial unique index even if it got past the application's check. A CA withdrawn and proposed again is a new
    entry, so the old one keeps its effective dates for validations of the past.
    """

    __tablename__ = "agreement_entry"
    __table_args__ = (
        Index(
            "uq_agreement_entry_active_certificate",
            "certificate_sha256",
            unique=True,
            sqlite_where=_AGREEMENT_NOT_WITHDRAWN,
            postgresql_where=_AGREEMENT_NOT_WITHDRAWN,
        ),
        CheckConstraint("status IN ('proposed', 'in_force', 'withdrawal_proposed', 'withdrawn')", name="status"),
        CheckConstraint("quality_level BETWEEN 1 AND 5", name="quality_level"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    certificate: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The CA certificate, DER."""
    certificate_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    country: str = Field(sa_column=Column(String(2), nullable=False))
    justification: str = Field(sa_column=Column(Text, nullable=False))
    quality_level: int = Field(sa_column=Column(Integer, nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    valid_to: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    source_document: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(32), nullable=False))
    proposed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    effective_from: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    """When the last pilot approved the addition: in force from then on."""
    effective_to: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    """When the last pilot approved the withdrawal: no longer in force from then on."""


class AgreementApprovalRow(_Table, table=True):
    """One pilot's approval of an entry's addition or withdrawal; the unique constraint makes a second approval by
    the same pilot impossible, whatever races the application code loses."""

    __tablename__ = "agreement_approval"
    __table_args__ = (
        UniqueConstraint("entry_id", "change", "pilot"),
        CheckConstraint("change IN ('addition', 'withdrawal')", name="change"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    entry_id: int = Field(
        sa_column=Column(Integer, ForeignKey("agreement_entry.id", ondelete="RESTRICT"), nullable=False)
    )
    change: str = Field(sa_column=Column(String(16), nullable=False))
    pilot: str = Field(sa_column=Column(String(32), nullable=False))
    curator: str = Field(sa_column=Column(String(128), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))


class AgreementAuditRow(_Table, table=True):
    """One record of the agreement's append-only audit trail, chained by hash to the record before it.

    Ids are assigned by the writer from :class:`AgreementAuditHeadRow` (the hash covers the id, so it must be known
    before the insert); the unique ``prev_hash`` makes a second record chained to the same predecessor impossible.
    trustsvc never updates or deletes these rows.
    """

    __tablename__ = "agreement_audit"
    __table_args__ = (
        CheckConstraint(
            "action IN ('propose', 'approve', 'propose_withdrawal', 'approve_withdrawal', 'in_force', 'withdrawn', "
            "'import')",
            name="action",
        ),
    )

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    curator: str = Field(sa_column=Column(String(128), nullable=False))
    pilot: str | None = Field(default=None, sa_column=Column(String(32)))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    entry_id: int = Field(
        sa_column=Column(Integer, ForeignKey("agreement_entry.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """Canonical JSON of what changed."""
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))


class AgreementAuditHeadRow(_Table, table=True):
    """The single row naming the last audit record (its id and hash).

    Every change to the agreement locks this row, so writers append one after the other; and a record deleted from
    the end of the trail, or added behind trustsvc's back, no longer matches it.
    """

    __tablename__ = "agreement_audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))
