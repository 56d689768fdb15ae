"""The policy evaluator on verdicts shaped to isolate one rule or one choice at a time.

The decision matrix (test_policy_matrix.py) runs real samples; here the verdicts are built by hand so that each
test changes exactly one fact (a suspension, a revocation date, a key size, the age of the revocation data, the
time the signature was proven) and shows what the shipped policies make of it.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest

from trustsvc.policy.apply import PolicyRequest, apply_policies, resolve_requests
from trustsvc.policy.catalogue import load_policy_set
from trustsvc.policy.evaluate import evaluate_signature
from trustsvc.policy.schema import CryptoOverride
from trustsvc.verdict import (
    CertificateFacts,
    Decision,
    DocumentInfo,
    Indication,
    Qualification,
    Report,
    RevocationFacts,
    SignatureFacts,
    SignaturePolicyRef,
    SignatureVerdict,
    SubIndication,
    TimestampVerdict,
    TrustAnchorRef,
)

UTC = timezone.utc
SIGNED = datetime(2026, 11, 2, 10, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def policies():
    return load_policy_set()


def qes(**changes) -> SignatureVerdict:
    """A qualified signature, time-stamped (qualified TSA) when signed, revocation data fetched at NOW."""
    facts = SignatureFacts(
        signer=CertificateFacts(
            not_before=datetime(2025, 1, 1, tzinfo=UTC),
            not_after=datetime(2031, 1, 1, tzinfo=UTC),
            key_usage=frozenset({"digital_signature", "non_repudiation"}),
            extended_key_usage=frozenset(),
            policies=frozenset({"0.4.0.194112.1.2"}),
            natural_person=True,
            pseudonym=False,
            key_algorithm="rsa",
            key_bits=2048,
        ),
        digest_algorithm="sha256",
        signature_mechanism="rsassa_pkcs1v15",
        signature_hash="sha256",
        signing_certificate_signed=True,
        revocation=RevocationFacts(latest_issued=NOW, latest_source="ocsp"),
    )
    verdict = SignatureVerdict(
        id="sig-1",
        format="PAdES",
        level="PAdES-BASELINE-T",
        indication=Indication.TOTAL_PASSED,
        subindication=None,
        signer=None,
        claimed_signing_time=SIGNED,
        best_signature_time=SIGNED,
        trust_anchor=TrustAnchorRef("CN=FR Test Qualified CA", "TL FR #1"),
        qualification=Qualification("QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig"),
        timestamps=(TimestampVerdict("signature", SIGNED, Indication.TOTAL_PASSED, None, "FR Test QTSA", True),),
        facts=facts,
    )
    fact_changes = {k: changes.pop(k) for k in list(changes) if k in {f.name for f in dataclasses.fields(facts)}}
    signer_changes = {
        k: changes.pop(k) for k in list(changes) if k in {f.name for f in dataclasses.fields(facts.signer)}
    }
    facts = dataclasses.replace(facts, signer=dataclasses.replace(facts.signer, **signer_changes), **fact_changes)
    return dataclasses.replace(verdict, facts=facts, **changes)


def decide(policies, policy_id: str, verdict: SignatureVerdict, now: datetime = NOW):
    return evaluate_signature(verdict, policies.get(policy_id), now)


def reason(decision, rule: str):
    return next(r for r in decision.reasons if r.rule == rule)


def test_a_good_qes_is_accepted_by_every_policy(policies):
    for policy_id in policies.policies:
        if policy_id == "fr-2012":
            continue
        decision = decide(policies, policy_id, qes())
        assert decision.decision == Decision.ACCEPT, (policy_id, decision.reasons)
        assert decision.time_reference == SIGNED and decision.time_source == "signature_timestamp"


def test_the_signature_time_chooses_the_french_policy(policies):
    in_2013 = datetime(2013, 5, 2, 9, tzinfo=UTC)
    old = qes(
        best_signature_time=in_2013,
        claimed_signing_time=in_2013,
        timestamps=(TimestampVerdict("signature", in_2013, Indication.TOTAL_PASSED, None, "TSA", True),),
        not_before=datetime(2012, 1, 1, tzinfo=UTC),
        not_after=datetime(2015, 1, 1, tzinfo=UTC),
        revocation=RevocationFacts(latest_issued=datetime(2013, 5, 10, tzinfo=UTC), latest_source="crl"),
    )
    report = _report(old, qes(id="sig-2"))
    (fr,) = apply_policies(report, [PolicyRequest("fr")], policies).policies
    assert [(s.signature_id, s.policy_id, s.decision.value) for s in fr.signatures] == [
        ("sig-1", "fr-2012", "ACCEPT"),
        ("sig-2", "fr-2019", "ACCEPT"),
    ]
    note = fr.signatures[0].reasons[1]
    assert (note.rule, note.result) == ("POLICY", "PASSED")
    assert note.message == (
        "fr-2012 applies: the signature is judged at 2013-05-02T09:00:00Z (signature timestamp); in force "
        "2012-10-01 to 2018-09-30."
    )


def test_a_claimed_signing_time_never_chooses_the_policy(policies):
    """A bidder backdating the signing time to 2013 (no time-stamp) is still judged by today's fr-2019."""
    claimed = qes(claimed_signing_time=datetime(2013, 5, 2, tzinfo=UTC), best_signature_time=NOW, timestamps=())
    (fr,) = apply_policies(_report(claimed), [PolicyRequest("fr")], policies).policies
    assert fr.id == "fr-2019"
    assert fr.signatures[0].time_source == "validation_time"


def test_an_explicit_policy_out_of_its_window_is_applied_with_a_warning(policies):
    (fr,) = apply_policies(_report(qes()), resolve_requests(["fr-2012"], policies), policies).policies
    note = fr.signatures[0].reasons[1]
    assert (note.rule, note.result) == ("POLICY", "WARNING")
    assert note.message.startswith("fr-2012 was not in force then; applied as asked: the signature is judged at")


def test_the_worst_signature_decides_for_the_document(policies):
    weak = qes(id="sig-2", qualification=Qualification("CERT_FOR_ESIG", "CERT_FOR_ESIG", "AdESig"))
    (fr, se) = apply_policies(_report(qes(), weak), resolve_requests(["fr", "se"], policies), policies).policies
    assert [s.decision.value for s in fr.signatures] == ["ACCEPT", "REJECT"]
    assert fr.decision == Decision.REJECT
    assert fr.reasons[0].message.startswith("sig-2: A requirement of the arrêté is not met")
    assert se.decision == Decision.ACCEPT


def test_italy_counts_only_qualified_time_stamps(policies):
    """With a plain TSA the Italian policy judges at validation time: fine while the certificate is good..."""
    plain = qes(timestamps=(TimestampVerdict("signature", SIGNED, Indication.TOTAL_PASSED, None, "TSA", False),))
    decision = decide(policies, "it", plain)
    assert (decision.decision, decision.time_source, decision.time_reference) == (
        Decision.ACCEPT,
        "validation_time",
        NOW,
    )
    # ... but once it is revoked, only an opposable time reference would have saved the signature (CAD 24 4-bis)
    revoked = dataclasses.replace(
        plain,
        facts=dataclasses.replace(
            plain.facts, revocation=RevocationFacts(datetime(2026, 11, 20, tzinfo=UTC), "key_compromise", NOW, "ocsp")
        ),
    )
    assert decide(policies, "it", revoked).decision == Decision.REJECT
    assert decide(policies, "fr-2019", revoked).decision == Decision.ACCEPT  # revoked after the time-stamp
    deposit = dataclasses.replace(
        revoked, facts=dataclasses.replace(revoked.facts, deposit_time=datetime(2026, 11, 3, tzinfo=UTC))
    )
    judged = decide(policies, "it", deposit)
    assert (judged.decision, judged.time_source) == (Decision.ACCEPT, "platform_receipt")


def test_a_suspended_certificate(policies):
    held = qes(revocation=RevocationFacts(datetime(2026, 10, 1, tzinfo=UTC), "certificate_hold", NOW, "ocsp", True))
    assert decide(policies, "it", held).decision == Decision.REJECT
    fr = decide(policies, "fr-2019", held)
    assert fr.decision == Decision.MANUAL_REVIEW
    assert reason(fr, "R-REV").message == "The certificate is suspended (on hold) since 2026-10-01 00:00:00Z."


def test_the_grace_period_waits_for_revocation_data_issued_after_it(policies):
    early = qes(revocation=RevocationFacts(latest_issued=SIGNED + timedelta(hours=2), latest_source="ocsp"))
    fr = decide(policies, "fr-2019", early)
    assert fr.decision == Decision.RETRY
    assert reason(fr, "R-REV").message == (
        "No revocation data issued at least 24 h after the signature (2026-11-02 10:00:00Z) yet (newest: "
        "2026-11-02 12:00:00Z): a revocation reported late would not show."
    )
    assert decide(policies, "it", early).decision == Decision.ACCEPT  # no grace period in Italy
    assert decide(policies, "se", early).decision == Decision.MANUAL_REVIEW  # Sweden does not retry


def test_retry_waits_until_the_grace_period_is_over(policies):
    just_signed = qes(revocation=RevocationFacts(latest_issued=SIGNED, latest_source="ocsp"))
    fr = decide(policies, "fr-2019", just_signed, now=SIGNED + timedelta(hours=1))
    assert (fr.decision, fr.retry_after) == (Decision.RETRY, SIGNED + timedelta(hours=24))


def test_freshness_applies_to_signatures_without_proof(policies):
    stale = qes(
        timestamps=(),
        best_signature_time=NOW,
        revocation=RevocationFacts(latest_issued=NOW - timedelta(days=3), latest_source="crl"),
    )
    fr = decide(policies, "fr-2019", stale)
    assert fr.decision == Decision.RETRY
    assert reason(fr, "R-REV").message == (
        "The newest verified revocation data (2026-11-25 12:00:00Z) is more than 24 h older than the signature "
        "(2026-11-28 12:00:00Z)."
    )
    assert decide(policies, "fr-2012", stale).decision == Decision.ACCEPT  # fr-2012 sets no freshness


def test_rsa_keys_under_the_rgs_minimum(policies):
    in_2014 = datetime(2014, 3, 1, tzinfo=UTC)
    small = qes(
        key_bits=1536,
        best_signature_time=in_2014,
        timestamps=(TimestampVerdict("signature", in_2014, Indication.TOTAL_PASSED, None, "TSA", True),),
        not_before=datetime(2013, 1, 1, tzinfo=UTC),
        revocation=RevocationFacts(latest_issued=datetime(2014, 3, 5, tzinfo=UTC), latest_source="crl"),
    )
    fr = decide(policies, "fr-2012", small)
    assert fr.decision == Decision.REJECT
    assert reason(fr, "R-CRYPTO").message == (
        "Not acceptable at 2014-03-01 00:00:00Z (signature time-stamp): RSA-1536 is too small for ETSI TS 119 312 "
        "V1.5.1."
    )
    assert decide(policies, "se", small).decision == Decision.ACCEPT  # TS 119 312 accepted 1024+ until 2019


def test_suite_overrides(policies):
    suite = policies.get("fr-2019").suite
    at = datetime(2011, 9, 1, tzinfo=UTC)
    sha1 = dict(digest="sha1", key_type="rsa", key_bits=2048, mechanism="rsassa_pkcs1v15", at=at)
    assert suite.judge(**sha1).acceptable
    cnipa = [CryptoOverride(algorithm="sha1", until=date(2011, 7, 1), reason="CNIPA 45/2009")]
    assert suite.judge(**sha1, overrides=cnipa).message == (
        "sha1 is not acceptable after 2011-07-01 (ETSI TS 119 312 V1.5.1)"
    )
    pss = dict(
        digest="sha256", key_type="rsa", key_bits=3072, mechanism="rsassa_pss", at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert suite.judge(**pss).acceptable  # RSASSA-PSS 3000+ has no end date
    assert not suite.judge(**{**pss, "mechanism": "rsassa_pkcs1v15"}).acceptable  # PKCS#1 v1.5 ends 2029
    assert not suite.judge(digest="sha256", key_type="ec", key_bits=224, mechanism="ecdsa", at=NOW).acceptable


def test_the_signature_policy_of_spain(policies):
    age = SignaturePolicyRef("2.16.724.1.3.1.1.2.1.9", "sha1", base64.b64decode("G7roucf600+f03r/o0bAOQ6WAs0="))
    assert decide(policies, "es", qes(signature_policy=age)).decision == Decision.ACCEPT
    unknown = SignaturePolicyRef("1.3.6.1.4.1.99999.1", "sha256", b"\0" * 32)
    es = decide(policies, "es", qes(signature_policy=unknown))
    assert es.decision == Decision.MANUAL_REVIEW
    assert reason(es, "R-POL").message == (
        "The signature commits to signature policy 1.3.6.1.4.1.99999.1, which this policy does not know."
    )


def test_an_ad_hoc_anchor_is_not_a_trusted_list(policies):
    adhoc = qes(trust_anchor=TrustAnchorRef("CN=Some Root", "ad-hoc"), qualification=None)
    fr = decide(policies, "fr-2019", adhoc)
    assert fr.decision == Decision.REJECT
    assert reason(fr, "R-CHAIN").message == (
        "The certificate chains to CN=Some Root, trusted through ad-hoc, which this policy does not accept "
        "(eu_lists, agreement)."
    )
    assert reason(fr, "R-QC-SIG").result == "UNDETERMINED"


def test_accept_needs_every_rule_to_pass_whatever_the_table(policies):
    """A TOTAL_PASSED signature whose key usage fails a warn-only rule is still accepted; one whose revocation
    status is undetermined is not, even though the ACCEPT row only asks for TOTAL_PASSED."""
    auth = qes(key_usage=frozenset({"digital_signature", "key_encipherment"}))
    fr = decide(policies, "fr-2019", auth)
    assert fr.decision == Decision.ACCEPT and reason(fr, "R-KU").result == "WARNING"
    unknown = qes(revocation=RevocationFacts(), subindication=None)
    unknown = dataclasses.replace(unknown, best_signature_time=SIGNED - timedelta(days=1))  # POE the policy rejects
    assert decide(policies, "fr-2019", unknown).decision != Decision.ACCEPT


def test_an_indeterminate_signature_is_never_accepted(policies):
    for sub in (SubIndication.NO_CERTIFICATE_CHAIN_FOUND, SubIndication.SIG_CONSTRAINTS_FAILURE, SubIndication.NO_POE):
        verdict = qes(indication=Indication.INDETERMINATE, subindication=sub)
        for policy_id in policies.policies:
            assert decide(policies, policy_id, verdict).decision != Decision.ACCEPT


def _report(*signatures: SignatureVerdict) -> Report:
    return Report(DocumentInfo("bid.pdf", "0" * 64, "PDF"), NOW, signatures)


def test_time_stamp_and_subject_requirements(tmp_path):
    """Rules no shipped policy uses yet (a contracting authority's own signatures: qualified time-stamp, no
    pseudonym, nonRepudiation only, the signing-certificate reference) on a policy written for the test."""
    from conftest import ROOT
    from trustsvc.policy.catalogue import check_policy_file
    from trustsvc.policy.suites import load_suites

    (tmp_path / "authority.yaml").write_text(
        """\
id: authority
pilot: authority
version: 1.0.0
title: "Signatures of a contracting authority"
jurisdiction: CZ
effective: {from: 2016-09-19}
legal_basis: {z: {ref: "zákon 297/2016 Sb.", confidence: K}}
time: {proofs: [signature_timestamp], basis: [z § 11]}
rules:
  R-SCERT: {basis: [z § 5]}
  R-TST: {required: true, qualified: true, basis: [z § 11]}
  R-KU: {all_of: [non_repudiation], none_of: [key_encipherment], basis: [z § 5]}
  R-NP: {natural_person: true, pseudonym_allowed: false, basis: [z § 5]}
outcome:
  - {when: {failed: any}, decision: REJECT}
  - {when: {indication: [TOTAL_PASSED]}, decision: ACCEPT}
  - decision: MANUAL_REVIEW
""",
        encoding="utf-8",
    )
    suites, _ = load_suites(ROOT / "policies" / "suites")
    loaded, problems = check_policy_file(tmp_path / "authority.yaml", suites)
    assert problems == []
    assert evaluate_signature(qes(), loaded, NOW).decision == Decision.ACCEPT
    plain_tsa = (TimestampVerdict("signature", SIGNED, Indication.TOTAL_PASSED, None, "TSA", False),)
    cases = {
        "R-TST": (qes(timestamps=plain_tsa), "The signature's time-stamps are not qualified."),
        "R-NP": (qes(pseudonym=True), "The certificate names its holder by a pseudonym."),
        "R-KU": (
            qes(key_usage=frozenset({"digital_signature", "non_repudiation", "key_encipherment"})),
            "The key usage (digital_signature, key_encipherment, non_repudiation) includes key_encipherment.",
        ),
        "R-SCERT": (
            qes(signing_certificate_signed=False),
            "The signature does not sign a reference to its certificate (signing-certificate).",
        ),
    }
    for rule_id, (verdict, message) in cases.items():
        decision = evaluate_signature(verdict, loaded, NOW)
        assert decision.decision == Decision.REJECT
        assert (reason(decision, rule_id).result, reason(decision, rule_id).message) == ("FAILED", message)
    without = qes(timestamps=())
    decision = evaluate_signature(without, loaded, NOW)
    assert reason(decision, "R-TST").message == "The signature has no valid qualified time-stamp."
