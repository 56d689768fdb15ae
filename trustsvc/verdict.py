"""The vocabulary of a validation result: ETSI EN 319 102-1 indications and the report every format produces.

Every format validator returns the same `SignatureVerdict`; nothing after the verdict knows which format it came
from. This module imports nothing from trustsvc, and nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "Indication",
    "SubIndication",
    "Finding",
    "SignerIdentity",
    "TrustAnchorRef",
    "Qualification",
    "TimestampVerdict",
    "CertificateFacts",
    "RevocationFacts",
    "SignaturePolicyRef",
    "SignatureFacts",
    "SignatureVerdict",
    "DocumentInfo",
    "Decision",
    "RuleResult",
    "PolicyReason",
    "ManualCheckRef",
    "SignatureDecision",
    "PolicyDecision",
    "Report",
    "TrustSummary",
    "exit_code",
]


class Indication(enum.StrEnum):
    """Main indication, ETSI EN 319 102-1 § 5.1.3."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def uri(self) -> str:
        return "urn:etsi:019102:mainindication:" + self.value.lower().replace("_", "-")


class SubIndication(enum.StrEnum):
    """Sub-indication, ETSI EN 319 102-1 § 5.1.3 (names spelled as the standard spells them)."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"

    @property
    def uri(self) -> str:
        return "urn:etsi:019102:subindication:" + self.value


@dataclass(frozen=True)
class Finding:
    """One error, warning or informational note: a stable code and a sentence for people."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class SignerIdentity:
    """Who signed: taken from the signing certificate."""

    subject: str
    issuer: str
    serial: str
    country: str | None
    certificate_sha256: str
    common_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "country": self.country,
            "certificate_sha256": self.certificate_sha256,
        }


@dataclass(frozen=True)
class TrustAnchorRef:
    """The anchor a certificate path ended at, and where trust in it came from (a TL, the agreement, ad hoc)."""

    subject: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "source": self.source}


@dataclass(frozen=True)
class Qualification:
    """Certificate and signature qualification per ETSI TS 119 615 (filled in from the trusted lists)."""

    at_issuance: str | None
    at_signing: str | None
    signature: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at_issuance": self.at_issuance,
            "at_signing": self.at_signing,
            "signature": self.signature,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class TimestampVerdict:
    """A time-stamp attached to a signature: what it proves (type), when, and whether it holds."""

    type: str
    time: datetime | None
    indication: Indication
    subindication: SubIndication | None
    tsa: str | None
    qualified: bool | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "time": _iso(self.time),
            "indication": self.indication.value,
            "subindication": self.subindication.value if self.subindication else None,
            "tsa": self.tsa,
            "qualified": self.qualified,
        }
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class CertificateFacts:
    """What acceptance policies ask of the signer's certificate beyond the path: its use, its holder, its key.

    :param natural_person: True for a natural person's certificate, False for a legal person's (a seal), None when
        the certificate does not say.
    :param key_algorithm: ``rsa``, ``rsassa_pss``, ``ec``, ``dsa``, ``ed25519`` or ``ed448``.
    """

    not_before: datetime
    not_after: datetime
    key_usage: frozenset[str]
    extended_key_usage: frozenset[str]
    policies: frozenset[str]
    natural_person: bool | None
    pseudonym: bool
    key_algorithm: str
    key_bits: int


@dataclass(frozen=True)
class RevocationFacts:
    """What verified revocation data (signed by the issuer or its OCSP delegate) says about the signer's
    certificate, whatever the path validation needed: policies judge revocation against their own proof of
    existence, grace period and freshness.

    :param revoked_at: the earliest verified revocation (a suspension only if still in force); None if none.
    :param latest_issued: when the most recent verified information about the certificate was issued.
    """

    revoked_at: datetime | None = None
    reason: str | None = None
    latest_issued: datetime | None = None
    latest_source: str | None = None
    on_hold: bool = False


@dataclass(frozen=True)
class SignaturePolicyRef:
    """The signature policy a signature (EPES) commits to: its identifier and the digest of its document."""

    oid: str
    digest_algorithm: str | None
    digest: bytes | None


@dataclass(frozen=True)
class SignatureFacts:
    """Facts about one signature that acceptance policies judge; established by the format validator.

    :param digest_algorithm: the message digest algorithm (e.g. ``sha256``).
    :param signature_mechanism: ``rsassa_pkcs1v15``, ``rsassa_pss``, ``ecdsa``, ``dsa``, ``ed25519``, ``ed448``.
    :param signing_certificate_signed: the signature signs a reference to its certificate (ESS/XAdES).
    :param deposit_time: the caller's proof of existence (a platform deposit receipt), if one was given.
    """

    signer: CertificateFacts | None = None
    digest_algorithm: str | None = None
    signature_mechanism: str | None = None
    signature_hash: str | None = None
    signing_certificate_signed: bool = False
    signature_policy: SignaturePolicyRef | None = None
    revocation: RevocationFacts = field(default_factory=RevocationFacts)
    deposit_time: datetime | None = None


@dataclass(frozen=True)
class SignatureVerdict:
    """The verdict on one signature (or one standalone time-stamp token)."""

    id: str
    format: str
    level: str | None
    indication: Indication
    subindication: SubIndication | None
    signer: SignerIdentity | None
    claimed_signing_time: datetime | None
    best_signature_time: datetime | None
    trust_anchor: TrustAnchorRef | None = None
    qualification: Qualification | None = None
    timestamps: tuple[TimestampVerdict, ...] = ()
    scope: str | None = None
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    infos: tuple[Finding, ...] = ()
    facts: SignatureFacts | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "level": self.level,
            "indication": self.indication.value,
            "subindication": self.subindication.value if self.subindication else None,
            "signer": self.signer.to_dict() if self.signer else None,
            "claimed_signing_time": _iso(self.claimed_signing_time),
            "best_signature_time": _iso(self.best_signature_time),
            "trust_anchor": self.trust_anchor.to_dict() if self.trust_anchor else None,
            "qualification": self.qualification.to_dict() if self.qualification else None,
            "timestamps": [t.to_dict() for t in self.timestamps],
            "scope": self.scope,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "infos": [f.to_dict() for f in self.infos],
        }


@dataclass(frozen=True)
class DocumentInfo:
    """The validated file: its name, digest and detected format, plus problems with the document as a whole."""

    filename: str
    sha256: str
    format: str
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"filename": self.filename, "sha256": self.sha256, "format": self.format}
        if self.errors:
            out["errors"] = [f.to_dict() for f in self.errors]
        if self.warnings:
            out["warnings"] = [f.to_dict() for f in self.warnings]
        return out


class Decision(enum.StrEnum):
    """A pilot policy's decision. Not an ETSI term: kept apart from `Indication` on purpose."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    RETRY = "RETRY"


class RuleResult(enum.StrEnum):
    """What a policy rule found. WARNING is a failed rule of severity ``warn``: reported, never deciding."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    UNDETERMINED = "UNDETERMINED"
    PENDING = "PENDING"
    WARNING = "WARNING"


@dataclass(frozen=True)
class PolicyReason:
    """Why: the rule (a catalogue id, ``OUTCOME`` for the decision table's row, ``POLICY`` for its choice), what
    it found, in words, and the legal text it rests on."""

    rule: str
    message: str
    legal_basis: str | None
    result: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "message": self.message, "legal_basis": self.legal_basis}
        if self.result is not None:
            out["result"] = self.result
        return out


@dataclass(frozen=True)
class ManualCheckRef:
    """A check a person must make (signer's authority...), from the policy."""

    id: str
    description: str
    legal_basis: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "legal_basis": self.legal_basis}


@dataclass(frozen=True)
class SignatureDecision:
    """One policy's decision on one signature, and the time it judged the signature at."""

    signature_id: str
    policy_id: str
    decision: Decision
    time_reference: datetime
    time_source: str
    reasons: tuple[PolicyReason, ...] = ()
    retry_after: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.signature_id,
            "policy": self.policy_id,
            "decision": self.decision.value,
            "time_reference": _iso(self.time_reference),
            "time_source": self.time_source,
            "reasons": [r.to_dict() for r in self.reasons],
        }
        if self.retry_after is not None:
            out["retry_after"] = _iso(self.retry_after)
        return out


@dataclass(frozen=True)
class PolicyDecision:
    """A pilot's decision on the document: every signature must be acceptable, so the worst signature decides."""

    id: str
    decision: Decision
    reasons: tuple[PolicyReason, ...] = ()
    pilot: str | None = None
    version: str | None = None
    title: str | None = None
    signatures: tuple[SignatureDecision, ...] = ()
    manual_checks: tuple[ManualCheckRef, ...] = ()
    retry_after: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "decision": self.decision.value,
            "reasons": [r.to_dict() for r in self.reasons],
        }
        if self.pilot is not None:
            out.update(pilot=self.pilot, version=self.version, title=self.title)
        if self.retry_after is not None:
            out["retry_after"] = _iso(self.retry_after)
        out["signatures"] = [s.to_dict() for s in self.signatures]
        out["manual_checks"] = [m.to_dict() for m in self.manual_checks]
        return out


@dataclass(frozen=True)
class TrustSummary:
    """Which trust a validation used: its source, the snapshot of trusted lists, and what in it is stale."""

    source: str
    snapshot_id: int | None = None
    lists: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    anchors: int = 0
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "snapshot_id": self.snapshot_id,
            "lists": list(self.lists),
            "stale": list(self.stale),
            "anchors": self.anchors,
        }
        if self.warning:
            out["warning"] = self.warning
        return out


@dataclass(frozen=True)
class Report:
    """Everything one validation established about one document."""

    document: DocumentInfo
    validation_time: datetime
    signatures: tuple[SignatureVerdict, ...]
    policies: tuple[PolicyDecision, ...] = field(default=())
    timestamps: tuple[TimestampVerdict, ...] = field(default=())
    trust: TrustSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "document": self.document.to_dict(),
            "validation_time": _iso(self.validation_time),
            "signatures": [s.to_dict() for s in self.signatures],
            "policies": [p.to_dict() for p in self.policies],
        }
        if self.timestamps:
            out["timestamps"] = [t.to_dict() for t in self.timestamps]
        if self.trust is not None:
            out["trust"] = self.trust.to_dict()
        return out


def exit_code(report: Report) -> int:
    """The CLI exit code of the contract: 0 all passed and accepted, 1 something failed or was rejected, 3 otherwise.

    A document without any signature counts as failed: it is not a signed bid.
    """
    if not report.signatures:
        return 1
    indications = {s.indication for s in report.signatures}
    decisions = {p.decision for p in report.policies}
    if Indication.TOTAL_FAILED in indications or Decision.REJECT in decisions:
        return 1
    if indications == {Indication.TOTAL_PASSED} and decisions <= {Decision.ACCEPT}:
        return 0
    return 3


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
