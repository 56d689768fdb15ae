"""From a validation report to the decision matrix: each requested pilot's decision on the document.

A request names a pilot (``fr``: the fr policy in force at each signature's time reference, so a 2013 bid is
judged by fr-2012), a policy (``fr-2019``: that one, even out of its window, with a warning), or ``all`` pilots.
A document is acceptable to a pilot only if every signature is: the worst signature decides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..verdict import (
    Decision,
    ManualCheckRef,
    PolicyDecision,
    PolicyReason,
    Report,
    RuleResult,
    SignatureDecision,
    SignatureVerdict,
)
from .catalogue import LoadedPolicy, PolicyLookupError, PolicySet
from .evaluate import evaluate_signature, legal_basis_text, time_reference

__all__ = ["PolicyRequest", "resolve_requests", "apply_policies", "ALL"]

ALL = "all"
_SEVERITY = {Decision.ACCEPT: 0, Decision.MANUAL_REVIEW: 1, Decision.RETRY: 2, Decision.REJECT: 3}


@dataclass(frozen=True)
class PolicyRequest:
    """A pilot (chosen by time) or one exact policy."""

    pilot: str
    policy_id: str | None = None


def resolve_requests(names: list[str], policies: PolicySet) -> list[PolicyRequest]:
    """The requests for ``--policy`` values (pilot names, policy ids, ``all``), in order, without duplicates.

    Raises PolicyLookupError for a name that is neither a pilot nor a usable policy.
    """
    requests: list[PolicyRequest] = []
    for name in names:
        if name == ALL:
            requests += [PolicyRequest(pilot) for pilot in policies.pilots()]
        elif name in policies.pilots():
            requests.append(PolicyRequest(name))
        else:
            loaded = policies.get(name)  # raises with the reason (unknown, or invalid: file, line, key)
            requests.append(PolicyRequest(loaded.policy.pilot, loaded.id))
    return list(dict.fromkeys(requests))


def apply_policies(report: Report, requests: list[PolicyRequest], policies: PolicySet) -> Report:
    decisions = tuple(_decide(report, request, policies) for request in requests)
    return dataclasses.replace(report, policies=decisions)


#: Document findings that mean part of what was submitted is not signed.
_UNSIGNED_CONTENT = {"UNSIGNED_FILE"}


def _decide(report: Report, request: PolicyRequest, policies: PolicySet) -> PolicyDecision:
    vt = report.validation_time
    if not report.signatures:
        loaded = _explicit(request, policies) or policies.for_pilot(request.pilot, vt)
        fmt = loaded.policy.rules.format if loaded else None
        basis = legal_basis_text(loaded.policy, fmt.basis) if loaded and fmt else None
        reasons = (
            PolicyReason("OUTCOME", "The document carries no signature: it is not a signed bid.", None, "REJECT"),
            PolicyReason("R-FMT", "No signature was found in the document.", basis, RuleResult.FAILED.value),
        )
        return PolicyDecision(
            loaded.id if loaded else request.pilot,
            Decision.REJECT,
            reasons,
            pilot=request.pilot,
            version=loaded.policy.version if loaded else None,
            title=loaded.policy.title if loaded else None,
        )
    judged = [_judge(signature, request, policies, vt) for signature in report.signatures]
    worst_index = max(range(len(judged)), key=lambda i: _SEVERITY[judged[i][0].decision])
    worst, worst_policy = judged[worst_index]
    reasons = worst.reasons
    if len(judged) > 1:
        reasons = tuple(dataclasses.replace(r, message=f"{worst.signature_id}: {r.message}") for r in reasons)
    policy = worst_policy.policy if worst_policy else None
    checks = ()
    if policy is not None:
        checks = tuple(
            ManualCheckRef(c.id, c.description, legal_basis_text(policy, c.basis)) for c in policy.manual_checks
        )
    retry = max((d.retry_after for d, _ in judged if d.retry_after is not None), default=None)
    decision = worst.decision
    unsigned = [e for e in report.document.errors if e.code in _UNSIGNED_CONTENT]
    if unsigned and _SEVERITY[decision] < _SEVERITY[Decision.MANUAL_REVIEW]:
        # a container with files no signature covers: the signed part may stand, but the bid as submitted is
        # not wholly signed; the authority decides what the unsigned files are worth
        fmt = policy.rules.format if policy is not None else None
        basis = legal_basis_text(policy, fmt.basis) if policy is not None and fmt is not None else None
        decision = Decision.MANUAL_REVIEW
        reasons = (
            PolicyReason(
                "OUTCOME",
                "Part of the container is not signed: the authority decides whether the signed files alone make "
                "the bid.",
                None,
                Decision.MANUAL_REVIEW.value,
            ),
            *(PolicyReason("R-FMT", e.message, basis, RuleResult.FAILED.value) for e in unsigned),
            *reasons,
        )
    return PolicyDecision(
        worst_policy.id if worst_policy else request.pilot,
        decision,
        reasons,
        pilot=request.pilot,
        version=policy.version if policy else None,
        title=policy.title if policy else None,
        signatures=tuple(d for d, _ in judged),
        manual_checks=checks,
        retry_after=retry if decision == Decision.RETRY else None,
    )


def _judge(
    signature: SignatureVerdict, request: PolicyRequest, policies: PolicySet, vt
) -> tuple[SignatureDecision, LoadedPolicy | None]:
    explicit = _explicit(request, policies)
    if explicit is not None:
        decision = evaluate_signature(signature, explicit, vt)
        if explicit.in_force(decision.time_reference):
            note = _window_note(explicit, decision, RuleResult.PASSED, "applies")
        else:
            note = _window_note(explicit, decision, RuleResult.WARNING, "was not in force then; applied as asked")
        return _with_note(decision, note), explicit
    candidates = policies.of_pilot(request.pilot)
    for loaded in candidates:
        at, _ = time_reference(signature, loaded.policy, vt)
        if loaded.in_force(at):
            decision = evaluate_signature(signature, loaded, vt)
            return _with_note(decision, _window_note(loaded, decision, RuleResult.PASSED, "applies")), loaded
    at, source = time_reference(signature, candidates[0].policy, vt) if candidates else (vt, "validation_time")
    windows = "; ".join(f"{p.id} {_window(p)}" for p in candidates) or "none"
    reason = PolicyReason(
        "OUTCOME",
        f"No {request.pilot} policy was in force on {at.date().isoformat()} (policies: {windows}).",
        None,
        Decision.MANUAL_REVIEW.value,
    )
    return SignatureDecision(signature.id, request.pilot, Decision.MANUAL_REVIEW, at, source, (reason,)), None


def _explicit(request: PolicyRequest, policies: PolicySet) -> LoadedPolicy | None:
    if request.policy_id is None:
        return None
    try:
        return policies.get(request.policy_id)
    except PolicyLookupError:
        return None


def _window_note(loaded: LoadedPolicy, decision: SignatureDecision, result: RuleResult, verb: str) -> PolicyReason:
    source = decision.time_source.replace("_", " ")
    message = (
        f"{loaded.id} {verb}: the signature is judged at {decision.time_reference.isoformat().replace('+00:00', 'Z')} "
        f"({source}); in force {_window(loaded)}."
    )
    return PolicyReason("POLICY", message, None, result.value)


def _with_note(decision: SignatureDecision, note: PolicyReason) -> SignatureDecision:
    outcome, *rules = decision.reasons
    return dataclasses.replace(decision, reasons=(outcome, note, *rules))


def _window(loaded: LoadedPolicy) -> str:
    window = loaded.policy.effective
    return f"{window.from_.isoformat()} to {window.until.isoformat() if window.until else 'open end'}"
