"""Trusted-list signatures: real lists verify, every broken, wrapped, weak or unpinned one is refused with its code.

Real signatures only: the real lists and DSS's negative files, attacks built from the real lists the way an
attacker would (by editing bytes), and lists we sign ourselves with signxml for the cases no real list shows
(SHA-1, extra references).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from conftest import SHARED, shared_path
from trustsvc.trust.tsl_parse import parse_trusted_list, parse_trusted_list_element
from trustsvc.trust.tsl_signature import verify_list_signature

TL_DIR = SHARED / "trusted-lists"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
OJ_2019 = "bootstrap-0.cert.pem"  # the 8 certificates of OJ C 276, 16.8.2019


def _load(relative: str) -> bytes:
    return shared_path("trusted-lists", *relative.split("/")).read_bytes()


def _oj_certificates(name: str) -> list[bytes]:
    pem = shared_path("trusted-lists", "oj-signers", name).read_bytes()
    return [c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]


def _announced(lotl: str, territory: str) -> list[bytes]:
    """Certificates a LOTL announces for `territory` (the LOTL itself is authenticated in test_lotl.py)."""
    pointers = parse_trusted_list(_load(lotl)).pointers
    return [c for p in pointers if p.territory == territory for c in p.signer_certificates]


def _embedded_signer(data: bytes) -> bytes:
    verification, _ = verify_list_signature(data, None, allow_legacy_algorithms=True)
    assert verification.signer_certificate is not None
    return verification.signer_certificate


def _intact_lists() -> list[str]:
    index = TL_DIR / "INDEX.md"
    if not index.exists():
        return []
    rows = [line.split("|") for line in index.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    return [row[1].strip() for row in rows if len(row) > 8 and row[8].strip() == "intact"]


# -- DSS's negative files --------------------------------------------------------------------------------------------

NEGATIVE = {
    "CZ_broken-sig.xml": ("CZ", "broken-signature"),
    "CZ_empty.xml": ("CZ", "unparseable"),
    "CZ_no-sig.xml": ("CZ", "no-signature"),
    "CZ_not-parsable.xml": ("CZ", "unparseable"),
    "eu-lotl-broken-sig.xml": ("OJ", "broken-signature"),
    "eu-lotl-no-sig.xml": ("OJ", "no-signature"),
    "eu-lotl-not-parseable.xml": ("OJ", "unparseable"),
    "sample-bom.xml": ("OJ", "no-signature"),
    "tl-empty.xml": ("OJ", "no-signature"),
    "tl_pivot_191_mp_broken-sig.xml": ("OJ", "broken-signature"),
    "tl_pivot_247_mp_with-bom.xml": ("OJ", None),
    "tl_pivot_247_mp_with-spaces.xml": ("OJ", None),
}


def test_the_negative_table_covers_the_folder() -> None:
    names = {p.name for p in shared_path("trusted-lists", "negative").glob("*.xml")}
    assert names == set(NEGATIVE)


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_negative_lists(name: str) -> None:
    signers_of, code = NEGATIVE[name]
    signers = _oj_certificates(OJ_2019) if signers_of == "OJ" else _announced("eu-2019-09/eu-lotl.xml", signers_of)
    verification, signed = verify_list_signature(_load(f"negative/{name}"), signers)
    assert verification.code == code, verification.reason
    assert verification.verified is (code is None)
    assert (signed is not None) is (code is None)
    if code is None:
        assert parse_trusted_list_element(signed).sequence == 247
    else:
        assert verification.reason


# -- every real list, pinned to its own signer -------------------------------------------------------------------------


@pytest.mark.parametrize("name", _intact_lists())
def test_every_intact_list_verifies_with_its_signer(name: str) -> None:
    data = _load(name)
    legacy = name.endswith("tl_pivot_172_mp.xml")  # signed in 2017 with a 1024-bit RSA key, see below
    diagnostic, nothing = verify_list_signature(data, None, allow_legacy_algorithms=legacy)
    assert (diagnostic.verified, diagnostic.code, nothing) == (False, "signer-not-pinned", None)
    signer = diagnostic.signer_certificate
    verification, signed = verify_list_signature(data, [signer], allow_legacy_algorithms=legacy)
    assert verification.verified, verification.reason
    assert verification.signer_certificate == signer and verification.signing_time is not None
    assert signed.tag.endswith("}TrustServiceStatusList") and signed.find(f"{DS}Signature") is None
    assert parse_trusted_list_element(signed) == parse_trusted_list(data)


def test_rsa_1024_is_weak_even_for_an_announced_signer() -> None:
    data = _load("eu-2019-09/tl_pivot_172_mp.xml")
    signer = _embedded_signer(data)
    verification, signed = verify_list_signature(data, [signer])
    assert (verification.code, signed) == ("weak-algorithm", None)
    assert "1024 bits" in verification.reason


# -- pinning and time --------------------------------------------------------------------------------------------------


def test_signer_must_be_announced() -> None:
    data = _load("eu-2026-08/TSL_SE.xml")
    other = _embedded_signer(_load("eu-2026-08/TSL_FI.xml"))
    for allowed in ([other], []):
        verification, signed = verify_list_signature(data, allowed)
        assert (verification.verified, verification.code, signed) == (False, "signer-not-announced", None)
        assert verification.signer_certificate == _embedded_signer(data)
        assert "Swedish Post and Telecom Agency" in verification.reason


def test_signer_validity_is_checked_at_signing_time_not_today() -> None:
    now = datetime.now(timezone.utc)
    expired = []
    for path in sorted(shared_path("trusted-lists", "eu-2019-09").glob("[A-Z][A-Z].xml")):
        data = path.read_bytes()
        signer = _embedded_signer(data)
        if x509.load_der_x509_certificate(signer).not_valid_after_utc < now:
            expired.append(path.name)
            verification, _ = verify_list_signature(data, [signer])
            assert verification.verified, (path.name, verification.reason)
    assert len(expired) >= 5  # most 2019 list signers have expired since


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (datetime(2100, 1, 1, tzinfo=timezone.utc), "signer-expired"),
        (datetime(2000, 1, 1, tzinfo=timezone.utc), "signer-not-yet-valid"),
    ],
)
def test_validity_at_an_explicit_time(at: datetime, code: str) -> None:
    data = _load("eu-2026-08/TSL_SE.xml")
    verification, signed = verify_list_signature(data, [_embedded_signer(data)], at=at)
    assert (verification.code, signed) == (code, None)


# -- structure of the signature ---------------------------------------------------------------------------------------


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(list without its signature, the ds:Signature text) of a real list whose signature uses the ds prefix."""
    start = data.index(b"<ds:Signature")
    end = data.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    return data[:start] + data[end:], data[start:end]


def _wrap(data: bytes, fake_id: bytes) -> bytes:
    """XSW: an attacker's list (new Id, new operator) carrying the genuine signature, the genuine list hidden in
    a ds:Object of that signature (DSS ``XSW-enveloped-fake-content``)."""
    unsigned, signature = _split(data)
    genuine = unsigned[unsigned.index(b"<TrustServiceStatusList") :]
    fake = re.sub(rb'Id="[^"]*"', b'Id="' + fake_id + b'"', unsigned, count=1)
    fake = re.sub(rb"(<SchemeOperatorName>\s*<Name[^>]*>)[^<]*", rb"\1Mallory", fake, count=1)
    hidden = signature.replace(b"</ds:Signature>", b"<ds:Object>" + genuine + b"</ds:Object></ds:Signature>")
    return fake.replace(b"</TrustServiceStatusList>", hidden + b"</TrustServiceStatusList>")


def test_xsw_fake_root_is_refused_although_signxml_accepts_it() -> None:
    data = _load("eu-2019-09/BE.xml")  # the one real list whose data reference is URI="#<root Id>"
    signer = _embedded_signer(data)
    attack = _wrap(data, b"EVIL")
    config = XAdESSignatureConfiguration(expect_references=2, location="./", verification_time=datetime(2019, 7, 1))
    results = XAdESVerifier().verify(attack, x509_cert=x509.load_der_x509_certificate(signer), expect_config=config)
    assert results[0].signed_xml.get("Id") == "TSL-BE-2019-T2v2"  # signxml verifies; reading the root would be wrong
    assert etree.fromstring(attack).findtext(".//{*}SchemeOperatorName/{*}Name") == "Mallory"
    verification, signed = verify_list_signature(attack, [signer])
    assert (verification.code, signed) == ("wrapped", None)
    assert "does not cover the document root" in verification.reason


def test_xsw_with_a_duplicate_id_is_refused() -> None:
    data = _load("eu-2019-09/BE.xml")
    verification, _ = verify_list_signature(_wrap(data, b"TSL-BE-2019-T2v2"), [_embedded_signer(data)])
    assert verification.code == "wrapped"
    assert "Ambiguous" in verification.reason


def test_xsw_over_a_whole_document_reference_breaks_the_digest() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    verification, _ = verify_list_signature(_wrap(data, b"EVIL"), [_embedded_signer(data)])
    assert verification.code == "broken-signature"


def test_signed_list_moved_under_a_fake_root_is_refused() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    start_tag = re.search(rb"<TrustServiceStatusList[^>]*>", data).group(0)
    scheme = re.search(rb"<SchemeInformation>.*?</SchemeInformation>", data, re.DOTALL).group(0)
    genuine = data[data.index(b"<TrustServiceStatusList") :]
    attack = (
        re.sub(rb'Id="[^"]*"', b'Id="EVIL"', start_tag)
        + scheme.replace(b"<TSLSequenceNumber>53<", b"<TSLSequenceNumber>99<")
        + genuine
        + b"</TrustServiceStatusList>"
    )
    verification, signed = verify_list_signature(attack, [_embedded_signer(data)])
    assert (verification.code, signed) == ("wrapped", None)
    assert "not a child of the root" in verification.reason


def test_an_added_provider_breaks_the_signature() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    tsp = re.search(rb"<TrustServiceProvider>.*?</TrustServiceProvider>", data, re.DOTALL).group(0)
    forged = data.replace(b"</TrustServiceProviderList>", tsp.replace(b"CY", b"XX") + b"</TrustServiceProviderList>")
    verification, _ = verify_list_signature(forged, [_embedded_signer(data)])
    assert verification.code == "broken-signature"
    assert "reference 0" in verification.reason


def test_a_second_signature_is_refused() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    _, signature = _split(data)
    doubled = data.replace(b"</TrustServiceProvider>", signature + b"</TrustServiceProvider>", 1)
    verification, _ = verify_list_signature(doubled, [_embedded_signer(data)])
    assert verification.code == "several-signatures"


def test_a_signature_without_certificate_is_refused() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    stripped = re.sub(rb"<ds:X509Data>.*?</ds:X509Data>", b"", data, flags=re.DOTALL)
    verification, _ = verify_list_signature(stripped, [_embedded_signer(data)])
    assert verification.code == "no-signer-certificate"


def test_an_unknown_algorithm_is_refused_before_any_cryptography() -> None:
    data = _load("eu-2026-08/TSL_CY.xml")
    method = re.search(rb'<ds:SignatureMethod Algorithm="([^"]+)"', data).group(1)
    odd = data.replace(method, b"urn:example:rot13", 1)
    verification, _ = verify_list_signature(odd, [_embedded_signer(data)])
    assert verification.code == "unsupported-algorithm"


# -- lists we sign ourselves -------------------------------------------------------------------------------------------


class _Sha1Signer(XAdESSigner):
    """signxml refuses to produce SHA-1 signatures; old lists have them, so the tests must make some."""

    def check_deprecated_methods(self) -> None:
        return None


@pytest.fixture(scope="module")
def own_key() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trustsvc test TLSO")])
    start = datetime(2010, 1, 1, tzinfo=timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _own_list(own_key, *, issued: str, sha1: bool = False, tsp_reference: bool = False) -> tuple[bytes, bytes]:
    """The CY list re-signed by our key (signxml adds a KeyInfo reference, as pyHanko's test lists have)."""
    key, cert = own_key
    unsigned, _ = _split(_load("eu-2026-08/TSL_CY.xml"))
    unsigned = re.sub(rb"<ListIssueDateTime>[^<]*<", b"<ListIssueDateTime>" + issued.encode() + b"<", unsigned)
    root = etree.fromstring(unsigned[unsigned.index(b"<TrustServiceStatusList") :])
    references = None
    if tsp_reference:
        root.find(".//{*}TrustServiceProvider").set("Id", "tsp-1")
        references = [f"#{root.get('Id')}", "#tsp-1"]
    algorithms = (
        (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1)
        if sha1
        else (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256)
    )
    signer = _Sha1Signer(method=methods.enveloped, signature_algorithm=algorithms[0], digest_algorithm=algorithms[1])
    signed = signer.sign(root, key=key, cert=[cert], reference_uri=references)
    return etree.tostring(signed), cert.public_bytes(serialization.Encoding.DER)


def test_a_signxml_signed_list_with_a_key_info_reference_verifies(own_key) -> None:
    data, cert = _own_list(own_key, issued="2026-03-31T07:56:45Z")
    assert data.count(b"<ds:Reference ") == 3
    verification, signed = verify_list_signature(data, [cert])
    assert verification.verified, verification.reason
    assert parse_trusted_list_element(signed).territory == "CY"


@pytest.mark.parametrize(
    ("issued", "flag", "code"),
    [
        ("2026-03-31T07:56:45Z", False, "weak-algorithm"),
        ("2015-12-31T23:59:59Z", False, None),
        ("2026-03-31T07:56:45Z", True, None),
    ],
    ids=["sha1-after-2016", "sha1-before-2016", "sha1-allowed-by-flag"],
)
def test_sha1_only_for_old_lists_or_on_request(own_key, issued: str, flag: bool, code: str | None) -> None:
    data, cert = _own_list(own_key, issued=issued, sha1=True)
    verification, _ = verify_list_signature(data, [cert], allow_legacy_algorithms=flag)
    assert verification.code == code, verification.reason


class _NoSigningCertificateSigner(XAdESSigner):
    """A XAdES signature without SigningCertificate(V2): cryptographically sound, but not XAdES-BES."""

    def add_signing_certificate(self, signed_signature_properties, sig_root, signing_settings) -> None:
        return None


def test_a_signature_without_signing_certificate_is_malformed(own_key) -> None:
    key, cert = own_key
    unsigned, _ = _split(_load("eu-2026-08/TSL_CY.xml"))
    root = etree.fromstring(unsigned[unsigned.index(b"<TrustServiceStatusList") :])
    signed = _NoSigningCertificateSigner(method=methods.enveloped).sign(root, key=key, cert=[cert])
    verification, _ = verify_list_signature(etree.tostring(signed), [cert.public_bytes(serialization.Encoding.DER)])
    assert verification.code == "malformed-signature"
    assert "SigningCertificate" in verification.reason


def test_an_extra_reference_is_wrapping(own_key) -> None:
    data, cert = _own_list(own_key, issued="2026-03-31T07:56:45Z", tsp_reference=True)
    verification, _ = verify_list_signature(data, [cert])
    assert verification.code == "wrapped"
    assert "#tsp-1" in verification.reason
