"""Real-world signatures (../shared/corpus) judged against real EU trusted lists: trust anchor and qualification.

Every signature of the corpus was validated offline under each of the three shared trusted-list sets (eu-2026-08,
eu-2023-10, eu-2019-09), each authenticated from the Official Journal signers exactly as ``validate
--trusted-lists DIR`` does (:func:`trust_from_location`), as of the best signature time the manifest states, else
the signature's own claimed signing time + 1 hour. Most corpus signatures come from test PKIs (DSS's Nowina
certificates, ETSI plugtests, pyHanko's test CA, Costa Rica's national PKI, Estonian TEST certificates) that no
EU list names: NO_CERTIFICATE_CHAIN_FOUND is right for them and is already covered, trust aside, by
test_corpus.py. This module pins the cases where a real listed CA is involved or upstream states an expectation:

- SiVa's ``hellopades-pades-lt-sha256-sign.pdf``: the only corpus signature that comes out TOTAL_PASSED with a
  qualification (QESig under eu-2026-08, which has the Estonian list); INDETERMINATE under the sets without it;
- SiVa's ``hellopades-lt1-lt2-parallel3.pdf``: upstream says "valid", "not qualified", "not supported by SSCD";
- signatures whose CA is listed but which cannot pass offline (no revocation data in the file): the SiVa load
  test's ``PDF.pdf`` (ESTEID-SK 2011, B-T) and DSS's ``hello_signed_INCSAVE_signed.pdf`` (ArubaPEC NG CA 3, B-B).

Each trust set is authenticated once per module (a few seconds for the 29 lists of eu-2026-08).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from conftest import shared_path, validate
from trustsvc.trust.provider import TrustedListTrust
from trustsvc.trust.qualification import CertFacts
from trustsvc.trust.setup import trust_from_location
from trustsvc.verdict import Report, SignatureVerdict

#: When the lists are authenticated. Only staleness depends on it: a list's signature is checked as of its own
#: signing time, so the outcome does not change with the day the tests run.
AUTHENTICATED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SETS = ("eu-2026-08", "eu-2023-10", "eu-2019-09")
WITHOUT_EE = ("eu-2023-10", "eu-2019-09")  # neither holds an Estonian list (see trusted-lists/INDEX.md)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def trust_set() -> Callable[[str], TrustedListTrust]:
    """Trust from one shared trusted-list set, authenticated at most once per module."""
    built: dict[str, TrustedListTrust] = {}

    def get(name: str) -> TrustedListTrust:
        if name not in built:
            folder = shared_path("trusted-lists", name)
            provider = trust_from_location(str(folder), AUTHENTICATED_AT).provider
            assert isinstance(provider, TrustedListTrust)
            built[name] = provider
        return built[name]

    return get


def corpus(*parts: str) -> Path:
    return shared_path("corpus", *parts)


async def _validate(path: Path, trust: TrustedListTrust, at: datetime) -> Report:
    return await validate(path, anchors=trust, online=False, at=at)


def _summary(sig: SignatureVerdict) -> tuple:
    q = sig.qualification
    return (
        sig.indication.value,
        sig.subindication.value if sig.subindication else None,
        (q.at_issuance, q.at_signing, q.signature) if q else None,
        sig.trust_anchor.source if sig.trust_anchor else None,
    )


def _signer_certificate(path: Path, index: int) -> x509.Certificate:
    with path.open("rb") as f:
        return PdfFileReader(f, strict=False).embedded_signatures[index].signer_cert


# -- SiVa hellopades-pades-lt-sha256-sign.pdf: a qualified electronic signature ------------------------------------

#: SiVa's PDFWithOneValidSignatureTest: PAdES_BASELINE_LT, QESIG, bestSignatureTime 2015-07-09T07:00:55Z.
ESTEID_LT = ("siva", "generic", "hellopades-pades-lt-sha256-sign.pdf")
ESTEID_LT_BEST_SIGNATURE_TIME = utc(2015, 7, 9, 7, 0, 55)


async def test_esteid_pades_lt_is_a_qualified_electronic_signature(trust_set):
    """Why QESig is right: the signer's certificate (an Estonian ID card issued 2014-12-23 by ESTEID-SK 2011)
    carries QcCompliance and QcSSCD; the EE list's history of the ESTEID-SK 2011 CA/QC service is
    ``undersupervision`` from 2011-03-18 (a qualified status before the eIDAS migration of 2016-06-30), with the
    list's own QCStatement and QCWithSSCD qualifiers, at the certificate's issuance and at the best signature time
    alike. So the certificate is QC for e-signatures on a QSCD at both times, and a TOTAL_PASSED signature with it
    is a QESig (EU DSS's matrix). The best signature time is the signature time-stamp's, as SiVa says; SK's TSA
    was ``undersupervision`` as a TSA/QTST service in 2015, so both time-stamps are qualified."""
    report = await _validate(corpus(*ESTEID_LT), trust_set("eu-2026-08"), ESTEID_LT_BEST_SIGNATURE_TIME)
    (sig,) = report.signatures
    assert _summary(sig) == ("TOTAL_PASSED", None, ("QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "QESig"), "TL EE #73")
    assert sig.best_signature_time == ESTEID_LT_BEST_SIGNATURE_TIME
    assert sig.level == "PAdES-BASELINE-LTA"  # SiVa says LT: it does not count the later document time-stamp
    assert "ESTEID-SK 2011" in sig.trust_anchor.subject
    assert not sig.qualification.notes
    # the signature and the document time-stamps: SK's TSA is listed as TSA/QTST in the EE list
    assert [(t.type, t.indication.value, t.qualified) for t in sig.timestamps] == [
        ("signature", "TOTAL_PASSED", True),
        ("document", "TOTAL_PASSED", True),
    ]
    facts = CertFacts.of(_signer_certificate(corpus(*ESTEID_LT), 0))
    assert facts.qc_compliance and facts.qc_sscd  # what the certificate itself claims, confirmed by the list


@pytest.mark.parametrize("trust_name", WITHOUT_EE)
async def test_esteid_pades_lt_without_the_estonian_list(trust_name, trust_set):
    """Trust comes from the lists alone: the 2023 and 2019 sets have no EE list, so neither ESTEID-SK 2011 nor
    SK's TSA is trusted. The signature is intact but its chain reaches no anchor (NO_CERTIFICATE_CHAIN_FOUND),
    and no CA/QC service vouches for the certificate, so it is not qualified (CERT_FOR_ESIG: a natural person's
    certificate that no list qualifies) and the signature's qualification is not established."""
    report = await _validate(corpus(*ESTEID_LT), trust_set(trust_name), ESTEID_LT_BEST_SIGNATURE_TIME)
    (sig,) = report.signatures
    assert _summary(sig) == (
        "INDETERMINATE",
        "NO_CERTIFICATE_CHAIN_FOUND",
        ("CERT_FOR_ESIG", "CERT_FOR_ESIG", "INDETERMINATE"),
        None,
    )
    assert {(t.indication.value, t.qualified) for t in sig.timestamps} == {("INDETERMINATE", None)}


# -- SiVa hellopades-lt1-lt2-parallel3.pdf: "valid, but not qualified and not on an SSCD" ---------------------------

PARALLEL3 = ("siva", "generic", "hellopades-lt1-lt2-parallel3.pdf")
#: Claimed signing times (13:16:21 and 13:18:43 +03:00) + 1 hour; both signatures are time-stamped at those times.
PARALLEL3_AT = (utc(2015, 10, 1, 11, 16, 21), utc(2015, 10, 1, 11, 18, 43))


@pytest.mark.parametrize("trust_name", SETS)
@pytest.mark.parametrize("index", [0, 1])
async def test_parallel_signatures_of_the_estonian_test_pki_are_not_qualified(index, trust_name, trust_set):
    """Upstream (SiVa's PDFWithOneValidSignatureTest) calls both signatures valid, with the warnings "The
    certificate is not qualified!" and "The certificate is not supported by SSCD!". SiVa runs that test with the
    Estonian TEST trusted list: the signer's CA is "TEST of KLASS3-SK 2010" under "TEST of EE Certification
    Centre Root CA", which no EU list names. Under the real lists the chain reaches no anchor, so the signature is
    INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND, not valid. The qualification agrees with upstream: the certificate
    has neither QcCompliance nor QcSSCD, and no CA/QC service vouches for it, so it is not qualified at issuance
    nor at signing (CERT_FOR_UNKNOWN: an organisation's certificate without QcType, so not even its type is
    known) and never on a QSCD; the signature's qualification is not established (INDETERMINATE)."""
    report = await _validate(corpus(*PARALLEL3), trust_set(trust_name), PARALLEL3_AT[index])
    assert len(report.signatures) == 2
    sig = report.signatures[index]
    assert _summary(sig) == (
        "INDETERMINATE",
        "NO_CERTIFICATE_CHAIN_FOUND",
        ("CERT_FOR_UNKNOWN", "CERT_FOR_UNKNOWN", "INDETERMINATE"),
        None,
    )
    assert "TEST of KLASS3-SK 2010" in sig.signer.issuer
    assert "no qualified (CA/QC) service" in " ".join(sig.qualification.notes)
    facts = CertFacts.of(_signer_certificate(corpus(*PARALLEL3), index))
    assert not facts.qc_compliance and not facts.qc_sscd  # upstream's "not qualified" / "not supported by SSCD"
    # the time-stamps come from SK's production TSA: trusted and qualified wherever the EE list is
    expected = ("TOTAL_PASSED", True) if trust_name == "eu-2026-08" else ("INDETERMINATE", None)
    assert {(t.indication.value, t.qualified) for t in sig.timestamps} == {expected}


# -- listed CAs, but no revocation data: TRY_LATER offline ---------------------------------------------------------

SMALL_2SIG = ("siva-perf", "small-2sig", "PDF.pdf")
#: Claimed signing times + 1 hour; the signature time-stamps are 9 and 11 seconds after the claimed times.
SMALL_2SIG_AT = (utc(2016, 6, 27, 10, 53, 43), utc(2016, 6, 27, 10, 59, 37))
SMALL_2SIG_TIMESTAMPS = (utc(2016, 6, 27, 9, 53, 52), utc(2016, 6, 27, 9, 59, 48))


@pytest.mark.parametrize("index", [0, 1])
async def test_esteid_b_t_signatures_offline_try_later(index, trust_set):
    """The SiVa load test's two ID-card signatures (ESTEID-SK 2011, listed in the EE list) are PAdES B-T: a
    qualified time-stamp (SK's TSA, TSA/QTST in the EE list) but no OCSP response or CRL in the file. Offline,
    the signer's revocation status cannot be known: INDETERMINATE/TRY_LATER (EN 319 102-1), at the time-stamp's
    time, and the signature's qualification is not established."""
    report = await _validate(corpus(*SMALL_2SIG), trust_set("eu-2026-08"), SMALL_2SIG_AT[index])
    sig = report.signatures[index]
    assert (sig.indication.value, sig.subindication.value) == ("INDETERMINATE", "TRY_LATER")
    assert sig.best_signature_time == SMALL_2SIG_TIMESTAMPS[index]
    assert [(t.type, t.indication.value, t.qualified) for t in sig.timestamps] == [("signature", "TOTAL_PASSED", True)]
    assert sig.qualification.signature == "INDETERMINATE"


@pytest.mark.parametrize(
    ("parts", "index", "at", "trust_name", "source"),
    [
        (SMALL_2SIG, 0, SMALL_2SIG_AT[0], "eu-2026-08", "TL EE #73"),
        (
            ("dss", "pades", "hello_signed_INCSAVE_signed.pdf"),
            0,
            utc(2016, 8, 12, 17, 7, 3),
            "eu-2026-08",
            "TL IT #223",
        ),
        (
            ("dss", "pades", "hello_signed_INCSAVE_signed.pdf"),
            0,
            utc(2016, 8, 12, 17, 7, 3),
            "eu-2019-09",
            "TL IT #141",
        ),
    ],
)
async def test_listed_ca_qualifies_the_certificate_even_when_revocation_is_unknown(
    parts, index, at, trust_name, source, trust_set
):
    """The chain to the listed CA is known (that is why the outcome is TRY_LATER and not NO_CERTIFICATE_CHAIN_FOUND),
    so the certificate's qualification must come from that CA's service, as EU DSS reports it: both certificates
    carry QcCompliance and QcSSCD, and their CAs were in a qualified status when they were issued and at signing
    (ESTEID-SK 2011: ``undersupervision`` in 2013 and June 2016; ArubaPEC S.p.A. NG CA 3: ``accredited`` at the
    March 2016 issuance, ``granted`` in August 2016, its QCQSCDManagedOnBehalf qualifier being for other policies),
    so QC_FOR_ESIG_QSCD at both times; the signature itself stays INDETERMINATE until its revocation status is
    known. Today the path is lost with the error and only embedded CA certificates are looked up (neither file
    embeds its CA), so the report says CERT_FOR_ESIG and "no qualified (CA/QC) service ... issued this certificate"
    and names no trust anchor."""
    report = await _validate(corpus(*parts), trust_set(trust_name), at)
    sig = report.signatures[index]
    assert (sig.indication.value, sig.subindication.value) == ("INDETERMINATE", "TRY_LATER")
    assert _summary(sig)[2:] == (("QC_FOR_ESIG_QSCD", "QC_FOR_ESIG_QSCD", "INDETERMINATE"), source)


@pytest.mark.parametrize("trust_name", SETS)
async def test_aruba_b_b_signatures_offline_try_later(trust_name, trust_set):
    """DSS's two incremental-save signatures were made with a test card of ArubaPEC S.p.A. NG CA 3, a CA/QC
    service of the IT list in all three sets; they are B-B with no revocation data in the file, so offline each
    is INDETERMINATE/TRY_LATER (the chain reaches the listed CA; only the revocation status is missing)."""
    path = corpus("dss", "pades", "hello_signed_INCSAVE_signed.pdf")
    claimed_plus_one_hour = (utc(2016, 8, 12, 17, 7, 3), utc(2016, 8, 12, 18, 0, 34))
    for index, at in enumerate(claimed_plus_one_hour):
        report = await _validate(path, trust_set(trust_name), at)
        sig = report.signatures[index]
        assert sig.claimed_signing_time + timedelta(hours=1) == at
        assert (sig.indication.value, sig.subindication.value) == ("INDETERMINATE", "TRY_LATER")
        assert "ArubaPEC S.p.A. NG CA 3" in sig.signer.issuer


async def test_a_2015_estonian_qes_under_the_pilot_policies(trust_set):
    """The pilots' policies on a real 2015 signature, offline: each pilot's policy is chosen by the time the
    signature is proven (its qualified time-stamp of 2015-07-09), so France applies fr-2012, and the Czech policy
    (in force from 2016-09-19) did not exist yet. Italy, without a grace period, accepts the qualified signature;
    the policies that wait 24 hours for revocation data after the time-stamp retry, since the file only holds the
    OCSP response fetched when it was signed and nothing can be fetched offline."""
    from trustsvc.policy.apply import apply_policies, resolve_requests
    from trustsvc.policy.catalogue import load_policy_set

    at = ESTEID_LT_BEST_SIGNATURE_TIME + timedelta(days=30)
    report = await _validate(corpus(*ESTEID_LT), trust_set("eu-2026-08"), at)
    policies = load_policy_set()
    judged = apply_policies(report, resolve_requests(["all"], policies), policies)
    decisions = {p.pilot: (p.id, p.decision.value) for p in judged.policies}
    assert decisions == {
        "fr": ("fr-2012", "RETRY"),
        "it": ("it", "ACCEPT"),
        "cz": ("cz", "MANUAL_REVIEW"),
        "se": ("se", "MANUAL_REVIEW"),
        "es": ("es", "RETRY"),
        "procure": ("procure-agreement", "RETRY"),
    }
    fr = next(p for p in judged.policies if p.pilot == "fr")
    assert fr.signatures[0].time_reference == ESTEID_LT_BEST_SIGNATURE_TIME
    assert fr.signatures[0].time_source == "signature_timestamp"
    pending = next(r for r in fr.reasons if r.result == "PENDING")
    assert (pending.rule, pending.message) == (
        "R-REV",
        "No revocation data issued at least 24 h after the signature (2015-07-09 07:00:55Z) yet (newest: "
        "2015-07-09 07:00:56Z): a revocation reported late would not show.",
    )  # the newest is SK's OCSP response: a responder the EE list vouches for, not the CA's delegate
    cz = next(p for p in judged.policies if p.pilot == "cz")
    assert cz.reasons[0].message == "No cz policy was in force on 2015-07-09 (policies: cz 2016-09-19 to open end)."
