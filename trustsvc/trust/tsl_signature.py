"""Authenticate one trusted list: its enveloped XAdES signature, by a signer the caller allows (TS 119 612 § 5.7).

signxml's ``XAdESVerifier`` does the cryptography (SignedInfo signature, every reference digest, the
SigningCertificate digest). Around it we add what signxml does not do (reference/xades.md § 1.4, § 3):

* exactly one ``ds:Signature`` in the whole document, a child of the root (``several-signatures``, ``wrapped``);
* one data reference covering the whole document (``URI=""`` or ``#<root Id>``), the enveloped-signature
  transform first and only canonicalisation after it, plus the SignedProperties reference, and at most a
  reference to the signature's own KeyInfo; anything else is ``wrapped`` (XML signature wrapping);
* algorithm policy: SHA-1 and RSA keys under 1900 bits only for lists issued before 2016 (``weak-algorithm``);
* the signer certificate pinned to the certificates the caller allows (the LOTL's announcement, or the Official
  Journal for the LOTL itself), and valid when the list was signed, not today;
* the caller gets back only the element signxml says was signed, so nothing unsigned is ever read.

Every refusal is a :class:`ListVerification` with a stable code, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import cryptography.exceptions
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from .tsl_model import ListVerification
from .tsl_parse import TSL_NS
from .xml_safety import DEFAULT_MAX_BYTES, XmlInputError, hardened_parser, parse_xml

__all__ = ["verify_list_signature", "verify_list_element", "LEGACY_ALGORITHMS_UNTIL", "certificate_label"]

#: Lists issued before this instant may use SHA-1 and RSA keys under 1900 bits (TS 119 312 moved on in 2016).
LEGACY_ALGORITHMS_UNTIL = datetime(2016, 1, 1, tzinfo=timezone.utc)

_DS = "http://www.w3.org/2000/09/xmldsig#"
_XADES = "http://uri.etsi.org/01903/v1.3.2#"
_SIGNATURE = f"{{{_DS}}}Signature"
_REFERENCES = f"{{{_DS}}}SignedInfo/{{{_DS}}}Reference"
_TRANSFORMS = f"{{{_DS}}}Transforms/{{{_DS}}}Transform"
_SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_C14N = frozenset(m.value for m in CanonicalizationMethod)
_WEAK_URIS = ("sha1", "md5", "ripemd")
_MIN_RSA_BITS = 1900
_MODERN_SIGNATURES = frozenset(m for m in SignatureMethod if "SHA1" not in m.name and not m.name.startswith("HMAC"))
_LEGACY_SIGNATURES = frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC"))
_MODERN_DIGESTS = frozenset(d for d in DigestAlgorithm if d is not DigestAlgorithm.SHA1)
_LEGACY_DIGESTS = frozenset(DigestAlgorithm)


class _Refused(Exception):
    """Internal: the list is refused with `code`; turned into a ListVerification at the boundary."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class _References:
    """Indexes of the data and SignedProperties references in SignedInfo order (signxml returns results so)."""

    data: int
    signed_properties: int
    count: int


def verify_list_signature(
    data: bytes,
    allowed_signers: Sequence[bytes] | None,
    *,
    at: datetime | None = None,
    allow_legacy_algorithms: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[ListVerification, etree._Element | None]:
    """Verify a trusted list's signature; return the outcome and, when verified, the signed root element.

    :param allowed_signers: DER certificates that may sign this list. None only for diagnostics: the signature
        is checked and the signer reported, but the result is never ``verified`` (code ``signer-not-pinned``).
    :param at: when the signer certificate must be valid; default the XAdES SigningTime (else ListIssueDateTime).
    :param allow_legacy_algorithms: accept SHA-1 and small RSA keys whatever the issue date.
    :return: ``(verification, element)``; `element` is the signed TrustServiceStatusList, None unless verified.
    """
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlInputError as e:
        return ListVerification(False, code="unparseable", reason=f"{e.code}: {e.message}"), None
    return verify_list_element(root, allowed_signers, at=at, allow_legacy_algorithms=allow_legacy_algorithms)


def verify_list_element(
    root: etree._Element,
    allowed_signers: Sequence[bytes] | None,
    *,
    at: datetime | None = None,
    allow_legacy_algorithms: bool = False,
) -> tuple[ListVerification, etree._Element | None]:
    """:func:`verify_list_signature` for a document already parsed with :func:`xml_safety.parse_xml`."""
    allowed = None if allowed_signers is None else frozenset(allowed_signers)
    signer: bytes | None = None
    signing_time: datetime | None = None
    try:
        signature = _the_signature(root)
        references = _check_references(root, signature)
        signer = _signer_certificate(signature, allowed)
        certificate = _load_certificate(signer)
        issued = _issue_date(root)
        legacy = allow_legacy_algorithms or (issued is not None and issued < LEGACY_ALGORITHMS_UNTIL)
        _check_algorithms(signature, certificate, legacy)
        claimed = at or _claimed_signing_time(signature) or issued or datetime.now(timezone.utc)
        signed, signing_time = _verify_crypto(root, certificate, references, claimed, legacy)
        _check_pinned(signer, certificate, allowed)
        _check_validity(certificate, at or signing_time or claimed)
    except _Refused as refusal:
        refused = ListVerification(False, signer, refusal.code, refusal.reason, signing_time)
        return refused, None
    return ListVerification(True, signer_certificate=signer, signing_time=signing_time), signed


def certificate_label(der: bytes) -> str:
    """Subject and SHA-256 of a certificate, for reasons people read."""
    digest = hashlib.sha256(der).hexdigest()[:16]
    try:
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        subject = "<unreadable certificate>"
    return f"{subject} (sha256 {digest}...)"


# -- structure: where the signature is and what it covers --------------------------------------------------------------


def _the_signature(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(_SIGNATURE))
    if not signatures:
        raise _Refused("no-signature", "the list carries no ds:Signature")
    if len(signatures) > 1:
        raise _Refused("several-signatures", f"the list carries {len(signatures)} ds:Signature elements, not one")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise _Refused("wrapped", f"the ds:Signature is not a child of the root element (line {signature.sourceline})")
    if root.tag != f"{{{TSL_NS}}}TrustServiceStatusList":
        raise _Refused("wrapped", f"the signed root element is {root.tag}, not a TrustServiceStatusList")
    return signature


def _check_references(root: etree._Element, signature: etree._Element) -> _References:
    """One data reference over the whole document, one SignedProperties reference, at most a KeyInfo one."""
    data, signed_properties = [], []
    references = signature.findall(_REFERENCES)
    for index, reference in enumerate(references):
        if reference.get("Type") == _SIGNED_PROPERTIES_TYPE:
            signed_properties.append(index)
        elif not _is_own_key_info(signature, reference):
            data.append(index)
    uris = [reference.get("URI") for reference in references]
    if len(data) != 1 or len(signed_properties) != 1:
        raise _Refused("wrapped", f"expected one data and one SignedProperties reference, found URIs {uris}")
    reference = references[data[0]]
    root_id = root.get("Id")
    if reference.get("URI") not in ("", f"#{root_id}" if root_id else ""):
        raise _Refused("wrapped", f"the data reference {reference.get('URI')!r} does not cover the document root")
    transforms = [t.get("Algorithm") for t in reference.iterfind(_TRANSFORMS)]
    if transforms[:1] != [_ENVELOPED] or any(t not in _C14N for t in transforms[1:]):
        raise _Refused("wrapped", f"the data reference must apply enveloped-signature then c14n only, not {transforms}")
    return _References(data=data[0], signed_properties=signed_properties[0], count=len(references))


def _is_own_key_info(signature: etree._Element, reference: etree._Element) -> bool:
    """A reference to this signature's own KeyInfo (signxml's XAdESSigner adds one); it covers no list content."""
    key_info = signature.find(f"{{{_DS}}}KeyInfo")
    uri = reference.get("URI") or ""
    return key_info is not None and bool(key_info.get("Id")) and uri == f"#{key_info.get('Id')}"


# -- the signer --------------------------------------------------------------------------------------------------------


def _signer_certificate(signature: etree._Element, allowed: frozenset[bytes] | None) -> bytes:
    """The KeyInfo certificate that signed: the allowed one if KeyInfo carries several, else the first."""
    certificates = []
    for element in signature.iterfind(f"{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/{{{_DS}}}X509Certificate"):
        try:
            certificates.append(base64.b64decode("".join((element.text or "").split()), validate=True))
        except (binascii.Error, ValueError):
            raise _Refused("malformed-signature", "a KeyInfo X509Certificate is not base64") from None
    if not certificates:
        raise _Refused("no-signer-certificate", "the signature's KeyInfo carries no X509Certificate")
    if allowed:
        for certificate in certificates:
            if certificate in allowed:
                return certificate
    return certificates[0]


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as e:
        raise _Refused("malformed-signature", f"the KeyInfo certificate cannot be read: {e}") from None


def _check_pinned(signer: bytes, certificate: x509.Certificate, allowed: frozenset[bytes] | None) -> None:
    label = certificate_label(signer)
    if allowed is None:
        raise _Refused("signer-not-pinned", f"signature intact, signed by {label}; no allowed signers were given")
    if signer not in allowed:
        raise _Refused("signer-not-announced", f"signed by {label}, which is not among the {len(allowed)} allowed")


def _check_validity(certificate: x509.Certificate, moment: datetime) -> None:
    if moment < certificate.not_valid_before_utc:
        raise _Refused(
            "signer-not-yet-valid",
            f"the signer certificate is valid from {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}, "
            f"after the signing time {moment:%Y-%m-%dT%H:%M:%SZ}",
        )
    if moment > certificate.not_valid_after_utc:
        raise _Refused(
            "signer-expired",
            f"the signer certificate expired {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, "
            f"before the signing time {moment:%Y-%m-%dT%H:%M:%SZ}",
        )


# -- algorithms and times ----------------------------------------------------------------------------------------------


def _check_algorithms(signature: etree._Element, certificate: x509.Certificate, legacy: bool) -> None:
    """SHA-1 (signature or any reference digest) and RSA keys under 1900 bits only for legacy lists."""
    method = signature.find(f"{{{_DS}}}SignedInfo/{{{_DS}}}SignatureMethod")
    uris = [method.get("Algorithm", "") if method is not None else ""]
    uris += [d.get("Algorithm", "") for d in signature.iterfind(f"{_REFERENCES}/{{{_DS}}}DigestMethod")]
    for uri in uris:
        weak = any(w in uri.lower() for w in _WEAK_URIS)
        if weak and not legacy:
            raise _Refused("weak-algorithm", f"{uri} is not accepted for lists issued from 2016 on")
        if not weak and not _known_algorithm(uri):
            raise _Refused("unsupported-algorithm", f"algorithm {uri!r} is not supported")
    try:
        key = certificate.public_key()
    except (ValueError, cryptography.exceptions.UnsupportedAlgorithm) as e:
        raise _Refused("unsupported-algorithm", f"the signer's public key cannot be used: {e}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS and not legacy:
        raise _Refused("weak-algorithm", f"the signer's RSA key has {key.key_size} bits (at least {_MIN_RSA_BITS})")


def _known_algorithm(uri: str) -> bool:
    return any(uri == m.value for m in SignatureMethod) or any(uri == d.value for d in DigestAlgorithm)


def _issue_date(root: etree._Element) -> datetime | None:
    return _xsd_datetime(root.findtext(f"{{{TSL_NS}}}SchemeInformation/{{{TSL_NS}}}ListIssueDateTime"))


def _claimed_signing_time(signature: etree._Element) -> datetime | None:
    """SigningTime as written (before verification: used only to pick the moment of the validity check)."""
    return _xsd_datetime(signature.findtext(f".//{{{_XADES}}}SignedSignatureProperties/{{{_XADES}}}SigningTime"))


def _xsd_datetime(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# -- the cryptography (signxml) ----------------------------------------------------------------------------------------


def _verify_crypto(
    root: etree._Element, certificate: x509.Certificate, references: _References, moment: datetime, legacy: bool
) -> tuple[etree._Element, datetime | None]:
    """signxml over the pinned certificate; return the signed root and the verified SigningTime.

    The validity of the certificate is our own check (:func:`_check_validity`, reported after pinning); signxml is
    asked as of a moment inside the validity period so that it reports only what the signature itself says.
    """
    crypto_time = min(max(moment, certificate.not_valid_before_utc), certificate.not_valid_after_utc)
    config = XAdESSignatureConfiguration(
        expect_references=references.count,
        location="./",
        verification_time=crypto_time,
        signature_methods=_LEGACY_SIGNATURES if legacy else _MODERN_SIGNATURES,
        digest_algorithms=_LEGACY_DIGESTS if legacy else _MODERN_DIGESTS,
    )
    try:
        results = XAdESVerifier().verify(root, x509_cert=certificate, expect_config=config, parser=hardened_parser())
    except InvalidDigest as e:
        raise _Refused("broken-signature", f"digest mismatch: {e}") from None
    except InvalidInput as e:
        code = "wrapped" if "Ambiguous reference" in str(e) else "malformed-signature"
        raise _Refused(code, f"signature refused: {e}") from None
    except (InvalidSignature, cryptography.exceptions.InvalidSignature) as e:
        raise _Refused("broken-signature", f"signature value does not verify: {e or type(e).__name__}") from None
    except cryptography.exceptions.UnsupportedAlgorithm as e:
        raise _Refused("unsupported-algorithm", f"signature algorithm not supported: {e}") from None
    except (SignXMLException, etree.LxmlError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        # what signxml lets through on a signature whose elements are missing or malformed
        raise _Refused("malformed-signature", f"signature cannot be processed: {type(e).__name__}: {e}") from None
    signed = results[references.data].signed_xml
    if signed is None or signed.tag != f"{{{TSL_NS}}}TrustServiceStatusList":
        raise _Refused("wrapped", "the data reference did not resolve to the TrustServiceStatusList")
    properties = getattr(results[references.signed_properties], "signed_properties", None)
    signing_time = None if properties is None else _xsd_datetime(properties.findtext(f"{{{_XADES}}}SigningTime"))
    return signed, signing_time
