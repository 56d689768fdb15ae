"""A policy in plain words, rule by rule with its legal basis: what ``trustsvc policy explain`` prints for the
legal teams who check that the YAML says what the law says."""

from __future__ import annotations

import textwrap
from datetime import timedelta

from .catalogue import LoadedPolicy
from .evaluate import legal_basis_text
from .schema import (
    ChainRule,
    Condition,
    CryptoRule,
    FormatRule,
    KeyUsageRule,
    QualificationRule,
    RevocationRule,
    SignaturePolicyRule,
    SubjectRule,
    TimestampRule,
    ValidityRule,
)

__all__ = ["explain"]

_PROOFS = {
    "signature_timestamp": "a signature time-stamp",
    "archive_timestamp": "an archive time-stamp",
    "document_timestamp": "a document time-stamp",
    "platform_receipt": "the platform's deposit receipt",
}
_SOURCES = {
    "eu_lists": "a trusted list of the EU",
    "agreement": "the curated cross-pilot agreement",
    "ad_hoc": "anchors given with the request",
}
_TYPES = {"esig": "for electronic signatures", "eseal": "for electronic seals", "any": "(of any type)"}


def explain(loaded: LoadedPolicy) -> str:
    policy = loaded.policy
    window = policy.effective
    until = f"until {window.until}" if window.until else "with no end date"
    where = f"{policy.jurisdiction}" + (f" ({', '.join(policy.territories)})" if policy.territories else "")
    lines = [
        f"{policy.id} — {policy.title} (version {policy.version})",
        f"Pilot {policy.pilot}, jurisdiction {where}; in force from {window.from_} {until}, by the signature's time "
        f"({policy.timezone}).",
    ]
    if policy.description:
        lines += ["", _wrap(policy.description.strip(), "")]
    lines += ["", "When the signature was made:"]
    proofs = " or ".join(_PROOFS[p] for p in policy.time.proofs)
    qualified = " (qualified time-stamps only)" if policy.time.qualified_timestamps_only else ""
    lines.append(
        _wrap(
            f"the earliest proof of existence among {proofs}{qualified}; without one, the time of validation. "
            "A signing time the signer claims is never a proof.",
            "  ",
        )
    )
    lines.append(_wrap(f"Basis: {legal_basis_text(policy, policy.time.basis)}", "  "))
    lines += ["", "Rules:"]
    for rule_id, rule in policy.rules.present():
        severity = " Only a warning." if rule.severity == "warn" else ""
        lines.append(_wrap(f"  {rule_id:<9} {_RULE_TEXT[rule_id](rule)}{severity}", "", hang=12))
        if rule.note:
            lines.append(_wrap(f"Note: {rule.note}", " " * 12))
        lines.append(_wrap(f"Basis: {legal_basis_text(policy, rule.basis)}", " " * 12))
    lines += ["", "Decision (the first row that applies):"]
    for index, row in enumerate(policy.outcome, 1):
        condition = _condition_text(row.when)
        because = f" — {row.because}" if row.because else ""
        retry = f" (again in {_duration(row.retry_after)})" if row.retry_after else ""
        lines.append(_wrap(f"{index}. {condition}: {row.decision.value}{retry}{because}.", "  ", hang=5))
        if row.basis:
            lines.append(_wrap(f"Basis: {legal_basis_text(policy, row.basis)}", "     "))
    lines.append("  ACCEPT is only ever given to a TOTAL_PASSED signature whose rules all passed.")
    lines.append("  A document is accepted only if every signature in it is.")
    if policy.manual_checks:
        lines += ["", "A person must also check:"]
        for check in policy.manual_checks:
            lines.append(_wrap(f"{check.id}: {check.description}", "  ", hang=4))
            lines.append(_wrap(f"Basis: {legal_basis_text(policy, check.basis)}", "    "))
    lines += ["", "Legal basis:"]
    for key, citation in policy.legal_basis.items():
        confidence = {
            "V": "verified",
            "P": "paraphrased from a secondary source",
            "K": "not verified: check before go-live",
        }
        url = f" <{citation.url}>" if citation.url else ""
        lines.append(_wrap(f"[{key}] {citation.ref}{url} ({confidence[citation.confidence]})", "  ", hang=4))
    return "\n".join(lines) + "\n"


def _format(rule: FormatRule) -> str:
    return f"The format must be {_or(rule.formats)}, at level {rule.min_level} or higher."


def _chain(rule: ChainRule) -> str:
    names = [_source_name(s) for s in rule.sources]
    return f"The certificate must chain to a CA trusted through {_or(names)}, as of the signing time."


def _qualified(moment: str):
    def text(rule: QualificationRule) -> str:
        also = ""
        if rule.or_anchored_in:
            also = f" (or be issued by a CA of {_or([_SOURCES[s] for s in rule.or_anchored_in])})"
        return f"The certificate must have been qualified {_TYPES[rule.type]} {moment}, as the trusted list says{also}."

    return text


def _validity(rule: ValidityRule) -> str:
    then = "reject it" if rule.without_proof_before_expiry == "reject" else "a person decides"
    return (
        "The certificate must have been within its validity when the signature was made; if it has expired and "
        f"nothing proves the signature came first, {then}."
    )


def _revocation(rule: RevocationRule) -> str:
    parts = ["The certificate must not have been revoked or suspended when the signature was made."]
    then = "reject it" if rule.without_proof_before_revocation == "reject" else "a person decides"
    parts.append(f"If it is revoked and nothing proves the signature came first, {then}.")
    hold = "reject it" if rule.on_hold == "reject" else "a person decides"
    parts.append(f"If it is suspended, {hold}.")
    after = "the signature stands" if rule.revoked_after_proof == "accept" else "a person decides"
    parts.append(f"A revocation after the proof of existence: {after}.")
    if rule.freshness:
        parts.append(f"Revocation data must be at most {_duration(rule.freshness)} older than the signature.")
    if rule.grace_period:
        parts.append(
            f"After a proven signing time, wait for revocation data issued at least {_duration(rule.grace_period)} "
            "later (a compromise reported late must show)."
        )
    return " ".join(parts)


def _key_usage(rule: KeyUsageRule) -> str:
    parts = []
    if rule.all_of:
        parts.append(f"all of {_and(rule.all_of)}")
    if rule.any_of:
        parts.append(f"at least one of {_or(rule.any_of)}")
    if rule.none_of:
        parts.append(f"none of {_or(rule.none_of)}")
    return f"The certificate's key usage must include {'; '.join(parts)}."


def _subject(rule: SubjectRule) -> str:
    text = "The certificate must be a natural person's (not an electronic seal)." if rule.natural_person else ""
    if not rule.pseudonym_allowed:
        text += " It must name its holder, not a pseudonym."
    return text.strip() or "No requirement on the subject."


def _crypto(rule: CryptoRule) -> str:
    text = f"Algorithms and key sizes must have been acceptable under {rule.suite} when the signature was made."
    for override in rule.overrides:
        change = []
        if override.min_bits:
            change.append(f"at least {override.min_bits} bits")
        if override.until:
            change.append(f"only until {override.until}")
        text += f" {override.algorithm.upper()}: {', '.join(change) or 'no end date'} ({override.reason})."
    return text


def _timestamp(rule: TimestampRule) -> str:
    what = "a qualified time-stamp" if rule.qualified else "a time-stamp"
    return f"The signature must carry {what}." if rule.required else f"If it carries {what}, it must hold."


def _policy(rule: SignaturePolicyRule) -> str:
    accepted = _or([p.oid for p in rule.accepted]) if rule.accepted else "none"
    need = "must commit to" if rule.required else "may commit to"
    return f"The signature {need} a signature policy; accepted: {accepted} (with the published digest)."


_RULE_TEXT = {
    "R-INT": lambda _r: "The signature value and the signed data must be intact.",
    "R-FMT": _format,
    "R-SCERT": lambda _r: "The signature must sign a reference to its certificate (signing-certificate attribute).",
    "R-CHAIN": _chain,
    "R-QC-ISS": _qualified("when it was issued"),
    "R-QC-SIG": _qualified("when the signature was made"),
    "R-QSCD": lambda _r: "The key must have been on a qualified signature creation device (QSCD).",
    "R-VAL": _validity,
    "R-REV": _revocation,
    "R-KU": _key_usage,
    "R-NP": _subject,
    "R-CRYPTO": _crypto,
    "R-TST": _timestamp,
    "R-POL": _policy,
}


def _condition_text(when: Condition) -> str:
    if when.is_empty():
        return "Otherwise"
    parts = []
    if when.indication:
        parts.append(f"the indication is {_or([i.value for i in when.indication])}")
    if when.subindication:
        parts.append(f"the sub-indication is {_or([s.value for s in when.subindication])}")
    if when.signature_qualification:
        parts.append(f"the signature is {_or(when.signature_qualification)}")
    for name, verb in (("failed", "failed"), ("undetermined", "could not be decided"), ("pending", "waits for data")):
        value = getattr(when, name)
        if value == "any":
            parts.append(f"a rule {verb}")
        elif value:
            parts.append(f"{_or(value)} {verb}")
    if when.failed_only:
        parts.append(f"only {_or(when.failed_only)} failed")
    if when.anchored_in:
        parts.append(f"the chain ends in {_or([_source_name(s) for s in when.anchored_in])}")
    if when.legal_person is not None:
        parts.append("the signer is a legal person (a seal)" if when.legal_person else "the signer is a natural person")
    return "If " + " and ".join(parts)


def _source_name(source: str) -> str:
    if source.startswith("national:"):
        return f"the trusted list of {source.split(':', 1)[1]}"
    return _SOURCES[source]


def _or(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _and(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 72 else f"{hours / 24:g} days"


def _wrap(text: str, indent: str, *, hang: int | None = None, width: int = 110) -> str:
    subsequent = " " * hang if hang is not None else indent
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=subsequent)
