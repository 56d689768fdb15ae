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
    "SignatureVerdict",
    "DocumentInfo",
    "Decision",
    "PolicyReason",
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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"filename": self.filename, "sha256": self.sha256, "format": self.format}
        if self.errors:
            out["errors"] = [f.to_dict() for f in self.errors]
        return out


class Decision(enum.StrEnum):
    """A pilot policy's decision. Not an ETSI term: kept apart from `Indication` on purpose."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    RETRY = "RETRY"


@dataclass(frozen=True)
class PolicyReason:
    rule: str
    message: str
    legal_basis: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "legal_basis": self.legal_basis}


@dataclass(frozen=True)
class PolicyDecision:
    id: str
    decision: Decision
    reasons: tuple[PolicyReason, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "decision": self.decision.value, "reasons": [r.to_dict() for r in self.reasons]}


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
