"""One policy, one signature: the rules checked against the verdict and its facts, then the outcome table.

The policy judges the signature at its own time reference: the earliest proof of existence it accepts (a
qualified time-stamp only, for Italy), else the validation time. When that is later than the best signature time
the validation used (a proof the policy does not accept), validity, revocation and algorithms are judged again at
the later time from the facts; nothing the validation did not establish is assumed.

Every rule result says PASSED, FAILED, UNDETERMINED (a person must look) or PENDING (time will tell: revocation
data after the grace period, a responder that did not answer). The outcome table's first matching row decides;
ACCEPT is only ever given to a TOTAL_PASSED signature whose rules all passed, whatever the table says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..verdict import (
    Decision,
    Indication,
    PolicyReason,
    RuleResult,
    SignatureDecision,
    SignatureFacts,
    SignatureVerdict,
    SubIndication,
)
from .catalogue import LoadedPolicy
from .schema import (
    RULE_IDS,
    ChainRule,
    Condition,
    CryptoRule,
    FormatRule,
    KeyUsageRule,
    OutcomeRow,
    Policy,
    QualificationRule,
    RevocationRule,
    SignaturePolicyRule,
    SubjectRule,
    TimestampRule,
    ValidityRule,
    split_basis,
)

__all__ = ["evaluate_signature", "legal_basis_text", "time_reference", "Finding"]

_TIMESTAMP_PROOFS = {
    "signature": "signature_timestamp",
    "archive": "archive_timestamp",
    "document": "document_timestamp",
}
_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
_INTEGRITY_FAILURES = {
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.FORMAT_FAILURE,
    SubIndication.SIGNED_DATA_NOT_FOUND,
}
_REVOKED = {SubIndication.REVOKED_NO_POE, SubIndication.REVOKED_CA_NO_POE, SubIndication.REVOKED}
_NOT_BLOCKING = {RuleResult.PASSED, RuleResult.WARNING}
_ORDER = {RuleResult.FAILED: 0, RuleResult.PENDING: 1, RuleResult.UNDETERMINED: 2, RuleResult.WARNING: 3}


@dataclass(frozen=True)
class Finding:
    result: RuleResult
    message: str


@dataclass(frozen=True)
class _Case:
    """Everything the rules look at for one signature under one policy."""

    verdict: SignatureVerdict
    facts: SignatureFacts
    at: datetime
    at_source: str
    validation_time: datetime

    @property
    def proven(self) -> bool:
        return self.at_source != "validation_time"

    @property
    def rejudged(self) -> bool:
        """The policy judges at a later time than the validation did (it does not accept the validation's POE)."""
        bst = self.verdict.best_signature_time
        return bst is not None and self.at > bst


def time_reference(verdict: SignatureVerdict, policy: Policy, validation_time: datetime) -> tuple[datetime, str]:
    """The earliest proof of existence of the signature that the policy accepts, and what it is."""
    accepted = set(policy.time.proofs)
    candidates: list[tuple[datetime, str]] = []
    for stamp in verdict.timestamps:
        kind = _TIMESTAMP_PROOFS.get(stamp.type)
        if kind not in accepted or stamp.time is None or stamp.indication != Indication.TOTAL_PASSED:
            continue
        if policy.time.qualified_timestamps_only and stamp.qualified is not True:
            continue
        candidates.append((stamp.time, kind))
    deposit = verdict.facts.deposit_time if verdict.facts else None
    if deposit is not None and "platform_receipt" in accepted:
        candidates.append((deposit, "platform_receipt"))
    candidates = [c for c in candidates if c[0] <= validation_time]
    return min(candidates, default=(validation_time, "validation_time"), key=lambda c: c[0])


def evaluate_signature(verdict: SignatureVerdict, loaded: LoadedPolicy, validation_time: datetime) -> SignatureDecision:
    policy = loaded.policy
    at, source = time_reference(verdict, policy, validation_time)
    case = _Case(verdict, verdict.facts or SignatureFacts(), at, source, validation_time)
    results: list[tuple[str, object, Finding]] = []
    for rule_id, rule in policy.rules.present():
        finding = _CHECKS[rule_id](case, rule, loaded)
        if finding.result not in _NOT_BLOCKING and rule.severity == "warn":
            finding = Finding(RuleResult.WARNING, finding.message)
        results.append((rule_id, rule, finding))
    row_index, row = _decide(case, policy, results)
    reasons = [_row_reason(policy, row_index, row, case)]
    ranked = sorted(results, key=lambda r: _ORDER.get(r[2].result, 4))
    for rule_id, rule, finding in ranked:
        reasons.append(
            PolicyReason(rule_id, finding.message, legal_basis_text(policy, rule.basis), finding.result.value)
        )
    retry_after = None
    if row.decision == Decision.RETRY:
        retry_after = _retry_time(case, policy, row)
    return SignatureDecision(verdict.id, policy.id, row.decision, at, source, tuple(reasons), retry_after)


def legal_basis_text(policy: Policy, references: list[str]) -> str | None:
    """``arrete-2019 art. 5-I 4°`` → ``Arrêté du 22 mars 2019 (...), art. 5-I 4°``; several joined by ``; ``."""
    texts = []
    for reference in references:
        key, pinpoint = split_basis(reference)
        citation = policy.legal_basis.get(key)
        if citation is None:
            texts.append(reference)
            continue
        where = pinpoint or citation.article
        texts.append(f"{citation.ref}, {where}" if where else citation.ref)
    return "; ".join(texts) or None


# -- the decision table -------------------------------------------------------------------------------------------


def _decide(case: _Case, policy: Policy, results) -> tuple[int, OutcomeRow]:
    blocking = any(f.result not in _NOT_BLOCKING for _, _, f in results)
    for index, row in enumerate(policy.outcome):
        if row.decision == Decision.ACCEPT and (case.verdict.indication != Indication.TOTAL_PASSED or blocking):
            continue
        if _matches(row.when, case, results):
            return index, row
    raise AssertionError("the last outcome row has no conditions (checked when the policy is loaded)")


def _matches(when: Condition, case: _Case, results) -> bool:
    verdict = case.verdict
    if when.indication is not None and verdict.indication not in when.indication:
        return False
    if when.subindication is not None and verdict.subindication not in when.subindication:
        return False
    if when.signature_qualification is not None:
        label = verdict.qualification.signature if verdict.qualification else None
        if label not in when.signature_qualification:
            return False
    for selector, wanted in (
        (when.failed, RuleResult.FAILED),
        (when.undetermined, RuleResult.UNDETERMINED),
        (when.pending, RuleResult.PENDING),
    ):
        if selector is not None and not _any_rule(results, selector, wanted):
            return False
    if when.failed_only is not None:
        failed = {rule_id for rule_id, _, f in results if f.result == RuleResult.FAILED}
        allowed = set(RULE_IDS) if when.failed_only == "any" else set(when.failed_only)
        if not failed or not failed <= allowed:
            return False
    if when.anchored_in is not None and not (_anchor_sources(verdict) & set(when.anchored_in)):
        return False
    if when.legal_person is not None:
        signer = case.facts.signer
        legal = signer is not None and signer.natural_person is False
        if legal != when.legal_person:
            return False
    return True


def _any_rule(results, selector: str | list[str], wanted: RuleResult) -> bool:
    for rule_id, rule, finding in results:
        if selector == "any":
            if finding.result == wanted:
                return True
        elif rule_id in selector and (
            finding.result == wanted or (finding.result == RuleResult.WARNING and rule.severity == "warn")
        ):
            return True
    return False


def _row_reason(policy: Policy, index: int, row: OutcomeRow, case: _Case) -> PolicyReason:
    message = row.because or _default_because(row, case)
    return PolicyReason(
        "OUTCOME", f"{message} (outcome row {index + 1})", legal_basis_text(policy, row.basis), row.decision.value
    )


def _default_because(row: OutcomeRow, case: _Case) -> str:
    verdict = case.verdict
    sub = f"/{verdict.subindication.value}" if verdict.subindication else ""
    if row.decision == Decision.ACCEPT:
        return f"The signature is {verdict.indication.value} and meets every rule of the policy"
    return f"The signature is {verdict.indication.value}{sub}"


def _retry_time(case: _Case, policy: Policy, row: OutcomeRow) -> datetime:
    revocation = policy.rules.revocation
    if revocation is not None and case.proven and revocation.grace_period:
        settled = case.at + revocation.grace_period
        if settled > case.validation_time:
            return settled
    return case.validation_time + (row.retry_after or timedelta(hours=1))


# -- the rules ----------------------------------------------------------------------------------------------------


def _integrity(case: _Case, _rule, _loaded) -> Finding:
    verdict = case.verdict
    if verdict.subindication in _INTEGRITY_FAILURES:
        detail = verdict.errors[0].message if verdict.errors else verdict.subindication.value
        return Finding(RuleResult.FAILED, f"The signature or the signed data is not intact: {detail}")
    if verdict.subindication == SubIndication.NO_SIGNING_CERTIFICATE_FOUND:
        return Finding(RuleResult.UNDETERMINED, "Integrity cannot be checked: the signer's certificate is missing.")
    return Finding(RuleResult.PASSED, "The signature value and the signed data are intact.")


def _format(case: _Case, rule: FormatRule, _loaded) -> Finding:
    verdict = case.verdict
    level = verdict.level or ""
    family = "PKCS7" if level.startswith("PKCS7") else "CMS" if level.startswith("CMS") else verdict.format
    shown = level or verdict.format
    if family not in rule.formats:
        return Finding(RuleResult.FAILED, f"{shown} is not an accepted format ({', '.join(rule.formats)}).")
    baseline = "B-" + level.rsplit("-", 1)[-1] if "-" in level else None
    if baseline not in _LEVELS:
        return Finding(RuleResult.UNDETERMINED, f"The level of this {verdict.format} signature is not known.")
    if _LEVELS.index(baseline) < _LEVELS.index(rule.min_level):
        return Finding(RuleResult.FAILED, f"{shown} is below the minimum level {rule.min_level}.")
    return Finding(RuleResult.PASSED, f"{shown} is an accepted format at level {rule.min_level} or above.")


def _signing_certificate(case: _Case, _rule, _loaded) -> Finding:
    if case.facts.signing_certificate_signed:
        return Finding(RuleResult.PASSED, "The signature signs a reference to its certificate.")
    return Finding(
        RuleResult.FAILED, "The signature does not sign a reference to its certificate (signing-certificate)."
    )


def _chain(case: _Case, rule: ChainRule, _loaded) -> Finding:
    verdict = case.verdict
    anchor = verdict.trust_anchor
    if anchor is None:
        if verdict.subindication == SubIndication.NO_CERTIFICATE_CHAIN_FOUND:
            return Finding(
                RuleResult.UNDETERMINED,
                "The certificate does not chain to any anchor the trust sources hold at the signing time.",
            )
        return Finding(RuleResult.UNDETERMINED, "The certificate's path was not established.")
    sources = _anchor_sources(verdict)
    if sources & set(rule.sources):
        return Finding(RuleResult.PASSED, f"The certificate chains to {anchor.subject} ({anchor.source}).")
    return Finding(
        RuleResult.FAILED,
        f"The certificate chains to {anchor.subject}, trusted through {anchor.source}, which this policy does not "
        f"accept ({', '.join(rule.sources)}).",
    )


def _qualified(moment: str) -> Callable[[_Case, QualificationRule, LoadedPolicy], Finding]:
    def check(case: _Case, rule: QualificationRule, _loaded) -> Finding:
        when = "when the certificate was issued" if moment == "issuance" else "at the signing time"
        if rule.or_anchored_in and _anchor_sources(case.verdict) & set(rule.or_anchored_in):
            return Finding(
                RuleResult.PASSED, f"The issuer is in the {', '.join(rule.or_anchored_in)} (accepted in its place)."
            )
        qualification = case.verdict.qualification
        if qualification is None:
            return Finding(
                RuleResult.UNDETERMINED, "Qualification is unknown: the trust does not come from trusted lists."
            )
        label = qualification.at_issuance if moment == "issuance" else qualification.at_signing
        if not label or label == "NA":
            return Finding(RuleResult.UNDETERMINED, f"Whether the certificate was qualified {when} is not known.")
        wanted = {"esig": "ESIG", "eseal": "ESEAL", "any": None}[rule.type]
        kind = label.removeprefix("QC_FOR_").removeprefix("CERT_FOR_").removesuffix("_QSCD")
        if not label.startswith("QC_") or kind == "WSA":
            what = "for electronic signatures" if wanted == "ESIG" else "for seals" if wanted == "ESEAL" else ""
            return Finding(RuleResult.FAILED, f"The certificate was not qualified {what} {when} ({label}).")
        if wanted is not None and kind == "UNKNOWN":
            return Finding(RuleResult.UNDETERMINED, f"The certificate was qualified {when}, of no stated type.")
        if wanted is not None and kind != wanted:
            need = "electronic signatures" if wanted == "ESIG" else "electronic seals"
            return Finding(RuleResult.FAILED, f"The certificate was qualified {when}, but not for {need} ({label}).")
        return Finding(RuleResult.PASSED, f"The certificate was qualified {when} ({label}).")

    return check


def _qscd(case: _Case, _rule, _loaded) -> Finding:
    qualification = case.verdict.qualification
    label = qualification.at_signing if qualification else None
    if not label or label == "NA":
        return Finding(RuleResult.UNDETERMINED, "Whether the key was on a QSCD is not known.")
    if label.endswith("_QSCD"):
        return Finding(RuleResult.PASSED, f"The key was on a qualified signature creation device ({label}).")
    return Finding(RuleResult.FAILED, f"The key was not on a qualified signature creation device ({label}).")


def _validity(case: _Case, rule: ValidityRule, _loaded) -> Finding:
    signer = case.facts.signer
    if signer is None:
        return Finding(RuleResult.UNDETERMINED, "The signer's certificate is not known.")
    at = _stamp(case.at)
    if case.at < signer.not_before:
        return Finding(
            RuleResult.FAILED,
            f"The signature existed at {at}, before its certificate was issued ({signer.not_before}).",
        )
    if case.at > signer.not_after:
        message = (
            f"The certificate expired on {_stamp(signer.not_after)}, and nothing this policy accepts proves the "
            f"signature existed before ({_proof(case)})."
        )
        return Finding(
            RuleResult.FAILED if rule.without_proof_before_expiry == "reject" else RuleResult.UNDETERMINED, message
        )
    if case.validation_time > signer.not_after:
        return Finding(
            RuleResult.PASSED,
            f"The certificate was valid at {at} ({_proof(case)}); it expired later, on {_stamp(signer.not_after)}.",
        )
    return Finding(RuleResult.PASSED, f"The certificate was within its validity at {at} ({_proof(case)}).")


def _revocation(case: _Case, rule: RevocationRule, _loaded) -> Finding:
    verdict = case.verdict
    facts = case.facts.revocation
    at = _stamp(case.at)
    if verdict.subindication == SubIndication.REVOKED:
        return Finding(RuleResult.FAILED, "A time-stamp proves the signature was made after the revocation.")
    revoked_at = facts.revoked_at
    if revoked_at is None and verdict.subindication in _REVOKED:  # a CA of the path: the path validation said so
        detail = verdict.errors[0].message if verdict.errors else verdict.subindication.value
        message = f"A certificate of the path was revoked before {at} ({_proof(case)}): {detail}"
        failed = rule.without_proof_before_revocation == "reject"
        return Finding(RuleResult.FAILED if failed else RuleResult.UNDETERMINED, message)
    if revoked_at is not None and revoked_at <= case.at:
        if facts.on_hold:
            message = f"The certificate is suspended (on hold) since {_stamp(revoked_at)}."
            return Finding(RuleResult.FAILED if rule.on_hold == "reject" else RuleResult.UNDETERMINED, message)
        reason = f" ({facts.reason.replace('_', ' ')})" if facts.reason else ""
        message = (
            f"The certificate was revoked on {_stamp(revoked_at)}{reason}, and nothing this policy accepts proves "
            f"the signature existed before ({_proof(case)})."
        )
        failed = rule.without_proof_before_revocation == "reject"
        return Finding(RuleResult.FAILED if failed else RuleResult.UNDETERMINED, message)
    if verdict.subindication == SubIndication.TRY_LATER:
        return Finding(
            RuleResult.PENDING,
            "The revocation status could not be obtained (no data, or the responder did not answer).",
        )
    path_checked = verdict.indication == Indication.TOTAL_PASSED or verdict.subindication in (
        SubIndication.OUT_OF_BOUNDS_NO_POE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )
    latest = facts.latest_issued
    if latest is None:
        if path_checked and not case.rejudged and not (rule.grace_period and case.proven):
            return Finding(RuleResult.PASSED, f"Not revoked at {at}, as the certificate path validation established.")
        return Finding(RuleResult.UNDETERMINED, "No verified revocation data about the certificate.")
    if case.rejudged and latest < case.at:
        return Finding(
            RuleResult.PENDING,
            f"The newest verified revocation data ({_stamp(latest)}) is older than {at}, the time this policy judges "
            "the signature at.",
        )
    if rule.freshness is not None and latest < case.at - rule.freshness:
        return Finding(
            RuleResult.PENDING,
            f"The newest verified revocation data ({_stamp(latest)}) is more than {_span(rule.freshness)} older "
            f"than the signature ({at}).",
        )
    if rule.grace_period and case.proven and latest < case.at + rule.grace_period:
        return Finding(
            RuleResult.PENDING,
            f"No revocation data issued at least {_span(rule.grace_period)} after the signature ({at}) yet "
            f"(newest: {_stamp(latest)}): a revocation reported late would not show.",
        )
    source = f"{facts.latest_source.upper()} of {_stamp(latest)}" if facts.latest_source else _stamp(latest)
    if revoked_at is not None:
        message = (
            f"Revoked on {_stamp(revoked_at)}, after the signature ({at}, {_proof(case)}): the signature stands "
            "(EN 319 102-1 § 5.6.2.4)."
        )
        if rule.revoked_after_proof == "manual_review":
            return Finding(RuleResult.UNDETERMINED, message)
        return Finding(RuleResult.PASSED, message)
    return Finding(RuleResult.PASSED, f"Not revoked at {at} ({source}).")


def _key_usage(case: _Case, rule: KeyUsageRule, _loaded) -> Finding:
    signer = case.facts.signer
    if signer is None:
        return Finding(RuleResult.UNDETERMINED, "The signer's certificate is not known.")
    usage = signer.key_usage
    if not usage:
        return Finding(RuleResult.PASSED, "The certificate does not restrict its key usage.")
    shown = ", ".join(sorted(usage))
    missing = [bit for bit in rule.all_of if bit not in usage]
    if missing:
        return Finding(RuleResult.FAILED, f"The key usage ({shown}) lacks {', '.join(missing)}.")
    if rule.any_of and not set(rule.any_of) & usage:
        return Finding(RuleResult.FAILED, f"The key usage ({shown}) has none of {', '.join(rule.any_of)}.")
    forbidden = set(rule.none_of) & usage
    if forbidden:
        return Finding(RuleResult.FAILED, f"The key usage ({shown}) includes {', '.join(sorted(forbidden))}.")
    return Finding(RuleResult.PASSED, f"The key usage ({shown}) allows the signature.")


def _subject(case: _Case, rule: SubjectRule, _loaded) -> Finding:
    signer = case.facts.signer
    if signer is None:
        return Finding(RuleResult.UNDETERMINED, "The signer's certificate is not known.")
    if rule.natural_person:
        if signer.natural_person is None:
            return Finding(RuleResult.UNDETERMINED, "The certificate does not say whether it is a natural person's.")
        if not signer.natural_person:
            return Finding(
                RuleResult.FAILED, "The certificate is a legal person's (an electronic seal), not a person's."
            )
    if signer.pseudonym and not rule.pseudonym_allowed:
        return Finding(RuleResult.FAILED, "The certificate names its holder by a pseudonym.")
    who = "a natural person" if signer.natural_person else "its holder"
    return Finding(RuleResult.PASSED, f"The certificate identifies {who}.")


def _cryptography(case: _Case, rule: CryptoRule, loaded: LoadedPolicy) -> Finding:
    suite = loaded.suite
    facts = case.facts
    if suite is None:  # pragma: no cover - the loader refuses a policy whose suite is unknown
        return Finding(RuleResult.UNDETERMINED, f"Suite {rule.suite} is not available.")
    if facts.digest_algorithm is None and facts.signer is None:
        return Finding(RuleResult.UNDETERMINED, "The algorithms of the signature are not known.")
    signer = facts.signer
    digests = [d for d in dict.fromkeys((facts.digest_algorithm, facts.signature_hash)) if d]
    for digest in digests or [None]:
        judgement = suite.judge(
            digest=digest,
            key_type=signer.key_algorithm if signer else None,
            key_bits=signer.key_bits if signer else None,
            mechanism=facts.signature_mechanism,
            at=case.at,
            overrides=rule.overrides,
        )
        if not judgement.acceptable:
            return Finding(
                RuleResult.FAILED, f"Not acceptable at {_stamp(case.at)} ({_proof(case)}): {judgement.message}."
            )
    return Finding(RuleResult.PASSED, f"Acceptable at {_stamp(case.at)}: {judgement.message}.")


def _timestamp(case: _Case, rule: TimestampRule, _loaded) -> Finding:
    stamps = [
        t
        for t in case.verdict.timestamps
        if t.type in ("signature", "document", "archive") and t.indication == Indication.TOTAL_PASSED
    ]
    if rule.qualified:
        qualified = [t for t in stamps if t.qualified]
        if qualified:
            return Finding(RuleResult.PASSED, f"A qualified time-stamp of {_stamp(qualified[0].time)} covers it.")
        if stamps:
            return Finding(RuleResult.FAILED, "The signature's time-stamps are not qualified.")
    elif stamps:
        return Finding(RuleResult.PASSED, f"A time-stamp of {_stamp(stamps[0].time)} covers the signature.")
    if not rule.required:
        return Finding(RuleResult.PASSED, "No time-stamp, and none is required.")
    what = "qualified " if rule.qualified else ""
    return Finding(RuleResult.FAILED, f"The signature has no valid {what}time-stamp.")


def _signature_policy(case: _Case, rule: SignaturePolicyRule, _loaded) -> Finding:
    committed = case.facts.signature_policy
    if committed is None:
        if rule.required:
            return Finding(RuleResult.FAILED, "The signature commits to no signature policy (one is required).")
        return Finding(RuleResult.PASSED, "The signature commits to no explicit signature policy; none is required.")
    for accepted in rule.accepted:
        if accepted.oid != committed.oid:
            continue
        expected = accepted.digest_bytes()
        if expected is not None and (
            committed.digest_algorithm != accepted.digest_algorithm or committed.digest != expected
        ):
            return Finding(
                RuleResult.FAILED,
                f"The signature names policy {committed.oid} with another digest of its document than the "
                "published one: it commits to a different text.",
            )
        return Finding(RuleResult.PASSED, f"The signature commits to the accepted signature policy {committed.oid}.")
    return Finding(
        RuleResult.UNDETERMINED,
        f"The signature commits to signature policy {committed.oid}, which this policy does not know.",
    )


_CHECKS: dict[str, Callable[..., Finding]] = {
    "R-INT": _integrity,
    "R-FMT": _format,
    "R-SCERT": _signing_certificate,
    "R-CHAIN": _chain,
    "R-QC-ISS": _qualified("issuance"),
    "R-QC-SIG": _qualified("signing"),
    "R-QSCD": _qscd,
    "R-VAL": _validity,
    "R-REV": _revocation,
    "R-KU": _key_usage,
    "R-NP": _subject,
    "R-CRYPTO": _cryptography,
    "R-TST": _timestamp,
    "R-POL": _signature_policy,
}


# -- helpers ------------------------------------------------------------------------------------------------------


def _anchor_sources(verdict: SignatureVerdict) -> set[str]:
    """The policy trust-source names an anchor's source label falls under (``TL FR #174`` → eu_lists, national:FR)."""
    anchor = verdict.trust_anchor
    if anchor is None:
        return set()
    label = anchor.source
    if label.startswith("TL "):
        territory = label.split()[1]
        return {"eu_lists", f"national:{territory}"}
    if label.startswith("agreement"):
        return {"agreement"}
    if label == "ad-hoc":
        return {"ad_hoc"}
    return set()


def _proof(case: _Case) -> str:
    return {
        "signature_timestamp": "signature time-stamp",
        "archive_timestamp": "archive time-stamp",
        "document_timestamp": "document time-stamp",
        "platform_receipt": "platform deposit receipt",
        "validation_time": "no accepted proof of existence: validation time",
    }[case.at_source]


def _stamp(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment.utcoffset() == timedelta(0) else moment.isoformat()


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h" if hours < 72 else f"{hours / 24:g} days"
