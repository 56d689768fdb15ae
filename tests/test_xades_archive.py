"""XAdES time-stamp inputs (trustsvc.formats.xades_archive) and the XAdES/ASiC samples of regenerate_xades.py.

Two kinds of evidence, neither of which trusts the code under test:

* real signatures made by other software (DSS, SiVa's test files, ../shared/corpus): the hash of the input we
  rebuild must equal the MessageImprint their TSA signed;
* independent implementations for our own samples: xmlsec1 (CLI), python-xmlsec and libxml2's node-set
  canonicalizer, openssl ts / cms.

A check skips when its tool or the corpus is missing, never silently passes.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import os
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from asn1crypto import cms, ocsp, tsp, x509
from asn1crypto import crl as asn1_crl
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from trustsvc.formats.xades_archive import (
    C14N_10,
    C14N_10_WITH_COMMENTS,
    C14N_11,
    C14N_11_WITH_COMMENTS,
    EXC_C14N,
    EXC_C14N_WITH_COMMENTS,
    NS,
    archive_timestamp_input,
    canonicalize,
    dereference_same_document,
    signature_timestamp_input,
    timestamp_c14n,
)
from trustsvc.trust.xml_safety import parse_xml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLES = ROOT / "fixtures" / "samples"
XADES = SAMPLES / "xades"
ASIC = SAMPLES / "asic"
PEM = ROOT / "fixtures" / "certs" / "pem"
DS = NS["ds"]
XADES_NS = NS["xades"]
#: 2026-11-02T10:00Z (T_SIGN of the samples), for openssl's certificate checks
AT_SIGN = str(int(datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc).timestamp()))

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not available")
needs_xmlsec1 = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 CLI not installed")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


@pytest.fixture
def pyxmlsec():
    """python-xmlsec (not a dependency of trustsvc: the tests use it as an independent verifier)."""
    return pytest.importorskip("xmlsec")


# ---------------------------------------------------------------- helpers


def signature_of(root: etree._Element) -> etree._Element:
    return root if root.tag == f"{{{DS}}}Signature" else next(root.iter(f"{{{DS}}}Signature"))


def load_sample(name: str) -> etree._Element:
    path = XADES / name
    if not path.exists():
        pytest.skip(f"{path} not generated (fixtures/certs/regenerate_xades.py)")
    return parse_xml(path.read_bytes())


def token_of(timestamp: etree._Element) -> bytes:
    return base64.b64decode("".join(timestamp.findtext("xades:EncapsulatedTimeStamp", namespaces=NS).split()))


def imprint_of(token: bytes) -> tuple[str, bytes]:
    """(hash algorithm, hashed message) of an RFC 3161 token; bytes() because real eContent may be BER."""
    content = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"]
    imprint = tsp.TSTInfo.load(bytes(content))["message_imprint"]
    return imprint["hash_algorithm"]["algorithm"].native, imprint["hashed_message"].native


def matches(timestamp: etree._Element, stamped: bytes) -> bool:
    algorithm, expected = imprint_of(token_of(timestamp))
    return hashlib.new(algorithm, stamped).digest() == expected


def archive_input(root: etree._Element, signature: etree._Element, ats: etree._Element, files=None) -> bytes:
    uri, prefixes = timestamp_c14n(ats)

    def dereference(reference: etree._Element) -> bytes:
        if files and reference.get("URI") in files:
            return files[reference.get("URI")]
        return dereference_same_document(reference, root, uri, prefixes)

    return archive_timestamp_input(signature, ats, uri, dereference, prefixes)


def openssl_ts_verify(token: bytes, digest: bytes, ca: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "token.tst"
    path.write_bytes(token)
    command = ["openssl", "ts", "-verify", "-digest", digest.hex(), "-in", str(path), "-token_in"]
    return subprocess.run([*command, "-CAfile", str(ca), "-attime", AT_SIGN], capture_output=True, text=True)


def reference_digest_ok(reference: etree._Element, data: bytes) -> bool:
    algorithm = reference.find("ds:DigestMethod", NS).get("Algorithm").rsplit("#", 1)[1]
    return (
        base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
        == reference.findtext("ds:DigestValue", namespaces=NS).strip()
    )


def ecdsa_signature_valid(signature: etree._Element, cert: x509.Certificate) -> bool:
    """The ECDSA-SHA256 SignatureValue over exc-c14n(SignedInfo), checked with `cryptography` only."""
    from cryptography.x509 import load_der_x509_certificate

    signed_info = signature.find("ds:SignedInfo", NS)
    assert signed_info.find("ds:CanonicalizationMethod", NS).get("Algorithm") == EXC_C14N
    raw = base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=NS))
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    key = load_der_x509_certificate(cert.dump()).public_key()
    try:
        key.verify(der, canonicalize(signed_info, EXC_C14N), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def pem_cert(country: str, label: str) -> x509.Certificate:
    from asn1crypto import pem

    return x509.Certificate.load(pem.unarmor((PEM / f"ms-{country}" / f"{label}.pem").read_bytes())[2])


# ---------------------------------------------------------------- real signatures (../shared/corpus)


@needs_corpus
def test_dss_lta_signature_and_archive_timestamps():
    """DSS xades-lta-valid.xml: enveloping (base64 ds:Object), SignatureTimeStamp and xadesv141:ArchiveTimeStamp."""
    root = parse_xml((CORPUS / "dss/xades/xades-lta-valid.xml").read_bytes())
    signature = signature_of(root)
    sigtst = signature.find(".//xades:SignatureTimeStamp", NS)
    assert matches(sigtst, signature_timestamp_input(signature, *timestamp_c14n(sigtst)))
    ats = signature.find(".//xades141:ArchiveTimeStamp", NS)
    assert timestamp_c14n(ats) == (EXC_C14N, None)
    assert matches(ats, archive_input(root, signature, ats))


@needs_corpus
def test_dss_lta_archive_timestamp_covers_referenced_objects():
    """EN 319 132-1 step 5 takes every ds:Object but the QualifyingProperties one, referenced or not: read with
    the TS 101 903 V1.3.2 rule (referenced objects left out) the same time-stamp no longer matches."""
    root = parse_xml((CORPUS / "dss/xades/xades-lta-valid.xml").read_bytes())
    signature = signature_of(root)
    ats = signature.find(".//xades141:ArchiveTimeStamp", NS)
    ats.tag = f"{{{XADES_NS}}}ArchiveTimeStamp"  # the same element, read as the older xades:ArchiveTimeStamp
    assert not matches(ats, archive_input(root, signature, ats))


@needs_corpus
def test_dss_duplicated_signature_timestamps():
    root = parse_xml((CORPUS / "dss/xades/xades-t-duplicated-sigtst.xml").read_bytes())
    signature = signature_of(root)
    timestamps = signature.findall(".//xades:SignatureTimeStamp", NS)
    assert len(timestamps) == 2
    for ts in timestamps:
        assert matches(ts, signature_timestamp_input(signature, *timestamp_c14n(ts)))


@needs_corpus
@pytest.mark.parametrize("name", ["xades-lta-valid.xml", "xades-t-duplicated-sigtst.xml"])
def test_dss_reference_digests(name):
    """dereference_same_document rebuilds DSS's digest inputs (base64 transform on a ds:Object, exc-c14n)."""
    root = parse_xml((CORPUS / "dss/xades" / name).read_bytes())
    references = signature_of(root).findall("ds:SignedInfo/ds:Reference", NS)
    assert len(references) == 2
    for reference in references:
        assert reference_digest_ok(reference, dereference_same_document(reference, root))


@needs_corpus
def test_siva_lt_signature_timestamp_only_matches_before_reformatting():
    """SiVa's Valid_XAdES_LT_TS.xml was pretty-printed after signing (line breaks inside ds:SignatureValue, its
    SignedProperties digest no longer matches): as stored the imprint cannot match. Undoing the indentation of
    leaf text and blank text nodes gives back the octets the TSA stamped."""
    data = (CORPUS / "siva-perf/xades/Valid_XAdES_LT_TS.xml").read_bytes()
    signature = signature_of(parse_xml(data))
    ts = signature.find(".//xades:SignatureTimeStamp", NS)
    assert not matches(ts, signature_timestamp_input(signature, *timestamp_c14n(ts)))

    compact = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    for element in compact.iter():
        if isinstance(element.tag, str) and element.text and len(element) == 0:
            element.text = element.text.strip()
    signature = signature_of(compact)
    ts = signature.find(".//xades:SignatureTimeStamp", NS)
    assert matches(ts, signature_timestamp_input(signature, *timestamp_c14n(ts)))


@needs_corpus
def test_siva_asice_signature_timestamps():
    """SiVa's ASICE.asice: signatures0.xml (exc-c14n) and signatures1.xml (no CanonicalizationMethod: C14N 1.0,
    which renders the asic/ds/xades declarations of the asic:XAdESSignatures root on ds:SignatureValue)."""
    container = zipfile.ZipFile(CORPUS / "siva-perf/small-2sig/ASICE.asice")
    seen = []
    for name in ("META-INF/signatures0.xml", "META-INF/signatures1.xml"):
        signature = signature_of(parse_xml(container.read(name)))
        ts = signature.find(".//xades:SignatureTimeStamp", NS)
        seen.append(timestamp_c14n(ts)[0])
        assert matches(ts, signature_timestamp_input(signature, *timestamp_c14n(ts)))
    assert seen == [EXC_C14N, None]


# ---------------------------------------------------------------- canonicalization against libxml2 node-sets

_C14N_DOC = (
    b'<doc xmlns="urn:x" xmlns:u="urn:unused" xmlns:p="urn:p" xml:lang="fr" xml:space="preserve"'
    b' xml:base="http://example.org/x/"><!-- top --><wrap xml:base="../a/" xml:id="w1">'
    b'<a Id="target" p:attr="1"><b><c>t<!-- c --></c></b><u:d/>  text  </a></wrap></doc>'
)


@pytest.mark.parametrize(
    "method, prefixes",
    [
        (C14N_10, None),
        (C14N_10_WITH_COMMENTS, None),
        (C14N_11, None),
        (C14N_11_WITH_COMMENTS, None),
        (EXC_C14N, None),
        (EXC_C14N_WITH_COMMENTS, None),
        (EXC_C14N, ["u", "#default"]),
        (None, None),
    ],
)
def test_canonicalize_agrees_with_libxml2(pyxmlsec, method, prefixes):
    """python-xmlsec digests a "#target" reference with libxml2's node-set canonicalizer; our subtree c14n must
    give the same octets: inherited xml:lang/space/base/id (C14N 1.0), xml:base fix-up and no xml:id (1.1), the
    default namespace declared on an ancestor (lxml's bogus xmlns=""), comments dropped for "#id" URIs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    constants = pyxmlsec.constants
    transforms = {
        C14N_10: constants.TransformInclC14N,
        C14N_10_WITH_COMMENTS: constants.TransformInclC14NWithComments,
        C14N_11: constants.TransformInclC14N11,
        C14N_11_WITH_COMMENTS: constants.TransformInclC14N11WithComments,
        EXC_C14N: constants.TransformExclC14N,
        EXC_C14N_WITH_COMMENTS: constants.TransformExclC14NWithComments,
    }
    doc = etree.fromstring(_C14N_DOC)
    signature = pyxmlsec.template.create(doc, constants.TransformExclC14N, constants.TransformRsaSha256, ns="ds")
    doc.append(signature)
    reference = pyxmlsec.template.add_reference(signature, constants.TransformSha256, uri="#target")
    if method is not None:
        transform = pyxmlsec.template.add_transform(reference, transforms[method])
        if prefixes:
            pyxmlsec.template.transform_add_c14n_inclusive_namespaces(transform, prefixes)
    pyxmlsec.tree.add_ids(doc, ["Id"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ctx = pyxmlsec.SignatureContext()
    ctx.key = pyxmlsec.Key.from_memory(pem, constants.KeyDataFormatPem)
    ctx.sign(signature)
    # re-parse: lxml's find() does not see the element names xmlsec creates outside the document's dictionary
    doc = etree.fromstring(etree.tostring(doc))
    reference = doc.find(".//ds:Reference", NS)
    assert reference_digest_ok(reference, dereference_same_document(reference, doc))


def test_canonicalize_works_around_lxml_default_namespace_defect():
    doc = etree.fromstring(b'<r xmlns="urn:a" xml:lang="en"><a><b><c>t</c></b></a></r>')
    a = doc[0]
    assert b'xmlns=""' in etree.tostring(a, method="c14n")  # the lxml defect this module avoids
    assert canonicalize(a, C14N_10) == b'<a xmlns="urn:a" xml:lang="en"><b><c>t</c></b></a>'
    assert canonicalize(a, EXC_C14N) == b'<a xmlns="urn:a"><b><c>t</c></b></a>'
    assert etree.tostring(doc) == b'<r xmlns="urn:a" xml:lang="en"><a><b><c>t</c></b></a></r>'  # untouched


def test_canonicalize_refuses_unknown_methods():
    with pytest.raises(ValueError, match="unsupported canonicalization"):
        canonicalize(etree.fromstring(b"<a/>"), "http://www.w3.org/2001/04/xmldsig-more#minimal")


def test_relative_xml_base_fix_up_is_refused():
    doc = etree.fromstring(b'<r xml:base="a/"><b/></r>')
    with pytest.raises(ValueError, match="xml:base"):
        canonicalize(doc[0], C14N_11)


# ---------------------------------------------------------------- archive input: order and scope

_SYNTHETIC = f"""<ds:Signature xmlns:ds="{DS}" Id="S">
<ds:SignedInfo><ds:Reference URI="#obj"/><ds:Reference URI="#sp"/></ds:SignedInfo>
<ds:SignatureValue Id="S-value">c2ln</ds:SignatureValue>
<ds:KeyInfo><ds:KeyName>k</ds:KeyName></ds:KeyInfo>
<ds:Object><xades:QualifyingProperties xmlns:xades="{XADES_NS}" xmlns:xades141="{NS["xades141"]}" Target="#S">
<xades:SignedProperties Id="sp"/>
<xades:UnsignedProperties><xades:UnsignedSignatureProperties>
<xades:SignatureTimeStamp Id="p1"/><!-- not a property --><xades:CertificateValues Id="p2"/>
<xades141:ArchiveTimeStamp Id="ats1"/><xades:RevocationValues Id="p3"/><xades141:ArchiveTimeStamp Id="ats2"/>
</xades:UnsignedSignatureProperties></xades:UnsignedProperties>
</xades:QualifyingProperties></ds:Object>
<ds:Object Id="obj">data</ds:Object><ds:Object Id="other">more</ds:Object>
</ds:Signature>"""


def test_archive_input_order_follows_en_319_132_1():
    signature = etree.fromstring(_SYNTHETIC.encode())
    by_id = {e.get("Id"): e for e in signature.iter() if isinstance(e.tag, str) and e.get("Id")}

    def c14n(element_id: str) -> bytes:
        return canonicalize(by_id[element_id], EXC_C14N)

    def dereference(reference: etree._Element) -> bytes:
        return b"<REF " + reference.get("URI").encode() + b">"

    head = [b"<REF #obj>", b"<REF #sp>"] + [
        canonicalize(signature.find(f"ds:{name}", NS), EXC_C14N) for name in ("SignedInfo", "SignatureValue", "KeyInfo")
    ]
    first = archive_timestamp_input(signature, by_id["ats1"], EXC_C14N, dereference)
    assert first == b"".join(head + [c14n("p1"), c14n("p2"), c14n("obj"), c14n("other")])
    second = archive_timestamp_input(signature, by_id["ats2"], EXC_C14N, dereference)
    assert second == b"".join(head + [c14n(i) for i in ("p1", "p2", "ats1", "p3", "obj", "other")])

    legacy = copy.deepcopy(signature)
    ats = next(e for e in legacy.iter() if isinstance(e.tag, str) and e.get("Id") == "ats2")
    ats.tag = f"{{{XADES_NS}}}ArchiveTimeStamp"  # TS 101 903 V1.3.2: referenced ds:Object left out
    assert archive_timestamp_input(legacy, ats, EXC_C14N, dereference) == b"".join(
        head + [c14n(i) for i in ("p1", "p2", "ats1", "p3", "other")]
    )


def test_archive_timestamp_must_belong_to_the_signature():
    root = load_sample("counter-signed.xml")
    main = signature_of(root)
    counter = main.find(".//xades:CounterSignature/ds:Signature", NS)
    foreign = etree.SubElement(
        counter.find("ds:Object/xades:QualifyingProperties", NS), f"{{{XADES_NS}}}UnsignedSignatureProperties"
    )
    ats = etree.SubElement(foreign, f"{{{NS['xades141']}}}ArchiveTimeStamp")
    with pytest.raises(ValueError, match="not an unsigned signature property"):
        archive_timestamp_input(main, ats, EXC_C14N, lambda r: b"")


# ---------------------------------------------------------------- generated XAdES samples

_ID_ATTRS = [
    "--id-attr:Id",
    "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
    "--id-attr:Id",
    "http://uri.etsi.org/01903/v1.2.2#:SignedProperties",
    "--id-attr:Id",
    "http://www.w3.org/2000/09/xmldsig#:Object",
    "--id-attr:Id",
    "bid",
]


def xmlsec1_verify(name: str, country: str = "fr", label: str = "signer-qscd") -> subprocess.CompletedProcess:
    path = XADES / name
    if not path.exists():
        pytest.skip(f"{path} not generated")
    cert = PEM / f"ms-{country}" / f"{label}.pem"
    command = ["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert), *_ID_ATTRS, str(path)]
    return subprocess.run(command, capture_output=True, text=True)


@needs_xmlsec1
@pytest.mark.parametrize(
    "name, country",
    [
        ("enveloped-b-b.xml", "fr"),
        ("enveloped-b-t.xml", "fr"),
        ("enveloped-b-lt.xml", "fr"),
        ("enveloped-b-lta.xml", "fr"),
        ("enveloping-b-b.xml", "fr"),
        ("enveloping-b-lt.xml", "fr"),
        ("epes-age.xml", "es"),
        ("counter-signed.xml", "fr"),  # the first ds:Signature: the counter-signed one
        ("xades-122.xml", "fr"),
        ("wrong-signing-certificate-digest.xml", "fr"),  # XML-DSig is intact; only XAdES sees the wrong digest
        ("tampered-signature-timestamp.xml", "fr"),  # XML-DSig is intact; only the time-stamp is wrong
        ("tampered-archive-timestamp.xml", "fr"),
    ],
)
def test_xmlsec1_verifies(name, country):
    result = xmlsec1_verify(name, country)
    assert result.returncode == 0, result.stderr[-2000:]


@needs_xmlsec1
@pytest.mark.parametrize(
    "name, reason",
    [
        ("tampered-content.xml", "data and digest do not match"),
        ("tampered-signing-time.xml", "data and digest do not match"),
        ("tampered-signature-value.xml", "FAIL"),
        ("reference-to-nothing.xml", "xpointer(id('missing'))"),
        ("no-references.xml", "Reference nodes are not found"),
        ("wrapping-duplicate-id.xml", 'duplicate ID attribute "bid-1"'),
        ("wrapping-moved-content.xml", "data and digest do not match"),
    ],
)
def test_xmlsec1_rejects(name, reason):
    result = xmlsec1_verify(name)
    assert result.returncode != 0
    assert reason in result.stdout + result.stderr


def test_samples_follow_the_conventions():
    """What the expected verdicts take for granted, for every intact XAdES sample."""
    for name, sig_id, signer in [
        ("enveloped-b-b.xml", "sig-bid", ("fr", "signer-qscd")),
        ("enveloped-b-lta.xml", "sig-bid", ("fr", "signer-qscd")),
        ("enveloping-b-lt.xml", "sig-bid", ("fr", "signer-qscd")),
        ("detached-b-lta.xml", "sig-bid", ("fr", "signer-qscd")),
        ("epes-age.xml", "sig-bid", ("es", "signer-qscd")),
    ]:
        signature = signature_of(load_sample(name))
        assert signature.get("Id") == sig_id
        qp = signature.find("ds:Object/xades:QualifyingProperties", NS)
        assert qp.get("Target") == f"#{sig_id}"
        references = signature.findall("ds:SignedInfo/ds:Reference", NS)
        sp_refs = [r for r in references if r.get("Type") == "http://uri.etsi.org/01903#SignedProperties"]
        assert [r.get("URI") for r in sp_refs] == [f"#{sig_id}-signedprops"]
        formats = {d.get("ObjectReference") for d in qp.iterfind(".//xades:DataObjectFormat", NS)}
        data_refs = [r for r in references if r not in sp_refs]
        assert formats == {f"#{r.get('Id')}" for r in data_refs}
        for reference in references:
            algorithms = [t.get("Algorithm") for t in reference.iterfind("ds:Transforms/ds:Transform", NS)]
            if reference.get("URI").startswith("#") or reference.get("URI") == "":
                assert algorithms[-1] == EXC_C14N
            else:
                assert algorithms == []  # a binary detached file: no c14n
        digest = qp.findtext(".//xades:SigningCertificateV2/xades:Cert/xades:CertDigest/ds:DigestValue", namespaces=NS)
        assert base64.b64decode(digest) == hashlib.sha256(pem_cert(*signer).dump()).digest()
        assert qp.findtext(".//xades:SigningTime", namespaces=NS) == "2026-11-02T10:00:00Z"


def test_issuer_serial_v2_and_policy():
    enveloping = signature_of(load_sample("enveloping-b-b.xml"))
    value = enveloping.findtext(".//xades:IssuerSerialV2", namespaces=NS)
    issuer_serial = tsp.IssuerSerial.load(base64.b64decode(value))
    signer = pem_cert("fr", "signer-qscd")
    assert issuer_serial["serial_number"].native == signer.serial_number
    assert issuer_serial["issuer"][0].chosen == signer.issuer
    assert signature_of(load_sample("enveloped-b-b.xml")).find(".//xades:IssuerSerialV2", NS) is None

    policy = signature_of(load_sample("epes-age.xml")).find(".//xades:SignaturePolicyId", NS)
    assert policy.findtext("xades:SigPolicyId/xades:Identifier", namespaces=NS) == "urn:oid:2.16.724.1.3.1.1.2.1.9"
    assert policy.findtext("xades:SigPolicyHash/ds:DigestValue", namespaces=NS) == "G7roucf600+f03r/o0bAOQ6WAs0="


@needs_openssl
@pytest.mark.parametrize(
    "name, country",
    [
        ("enveloped-b-t.xml", "fr"),
        ("enveloped-b-lt.xml", "fr"),
        ("enveloped-b-lta.xml", "fr"),
        ("enveloping-b-lt.xml", "fr"),
        ("detached-b-lta.xml", "fr"),
        ("epes-age.xml", "es"),
        ("counter-signed.xml", "fr"),
    ],
)
def test_signature_timestamps(name, country, tmp_path):
    signature = signature_of(load_sample(name))
    (ts,) = signature.findall("ds:Object/xades:QualifyingProperties//xades:SignatureTimeStamp", NS)
    digest = hashlib.sha256(signature_timestamp_input(signature, *timestamp_c14n(ts))).digest()
    assert imprint_of(token_of(ts)) == ("sha256", digest)
    result = openssl_ts_verify(token_of(ts), digest, PEM / f"ms-{country}" / "root.pem", tmp_path)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stderr


@needs_openssl
@pytest.mark.parametrize("name", ["enveloped-b-lta.xml", "detached-b-lta.xml"])
def test_archive_timestamps(name, tmp_path):
    root = load_sample(name)
    signature = signature_of(root)
    (ats,) = signature.findall(".//xades141:ArchiveTimeStamp", NS)
    assert ats.getnext() is None  # the last unsigned property
    files = {"bid.pdf": (SAMPLES / "content" / "bid.pdf").read_bytes()}
    digest = hashlib.sha256(archive_input(root, signature, ats, files)).digest()
    assert imprint_of(token_of(ats)) == ("sha256", digest)
    result = openssl_ts_verify(token_of(ats), digest, PEM / "ms-fr" / "root.pem", tmp_path)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stderr
    gen_time = tsp.TSTInfo.load(bytes(cms.ContentInfo.load(token_of(ats))["content"]["encap_content_info"]["content"]))
    assert gen_time["gen_time"].native == datetime(2026, 11, 2, 11, 0, tzinfo=timezone.utc)


def test_broken_timestamps():
    signature = signature_of(load_sample("tampered-signature-timestamp.xml"))
    ts = signature.find(".//xades:SignatureTimeStamp", NS)
    assert not matches(ts, signature_timestamp_input(signature, *timestamp_c14n(ts)))

    root = load_sample("tampered-archive-timestamp.xml")
    signature = signature_of(root)
    ats = signature.find(".//xades141:ArchiveTimeStamp", NS)
    assert len(signature.findall(".//xades:CertificateValues/xades:EncapsulatedX509Certificate", NS)) == 5
    assert matches(signature.find(".//xades:SignatureTimeStamp", NS), signature_timestamp_input(signature, EXC_C14N))
    assert not matches(ats, archive_input(root, signature, ats))


def test_long_term_values():
    """CertificateValues: CA chain, TSA, OCSP responder; RevocationValues: root and CA CRLs, the signer's OCSP."""
    signature = signature_of(load_sample("enveloped-b-lt.xml"))
    b64 = [base64.b64decode(e.text) for e in signature.iterfind(".//xades:EncapsulatedX509Certificate", NS)]
    subjects = [x509.Certificate.load(c).subject.native["common_name"] for c in b64]
    assert subjects == [
        "FR Test Qualified CA",
        "FR Test Root CA",
        "FR Test Qualified TSA",
        "FR Test Qualified CA OCSP Responder",
    ]
    crls = [
        asn1_crl.CertificateList.load(base64.b64decode(e.text))
        for e in signature.iterfind(".//xades:EncapsulatedCRLValue", NS)
    ]
    assert [c.issuer.native["common_name"] for c in crls] == ["FR Test Root CA", "FR Test Qualified CA"]
    (value,) = signature.iterfind(".//xades:EncapsulatedOCSPValue", NS)
    response = ocsp.OCSPResponse.load(base64.b64decode(value.text))
    assert response["response_status"].native == "successful"
    (single,) = response.basic_ocsp_response["tbs_response_data"]["responses"]
    assert single["cert_id"]["serial_number"].native == pem_cert("fr", "signer-qscd").serial_number
    assert single["cert_status"].name == "good"


def test_counter_signature(pyxmlsec):
    root = load_sample("counter-signed.xml")
    counter = root.find(".//xades:CounterSignature/ds:Signature", NS)
    assert counter.get("Id") == "sig-counter"
    (reference, _) = counter.findall("ds:SignedInfo/ds:Reference", NS)
    assert reference.get("URI") == "#sig-bid-value"
    assert reference.get("Type") == "http://uri.etsi.org/01903#CountersignedSignature"
    assert reference_digest_ok(reference, dereference_same_document(reference, root))
    pyxmlsec.tree.add_ids(root, ["Id"])
    ctx = pyxmlsec.SignatureContext()
    ctx.key = pyxmlsec.Key.from_file(str(PEM / "ms-it" / "signer-qscd.pem"), pyxmlsec.constants.KeyDataFormatCertPem)
    ctx.verify(counter)


def test_crafted_signatures_are_properly_signed():
    """The structural defects are the only defects: SignatureValue verifies over SignedInfo, with cryptography."""
    signer = pem_cert("fr", "signer-qscd")
    for name in ("reference-to-nothing.xml", "no-references.xml", "wrong-signing-certificate-digest.xml"):
        assert ecdsa_signature_valid(signature_of(load_sample(name)), signer), name
    assert not ecdsa_signature_valid(signature_of(load_sample("tampered-signature-value.xml")), signer)

    signature = signature_of(load_sample("no-references.xml"))
    assert signature.findall("ds:SignedInfo/ds:Reference", NS) == []

    root = load_sample("reference-to-nothing.xml")
    references = signature_of(root).findall("ds:SignedInfo/ds:Reference", NS)
    assert [r.get("URI") for r in references] == ["", "#missing", "#sig-bid-signedprops"]
    assert reference_digest_ok(references[0], dereference_same_document(references[0], root))
    with pytest.raises(ValueError, match="no element with Id 'missing'"):
        dereference_same_document(references[1], root)

    signature = signature_of(load_sample("wrong-signing-certificate-digest.xml"))
    digest = base64.b64decode(signature.findtext(".//xades:CertDigest/ds:DigestValue", namespaces=NS))
    assert digest == hashlib.sha256(pem_cert("fr", "signer-qc").dump()).digest()

    root = load_sample("tampered-signing-time.xml")
    data_ref, sp_ref = signature_of(root).findall("ds:SignedInfo/ds:Reference", NS)
    assert reference_digest_ok(data_ref, dereference_same_document(data_ref, root))
    assert not reference_digest_ok(sp_ref, dereference_same_document(sp_ref, root))


def test_wrapping_samples():
    root = load_sample("wrapping-duplicate-id.xml")
    assert root.get("Id") == "bid-1" and root.findtext("amount") == "1.00"
    assert len(root.xpath("//*[@Id='bid-1']")) == 2
    reference = signature_of(root).find("ds:SignedInfo/ds:Reference", NS)
    with pytest.raises(ValueError, match="names 2 elements"):
        dereference_same_document(reference, root)

    root = load_sample("wrapping-moved-content.xml")
    assert root.get("Id") is None and root.findtext("amount") == "1.00"
    signature = signature_of(root)
    genuine = signature.find("ds:Object/bid", NS)
    assert genuine.get("Id") == "bid-1" and genuine.findtext("amount") == "1250000.00"
    reference = signature.find("ds:SignedInfo/ds:Reference", NS)
    assert dereference_same_document(reference, root) == b""  # every node is inside the ds:Signature
    assert not reference_digest_ok(reference, b"")


# ---------------------------------------------------------------- detached and ASiC


def container(name: str) -> zipfile.ZipFile:
    path = ASIC / name
    if not path.exists():
        pytest.skip(f"{path} not generated")
    return zipfile.ZipFile(path)


@pytest.fixture
def serve_files(pyxmlsec) -> Iterator[dict[bytes, bytes]]:
    """python-xmlsec resolves external references from this dict only (the default file/http handlers are off)."""
    files: dict[bytes, bytes] = {}
    pyxmlsec.cleanup_callbacks()
    pyxmlsec.register_callbacks(
        lambda name: name in files,
        lambda name: io.BytesIO(files[name]),
        lambda stream, buffer: stream.readinto(buffer),
        lambda stream: None,
    )
    try:
        yield files
    finally:
        pyxmlsec.cleanup_callbacks()
        pyxmlsec.register_default_callbacks()


def pyxmlsec_verify(pyxmlsec, document: bytes) -> None:
    root = etree.fromstring(document)
    pyxmlsec.tree.add_ids(root, ["Id"])
    ctx = pyxmlsec.SignatureContext()
    ctx.key = pyxmlsec.Key.from_file(str(PEM / "ms-fr" / "signer-qscd.pem"), pyxmlsec.constants.KeyDataFormatCertPem)
    ctx.verify(signature_of(root))


def test_detached_xades(pyxmlsec, serve_files):
    pdf = (SAMPLES / "content" / "bid.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    serve_files[b"bid.pdf"] = pdf
    for name in ("detached-b-b.xml", "detached-b-lta.xml"):
        pyxmlsec_verify(pyxmlsec, (XADES / name).read_bytes())
    serve_files[b"bid.pdf"] = pdf + b"\n"
    with pytest.raises(pyxmlsec.Error):
        pyxmlsec_verify(pyxmlsec, (XADES / "detached-b-b.xml").read_bytes())


@pytest.mark.parametrize(
    "name, signature_file, valid",
    [
        ("asic-s-xades.asics", "META-INF/signatures.xml", True),
        ("asic-e-xades.asice", "META-INF/signatures001.xml", True),
        ("asic-e-xades-unsigned-file.asice", "META-INF/signatures001.xml", True),
        ("asic-e-xades-tampered-file.asice", "META-INF/signatures001.xml", False),
    ],
)
def test_asic_xades(pyxmlsec, serve_files, name, signature_file, valid):
    z = container(name)
    for entry in z.namelist():
        if entry != "mimetype" and not entry.startswith("META-INF/"):
            serve_files[entry.encode()] = z.read(entry)
    document = z.read(signature_file)
    assert parse_xml(document).tag == "{http://uri.etsi.org/02918/v1.2.1#}XAdESSignatures"
    if valid:
        pyxmlsec_verify(pyxmlsec, document)
    else:
        with pytest.raises(pyxmlsec.Error):
            pyxmlsec_verify(pyxmlsec, document)
    signature = signature_of(parse_xml(document))
    uris = [r.get("URI") for r in signature.iterfind("ds:SignedInfo/ds:Reference", NS) if not r.get("Type")]
    assert uris == (["bid.pdf"] if name.startswith("asic-s") else ["bid.pdf", "annex.txt"])
    assert signature.find(".//xades:RevocationValues", NS) is not None  # B-LT


@pytest.mark.parametrize("path", sorted(ASIC.glob("*.asic*")) if ASIC.is_dir() else [], ids=lambda p: p.name)
def test_asic_containers_start_with_a_stored_mimetype(path):
    """EN 319 162-1 clause A.1: "mimetype" is the first entry, stored, without extra field, right at offset 30."""
    raw = path.read_bytes()
    signature, _, _, method, _, _, _, _, size, name_length, extra_length = struct.unpack("<IHHHHHIIIHH", raw[:30])
    assert signature == 0x04034B50 and method == 0 and extra_length == 0
    assert raw[30 : 30 + name_length] == b"mimetype"
    expected = "application/vnd.etsi.asic-s+zip" if path.suffix == ".asics" else "application/vnd.etsi.asic-e+zip"
    assert raw[30 + name_length : 30 + name_length + size].decode() == expected


def openssl_cms_verify(signature: bytes, content: bytes, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "sig.p7s").write_bytes(signature)
    (tmp_path / "content").write_bytes(content)
    command = ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sig.p7s")]
    command += ["-content", str(tmp_path / "content"), "-binary", "-purpose", "any", "-out", os.devnull]
    command += ["-CAfile", str(PEM / "ms-fr" / "root.pem"), "-attime", AT_SIGN]
    return subprocess.run(command, capture_output=True, text=True)


@needs_openssl
def test_asic_s_cades(tmp_path):
    z = container("asic-s-cades.asics")
    assert z.namelist() == ["mimetype", "bid.pdf", "META-INF/signature.p7s"]
    signature = z.read("META-INF/signature.p7s")
    assert openssl_cms_verify(signature, z.read("bid.pdf"), tmp_path).returncode == 0
    tampered = container("asic-s-cades-tampered.asics")
    assert tampered.read("META-INF/signature.p7s") == signature
    assert openssl_cms_verify(signature, tampered.read("bid.pdf"), tmp_path).returncode != 0


@needs_openssl
@pytest.mark.parametrize("name, intact", [("asic-e-cades.asice", True), ("asic-e-cades-tampered-file.asice", False)])
def test_asic_e_cades(tmp_path, name, intact):
    z = container(name)
    assert z.namelist() == [
        "mimetype",
        "bid.pdf",
        "annex.txt",
        "META-INF/ASiCManifest001.xml",
        "META-INF/signature001.p7s",
    ]
    manifest_bytes = z.read("META-INF/ASiCManifest001.xml")
    assert openssl_cms_verify(z.read("META-INF/signature001.p7s"), manifest_bytes, tmp_path).returncode == 0
    manifest = parse_xml(manifest_bytes)
    asic = {"asic": "http://uri.etsi.org/02918/v1.2.1#", "ds": DS}
    assert manifest.find("asic:SigReference", asic).get("URI") == "META-INF/signature001.p7s"
    digests_ok = {
        ref.get("URI"): base64.b64decode(ref.findtext("ds:DigestValue", namespaces=asic))
        == hashlib.sha256(z.read(ref.get("URI"))).digest()
        for ref in manifest.iterfind("asic:DataObjectReference", asic)
    }
    assert digests_ok == {"bid.pdf": True, "annex.txt": intact}


@needs_openssl
def test_asic_s_timestamp(tmp_path):
    z = container("asic-s-timestamp.asics")
    assert z.namelist() == ["mimetype", "bid.pdf", "META-INF/timestamp.tst"]
    digest = hashlib.sha256(z.read("bid.pdf")).digest()
    result = openssl_ts_verify(z.read("META-INF/timestamp.tst"), digest, PEM / "ms-fr" / "root.pem", tmp_path)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stderr


def test_asic_e_unsigned_file_is_not_referenced():
    z = container("asic-e-xades-unsigned-file.asice")
    signature = signature_of(parse_xml(z.read("META-INF/signatures001.xml")))
    covered = {r.get("URI") for r in signature.iterfind("ds:SignedInfo/ds:Reference", NS)}
    data_files = {n for n in z.namelist() if n != "mimetype" and not n.startswith("META-INF/")}
    assert data_files - covered == {"price-list.txt"}
