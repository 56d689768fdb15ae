"""Reading the XAdES qualifying properties of one ds:Signature (EN 319 132-1, TS 101 903 v1.2.2 / v1.3.2 / v1.4.1).

Only the SignedProperties element a reference of the signature actually covers is read: a second, unsigned copy
placed elsewhere (a wrapping attack, DSS ``XSW-enveloped-fake-signedProperties.xml``) is never consulted. Unsigned
properties (time-stamps, validation data, counter-signatures) are read from the QualifyingProperties that
targets this signature.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timezone

from asn1crypto import ocsp
from lxml import etree

from ..verdict import SignaturePolicyRef
from .material import ValidationMaterial, basic_to_ocsp_response, parsed_once
from .parse_errors import ASN1_ERRORS
from .xml_dsig import DIGEST_METHODS, NS, Reference

__all__ = [
    "X122",
    "X132",
    "X141",
    "XADES_NAMESPACES",
    "SIGNED_PROPERTIES_TYPE",
    "COUNTERSIGNED_TYPE",
    "CertReference",
    "SignedProperties",
    "QualifyingProperties",
    "find_qualifying_properties",
    "read_signed_properties",
    "validation_material",
    "decode_b64",
]

X111 = "http://uri.etsi.org/01903/v1.1.1#"
X122 = "http://uri.etsi.org/01903/v1.2.2#"
X132 = "http://uri.etsi.org/01903/v1.3.2#"
X141 = "http://uri.etsi.org/01903/v1.4.1#"
XADES_NAMESPACES = (X132, X122, X111)
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
COUNTERSIGNED_TYPE = "http://uri.etsi.org/01903#CountersignedSignature"


@dataclass(frozen=True)
class CertReference:
    """One xades:Cert of SigningCertificate(V2): the digest of a certificate, and optionally its issuer/serial."""

    digest_algorithm: str | None
    digest: bytes | None
    issuer_serial_der: bytes | None = None  # IssuerSerialV2: DER of RFC 5035 IssuerSerial
    issuer_name: str | None = None  # IssuerSerial (v1): ds:X509IssuerName, an RFC 4514 string
    serial: int | None = None


@dataclass(frozen=True)
class SignedProperties:
    element: etree._Element
    namespace: str
    signing_time: datetime | None
    signing_time_text: str | None
    certificates: tuple[CertReference, ...]
    certificate_version: int | None  # 1 (SigningCertificate), 2 (SigningCertificateV2), None
    policy: SignaturePolicyRef | None
    policy_implied: bool
    data_object_formats: dict[str, str | None]  # ObjectReference -> MimeType
    content_timestamps: tuple[etree._Element, ...]


@dataclass(frozen=True)
class QualifyingProperties:
    element: etree._Element
    namespace: str
    target: str | None
    unsigned_signature_properties: etree._Element | None
    problems: tuple[str, ...] = field(default=())


def find_qualifying_properties(signature: etree._Element) -> QualifyingProperties | None:
    """The QualifyingProperties inside this signature's ds:Object elements (XAdES puts them there)."""
    for obj in signature.findall("ds:Object", NS):
        for namespace in XADES_NAMESPACES:
            found = obj.find(f"{{{namespace}}}QualifyingProperties")
            if found is not None:
                unsigned = found.find(f"{{{namespace}}}UnsignedProperties/{{{namespace}}}UnsignedSignatureProperties")
                return QualifyingProperties(found, namespace, found.get("Target"), unsigned)
    return None


def read_signed_properties(
    references: list[Reference], qualifying: QualifyingProperties | None
) -> tuple[SignedProperties | None, str | None]:
    """The signed SignedProperties, or (None, why not) when the signature has none or they are not signed."""
    candidates = [
        r
        for r in references
        if r.target is not None
        and etree.QName(r.target).localname == "SignedProperties"
        or r.type == SIGNED_PROPERTIES_TYPE
    ]
    if not candidates:
        if qualifying is not None and _child(qualifying.element, qualifying.namespace, "SignedProperties") is not None:
            return None, "The signature's SignedProperties are not covered by any of its references."
        return None, None
    if len(candidates) > 1:
        return None, "The signature references more than one SignedProperties."
    element = candidates[0].target
    if element is None:
        return None, "The SignedProperties reference does not designate an element of the document."
    if qualifying is None or element.getparent() is not qualifying.element:
        return None, "The signed SignedProperties are not the ones of this signature's QualifyingProperties."
    if len(qualifying.element.findall(f"{{{qualifying.namespace}}}SignedProperties")) > 1:
        return None, "The QualifyingProperties hold more than one SignedProperties: which one applies is ambiguous."
    namespace = etree.QName(element).namespace or ""
    return _signed_properties(element, namespace), None


def _signed_properties(element: etree._Element, namespace: str) -> SignedProperties:
    def q(name: str) -> str:
        return f"{{{namespace}}}{name}"

    ssp = element.find(q("SignedSignatureProperties"))
    signing_time_text = ssp.findtext(q("SigningTime")) if ssp is not None else None
    certificates: list[CertReference] = []
    version = None
    if ssp is not None:
        v2 = ssp.find(q("SigningCertificateV2"))
        v1 = ssp.find(q("SigningCertificate"))
        chosen = v2 if v2 is not None else v1
        version = 2 if v2 is not None else (1 if v1 is not None else None)
        for cert in chosen.findall(q("Cert")) if chosen is not None else ():
            certificates.append(_cert_reference(cert, q))
    policy, implied = _policy(ssp, q) if ssp is not None else (None, False)
    formats: dict[str, str | None] = {}
    sdop = element.find(q("SignedDataObjectProperties"))
    content_timestamps: list[etree._Element] = []
    if sdop is not None:
        for dof in sdop.findall(q("DataObjectFormat")):
            formats[dof.get("ObjectReference") or ""] = dof.findtext(q("MimeType"))
        content_timestamps = sdop.findall(q("AllDataObjectsTimeStamp")) + sdop.findall(
            q("IndividualDataObjectsTimeStamp")
        )
    return SignedProperties(
        element,
        namespace,
        _parse_time(signing_time_text),
        signing_time_text,
        tuple(certificates),
        version,
        policy,
        implied,
        formats,
        tuple(content_timestamps),
    )


def _cert_reference(cert: etree._Element, q) -> CertReference:
    digest = cert.find(q("CertDigest"))
    method = digest.find("ds:DigestMethod", NS) if digest is not None else None
    algorithm = DIGEST_METHODS.get(method.get("Algorithm") or "") if method is not None else None
    value = decode_b64(digest.findtext("ds:DigestValue", namespaces=NS)) if digest is not None else None
    issuer_serial_v2 = decode_b64(cert.findtext(q("IssuerSerialV2")))
    issuer_serial = cert.find(q("IssuerSerial"))
    issuer_name = serial = None
    if issuer_serial is not None:
        issuer_name = issuer_serial.findtext("ds:X509IssuerName", namespaces=NS)
        try:
            serial = int((issuer_serial.findtext("ds:X509SerialNumber", namespaces=NS) or "").strip())
        except ValueError:
            serial = None
    return CertReference(algorithm, value, issuer_serial_v2, issuer_name, serial)


def _policy(ssp: etree._Element, q) -> tuple[SignaturePolicyRef | None, bool]:
    identifier = ssp.find(q("SignaturePolicyIdentifier"))
    if identifier is None:
        return None, False
    if identifier.find(q("SignaturePolicyImplied")) is not None:
        return None, True
    policy_id = identifier.find(q("SignaturePolicyId"))
    if policy_id is None:
        return None, False
    text = (policy_id.findtext(f"{q('SigPolicyId')}/{q('Identifier')}") or "").strip()
    oid = text[len("urn:oid:") :] if text.lower().startswith("urn:oid:") else text
    hash_element = policy_id.find(q("SigPolicyHash"))
    algorithm = digest = None
    if hash_element is not None:
        method = hash_element.find("ds:DigestMethod", NS)
        algorithm = DIGEST_METHODS.get(method.get("Algorithm") or "") if method is not None else None
        digest = decode_b64(hash_element.findtext("ds:DigestValue", namespaces=NS))
    return SignaturePolicyRef(oid=oid, digest_algorithm=algorithm, digest=digest), False


def _child(element: etree._Element, namespace: str, name: str) -> etree._Element | None:
    return element.find(f"{{{namespace}}}{name}")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def decode_b64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def validation_material(signature: etree._Element, qualifying: QualifyingProperties | None) -> ValidationMaterial:
    """Certificates of KeyInfo, and the certificate and revocation values of the unsigned properties (LT)."""
    material = ValidationMaterial()
    for text in signature.xpath("ds:KeyInfo//ds:X509Certificate/text()", namespaces=NS):
        _add_cert(material, decode_b64(text))
    usp = qualifying.unsigned_signature_properties if qualifying is not None else None
    if usp is None:
        return material
    for element in usp.iter(f"{{{X132}}}EncapsulatedX509Certificate", f"{{{X122}}}EncapsulatedX509Certificate"):
        _add_cert(material, decode_b64(element.text))
    for element in usp.iter(f"{{{X132}}}EncapsulatedCRLValue", f"{{{X122}}}EncapsulatedCRLValue"):
        der = decode_b64(element.text)
        if der:
            try:
                material.add_crls([parsed_once("crl", der)])
            except ASN1_ERRORS:
                continue
    for element in usp.iter(f"{{{X132}}}EncapsulatedOCSPValue", f"{{{X122}}}EncapsulatedOCSPValue"):
        response = _ocsp(decode_b64(element.text))
        if response is not None:
            material.add_ocsps([response])
    return material


def _add_cert(material: ValidationMaterial, der: bytes | None) -> None:
    if not der:
        return
    try:
        material.add_certs([parsed_once("certificate", der)])
    except ASN1_ERRORS:
        return


def _ocsp(der: bytes | None) -> ocsp.OCSPResponse | None:
    """XAdES stores the OCSPResponse; some producers store the BasicOCSPResponse alone."""
    if not der:
        return None
    try:
        return parsed_once("ocsp", der)
    except ASN1_ERRORS:
        pass
    try:
        basic = ocsp.BasicOCSPResponse.load(der)
        basic["tbs_response_data"].native  # noqa: B018
        return basic_to_ocsp_response(basic)
    except ASN1_ERRORS:
        return None
