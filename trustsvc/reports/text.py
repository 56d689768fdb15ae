"""A report for people: one line per signature (who, when, format and level, verdict and why)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..verdict import Indication, Report, SignatureVerdict

__all__ = ["render_text"]

_MARK = {
    Indication.TOTAL_PASSED: "PASSED",
    Indication.TOTAL_FAILED: "FAILED",
    Indication.INDETERMINATE: "INDETERMINATE",
}


def render_text(report: Report) -> str:
    doc = report.document
    lines = [f"{doc.filename} ({doc.format}, sha256 {doc.sha256[:16]}…), validated {_when(report.validation_time)}"]
    for finding in doc.errors:
        lines.append(f"  {finding.code}: {finding.message}")
    for sig in report.signatures:
        lines.append("  " + _signature_line(sig))
    for policy in report.policies:
        lines.append(f"  policy {policy.id}: {policy.decision.value}")
    if report.trust is not None:
        trust = report.trust
        where = f"snapshot {trust.snapshot_id}, " if trust.snapshot_id is not None else ""
        lines.append(f"  trust: {trust.source} ({where}{len(trust.lists)} lists, {trust.anchors} anchors)")
        if trust.stale:
            lines.append(f"  stale lists (past their next update): {', '.join(trust.stale)}")
        if trust.warning:
            lines.append(f"  WARNING: {trust.warning}")
    return "\n".join(lines) + "\n"


def _signature_line(sig: SignatureVerdict) -> str:
    who = "unknown signer"
    if sig.signer is not None:
        who = sig.signer.common_name or sig.signer.subject
        if sig.signer.country:
            who += f" ({sig.signer.country})"
    if (
        sig.best_signature_time is not None
        and sig.timestamps
        and any(t.indication is Indication.TOTAL_PASSED for t in sig.timestamps)
    ):
        when = f"signed by {_when(sig.best_signature_time)} (time-stamped)"
    elif sig.claimed_signing_time is not None:
        when = f"claims {_when(sig.claimed_signing_time)} (not proven)"
    else:
        when = "signing time unknown"
    verdict = _MARK[sig.indication]
    if sig.subindication is not None:
        verdict += f"/{sig.subindication.value}"
    why = sig.errors[0].message if sig.errors else (sig.warnings[0].message if sig.warnings else "")
    level = sig.level or sig.format
    if sig.qualification is not None:
        level += f", {sig.qualification.signature}"
    line = f"{sig.id}: {verdict} — {who}, {when}, {level}"
    return f"{line} — {why}" if why else line


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
