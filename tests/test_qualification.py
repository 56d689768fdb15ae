"""Qualification at signing time (ETSI TS 119 615) from trusted lists, end to end on the sample bids."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

import testpki
from conftest import SAMPLES, validate
from demo_lists import LISTED_SINCE, QCP_N, national_list, pilot_lists, qualified_ca, state, utc
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.qualification import (
    EIDAS_DATE,
    CertFacts,
    CertQualification,
    criteria_match,
    qualification_at,
    qualify_certificate,
)
from trustsvc.trust.registry import TrustRegistry
from trustsvc.trust.tsl_model import CA_QC, Criteria, QualificationElement, Qualifier, ServiceStatus, TrustService


@pytest.fixture(scope="module")
def tl_trust() -> TrustedListTrust:
    return TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))


@pytest.mark.parametrize(
    ("sample", "indication", "at_issuance", "at_signing", "signature", "source"),
    [
        ("pades/b-lt.pdf", "TOTAL_PASSED", "QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig", "TL FR #1"),
        # the certificate has no QcSSCD; the FR list gives QSCD to QCP-n certificates
        ("pades/b-lt-fr-signer-qc.pdf", "TOTAL_PASSED", "QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig", "TL FR #1"),
        ("pades/b-lt-fr-seal.pdf", "TOTAL_PASSED", "QC_FOR_ESEAL_QSCD", "QC_FOR_ESEAL_QSCD", "QESeal", "TL FR #1"),
        # a CA trusted at national level only: an advanced signature, not qualified
        ("pades/b-lt-fr-signer-nq.pdf", "TOTAL_PASSED", "CERT_FOR_ESIG", "CERT_FOR_ESIG", "AdESig", "TL FR #1"),
        # IT withdrew its CA on 2026-11-10, after the signature: still qualified at signing
        ("pades/b-lt-it.pdf", "TOTAL_PASSED", "QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig", "TL IT #1"),
        # CZ withdrew its CA on 2026-10-01, before the signature: no trust anchor at signing time
        ("pades/b-lt-cz.pdf", "INDETERMINATE", "QC_FOR_ESIG_QSCD", "CERT_FOR_ESIG", "INDETERMINATE", None),
        ("pades/b-lt-se.pdf", "TOTAL_PASSED", "QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig", "TL SE #1"),
        # ES says QCNoQSCD for signing certificates, overriding the certificate's QcSSCD
        ("pades/b-lt-es.pdf", "TOTAL_PASSED", "QC_FOR_ESIG", "QC_FOR_ESIG", "AdESig-QC", "TL ES #1"),
    ],
)
async def test_signature_qualification(sample, indication, at_issuance, at_signing, signature, source, tl_trust):
    report = await validate(SAMPLES / sample, anchors=tl_trust)
    (sig,) = report.signatures
    assert sig.indication.value == indication
    assert (sig.qualification.at_issuance, sig.qualification.at_signing, sig.qualification.signature) == (
        at_issuance, at_signing, signature,
    )  # fmt: skip
    assert (sig.trust_anchor.source if sig.trust_anchor else None) == source


async def test_withdrawn_before_signing_breaks_the_chain(tl_trust):
    report = await validate(SAMPLES / "pades" / "b-lt-cz.pdf", anchors=tl_trust)
    (sig,) = report.signatures
    assert sig.subindication.value == "NO_CERTIFICATE_CHAIN_FOUND"
    assert "was withdrawn then" in " ".join(sig.qualification.notes)


async def test_timestamp_qualification(tl_trust, pki_proxy):
    qualified = await validate(SAMPLES / "pades" / "b-t.pdf", anchors=tl_trust, online=True)
    plain = await validate(SAMPLES / "pades" / "b-t-non-qualified-tsa.pdf", anchors=tl_trust, online=True)
    assert [(t.type, t.qualified) for t in qualified.signatures[0].timestamps] == [("signature", True)]
    assert [(t.type, t.qualified) for t in plain.signatures[0].timestamps] == [("signature", False)]
    assert plain.signatures[0].indication.value == "TOTAL_PASSED"


async def test_ad_hoc_anchors_give_no_qualification(anchors):
    report = await validate(SAMPLES / "pades" / "b-lt.pdf", anchors=anchors)
    assert report.signatures[0].qualification is None


def _registry(*services, territory="fr") -> TrustRegistry:
    tl = national_list(territory, services[0])
    tl = dataclasses.replace(tl, providers=(dataclasses.replace(tl.providers[0], services=services),))
    return TrustRegistry([(tl, "TL")])


def test_pre_eidas_statuses_count_before_the_migration_only():
    qca = testpki.cert("fr", "qca")
    signer = testpki.cert("fr", "signer-qscd")
    registry = _registry(qualified_ca("fr", (ServiceStatus.ACCREDITED, utc(2010, 1, 1))))
    assert qualification_at(registry, signer, [qca], EIDAS_DATE - timedelta(seconds=1)).label.qualified
    later = qualification_at(registry, signer, [qca], EIDAS_DATE + timedelta(days=3650))
    assert later.label == CertQualification.CERT_FOR_ESIG
    assert "the service was accredited then" in later.notes[0]


def test_not_qualified_at_issuance_means_not_qualified():
    qca = testpki.cert("fr", "qca")
    signer = testpki.cert("fr", "signer-qscd")  # issued 2025-01-01
    registry = _registry(qualified_ca("fr", (ServiceStatus.GRANTED, utc(2025, 6, 1))))
    result = qualify_certificate(registry, signer, [qca], utc(2026, 11, 2))
    assert result.at_issuance.label == CertQualification.CERT_FOR_ESIG
    assert result.at_signing.label == CertQualification.QC_FOR_ESIG_QSCD
    assert result.final == CertQualification.CERT_FOR_ESIG


def test_legislation_of_another_country_is_not_eu_qualified():
    """The FR signer's QcCClegislation says FR; listed by IT's list, it is not qualified there."""
    signer = testpki.cert("fr", "signer-qscd")
    it_listing_fr_ca = TrustService(state("fr", "qca", CA_QC, ServiceStatus.GRANTED, LISTED_SINCE))
    registry = _registry(it_listing_fr_ca, territory="it")
    result = qualification_at(registry, signer, [testpki.cert("fr", "qca")], utc(2026, 11, 2))
    assert result.label == CertQualification.CERT_FOR_ESIG
    assert result.notes == ("qualified under the legislation of FR, not of IT",)


def test_not_qualified_qualifier_overrides_the_certificate():
    element = QualificationElement(qualifiers=frozenset({Qualifier.NOT_QUALIFIED}), criteria=Criteria())
    registry = _registry(qualified_ca("fr", (ServiceStatus.GRANTED, LISTED_SINCE), qualifications=(element,)))
    result = qualification_at(registry, testpki.cert("fr", "signer-qscd"), [testpki.cert("fr", "qca")], utc(2026, 1, 1))
    assert result.label == CertQualification.CERT_FOR_ESIG


def test_qc_statement_qualifier_makes_a_plain_certificate_qualified_for_seals():
    element = QualificationElement(
        qualifiers=frozenset({Qualifier.QC_STATEMENT, Qualifier.QC_FOR_ESEAL}), criteria=Criteria()
    )
    # signer-nq is issued by "ca": list "ca" as the qualified service for this test
    registry = _registry(
        TrustService(state("fr", "ca", CA_QC, ServiceStatus.GRANTED, LISTED_SINCE, qualifications=(element,)))
    )
    result = qualification_at(registry, testpki.cert("fr", "signer-nq"), [testpki.cert("fr", "ca")], utc(2026, 1, 1))
    assert result.label == CertQualification.QC_FOR_ESEAL


def test_conflicting_services_never_qualify():
    yes = QualificationElement(qualifiers=frozenset({Qualifier.QC_WITH_QSCD}), criteria=Criteria())
    no = QualificationElement(qualifiers=frozenset({Qualifier.QC_NO_QSCD}), criteria=Criteria())
    registry = _registry(
        qualified_ca("fr", (ServiceStatus.GRANTED, LISTED_SINCE), qualifications=(yes,)),
        qualified_ca("fr", (ServiceStatus.GRANTED, LISTED_SINCE), qualifications=(no,)),
    )
    result = qualification_at(registry, testpki.cert("fr", "signer-qscd"), [testpki.cert("fr", "qca")], utc(2026, 1, 1))
    assert not result.label.qualified
    assert "conflicting" in result.notes[-1]


@pytest.mark.parametrize(
    ("criteria", "matches"),
    [
        (Criteria(policy_sets=(frozenset({"0.4.0.194112.1.2"}),)), True),
        (Criteria(policy_sets=(frozenset({QCP_N}),)), False),
        (Criteria(key_usage=((("nonRepudiation", True),),)), True),
        (Criteria(key_usage=((("nonRepudiation", False),),)), False),
        (Criteria(assert_="atLeastOne", policy_sets=(frozenset({QCP_N}), frozenset({"0.4.0.194112.1.2"}))), True),
        (Criteria(assert_="none", policy_sets=(frozenset({QCP_N}),)), True),
        (Criteria(subject_dn_attributes=(frozenset({"2.5.4.42", "2.5.4.4"}),)), True),  # givenName, surname
        (Criteria(extended_key_usages=(frozenset({"1.3.6.1.5.5.7.3.2"}),)), False),
        (Criteria(nested=(Criteria(policy_sets=(frozenset({QCP_N}),)),)), False),
        (Criteria(unknown=("FutureCriterion",)), False),
    ],
)
def test_criteria_lists(criteria, matches):
    assert criteria_match(criteria, CertFacts.of(testpki.cert("fr", "signer-qscd"))) is matches
