"""A report for people: one line per signature (who, when, format and level, verdict and why)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..verdict import Decision, Indication, PolicyDecision, Report, RuleResult, SignatureVerdict

__all__ = ["render_text"]

_BLOCKING = {RuleResult.FAILED.value, RuleResult.PENDING.value, RuleResult.UNDETERMINED.value}

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
    if report.policies:
        lines += _policy_table(report)
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
    deposit = sig.facts.deposit_time if sig.facts else None
    if deposit is not None and sig.best_signature_time == deposit:
        when = f"signed by {_when(deposit)} (platform deposit receipt)"
    elif (
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


def _policy_table(report: Report) -> list[str]:
    """One row per pilot: the policy applied, the decision, and the reason that decided it."""
    rows = [("PILOT", "POLICY", "DECISION", "WHY")]
    for decision in report.policies:
        rows.append((decision.pilot or decision.id, decision.id, decision.decision.value, _why(decision)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  policies:"]
    for row in rows:
        lines.append("    " + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
    return lines


def _why(decision: PolicyDecision) -> str:
    """The first rule that stood in the way, else the outcome row's reason."""
    outcome = decision.reasons[0].message.rsplit(" (outcome row", 1)[0] if decision.reasons else ""
    blocking = [r for r in decision.reasons if r.result in _BLOCKING and r.rule != "OUTCOME"]
    text = outcome
    if blocking and decision.decision is not Decision.ACCEPT:
        text = f"{outcome} — {blocking[0].rule}: {blocking[0].message}"
    return text if len(text) <= 160 else text[:159] + "…"


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
