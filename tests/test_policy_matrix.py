"""The decision matrix: every sample of the test PKI against every pilot's policy.

Trust comes from the demo trusted lists (FR grants its CA and gives QCP-n certificates a QSCD, IT withdrew its CA
after the samples were signed, CZ before, ES denies QSCD); validation is online, against the test PKI served on
loopback as of 2026-11-28 12:00Z, unless the row says offline. The table is what the pilots' lawyers would read:
one row per sample, one column per pilot, the decision in each cell.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import SAMPLES, T_VAL
from demo_lists import pilot_lists
from trustsvc.engine import Submission, validate_submission
from trustsvc.fetch import revocation_fetcher
from trustsvc.formats import ValidationSettings
from trustsvc.policy.apply import apply_policies, resolve_requests
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.registry import TrustRegistry

PILOTS = ("fr", "it", "cz", "se", "es", "procure")

# sample [option]                                   fr        it       cz        se        es        procure
# (xades/counter-signed.xml: the Italian counter-signature has no time-stamp, so it is judged now, after the
# demo IT list withdrew its CA; the worst signature decides)
MATRIX = """
pades/b-b.pdf                                       ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-t.pdf                                       ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-lt.pdf                                      ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-lta.pdf                                     ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
cades/detached-b-lt.p7s                             ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
cades/enveloping-b-lta.p7m                          ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-lt-it.pdf                                   ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-lt-se.pdf                                   ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/two-signatures.pdf                            ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-lt-es.pdf                                   ACCEPT    REJECT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
cades/es-epes-age.p7s                               ACCEPT    REJECT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
cades/es-epes-wrong-policy-digest.p7s               ACCEPT    REJECT   ACCEPT    ACCEPT    REJECT    ACCEPT
pades/b-lt-fr-signer-nq.pdf                         REJECT    REJECT   REJECT    ACCEPT    REJECT    REJECT
pades/b-lt-fr-seal.pdf                              MANUAL    REJECT   MANUAL    MANUAL    MANUAL    MANUAL
pades/auth-only.pdf                                 REJECT    REJECT   REJECT    MANUAL    REJECT    REJECT
pades/pkcs7-lt.pdf                                  MANUAL    REJECT   REJECT    MANUAL    REJECT    MANUAL
pades/b-lt-cz.pdf                                   REJECT    REJECT   REJECT    MANUAL    REJECT    REJECT
cades/detached-sha1.p7s                             REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/rsa1024.pdf                                   REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/revoked-after.pdf                             ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/revoked-b-b.pdf                               MANUAL    REJECT   MANUAL    MANUAL    MANUAL    MANUAL
pades/revoked-b-b.pdf deposit=2026-03-01T11:00Z     ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/revoked-b-b.pdf deposit=2026-07-01T11:00Z     MANUAL    REJECT   MANUAL    MANUAL    MANUAL    MANUAL
pades/revoked-before.pdf                            MANUAL    REJECT   MANUAL    MANUAL    MANUAL    MANUAL
pades/expired.pdf                                   MANUAL    REJECT   MANUAL    MANUAL    MANUAL    MANUAL
pades/b-t-non-qualified-tsa.pdf                     ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
pades/b-b.pdf offline                               RETRY     RETRY    RETRY     MANUAL    RETRY     RETRY
pades/not-yet-valid.pdf                             REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/tampered-content-byte.pdf                     REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/tampered-signature-byte.pdf                   REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/modified-after-signing.pdf                    REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/second-signature-other-revision.pdf           REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
cades/enveloping-tampered-content.p7m               REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
pades/no-signature.pdf                              REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
xades/enveloped-b-lt.xml                            ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
xades/enveloped-b-lta.xml                           ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
xades/enveloping-b-lt.xml                           ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
xades/epes-age.xml                                  ACCEPT    REJECT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
xades/counter-signed.xml                            REJECT    REJECT   REJECT    MANUAL    REJECT    REJECT
xades/tampered-content.xml                          REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
xades/wrapping-duplicate-id.xml                     REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
xades/wrapping-moved-content.xml                    REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
asic/asic-s-cades.asics                             ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
asic/asic-e-xades.asice                             ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
asic/asic-e-cades.asice                             ACCEPT    ACCEPT   ACCEPT    ACCEPT    ACCEPT    ACCEPT
asic/asic-e-xades-unsigned-file.asice               MANUAL    MANUAL   MANUAL    MANUAL    MANUAL    MANUAL
asic/asic-e-cades-tampered-file.asice               REJECT    REJECT   REJECT    REJECT    REJECT    REJECT
"""


def _rows():
    for line in MATRIX.strip().splitlines():
        sample, *rest = line.split()
        options = [word for word in rest if word.startswith(("deposit=", "offline"))]
        decisions = [word.replace("MANUAL", "MANUAL_REVIEW") for word in rest if word not in options]
        yield pytest.param(sample, options, dict(zip(PILOTS, decisions, strict=True)), id=" ".join([sample, *options]))


@pytest.fixture(scope="module")
def policies():
    return load_policy_set()


@pytest.fixture(scope="module")
def demo_trust() -> TrustedListTrust:
    return TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))


async def judge(sample: str, options: list[str], policies, trust):
    deposit = None
    for option in options:
        if option.startswith("deposit="):
            deposit = datetime.fromisoformat(option.removeprefix("deposit=").replace("Z", "+00:00"))
    path = SAMPLES / sample
    contents = (SAMPLES / "content" / "bid.xml",) if path.suffix == ".p7s" else ()
    submission = Submission(document=path, contents=contents)
    if "offline" in options:
        settings = ValidationSettings(validation_time=T_VAL, trust=trust, deposit_time=deposit)
        report = await validate_submission(submission, settings)
    else:
        async with revocation_fetcher(5.0) as fetcher:
            settings = ValidationSettings(
                validation_time=T_VAL, trust=trust, fetcher_backend=fetcher, deposit_time=deposit
            )
            report = await validate_submission(submission, settings)
    return apply_policies(report, resolve_requests(["all"], policies), policies)


@pytest.mark.parametrize(("sample", "options", "expected"), list(_rows()))
async def test_decision_matrix(sample, options, expected, policies, demo_trust, pki_proxy):
    report = await judge(sample, options, policies, demo_trust)
    decided = {p.pilot: p.decision.value for p in report.policies}
    assert decided == expected
    for decision in report.policies:
        outcome = decision.reasons[0]
        assert outcome.rule == "OUTCOME" and outcome.result == decision.decision.value
        if decision.decision.value != "ACCEPT":  # every refusal names the rule and its legal basis
            assert any(r.result in ("FAILED", "PENDING", "UNDETERMINED") and r.legal_basis for r in decision.reasons)


async def test_the_reasons_cite_the_rule_and_its_legal_basis(policies, demo_trust, pki_proxy):
    report = await judge("pades/b-lt-es.pdf", [], policies, demo_trust)
    it = next(p for p in report.policies if p.pilot == "it")
    failed = [r for r in it.reasons if r.result == "FAILED"]
    assert [(r.rule, r.message, r.legal_basis) for r in failed] == [
        (
            "R-QSCD",
            "The key was not on a qualified signature creation device (QC_FOR_ESIG).",
            "D.Lgs. 7 marzo 2005, n. 82 (Codice dell'amministrazione digitale, CAD), art. 1 lett. s (dispositivo "
            "sicuro); Regolamento (UE) n. 910/2014 (eIDAS), art. 32 f)",
        )
    ]
    (signature,) = it.signatures
    assert (signature.policy_id, signature.time_source) == ("it", "signature_timestamp")
    assert signature.time_reference == datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)


async def test_a_revocation_after_the_time_stamp_is_accepted_with_its_reason(policies, demo_trust, pki_proxy):
    report = await judge("pades/revoked-after.pdf", [], policies, demo_trust)
    fr = next(p for p in report.policies if p.pilot == "fr")
    revocation = next(r for r in fr.reasons if r.rule == "R-REV")
    assert revocation.result == "PASSED"
    assert revocation.message == (
        "Revoked on 2026-06-01 00:00:00Z, after the signature (2026-03-01 10:00:00Z, signature time-stamp): the "
        "signature stands (EN 319 102-1 § 5.6.2.4)."
    )


async def test_retry_says_when(policies, demo_trust):
    report = await judge("pades/b-b.pdf", ["offline"], policies, demo_trust)
    fr = next(p for p in report.policies if p.pilot == "fr")
    assert fr.decision.value == "RETRY"
    assert fr.retry_after == datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc)  # the row's 6 hours
    pending = next(r for r in fr.reasons if r.result == "PENDING")
    assert pending.rule == "R-REV"
