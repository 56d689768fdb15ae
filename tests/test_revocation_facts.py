"""Revocation facts from CRLs and OCSP responses: only verified, authoritative data counts.

Everything here is signed for real by the certomancer test PKI (its CRL repository and OCSP responder, or its
CRLBuilder / SimpleOCSPResponder with the keys of certomancer.yml when a test needs data the services do not
produce: holds, forgeries, partial CRLs).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from asn1crypto import algos, core, crl, keys, ocsp, x509
from certomancer.crypto_utils import generic_sign
from certomancer.services import CRLBuilder, SimpleOCSPResponder, choose_signed_digest

import regenerate
import testpki
from trustsvc.formats.ocsp_trust import _signed_by
from trustsvc.formats.revocation_facts import RevocationFacts, revocation_facts

UTC = timezone.utc
T_BEFORE = regenerate.T_BEFORE_REVOCATION  # 2026-03-01 10:00
T_AFTER = regenerate.T_AFTER_REVOCATION  # 2026-09-01 10:00
# certomancer.yml: revoked-after has revocation {revoked-since: "2026-06-01T00:00:00+0000", reason: key_compromise}
REVOKED_AT = datetime(2026, 6, 1, tzinfo=UTC)
# the qca CRL repository publishes every 7 days from the CA's notBefore (2020-01-01)
CRL_BEFORE_THIS_UPDATE = datetime(2026, 2, 25, tzinfo=UTC)
CRL_AFTER_THIS_UPDATE = datetime(2026, 8, 26, tzinfo=UTC)
NOTHING = RevocationFacts(revoked_at=None, reason=None, latest_issued=None, latest_source=None, on_hold=False)


# ---------------------------------------------------------------- helpers


def facts(label: str, crls=(), ocsps=(), issuer: str = "qca") -> RevocationFacts:
    return revocation_facts(testpki.cert("fr", label), testpki.cert("fr", issuer), crls, ocsps)


def fr_crl(at: datetime) -> crl.CertificateList:
    return regenerate.crl_for("fr", "qca", at)


def fr_ocsp(label: str, at: datetime) -> ocsp.OCSPResponse:
    return regenerate.ocsp_for("fr", label, "qca", at)


def private_key(country: str, label: str) -> keys.PrivateKeyInfo:
    return keys.PrivateKeyInfo.load(testpki.private_key_der(country, label))


def cert_id(label: str, country: str = "fr", issuer: str = "qca") -> ocsp.CertId:
    """A SHA-256 CertID (certomancer's responder is asked with SHA-1: both must match)."""
    cert, issuer_cert = testpki.cert(country, label), testpki.cert(country, issuer)
    return ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "issuer_name_hash": issuer_cert.subject.sha256,
            "issuer_key_hash": issuer_cert.public_key.sha256,
            "serial_number": cert.serial_number,
        }
    )


def good() -> ocsp.CertStatus:
    return ocsp.CertStatus(name="good", value=core.Null())


def revoked(at: datetime, reason: str | None) -> ocsp.CertStatus:
    return ocsp.CertStatus(name="revoked", value={"revocation_time": at, "revocation_reason": reason})


def single(
    label: str, status: ocsp.CertStatus, at: datetime, country: str = "fr", issuer: str = "qca"
) -> ocsp.SingleResponse:
    return ocsp.SingleResponse(
        {
            "cert_id": cert_id(label, country, issuer),
            "cert_status": status,
            "this_update": at,
            "next_update": at + timedelta(days=7),
        }
    )


def ocsp_signed_by(country: str, signer: str, singles: list[ocsp.SingleResponse], at: datetime) -> ocsp.OCSPResponse:
    """An OCSP response signed with the key of `signer` (its certificate embedded and named by key hash)."""
    signer_cert = testpki.cert(country, signer)
    responder = SimpleOCSPResponder(
        responder_cert=signer_cert,
        responder_key=private_key(country, signer),
        signature_algo=choose_signed_digest("sha256", signer_cert.public_key),
        at_time=at,
        revinfo_interface=None,  # only used to answer requests; these responses are assembled directly
    )
    return responder.assemble_simple_ocsp_responses(singles)


def ocsp_naming(responder_id: ocsp.ResponderId, singles: list[ocsp.SingleResponse], at: datetime) -> ocsp.OCSPResponse:
    """An OCSP response signed by FR ocsp-qca (embedded) whose ResponderID is `responder_id`."""
    signer = testpki.cert("fr", "ocsp-qca")
    data = ocsp.ResponseData({"responder_id": responder_id, "produced_at": at, "responses": singles})
    algorithm = choose_signed_digest("sha256", signer.public_key)
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": data,
            "signature_algorithm": algorithm,
            "signature": generic_sign(private_key("fr", "ocsp-qca"), data.dump(), algorithm),
            "certs": [signer],
        }
    )
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {
                "response_type": "basic_ocsp_response",
                "response": core.ParsableOctetString(basic.dump()),
            },
        }
    )


def crl_signed_by(
    country: str,
    signer: str,
    this_update: datetime,
    entries: Sequence[tuple[str, datetime, str | None]] = (),
    *,
    issuer_name: x509.Name | None = None,
    extensions: Sequence[crl.TBSCertListExtension] = (),
    idp: dict | None = None,
) -> crl.CertificateList:
    """A CRL signed with the key of `signer`, listing (FR certificate label, revocation date, reason) entries."""
    signer_cert = testpki.cert(country, signer)
    builder = CRLBuilder(
        issuer_name=issuer_name or signer_cert.subject,
        issuer_key=private_key(country, signer),
        signature_algo=choose_signed_digest("sha256", signer_cert.public_key),
        authority_key_identifier=signer_cert.key_identifier_value,
        extra_crl_extensions=list(extensions),
    )
    revoked_certs = [
        CRLBuilder.format_revoked_cert(
            testpki.cert("fr", label).serial_number, crl.CRLReason(reason) if reason else None, when
        )
        for label, when, reason in entries
    ]
    return builder.build_crl(
        crl_number=1,
        this_update=this_update,
        next_update=this_update + timedelta(days=7),
        revoked_certs=revoked_certs,
        distpoint=idp,
    )


def flip_last_byte_of(der: bytes, part: bytes) -> bytes:
    """The DER with the last byte of `part` (a signature value inside it) flipped."""
    index = der.index(part) + len(part) - 1
    mutated = bytearray(der)
    mutated[index] ^= 0x01
    return bytes(mutated)


# ---------------------------------------------------------------- OCSP and CRL, one at a time


def test_good_ocsp_says_good_as_of_its_this_update():
    response = fr_ocsp("signer-qscd", T_AFTER)
    assert response.basic_ocsp_response["tbs_response_data"]["responses"][0]["this_update"].native == T_AFTER
    assert facts("signer-qscd", ocsps=[response]) == RevocationFacts(None, None, T_AFTER, "ocsp", False)


def test_ocsp_after_the_revocation_gives_its_time_and_reason():
    assert facts("revoked-after", ocsps=[fr_ocsp("revoked-after", T_AFTER)]) == RevocationFacts(
        REVOKED_AT, "key_compromise", T_AFTER, "ocsp", False
    )


def test_ocsp_before_the_revocation_says_good():
    assert facts("revoked-after", ocsps=[fr_ocsp("revoked-after", T_BEFORE)]) == RevocationFacts(
        None, None, T_BEFORE, "ocsp", False
    )


def test_crl_after_the_revocation_lists_the_certificate():
    assert facts("revoked-after", crls=[fr_crl(T_AFTER)]) == RevocationFacts(
        REVOKED_AT, "key_compromise", CRL_AFTER_THIS_UPDATE, "crl", False
    )


def test_crl_before_the_revocation_says_good_as_of_its_this_update():
    assert facts("revoked-after", crls=[fr_crl(T_BEFORE)]) == RevocationFacts(
        None, None, CRL_BEFORE_THIS_UPDATE, "crl", False
    )


def test_response_signed_by_the_issuer_itself_counts():
    response = ocsp_signed_by(
        "fr", "qca", [single("revoked-after", revoked(REVOKED_AT, "key_compromise"), T_AFTER)], T_AFTER
    )
    assert facts("revoked-after", ocsps=[response]) == RevocationFacts(
        REVOKED_AT, "key_compromise", T_AFTER, "ocsp", False
    )


def test_unspecified_reason_is_none():
    listed = crl_signed_by("fr", "qca", T_AFTER, [("revoked-after", REVOKED_AT, "unspecified")])
    unlisted_reason = crl_signed_by("fr", "qca", T_AFTER, [("revoked-after", REVOKED_AT, None)])
    expected = RevocationFacts(REVOKED_AT, None, T_AFTER, "crl", False)
    assert facts("revoked-after", crls=[listed]) == expected
    assert facts("revoked-after", crls=[unlisted_reason]) == expected


# ---------------------------------------------------------------- combining sources


def test_newer_ocsp_than_crl_is_the_latest_information():
    assert facts("revoked-after", crls=[fr_crl(T_BEFORE)], ocsps=[fr_ocsp("revoked-after", T_AFTER)]) == (
        RevocationFacts(REVOKED_AT, "key_compromise", T_AFTER, "ocsp", False)
    )


def test_newer_crl_than_ocsp_is_the_latest_information():
    assert facts("signer-qscd", crls=[fr_crl(T_AFTER)], ocsps=[fr_ocsp("signer-qscd", T_BEFORE)]) == (
        RevocationFacts(None, None, CRL_AFTER_THIS_UPDATE, "crl", False)
    )


def test_a_revocation_stays_whatever_comes_later():
    later_good = fr_ocsp("revoked-after", T_BEFORE)  # good before the revocation; the CRL comes later
    assert facts("revoked-after", crls=[fr_crl(T_AFTER)], ocsps=[later_good]) == RevocationFacts(
        REVOKED_AT, "key_compromise", CRL_AFTER_THIS_UPDATE, "crl", False
    )


def test_a_stated_reason_wins_over_none_at_the_same_time():
    no_reason = crl_signed_by("fr", "qca", T_AFTER, [("revoked-after", REVOKED_AT, None)])
    assert facts(
        "revoked-after", crls=[no_reason], ocsps=[fr_ocsp("revoked-after", T_BEFORE + timedelta(days=150))]
    ) == RevocationFacts(REVOKED_AT, "key_compromise", T_AFTER, "crl", False)


def test_earliest_verified_revocation_wins():
    earlier = REVOKED_AT - timedelta(days=30)
    ocsp_says = ocsp_signed_by(
        "fr", "ocsp-qca", [single("revoked-after", revoked(earlier, "ca_compromise"), T_AFTER)], T_AFTER
    )
    assert facts("revoked-after", crls=[fr_crl(T_AFTER)], ocsps=[ocsp_says]) == RevocationFacts(
        earlier, "ca_compromise", T_AFTER, "ocsp", False
    )


# ---------------------------------------------------------------- certificate hold


T_HOLD = datetime(2026, 4, 1, tzinfo=UTC)
T_HOLD_CRL = datetime(2026, 4, 2, tzinfo=UTC)


def hold_crl() -> crl.CertificateList:
    return crl_signed_by("fr", "qca", T_HOLD_CRL, [("signer-qscd", T_HOLD, "certificate_hold")])


def test_a_hold_as_latest_information_is_on_hold():
    assert facts("signer-qscd", crls=[hold_crl()]) == RevocationFacts(
        T_HOLD, "certificate_hold", T_HOLD_CRL, "crl", True
    )


def test_a_hold_after_good_information_is_on_hold():
    older_good = fr_ocsp("signer-qscd", T_BEFORE)
    assert facts("signer-qscd", crls=[hold_crl()], ocsps=[older_good]) == RevocationFacts(
        T_HOLD, "certificate_hold", T_HOLD_CRL, "crl", True
    )


def test_later_good_ocsp_lifts_a_crl_hold():
    later_good = fr_ocsp("signer-qscd", T_AFTER)
    assert facts("signer-qscd", crls=[hold_crl()], ocsps=[later_good]) == RevocationFacts(
        None, None, T_AFTER, "ocsp", False
    )


def test_later_crl_without_the_entry_lifts_an_ocsp_hold():
    hold = ocsp_signed_by(
        "fr", "ocsp-qca", [single("signer-qscd", revoked(T_HOLD, "certificate_hold"), T_HOLD_CRL)], T_HOLD_CRL
    )
    assert facts("signer-qscd", ocsps=[hold]) == RevocationFacts(T_HOLD, "certificate_hold", T_HOLD_CRL, "ocsp", True)
    assert facts("signer-qscd", crls=[fr_crl(T_AFTER)], ocsps=[hold]) == RevocationFacts(
        None, None, CRL_AFTER_THIS_UPDATE, "crl", False
    )


def test_remove_from_crl_lifts_a_hold():
    removed = crl_signed_by("fr", "qca", T_AFTER, [("signer-qscd", T_HOLD, "remove_from_crl")])
    assert facts("signer-qscd", crls=[hold_crl(), removed]) == RevocationFacts(None, None, T_AFTER, "crl", False)


def test_a_hold_made_permanent_is_a_revocation():
    permanent = ocsp_signed_by(
        "fr", "ocsp-qca", [single("signer-qscd", revoked(T_HOLD, "key_compromise"), T_AFTER)], T_AFTER
    )
    assert facts("signer-qscd", crls=[hold_crl()], ocsps=[permanent]) == RevocationFacts(
        T_HOLD, "key_compromise", T_AFTER, "ocsp", False
    )


# ---------------------------------------------------------------- data that is not about this certificate


def test_response_about_another_serial_is_ignored():
    assert facts("revoked-after", ocsps=[fr_ocsp("signer-qscd", T_AFTER)]) == NOTHING


def test_same_serial_under_another_issuer_is_ignored():
    it_response = regenerate.ocsp_for("it", "revoked-after", "qca", T_AFTER)  # IT revoked-after: same serial
    assert testpki.cert("it", "revoked-after").serial_number == testpki.cert("fr", "revoked-after").serial_number
    assert facts("revoked-after", ocsps=[it_response]) == NOTHING


def test_authoritative_response_about_another_issuers_certificate_is_ignored():
    """The FR responder's word on IT revoked-after (same serial as FR revoked-after) says nothing about the FR one."""
    about_it = ocsp_signed_by(
        "fr", "ocsp-qca", [single("revoked-after", revoked(REVOKED_AT, "key_compromise"), T_AFTER, "it")], T_AFTER
    )
    assert facts("revoked-after", ocsps=[about_it]) == NOTHING


def test_wrong_issuer_argument_gives_nothing():
    result = revocation_facts(
        testpki.cert("fr", "revoked-after"),
        testpki.cert("it", "qca"),
        [fr_crl(T_AFTER)],
        [fr_ocsp("revoked-after", T_AFTER)],
    )
    assert result == NOTHING


def test_crl_of_another_issuer_is_ignored():
    other_fr_ca = regenerate.crl_for("fr", "ca", T_AFTER)
    it_qca = regenerate.crl_for("it", "qca", T_AFTER)  # lists IT revoked-after, whose serial equals the FR one
    assert facts("revoked-after", crls=[other_fr_ca, it_qca]) == NOTHING


# ---------------------------------------------------------------- forgeries


@pytest.mark.parametrize("status", [good(), revoked(REVOKED_AT, "key_compromise")], ids=["good", "revoked"])
def test_another_countrys_responder_is_not_authoritative(status):
    forged = ocsp_signed_by("it", "ocsp-qca", [single("revoked-after", status, T_AFTER)], T_AFTER)
    assert facts("revoked-after", ocsps=[forged]) == NOTHING


def test_a_subscriber_cannot_vouch_for_itself():
    """A certificate issued by the same CA, but without id-kp-OCSPSigning, is no delegated responder."""
    forged = ocsp_signed_by("fr", "signer-qscd", [single("revoked-after", good(), T_AFTER)], T_AFTER)
    assert facts("revoked-after", ocsps=[forged]) == NOTHING


def test_responder_named_by_name_counts():
    by_name = ocsp.ResponderId(name="by_name", value=testpki.cert("fr", "ocsp-qca").subject)
    response = ocsp_naming(by_name, [single("signer-qscd", good(), T_AFTER)], T_AFTER)
    assert facts("signer-qscd", ocsps=[response]) == RevocationFacts(None, None, T_AFTER, "ocsp", False)


@pytest.mark.parametrize("form", ["by_name", "by_key"])
def test_responder_id_must_designate_the_signer(form):
    """Signed by the delegated responder, but the ResponderID names the issuer: not a valid response."""
    qca = testpki.cert("fr", "qca")
    value = qca.subject if form == "by_name" else qca.public_key.sha1
    response = ocsp_naming(ocsp.ResponderId(name=form, value=value), [single("signer-qscd", good(), T_AFTER)], T_AFTER)
    assert facts("signer-qscd", ocsps=[response]) == NOTHING


def test_a_certificate_without_ocsp_signing_usage_is_no_delegated_responder():
    """auth-only is issued by FR ca and has an extended key usage, but clientAuth, not OCSPSigning."""
    forged = ocsp_signed_by("fr", "auth-only", [single("signer-nq", good(), T_AFTER, issuer="ca")], T_AFTER)
    genuine = ocsp_signed_by("fr", "ocsp-ca", [single("signer-nq", good(), T_AFTER, issuer="ca")], T_AFTER)
    assert facts("signer-nq", ocsps=[forged], issuer="ca") == NOTHING
    assert facts("signer-nq", ocsps=[genuine], issuer="ca") == RevocationFacts(None, None, T_AFTER, "ocsp", False)


def test_an_issuer_that_did_not_sign_the_certificate_gives_nothing():
    """A look-alike issuer (same name, another key) cannot make data signed with its key count."""
    real = testpki.cert("fr", "qca")
    tbs = real["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = testpki.cert("it", "qca").public_key
    look_alike = x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": real["signature_algorithm"], "signature_value": b"\x00"}
    )
    forged = crl_signed_by(
        "it", "qca", T_AFTER, [("signer-qscd", REVOKED_AT, "key_compromise")], issuer_name=real.subject
    )
    assert revocation_facts(testpki.cert("fr", "signer-qscd"), look_alike, [forged], []) == NOTHING


def test_crl_signed_by_the_issuer_in_another_name_is_ignored():
    other_name = crl_signed_by(
        "fr",
        "qca",
        T_AFTER,
        [("signer-qscd", REVOKED_AT, "key_compromise")],
        issuer_name=testpki.cert("fr", "ca").subject,
    )
    assert facts("signer-qscd", crls=[other_name]) == NOTHING


def test_delegated_responder_outside_its_validity_is_ignored():
    produced_after_expiry = fr_ocsp("signer-qscd", datetime(2041, 1, 1, tzinfo=UTC))  # ocsp-qca ends 2040-01-01
    assert facts("signer-qscd", ocsps=[produced_after_expiry]) == NOTHING


def test_crl_in_the_issuers_name_signed_with_another_key_is_ignored():
    forged = crl_signed_by(
        "it",
        "qca",
        T_AFTER,
        [("signer-qscd", REVOKED_AT, "key_compromise")],
        issuer_name=testpki.cert("fr", "qca").subject,
    )
    assert facts("signer-qscd", crls=[forged]) == NOTHING


def test_crl_with_a_flipped_signature_byte_is_ignored():
    genuine = fr_crl(T_AFTER)
    der = flip_last_byte_of(genuine.dump(), genuine["signature"].native)
    assert facts("revoked-after", crls=[crl.CertificateList.load(der)]) == NOTHING


def test_ocsp_with_a_flipped_signature_byte_is_ignored():
    genuine = fr_ocsp("revoked-after", T_AFTER)
    der = flip_last_byte_of(genuine.dump(), genuine.basic_ocsp_response["signature"].native)
    assert facts("revoked-after", ocsps=[ocsp.OCSPResponse.load(der)]) == NOTHING


def test_ocsp_whose_responder_certificate_is_tampered_is_ignored():
    """The embedded responder certificate is outside the signed data: its own signature must be checked."""
    genuine = fr_ocsp("revoked-after", T_AFTER)
    der = flip_last_byte_of(genuine.dump(), testpki.cert("fr", "ocsp-qca")["signature_value"].native)
    assert facts("revoked-after", ocsps=[ocsp.OCSPResponse.load(der)]) == NOTHING


# ---------------------------------------------------------------- CRL scope


def _extension(name: str, value, critical: bool = False) -> crl.TBSCertListExtension:
    return crl.TBSCertListExtension({"extn_id": name, "critical": critical, "extn_value": value})


QCA_CRL_URL = f"{testpki.URL_PREFIX}/ms-fr/crls/qca/latest.crl"


def _url(url: str) -> dict:
    return {"full_name": [x509.GeneralName(name="uniform_resource_identifier", value=url)]}


@pytest.mark.parametrize(
    "idp, extensions",
    [
        ({"only_contains_ca_certs": True}, []),
        ({"only_contains_attribute_certs": True}, []),
        ({"only_some_reasons": {"key_compromise"}}, []),
        ({"indirect_crl": True}, []),
        ({"distribution_point": _url(f"{testpki.URL_PREFIX}/ms-fr/crls/qca/partition-2.crl")}, []),
        (None, [_extension("delta_crl_indicator", 1, critical=True)]),
        (None, [_extension("delta_crl_indicator", 1)]),  # must be critical (RFC 5280 § 5.2.4), still a delta
        (None, [_extension("1.3.6.1.4.1.99999.1", core.ParsableOctetString(core.Null().dump()), critical=True)]),
    ],
    ids=[
        "ca-only",
        "attribute-only",
        "some-reasons",
        "indirect",
        "other-partition",
        "delta",
        "delta-non-critical",
        "unknown-critical",
    ],
)
def test_crl_that_may_not_list_every_revocation_of_the_certificate_is_ignored(idp, extensions):
    partial = crl_signed_by("fr", "qca", T_AFTER, extensions=extensions, idp=idp)
    assert facts("signer-qscd", crls=[partial]) == NOTHING


@pytest.mark.parametrize(
    "idp",
    [{"distribution_point": _url(QCA_CRL_URL)}, {"only_contains_user_certs": True}],
    ids=["its-partition", "user-only"],
)
def test_crl_whose_scope_covers_the_certificate_counts(idp):
    scoped = crl_signed_by("fr", "qca", T_AFTER, idp=idp)
    assert facts("signer-qscd", crls=[scoped]) == RevocationFacts(None, None, T_AFTER, "crl", False)


# ---------------------------------------------------------------- malformed input


def test_malformed_items_are_skipped():
    garbage_ocsps = [
        ocsp.OCSPResponse({"response_status": "unauthorized"}),
        ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {
                    "response_type": "basic_ocsp_response",
                    "response": core.ParsableOctetString(b"\x30\x03\x02\x01\x00"),
                },
            }
        ),
        ocsp.OCSPResponse.load(b"\x30\x03\x0a\x01\x00"),
        ocsp.OCSPResponse.load(b"\x30\x00"),
    ]
    garbage_crls = [crl.CertificateList.load(b"\x30\x03\x02\x01\x00"), crl.CertificateList.load(b"\x30\x00")]
    genuine = fr_ocsp("revoked-after", T_AFTER)
    assert facts("revoked-after", garbage_crls, garbage_ocsps) == NOTHING
    assert facts("revoked-after", garbage_crls, [*garbage_ocsps, genuine]) == RevocationFacts(
        REVOKED_AT, "key_compromise", T_AFTER, "ocsp", False
    )


def test_malformed_certificate_or_issuer_gives_nothing():
    garbage = x509.Certificate.load(b"\x30\x03\x02\x01\x00")
    qca, cert = testpki.cert("fr", "qca"), testpki.cert("fr", "revoked-after")
    assert revocation_facts(garbage, qca, [fr_crl(T_AFTER)], []) == NOTHING
    assert revocation_facts(cert, garbage, [fr_crl(T_AFTER)], []) == NOTHING


@pytest.mark.parametrize("kind", ["crl", "ocsp"])
def test_a_mutated_byte_never_raises_nor_changes_the_facts(kind):
    """Every readable single-byte mutation of genuine data gives the genuine facts or nothing."""
    if kind == "crl":
        genuine, load = fr_crl(T_AFTER), crl.CertificateList.load
        expected = RevocationFacts(REVOKED_AT, "key_compromise", CRL_AFTER_THIS_UPDATE, "crl", False)
    else:
        genuine, load = fr_ocsp("revoked-after", T_AFTER), ocsp.OCSPResponse.load
        expected = RevocationFacts(REVOKED_AT, "key_compromise", T_AFTER, "ocsp", False)
    der = genuine.dump()
    rng = random.Random(20260601)
    seen = set()
    for _ in range(400):
        mutated = bytearray(der)
        mutated[rng.randrange(len(der))] ^= 1 << rng.randrange(8)
        try:
            item = load(bytes(mutated))
        except ValueError:
            continue
        result = facts("revoked-after", *(([item], []) if kind == "crl" else ([], [item])))
        assert result in (expected, NOTHING)
        seen.add(result)
    assert NOTHING in seen


def test_a_trusted_responder_check_survives_a_mismatched_signature_algorithm():
    """An RSA responder's response relabelled as ECDSA: not signed by it (pyHanko would assert, not answer)."""
    genuine = fr_ocsp("signer-qscd", T_AFTER)
    basic = genuine.basic_ocsp_response
    relabelled = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": basic["tbs_response_data"],
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": basic["signature"],
            "certs": basic["certs"],
        }
    )
    responder = testpki.cert("fr", "ocsp-qca")
    assert _signed_by(basic, responder) is True
    assert _signed_by(relabelled, responder) is False
