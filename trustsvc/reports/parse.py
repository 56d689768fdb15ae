"""Reading a JSON report of the contract back into the verdict model.

The service keeps each report as the JSON it returned (the evidence); the other renderings of the same
validation (the ETSI TS 119 102-2 XML report) are made from it when asked for, rather than on every validation.
Facts that the JSON does not carry (``SignatureVerdict.facts``) come back as None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..verdict import (
    Decision,
    DocumentInfo,
    Finding,
    Indication,
    ManualCheckRef,
    PolicyDecision,
    PolicyReason,
    Qualification,
    Report,
    SignatureDecision,
    SignatureVerdict,
    SignerIdentity,
    SubIndication,
    TimestampVerdict,
    TrustAnchorRef,
    TrustSummary,
)

__all__ = ["report_from_dict"]


def report_from_dict(data: dict[str, Any]) -> Report:
    """The report of a JSON document produced by :meth:`Report.to_dict` (KeyError/ValueError if it is not one)."""
    document = data["document"]
    return Report(
        document=DocumentInfo(
            document["filename"], document["sha256"], document["format"], _findings(document.get("errors"))
        ),
        validation_time=_time(data["validation_time"]),
        signatures=tuple(_signature(s) for s in data["signatures"]),
        policies=tuple(_policy(p) for p in data.get("policies", ())),
        timestamps=tuple(_timestamp(t) for t in data.get("timestamps", ())),
        trust=_trust(data["trust"]) if data.get("trust") else None,
    )


def _signature(data: dict[str, Any]) -> SignatureVerdict:
    signer = data.get("signer")
    anchor = data.get("trust_anchor")
    qualification = data.get("qualification")
    return SignatureVerdict(
        id=data["id"],
        format=data["format"],
        level=data.get("level"),
        indication=Indication(data["indication"]),
        subindication=_sub(data.get("subindication")),
        signer=SignerIdentity(
            signer["subject"], signer["issuer"], signer["serial"], signer.get("country"), signer["certificate_sha256"]
        )
        if signer
        else None,
        claimed_signing_time=_time(data.get("claimed_signing_time")),
        best_signature_time=_time(data.get("best_signature_time")),
        trust_anchor=TrustAnchorRef(anchor["subject"], anchor["source"]) if anchor else None,
        qualification=Qualification(
            qualification.get("at_issuance"),
            qualification.get("at_signing"),
            qualification["signature"],
            tuple(qualification.get("notes", ())),
        )
        if qualification
        else None,
        timestamps=tuple(_timestamp(t) for t in data.get("timestamps", ())),
        scope=data.get("scope"),
        errors=_findings(data.get("errors")),
        warnings=_findings(data.get("warnings")),
        infos=_findings(data.get("infos")),
    )


def _timestamp(data: dict[str, Any]) -> TimestampVerdict:
    return TimestampVerdict(
        type=data["type"],
        time=_time(data.get("time")),
        indication=Indication(data["indication"]),
        subindication=_sub(data.get("subindication")),
        tsa=data.get("tsa"),
        qualified=data.get("qualified"),
        message=data.get("message"),
    )


def _policy(data: dict[str, Any]) -> PolicyDecision:
    return PolicyDecision(
        id=data["id"],
        decision=Decision(data["decision"]),
        reasons=_reasons(data.get("reasons")),
        pilot=data.get("pilot"),
        version=data.get("version"),
        title=data.get("title"),
        signatures=tuple(
            SignatureDecision(
                s["id"],
                s["policy"],
                Decision(s["decision"]),
                _time(s["time_reference"]),
                s["time_source"],
                _reasons(s.get("reasons")),
                _time(s.get("retry_after")),
            )
            for s in data.get("signatures", ())
        ),
        manual_checks=tuple(
            ManualCheckRef(c["id"], c["description"], c.get("legal_basis")) for c in data.get("manual_checks", ())
        ),
        retry_after=_time(data.get("retry_after")),
    )


def _trust(data: dict[str, Any]) -> TrustSummary:
    return TrustSummary(
        source=data["source"],
        snapshot_id=data.get("snapshot_id"),
        lists=tuple(data.get("lists", ())),
        stale=tuple(data.get("stale", ())),
        anchors=data.get("anchors", 0),
        warning=data.get("warning"),
    )


def _reasons(items) -> tuple[PolicyReason, ...]:
    return tuple(PolicyReason(r["rule"], r["message"], r.get("legal_basis"), r.get("result")) for r in items or ())


def _findings(items) -> tuple[Finding, ...]:
    return tuple(Finding(f["code"], f["message"]) for f in items or ())


def _sub(value: str | None) -> SubIndication | None:
    return SubIndication(value) if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
