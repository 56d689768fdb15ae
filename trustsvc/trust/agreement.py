"""The legal teams' curated cross-pilot CA agreement (issue 7): which CAs every pilot accepts, since when, and why.

The agreement lists CAs that are not (or not only) on the EU trusted lists but that the pilots' legal teams assessed
(PEPPOL-like quality level) and accept for foreign bidders under ``procure-agreement``. Its rules, and why:

- **Unanimity.** A CA enters only when every pilot of :data:`PILOTS` approved it, and leaves only when every pilot
  approved its withdrawal: the agreement is a promise each pilot makes to the others' bidders, so no pilot can
  commit the others. A proposal by a curator of pilot P counts as P's approval; a pilot approves a change once.
- **Effective dating.** An entry is in force in ``[effective_from, effective_to)``: from the last approval of its
  addition to the last approval of its withdrawal. A withdrawn entry is never deleted or reused (proposing the CA
  again makes a new entry), so :meth:`Agreement.in_force` answers for any past moment, which is what validating an
  old bid at its signing time needs. Effective times are whole seconds, rounded up from the approval (never in
  force before the last approval), because the published list (TS 119 612 ``StatusStartingTime``) has no more.
- **Evidence.** Every change appends to an audit trail chained by hash (``hash = sha256(prev_hash || canonical
  JSON of the record)``); :meth:`Agreement.verify_audit` recomputes the chain, compares its end with the audit head,
  and replays it against the entries and approvals, so an edited, forged or deleted record, or an entry changed
  behind trustsvc's back, is reported with the first place it shows. No code here updates or deletes a record.
- **Concurrency.** Each change is one transaction that locks the entry row and then the single audit-head row
  (PostgreSQL: ``SELECT ... FOR UPDATE``, in that order everywhere, so no deadlock; SQLite: ``BEGIN IMMEDIATE``,
  one writer at a time). Curators approving at the same moment from several processes are thus applied one after
  the other, each seeing the approvals before it: none is lost, none is counted twice, and the record that puts an
  entry in force is written exactly once. Unique constraints (one approval per pilot and change, one record per
  predecessor hash, one live entry per certificate) back this up; a transaction that trips one is run again, and
  then meets the domain error it should have met.

Wrong input raises :class:`AgreementError` with a stable code and one sentence; nothing is written then.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from asn1crypto import pem
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_der_private_key
from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from ..db.tables import AgreementApprovalRow, AgreementAuditHeadRow, AgreementAuditRow, AgreementEntryRow
from ..errors import InputError

__all__ = [
    "PILOTS",
    "GENESIS_HASH",
    "EntryStatus",
    "Change",
    "EntryDraft",
    "Entry",
    "ImportedEntry",
    "AuditRecord",
    "AuditCheck",
    "AgreementError",
    "Agreement",
    "read_ca_certificate",
]

#: The pilots whose legal teams curate the agreement; every one of them approves every change.
PILOTS: tuple[str, ...] = ("fr", "it", "cz", "se", "es")

#: The predecessor of the first audit record (the migration writes it into the audit head).
GENESIS_HASH = "0" * 64

#: How often a change is tried again after losing a race the locks did not prevent (or a deadlock/timeout).
_WRITE_ATTEMPTS = 5

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


class EntryStatus(enum.StrEnum):
    PROPOSED = "proposed"
    """Addition proposed, waiting for the other pilots."""
    IN_FORCE = "in_force"
    WITHDRAWAL_PROPOSED = "withdrawal_proposed"
    """Still in force; its withdrawal waits for the other pilots."""
    WITHDRAWN = "withdrawn"
    """No longer in force since effective_to (kept for validations of the past)."""


class Change(enum.StrEnum):
    """What a pilot approves: the entry's addition or its withdrawal."""

    ADDITION = "addition"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class EntryDraft:
    """What a curator proposes: a CA certificate and the legal team's assessment of it.

    :param ca_certificate: DER (PEM is accepted and turned into DER by :meth:`Agreement.propose`).
    :param country: ISO 3166 alpha-2 code of the member state the CA operates in.
    :param justification: why the CA meets the agreement's requirements (read by the other legal teams).
    :param quality_level: 1..5, the PEPPOL-like assessed quality level; ``procure-agreement`` wants 4 or more, but
        the agreement records what was assessed and leaves the threshold to the policy.
    :param valid_from: from when the assessment holds (certificates issued from then on are meant).
    :param valid_to: until when it holds (exclusive); None: until withdrawn.
    :param source_document: URL or reference of the assessment report.
    """

    ca_certificate: bytes
    name: str
    country: str
    justification: str
    quality_level: int
    valid_from: datetime
    valid_to: datetime | None
    source_document: str


@dataclass(frozen=True)
class Entry:
    """An entry of the agreement with its state.

    :param approvals: pilot -> curator, for the entry's current change: the addition while proposed or in force,
        the withdrawal once one is proposed.
    :param effective_from: when it came in force (the last approval of its addition); None while proposed.
    :param effective_to: when it ceased to be (the last approval of its withdrawal); in force in
        ``[effective_from, effective_to)``.
    """

    id: int
    draft: EntryDraft
    certificate_sha256: str
    status: str
    approvals: dict[str, str]
    effective_from: datetime | None
    effective_to: datetime | None

    @property
    def pending(self) -> Change | None:
        """The change waiting for approvals, if any."""
        if self.status == EntryStatus.PROPOSED:
            return Change.ADDITION
        if self.status == EntryStatus.WITHDRAWAL_PROPOSED:
            return Change.WITHDRAWAL
        return None

    @property
    def missing_pilots(self) -> tuple[str, ...]:
        """The pilots whose approval the pending change still needs (none when nothing is pending)."""
        if self.pending is None:
            return ()
        return tuple(p for p in PILOTS if p not in self.approvals)

    def in_force_at(self, moment: datetime) -> bool:
        return (
            self.effective_from is not None
            and self.effective_from <= moment
            and (self.effective_to is None or moment < self.effective_to)
        )


@dataclass(frozen=True)
class ImportedEntry:
    """An entry as a signed agreement list states it (see :mod:`trustsvc.trust.agreement_list`).

    :param effective_to: None while in force; else when it was withdrawn.
    :param approvals: pilot -> curator of the addition (and of the withdrawal), as the list records them.
    """

    draft: EntryDraft
    effective_from: datetime
    effective_to: datetime | None
    approvals: Mapping[str, str] = field(default_factory=dict)
    withdrawal_approvals: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """One record of the audit trail.

    :param payload: canonical JSON of what changed (always with the certificate's SHA-256).
    :param hash: ``sha256(prev_hash || canonical JSON of id, at, curator, pilot, action, entry_id, reason,
        payload)``, hex.
    """

    id: int
    at: datetime
    curator: str
    pilot: str | None
    action: str
    entry_id: int
    reason: str
    payload: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of :meth:`Agreement.verify_audit`.

    :param rows: records whose hash and link were found right (all of them when ``ok``).
    :param broken_id: the first record that is wrong or missing, when the chain itself is broken.
    :param entry_id: the entry whose stored state the (intact) trail does not explain.
    """

    ok: bool
    rows: int
    broken_id: int | None = None
    entry_id: int | None = None
    reason: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.rows} rows"
        if self.broken_id is not None:
            return f"audit trail broken at row {self.broken_id}: {self.reason}"
        return f"audit trail does not explain entry {self.entry_id}: {self.reason}"


class AgreementError(InputError):
    """A change to the agreement that its rules refuse; `code` is stable, the message one sentence.

    Codes: ``unknown-pilot``, ``not-a-certificate``, ``private-key``, ``not-a-ca``, ``already-in-agreement``,
    ``already-approved``, ``nothing-pending``, ``unknown-entry``, ``bad-quality-level``, ``bad-validity``,
    ``empty-justification``, ``bad-country``, ``empty-name``, ``empty-source``, ``empty-curator``, ``empty-reason``,
    ``not-in-force``, ``withdrawal-pending``; and from the list import ``list-not-authentic``,
    ``not-an-agreement-list``.
    """

    code = "agreement"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


T = TypeVar("T")


def read_ca_certificate(data: bytes) -> bytes:
    """The DER of the one certificate in `data` (DER or PEM), after checking it is a CA certificate.

    A private key (PEM of any kind, PKCS#8 or traditional DER, a PKCS#12 file) is refused as such, so that the
    curator learns what happened; the bytes are neither kept nor repeated in the message.

    :raises AgreementError: ``private-key``, ``not-a-certificate`` or ``not-a-ca``.
    """
    data = bytes(data)
    labels = [label.decode("ascii") for label in _PEM_LABEL.findall(data)]
    if any("PRIVATE KEY" in label for label in labels) or (not labels and _is_private_key_der(data)):
        raise AgreementError(
            "private-key", "a private key was sent by mistake instead of the CA certificate; nothing was kept"
        )
    if labels:
        try:
            ders = [der for kind, _headers, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        except ValueError:
            ders = []
        if len(ders) > 1:
            raise AgreementError(
                "not-a-certificate", f"the file holds {len(ders)} certificates; give the one CA certificate alone"
            )
        der = ders[0] if ders else b""
    else:
        der = data
    try:
        certificate = x509.load_der_x509_certificate(der)
        extensions = certificate.extensions
        subject = _display_name(certificate)
    except ValueError:
        raise AgreementError(
            "not-a-certificate", "the CA certificate does not parse as an X.509 certificate (DER or PEM)"
        ) from None
    try:
        is_ca = extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise AgreementError("not-a-ca", f"{subject} is not a CA certificate (no basicConstraints cA=true)")
    try:
        can_sign_certificates = extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        can_sign_certificates = True
    if not can_sign_certificates:
        raise AgreementError("not-a-ca", f"{subject} is not a CA certificate (its key usage excludes keyCertSign)")
    return der


def _display_name(certificate: x509.Certificate) -> str:
    """How a message names a certificate: its common name (else organisation, else whole subject), quoted."""
    for oid in (x509.NameOID.COMMON_NAME, x509.NameOID.ORGANIZATION_NAME):
        values = certificate.subject.get_attributes_for_oid(oid)
        if values:
            return f'"{values[0].value}"'
    return f'"{certificate.subject.rfc4514_string()}"'


def _is_private_key_der(data: bytes) -> bool:
    try:
        load_der_private_key(data, password=None)
        return True
    except TypeError:  # encrypted: still a private key
        return True
    except Exception:  # noqa: BLE001 - anything else: not a key cryptography can read
        pass
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except Exception:  # noqa: BLE001 - not PKCS#12 either
        return False


class Agreement:
    """The agreement over one SQLAlchemy engine (SQLite or PostgreSQL), migrated to the current schema.

    Each call uses its own session, so one instance can be shared by threads. An in-memory SQLite database shares
    one connection between threads and cannot take the write lock per change: use a file.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- changes -------------------------------------------------------------------------------------------------

    def propose(
        self, draft: EntryDraft, *, curator: str, pilot: str, reason: str, now: datetime | None = None
    ) -> Entry:
        """Propose a CA; the proposer's pilot has approved it by proposing.

        :raises AgreementError: a bad draft (see :func:`read_ca_certificate` and the field checks), an unknown
            pilot, or ``already-in-agreement`` when the same certificate is proposed or in force.
        """
        pilot, curator, moment = _pilot(pilot), _curator(curator), _now(now)
        draft = _checked_draft(draft)
        digest = hashlib.sha256(draft.ca_certificate).hexdigest()

        def work(session: Session, _row: None, head: AgreementAuditHeadRow) -> Entry:
            _refuse_duplicate(session, digest)
            row = AgreementEntryRow(
                certificate=draft.ca_certificate,
                certificate_sha256=digest,
                name=draft.name,
                country=draft.country,
                justification=draft.justification,
                quality_level=draft.quality_level,
                valid_from=draft.valid_from,
                valid_to=draft.valid_to,
                source_document=draft.source_document,
                status=EntryStatus.PROPOSED.value,
                proposed_at=moment,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            session.add(_approval(row.id, Change.ADDITION, pilot, curator, moment, reason))
            payload = _draft_payload(draft, digest)
            _append(session, head, moment, curator, pilot, "propose", row.id, reason, payload)
            approvals = {pilot: curator}
            _complete_if_unanimous(session, head, row, Change.ADDITION, approvals, moment, curator, pilot)
            return _entry(row, approvals)

        return self._write(work)

    def approve(
        self, entry_id: int, *, curator: str, pilot: str, reason: str = "", now: datetime | None = None
    ) -> Entry:
        """Approve the pending **addition** of an entry; the last pilot's approval puts it in force.

        Withdrawals are approved with :meth:`approve_withdrawal` (or :meth:`withdraw`): one call never means two
        different things, so a curator cannot approve a withdrawal believing it is an addition.

        :raises AgreementError: ``unknown-entry``, ``nothing-pending`` (no addition waits), ``already-approved``.
        """
        return self._approve(entry_id, Change.ADDITION, curator=curator, pilot=pilot, reason=reason, now=now)

    def propose_withdrawal(
        self, entry_id: int, *, curator: str, pilot: str, reason: str, now: datetime | None = None
    ) -> Entry:
        """Propose to withdraw an entry in force; the proposer's pilot has approved the withdrawal by proposing.

        :raises AgreementError: ``unknown-entry``, ``empty-reason``, ``not-in-force``, ``withdrawal-pending`` (one
            is proposed already: approve it instead).
        """
        pilot, curator, moment = _pilot(pilot), _curator(curator), _now(now)
        reason = _reason(reason)

        def work(session: Session, row: AgreementEntryRow, head: AgreementAuditHeadRow) -> Entry:
            if row.status == EntryStatus.WITHDRAWAL_PROPOSED:
                raise AgreementError(
                    "withdrawal-pending", f"a withdrawal of entry {row.id} is already proposed: approve it instead"
                )
            return _start_withdrawal(session, head, row, curator, pilot, reason, moment)

        return self._write(work, entry_id)

    def approve_withdrawal(
        self, entry_id: int, *, curator: str, pilot: str, reason: str = "", now: datetime | None = None
    ) -> Entry:
        """Approve the pending withdrawal of an entry; the last pilot's approval ends it (effective_to).

        :raises AgreementError: ``unknown-entry``, ``nothing-pending`` (no withdrawal waits), ``already-approved``.
        """
        return self._approve(entry_id, Change.WITHDRAWAL, curator=curator, pilot=pilot, reason=reason, now=now)

    def withdraw(self, entry_id: int, *, curator: str, pilot: str, reason: str, now: datetime | None = None) -> Entry:
        """Propose the withdrawal of an entry in force, or approve the one already proposed, whichever is due.

        Decided under the entry's lock, so two curators withdrawing at once make one proposal and one approval.

        :raises AgreementError: as :meth:`propose_withdrawal` and :meth:`approve_withdrawal`.
        """
        pilot, curator, moment = _pilot(pilot), _curator(curator), _now(now)
        reason = _reason(reason)

        def work(session: Session, row: AgreementEntryRow, head: AgreementAuditHeadRow) -> Entry:
            if row.status == EntryStatus.WITHDRAWAL_PROPOSED:
                return _add_approval(session, head, row, Change.WITHDRAWAL, curator, pilot, reason, moment)
            return _start_withdrawal(session, head, row, curator, pilot, reason, moment)

        return self._write(work, entry_id)

    def import_entries(
        self,
        items: Iterable[ImportedEntry],
        *,
        curator: str,
        now: datetime | None = None,
        pilot: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> list[Entry]:
        """Bring entries in force (or withdrawn) as an authenticated agreement list states them, all or none.

        An entry already here with the same certificate, details and effective_from is left as it is (importing
        the same list twice changes nothing); if the list says it was withdrawn since, it is withdrawn here too.
        Each change is an ``import`` record of the audit trail, with `evidence` (which list, signed by whom).
        Callers authenticate the list first: :func:`trustsvc.trust.agreement_list.import_list` does.

        :return: the entries created or changed.
        :raises AgreementError: a listed entry breaks a rule of :meth:`propose` (the message names its position),
            or conflicts with an entry here (``already-in-agreement``).
        """
        curator, moment = _curator(curator), _now(now)
        pilot = None if pilot is None else _pilot(pilot)
        prepared = []
        for position, item in enumerate(items, 1):
            try:
                draft = _checked_draft(item.draft)
                for who in (*item.approvals, *item.withdrawal_approvals):
                    _pilot(who)
            except AgreementError as e:
                raise AgreementError(e.code, f"entry {position} of the list: {e.message}") from None
            if item.effective_to is not None and item.effective_to <= item.effective_from:
                raise AgreementError(
                    "not-an-agreement-list", f"entry {position} of the list is withdrawn before it came in force"
                )
            prepared.append((position, replace(item, draft=draft)))
        proof = dict(evidence or {})

        def work(session: Session, _row: None, head: AgreementAuditHeadRow) -> list[Entry]:
            changed = []
            for position, item in prepared:
                entry = _import_one(session, head, item, position, curator, pilot, moment, proof)
                if entry is not None:
                    changed.append(entry)
            return changed

        return self._write(work)

    # -- reading -------------------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every entry, proposed, in force or withdrawn, by id."""
        with self._read() as session:
            rows = session.scalars(select(AgreementEntryRow).order_by(AgreementEntryRow.id)).all()
            return _entries(session, rows)

    def entry(self, entry_id: int) -> Entry:
        """:raises AgreementError: ``unknown-entry``."""
        with self._read() as session:
            row = session.get(AgreementEntryRow, entry_id)
            if row is None:
                raise _unknown(entry_id)
            return _entries(session, [row])[0]

    def approvals(self) -> dict[tuple[int, Change], dict[str, str]]:
        """Every approval given: (entry id, change) -> pilot -> curator (an :class:`Entry` shows only its current
        change's; a published list records both the addition's and the withdrawal's)."""
        with self._read() as session:
            found: dict[tuple[int, Change], dict[str, str]] = {}
            for row in session.scalars(select(AgreementApprovalRow).order_by(AgreementApprovalRow.id)):
                found.setdefault((row.entry_id, Change(row.change)), {})[row.pilot] = row.curator
            return found

    def in_force(self, at: datetime) -> list[Entry]:
        """The entries in force at `at`, as the agreement stood then (a later withdrawal does not reach back)."""
        _require_aware(at, "at")
        entry = AgreementEntryRow
        with self._read() as session:
            rows = session.scalars(
                select(entry)
                .where(
                    entry.effective_from.is_not(None),
                    entry.effective_from <= at,
                    or_(entry.effective_to.is_(None), entry.effective_to > at),
                )
                .order_by(entry.id)
            ).all()
            return _entries(session, rows)

    def audit_trail(self) -> list[AuditRecord]:
        """Every audit record, oldest first."""
        with self._read() as session:
            rows = session.scalars(select(AgreementAuditRow).order_by(AgreementAuditRow.id)).all()
            return [_record(row) for row in rows]

    def verify_audit(self) -> AuditCheck:
        """Recompute the audit chain, compare its end with the audit head, and replay it against the entries.

        Caught: an edited record (its hash no longer matches), a deleted record (a gap, or a broken link, or the
        head pointing past the end), a forged record (a wrong hash, a broken link, or one the head does not
        know), and an entry or approval changed without a record. Not caught: a rewrite of the whole chain and
        the head together by someone with write access to the database; publishing the head's hash (for instance
        in the signed list) anchors it outside.
        """
        with self._read() as session:
            rows = session.scalars(select(AgreementAuditRow).order_by(AgreementAuditRow.id)).all()
            head = session.get(AgreementAuditHeadRow, 1)
            check = _check_chain([_record(row) for row in rows], head)
            if not check.ok:
                return check
            entries = session.scalars(select(AgreementEntryRow).order_by(AgreementEntryRow.id)).all()
            approvals = session.scalars(select(AgreementApprovalRow)).all()
            problem = _replay([_record(row) for row in rows], entries, approvals)
            if problem is not None:
                entry_id, reason = problem
                return AuditCheck(False, check.rows, entry_id=entry_id, reason=reason)
            return check

    # -- transactions --------------------------------------------------------------------------------------------

    def _approve(
        self, entry_id: int, change: Change, *, curator: str, pilot: str, reason: str, now: datetime | None
    ) -> Entry:
        pilot, curator, moment = _pilot(pilot), _curator(curator), _now(now)

        def work(session: Session, row: AgreementEntryRow, head: AgreementAuditHeadRow) -> Entry:
            return _add_approval(session, head, row, change, curator, pilot, reason or "", moment)

        return self._write(work, entry_id)

    def _write(self, work: Callable[[Session, Any, AgreementAuditHeadRow], T], entry_id: int | None = None) -> T:
        """Run `work` in one transaction holding the entry's lock (when given), then the audit head's.

        The lock order (entry, then head) is the same for every change, so PostgreSQL never deadlocks on it; on
        SQLite, ``BEGIN IMMEDIATE`` takes the database's write lock before anything is read.
        """
        lost: Exception | None = None
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    if self.engine.dialect.name == "sqlite":
                        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    row = None
                    if entry_id is not None:
                        row = session.scalars(
                            select(AgreementEntryRow).where(AgreementEntryRow.id == entry_id).with_for_update()
                        ).first()
                        if row is None:
                            raise _unknown(entry_id)
                    head = session.scalars(
                        select(AgreementAuditHeadRow).where(AgreementAuditHeadRow.id == 1).with_for_update()
                    ).first()
                    if head is None:
                        raise RuntimeError("the agreement's audit head is missing: the database was not migrated")
                    result = work(session, row, head)
                    session.commit()
                    return result
            except (IntegrityError, OperationalError) as exc:
                if not _retryable(exc):
                    raise
                lost = exc
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"the agreement change did not go through after {_WRITE_ATTEMPTS} attempts") from lost

    def _read(self) -> Session:
        """A session reading one consistent state (entries, approvals and audit records of the same moment)."""
        session = Session(self.engine)
        if self.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN")
        elif self.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return session


# -- the rules ---------------------------------------------------------------------------------------------------


def _checked_draft(draft: EntryDraft) -> EntryDraft:
    """The draft with its certificate as DER and its text normalised, or the first rule it breaks."""
    der = read_ca_certificate(draft.ca_certificate)
    name = " ".join((draft.name or "").split())
    if not name:
        raise AgreementError("empty-name", "the CA's name is empty")
    country = (draft.country or "").strip().upper()
    if not _COUNTRY.match(country):
        raise AgreementError("bad-country", f"country {draft.country!r} is not an ISO 3166 alpha-2 code such as FR")
    justification = (draft.justification or "").strip()
    if not justification:
        raise AgreementError(
            "empty-justification", "the justification is empty: say why this CA meets the agreement's requirements"
        )
    level = draft.quality_level
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise AgreementError("bad-quality-level", f"quality level {level!r} is not one of 1 to 5")
    for label, moment in (("valid_from", draft.valid_from), ("valid_to", draft.valid_to)):
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            raise AgreementError("bad-validity", f"{label} must be a date and time with a time zone")
    if draft.valid_from is None:
        raise AgreementError("bad-validity", "valid_from is missing")
    valid_from = draft.valid_from.astimezone(timezone.utc)
    valid_to = None if draft.valid_to is None else draft.valid_to.astimezone(timezone.utc)
    if valid_to is not None and valid_to <= valid_from:
        raise AgreementError("bad-validity", f"valid_to {_iso(valid_to)} is not after valid_from {_iso(valid_from)}")
    source = (draft.source_document or "").strip()
    if not source:
        raise AgreementError(
            "empty-source", "the source document is empty: give the URL or reference of the assessment"
        )
    return EntryDraft(der, name, country, justification, level, valid_from, valid_to, source)


def _pilot(pilot: str | None) -> str:
    value = (pilot or "").strip().lower()
    if value not in PILOTS:
        raise AgreementError("unknown-pilot", f"unknown pilot {pilot!r}: the pilots are {', '.join(PILOTS)}")
    return value


def _curator(curator: str | None) -> str:
    value = " ".join((curator or "").split())
    if not value:
        raise AgreementError("empty-curator", "the curator's name is empty")
    if len(value) > 128:
        raise AgreementError("empty-curator", "the curator's name is longer than 128 characters")
    return value


def _reason(reason: str | None) -> str:
    value = (reason or "").strip()
    if not value:
        raise AgreementError("empty-reason", "a withdrawal needs a reason")
    return value


def _now(now: datetime | None) -> datetime:
    moment = now or datetime.now(timezone.utc)
    _require_aware(moment, "now")
    return moment.astimezone(timezone.utc)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")


def _effective(moment: datetime) -> datetime:
    """The whole second at or after `moment`: a list says no more, and never in force before the last approval."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def _unknown(entry_id: int) -> AgreementError:
    return AgreementError("unknown-entry", f"no agreement entry {entry_id}")


def _refuse_duplicate(session: Session, digest: str) -> None:
    existing = session.scalars(
        select(AgreementEntryRow).where(
            AgreementEntryRow.certificate_sha256 == digest, AgreementEntryRow.status != EntryStatus.WITHDRAWN.value
        )
    ).first()
    if existing is not None:
        raise AgreementError(
            "already-in-agreement", f"this CA is already in the agreement as entry {existing.id} ({existing.status})"
        )


def _approval(entry_id: int, change: Change, pilot: str, curator: str, at: datetime, reason: str):
    return AgreementApprovalRow(
        entry_id=entry_id, change=change.value, pilot=pilot, curator=curator, at=at, reason=reason or ""
    )


def _approvals(session: Session, entry_id: int, change: Change) -> dict[str, str]:
    rows = session.scalars(
        select(AgreementApprovalRow)
        .where(AgreementApprovalRow.entry_id == entry_id, AgreementApprovalRow.change == change.value)
        .order_by(AgreementApprovalRow.id)
    ).all()
    return {row.pilot: row.curator for row in rows}


def _add_approval(
    session: Session,
    head: AgreementAuditHeadRow,
    row: AgreementEntryRow,
    change: Change,
    curator: str,
    pilot: str,
    reason: str,
    moment: datetime,
) -> Entry:
    assert row.id is not None
    waiting = EntryStatus.PROPOSED if change is Change.ADDITION else EntryStatus.WITHDRAWAL_PROPOSED
    if row.status != waiting:
        raise AgreementError(
            "nothing-pending", f"entry {row.id} has no pending {change.value} to approve (it is {row.status})"
        )
    approvals = _approvals(session, row.id, change)
    if pilot in approvals:
        raise AgreementError(
            "already-approved",
            f"{pilot} already approved the {change.value} of entry {row.id} ({approvals[pilot]}); "
            "a pilot approves once",
        )
    if change is Change.WITHDRAWAL:
        _require_after_start(row, moment)
    session.add(_approval(row.id, change, pilot, curator, moment, reason))
    approvals[pilot] = curator
    action = "approve" if change is Change.ADDITION else "approve_withdrawal"
    payload = {
        "certificate_sha256": row.certificate_sha256,
        "change": change.value,
        "approvals": len(approvals),
        "of": len(PILOTS),
    }
    _append(session, head, moment, curator, pilot, action, row.id, reason, payload)
    _complete_if_unanimous(session, head, row, change, approvals, moment, curator, pilot)
    return _entry(row, approvals)


def _start_withdrawal(
    session: Session,
    head: AgreementAuditHeadRow,
    row: AgreementEntryRow,
    curator: str,
    pilot: str,
    reason: str,
    moment: datetime,
) -> Entry:
    assert row.id is not None
    if row.status != EntryStatus.IN_FORCE:
        raise AgreementError(
            "not-in-force", f"entry {row.id} is not in force (it is {row.status}): only an entry in force is withdrawn"
        )
    _require_after_start(row, moment)
    row.status = EntryStatus.WITHDRAWAL_PROPOSED.value
    session.add(row)
    session.add(_approval(row.id, Change.WITHDRAWAL, pilot, curator, moment, reason))
    payload = {"certificate_sha256": row.certificate_sha256, "change": Change.WITHDRAWAL.value}
    _append(session, head, moment, curator, pilot, "propose_withdrawal", row.id, reason, payload)
    approvals = {pilot: curator}
    _complete_if_unanimous(session, head, row, Change.WITHDRAWAL, approvals, moment, curator, pilot)
    return _entry(row, approvals)


def _require_after_start(row: AgreementEntryRow, moment: datetime) -> None:
    if row.effective_from is not None and _effective(moment) <= row.effective_from:
        raise AgreementError(
            "withdrawal-too-soon",
            f"entry {row.id} came in force at {_iso(row.effective_from)}; a withdrawal must come after that "
            "second (try again in a moment)",
        )


def _complete_if_unanimous(
    session: Session,
    head: AgreementAuditHeadRow,
    row: AgreementEntryRow,
    change: Change,
    approvals: Mapping[str, str],
    moment: datetime,
    curator: str,
    pilot: str,
) -> None:
    """Apply the change when every pilot approved it, with a record of its own (written once: under the lock)."""
    if set(approvals) != set(PILOTS):
        return
    assert row.id is not None
    effective = _effective(moment)
    who = {p: approvals[p] for p in PILOTS}
    if change is Change.ADDITION:
        row.status = EntryStatus.IN_FORCE.value
        row.effective_from = effective
        action, payload = "in_force", {"effective_from": _iso(effective)}
    else:
        row.status = EntryStatus.WITHDRAWN.value
        row.effective_to = effective
        action, payload = "withdrawn", {"effective_to": _iso(effective)}
    session.add(row)
    payload |= {"certificate_sha256": row.certificate_sha256, "approvals": who}
    reason = f"approved by all {len(PILOTS)} pilots"
    _append(session, head, moment, curator, pilot, action, row.id, reason, payload)


def _import_one(
    session: Session,
    head: AgreementAuditHeadRow,
    item: ImportedEntry,
    position: int,
    curator: str,
    pilot: str | None,
    moment: datetime,
    evidence: Mapping[str, Any],
) -> Entry | None:
    draft = item.draft
    digest = hashlib.sha256(draft.ca_certificate).hexdigest()
    effective_from = item.effective_from.astimezone(timezone.utc)
    effective_to = None if item.effective_to is None else item.effective_to.astimezone(timezone.utc)
    same = select(AgreementEntryRow).where(AgreementEntryRow.certificate_sha256 == digest)
    live = session.scalars(same.where(AgreementEntryRow.status != EntryStatus.WITHDRAWN.value)).first()
    payload: dict[str, Any] = {
        **_draft_payload(draft, digest),
        "effective_from": _iso(effective_from),
        "effective_to": None if effective_to is None else _iso(effective_to),
        "approvals": {Change.ADDITION.value: dict(item.approvals), Change.WITHDRAWAL.value: {}},
        "list": dict(evidence),
    }
    if live is not None:
        assert live.id is not None
        unchanged = (
            live.status in (EntryStatus.IN_FORCE, EntryStatus.WITHDRAWAL_PROPOSED)
            and live.effective_from == effective_from
            and _draft_payload(_draft(live), digest) == _draft_payload(draft, digest)
        )
        if not unchanged:
            raise AgreementError(
                "already-in-agreement",
                f"entry {position} of the list is already in the agreement as entry {live.id} ({live.status}) "
                "with other details",
            )
        if effective_to is None:
            return None
        # The list records the withdrawal agreed since: it ends here too. The approvals recorded are the ones
        # added here (the addition's, and any withdrawal approval given here already, stay as they are).
        given = _approvals(session, live.id, Change.WITHDRAWAL)
        added = {p: c for p, c in item.withdrawal_approvals.items() if p not in given}
        live.status = EntryStatus.WITHDRAWN.value
        live.effective_to = effective_to
        session.add(live)
        _add_imported_approvals(session, live.id, Change.WITHDRAWAL, added, moment)
        payload["approvals"] = {Change.ADDITION.value: {}, Change.WITHDRAWAL.value: added}
        payload["status"] = EntryStatus.WITHDRAWN.value
        _append(session, head, moment, curator, pilot, "import", live.id, _import_reason(evidence), payload)
        return _entry(live, _approvals(session, live.id, Change.WITHDRAWAL))
    if effective_to is not None:
        done = session.scalars(
            same.where(
                AgreementEntryRow.effective_from == effective_from, AgreementEntryRow.effective_to == effective_to
            )
        ).first()
        if done is not None:
            return None
    status = EntryStatus.IN_FORCE if effective_to is None else EntryStatus.WITHDRAWN
    row = AgreementEntryRow(
        certificate=draft.ca_certificate,
        certificate_sha256=digest,
        name=draft.name,
        country=draft.country,
        justification=draft.justification,
        quality_level=draft.quality_level,
        valid_from=draft.valid_from,
        valid_to=draft.valid_to,
        source_document=draft.source_document,
        status=status.value,
        proposed_at=moment,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    _add_imported_approvals(session, row.id, Change.ADDITION, item.approvals, moment)
    if effective_to is not None:
        _add_imported_approvals(session, row.id, Change.WITHDRAWAL, item.withdrawal_approvals, moment)
        payload["approvals"][Change.WITHDRAWAL.value] = dict(item.withdrawal_approvals)
    payload["status"] = status.value
    _append(session, head, moment, curator, pilot, "import", row.id, _import_reason(evidence), payload)
    change = Change.ADDITION if effective_to is None else Change.WITHDRAWAL
    return _entry(row, _approvals(session, row.id, change))


def _add_imported_approvals(
    session: Session, entry_id: int, change: Change, approvals: Mapping[str, str], moment: datetime
) -> None:
    for pilot, curator in approvals.items():
        session.add(_approval(entry_id, change, pilot, curator, moment, "imported"))
    session.flush()


def _import_reason(evidence: Mapping[str, Any]) -> str:
    sequence = evidence.get("sequence")
    return f"imported from the signed agreement list #{sequence}" if sequence is not None else "imported"


# -- the audit trail ---------------------------------------------------------------------------------------------


def _append(
    session: Session,
    head: AgreementAuditHeadRow,
    at: datetime,
    curator: str,
    pilot: str | None,
    action: str,
    entry_id: int,
    reason: str,
    payload: Mapping[str, Any],
) -> None:
    """Append one record after the head (locked by the caller's transaction) and move the head onto it."""
    session.flush()  # the entry and approvals first, so records follow what they describe
    record_id = head.seq + 1
    text = _canonical(payload)
    digest = _record_hash(head.hash, record_id, at, curator, pilot, action, entry_id, reason or "", text)
    session.add(
        AgreementAuditRow(
            id=record_id,
            at=at,
            curator=curator,
            pilot=pilot,
            action=action,
            entry_id=entry_id,
            reason=reason or "",
            payload=text,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    head.seq = record_id
    head.hash = digest
    session.add(head)
    session.flush()


def _record_hash(
    prev_hash: str,
    record_id: int,
    at: datetime,
    curator: str,
    pilot: str | None,
    action: str,
    entry_id: int,
    reason: str,
    payload: str,
) -> str:
    fields = {
        "id": record_id,
        "at": _iso(at),
        "curator": curator,
        "pilot": pilot,
        "action": action,
        "entry_id": entry_id,
        "reason": reason,
        "payload": payload,
    }
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(fields).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _check_chain(records: list[AuditRecord], head: AgreementAuditHeadRow | None) -> AuditCheck:
    previous = GENESIS_HASH
    expected = 1
    for record in records:
        if record.id != expected:
            reason = f"missing: the trail jumps from row {expected - 1} to row {record.id} (rows were deleted)"
            return AuditCheck(False, expected - 1, expected, reason=reason)
        if record.prev_hash != previous:
            return AuditCheck(
                False,
                expected - 1,
                record.id,
                reason="its link does not match the row before it (a row was removed, replaced or inserted)",
            )
        recomputed = _record_hash(
            record.prev_hash,
            record.id,
            record.at,
            record.curator,
            record.pilot,
            record.action,
            record.entry_id,
            record.reason,
            record.payload,
        )
        if recomputed != record.hash:
            reason = "its content does not match its hash (the row was edited or forged)"
            return AuditCheck(False, expected - 1, record.id, reason=reason)
        previous = record.hash
        expected += 1
    count = expected - 1
    if head is None:
        return AuditCheck(False, count, count + 1, reason="the audit head is missing")
    if head.seq > count:
        reason = f"missing: the trail ends at row {count}, the audit head at row {head.seq} (rows were deleted)"
        return AuditCheck(False, count, count + 1, reason=reason)
    if head.seq < count:
        return AuditCheck(
            False,
            head.seq,
            head.seq + 1,
            reason=f"not appended by trustsvc: the audit head ends at row {head.seq} (the row was forged)",
        )
    if head.hash != previous:
        return AuditCheck(False, count - 1, count, reason="it is not the row trustsvc last appended (it was forged)")
    return AuditCheck(True, count)


def _replay(
    records: list[AuditRecord], entries: Iterable[AgreementEntryRow], approvals: Iterable[AgreementApprovalRow]
) -> tuple[int, str] | None:
    """What the (intact) trail says each entry is, against what the tables say; the first difference."""
    expected: dict[int, dict[str, Any]] = {}
    approved: dict[int, set[tuple[str, str, str]]] = {}
    for record in records:
        data = record.data
        state = expected.setdefault(record.entry_id, {})
        given = approved.setdefault(record.entry_id, set())
        if record.action in ("propose", "import"):
            state["draft"] = {k: data[k] for k in _DRAFT_KEYS}
        if record.action == "propose":
            state.update(status=EntryStatus.PROPOSED.value, effective_from=None, effective_to=None)
            given.add((Change.ADDITION.value, record.pilot or "", record.curator))
        elif record.action in ("approve", "approve_withdrawal", "propose_withdrawal"):
            change = Change.ADDITION if record.action == "approve" else Change.WITHDRAWAL
            given.add((change.value, record.pilot or "", record.curator))
            if record.action == "propose_withdrawal":
                state["status"] = EntryStatus.WITHDRAWAL_PROPOSED.value
        elif record.action == "in_force":
            state.update(status=EntryStatus.IN_FORCE.value, effective_from=data["effective_from"])
        elif record.action == "withdrawn":
            state.update(status=EntryStatus.WITHDRAWN.value, effective_to=data["effective_to"])
        elif record.action == "import":
            state.update(
                status=data["status"], effective_from=data["effective_from"], effective_to=data["effective_to"]
            )
            for change, who in data["approvals"].items():
                given.update((change, p, c) for p, c in who.items())
    stored_approvals: dict[int, set[tuple[str, str, str]]] = {}
    for approval in approvals:
        stored_approvals.setdefault(approval.entry_id, set()).add((approval.change, approval.pilot, approval.curator))
    for row in entries:
        assert row.id is not None
        state = expected.get(row.id)
        if state is None:
            return row.id, "no record of the trail created it"
        digest = hashlib.sha256(row.certificate).hexdigest()
        if digest != row.certificate_sha256:
            return row.id, "its certificate is not the one its SHA-256 names"
        actual = {
            "status": row.status,
            "effective_from": None if row.effective_from is None else _iso(row.effective_from),
            "effective_to": None if row.effective_to is None else _iso(row.effective_to),
            "draft": _draft_payload(_draft(row), digest),
        }
        for key, value in actual.items():
            if state.get(key) != value:
                return row.id, f"its {_WHAT[key]} not what the trail records"
        if stored_approvals.get(row.id, set()) != approved.get(row.id, set()):
            return row.id, "its approvals are not the ones the trail records"
    return None


_WHAT = {
    "status": "status is",
    "effective_from": "effective_from is",
    "effective_to": "effective_to is",
    "draft": "assessment (name, country, quality level, validity, justification or source) is",
}

_DRAFT_KEYS = (
    "certificate_sha256",
    "name",
    "country",
    "quality_level",
    "justification",
    "valid_from",
    "valid_to",
    "source_document",
)


def _draft_payload(draft: EntryDraft, digest: str) -> dict[str, Any]:
    return {
        "certificate_sha256": digest,
        "name": draft.name,
        "country": draft.country,
        "quality_level": draft.quality_level,
        "justification": draft.justification,
        "valid_from": _iso(draft.valid_from),
        "valid_to": None if draft.valid_to is None else _iso(draft.valid_to),
        "source_document": draft.source_document,
    }


# -- rows to values ----------------------------------------------------------------------------------------------


def _draft(row: AgreementEntryRow) -> EntryDraft:
    return EntryDraft(
        ca_certificate=bytes(row.certificate),
        name=row.name,
        country=row.country,
        justification=row.justification,
        quality_level=row.quality_level,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        source_document=row.source_document,
    )


def _current_change(status: str) -> Change:
    withdrawal = status in (EntryStatus.WITHDRAWAL_PROPOSED, EntryStatus.WITHDRAWN)
    return Change.WITHDRAWAL if withdrawal else Change.ADDITION


def _entry(row: AgreementEntryRow, approvals: Mapping[str, str]) -> Entry:
    assert row.id is not None
    return Entry(
        id=row.id,
        draft=_draft(row),
        certificate_sha256=row.certificate_sha256,
        status=EntryStatus(row.status),
        approvals=dict(approvals),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


def _entries(session: Session, rows: Iterable[AgreementEntryRow]) -> list[Entry]:
    rows = list(rows)
    ids = [row.id for row in rows]
    found: dict[tuple[int, str], dict[str, str]] = {}
    if ids:
        for approval in session.scalars(
            select(AgreementApprovalRow).where(AgreementApprovalRow.entry_id.in_(ids)).order_by(AgreementApprovalRow.id)
        ):
            found.setdefault((approval.entry_id, approval.change), {})[approval.pilot] = approval.curator
    entries = []
    for row in rows:
        assert row.id is not None
        entries.append(_entry(row, found.get((row.id, _current_change(row.status).value), {})))
    return entries


def _record(row: AgreementAuditRow) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        curator=row.curator,
        pilot=row.pilot,
        action=row.action,
        entry_id=row.entry_id,
        reason=row.reason,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _retryable(exc: IntegrityError | OperationalError) -> bool:
    """A lost race (a unique constraint), a deadlock or serialisation failure, or SQLite's busy timeout."""
    original = exc.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(exc, IntegrityError):
        return state == "23505" or "UNIQUE constraint failed" in str(original)
    return state in ("40001", "40P01", "55P03") or "database is locked" in str(original)
