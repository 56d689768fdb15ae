"""Validation material carried inside a signed document: certificates, CRLs and OCSP responses.

pyHanko ignores revocation data in ``SignedData.crls`` and in the CAdES certificate-values / revocation-values
attributes (../shared/reference/pyhanko.md §8.6); a B-LT signature validated offline then looks as if it had no
revocation data at all. Everything a document embeds is collected here, whatever its container, and handed to
certificate validation as local knowledge.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import asn1crypto.pdf  # noqa: F401  (registers adobe_revocation_info_archival)
from asn1crypto import cms, core, crl, ocsp, x509
from pyhanko.sign.ades.asn1_util import register_cms_attribute

__all__ = ["ValidationMaterial", "material_from_signed_data", "basic_to_ocsp_response", "parsed_once", "der_of"]

logger = logging.getLogger(__name__)


class _SequenceOfCertificateList(core.SequenceOf):
    _child_spec = crl.CertificateList


class _SequenceOfBasicOCSPResponse(core.SequenceOf):
    _child_spec = ocsp.BasicOCSPResponse


class _OtherRevVals(core.Sequence):
    _fields = [("other_rev_val_type", core.ObjectIdentifier), ("other_rev_vals", core.Any)]


class RevocationValues(core.Sequence):
    """CAdES revocation-values (RFC 5126 / ETSI EN 319 122-1), explicit tagging as in the ETSI ASN.1 module."""

    _fields = [
        ("crl_vals", _SequenceOfCertificateList, {"explicit": 0, "optional": True}),
        ("ocsp_vals", _SequenceOfBasicOCSPResponse, {"explicit": 1, "optional": True}),
        ("other_rev_vals", _OtherRevVals, {"explicit": 2, "optional": True}),
    ]


class CertificateValues(core.SequenceOf):
    _child_spec = x509.Certificate


if "1.2.840.113549.1.9.16.2.24" not in cms.CMSAttributeType._map:
    register_cms_attribute("1.2.840.113549.1.9.16.2.23", "certificate_values", CertificateValues)
    register_cms_attribute("1.2.840.113549.1.9.16.2.24", "revocation_values", RevocationValues)


_LOADERS = {"certificate": x509.Certificate.load, "crl": crl.CertificateList.load, "ocsp": ocsp.OCSPResponse.load}


@functools.lru_cache(maxsize=2048)
def parsed_once(kind: str, der: bytes):
    """A certificate, CRL or OCSP response a document embeds, parsed in full (so that a broken one fails here,
    where the caller can skip it, not later) and cached by content: the CA, responder and TSA material of one
    issuer recurs from bid to bid. Callers only read the objects. Raises asn1crypto's errors for garbage."""
    _LOADERS[kind](der).native  # noqa: B018 - a throw-away full parse: garbage fails here
    item = _LOADERS[kind](der)  # the kept object parses lazily
    item._trustsvc_der = der  # dump() of an object that was read from walks every node; see der_of
    return item


def der_of(item) -> bytes:
    """The DER of a certificate, CRL or OCSP response: as read for :func:`parsed_once` objects (no re-encoding
    walk; they are never modified), else asn1crypto's dump()."""
    der = getattr(item, "_trustsvc_der", None)
    return der if der is not None else item.dump()


def basic_to_ocsp_response(basic: ocsp.BasicOCSPResponse) -> ocsp.OCSPResponse:
    """Wrap a BasicOCSPResponse (as stored in revocation-values) into the OCSPResponse certvalidator expects."""
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )


@dataclass
class ValidationMaterial:
    """Certificates and revocation data, de-duplicated by their DER encoding."""

    certs: list[x509.Certificate] = field(default_factory=list)
    crls: list[crl.CertificateList] = field(default_factory=list)
    ocsps: list[ocsp.OCSPResponse] = field(default_factory=list)
    _seen: set[bytes] = field(default_factory=set, repr=False)

    def _add(self, target: list, item) -> None:
        key = hashlib.sha256(der_of(item)).digest()
        if key not in self._seen:
            self._seen.add(key)
            target.append(item)

    def add_certs(self, certs: Iterable[x509.Certificate]) -> None:
        for c in certs:
            self._add(self.certs, c)

    def add_crls(self, crls: Iterable[crl.CertificateList]) -> None:
        for c in crls:
            self._add(self.crls, c)

    def add_ocsps(self, responses: Iterable[ocsp.OCSPResponse]) -> None:
        """Keep successful responses that carry a basic response; anything else proves nothing."""
        for r in responses:
            try:
                usable = r["response_status"].native == "successful" and r.basic_ocsp_response is not None
            except (ValueError, TypeError, KeyError):
                usable = False
            if usable:
                self._add(self.ocsps, r)

    def extend(self, other: ValidationMaterial) -> None:
        self.add_certs(other.certs)
        self.add_crls(other.crls)
        self.add_ocsps(other.ocsps)

    @property
    def revocation_count(self) -> int:
        return len(self.crls) + len(self.ocsps)


def material_from_signed_data(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo | None = None
) -> ValidationMaterial:
    """Everything a CMS SignedData embeds: certificates and crls fields, plus, for one signer, the CAdES
    certificate-values and revocation-values attributes and Adobe's revocation-info-archival attribute."""
    material = ValidationMaterial()
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            material.add_certs([choice.chosen])
    for choice in signed_data["crls"] or ():
        if choice.name == "crl":
            material.add_crls([choice.chosen])
        elif choice.name == "other":
            other = choice.chosen
            if other["other_rev_info_format"].native == "ocsp_response":
                value = other["other_rev_info"]
                material.add_ocsps([value if isinstance(value, ocsp.OCSPResponse) else value.parsed])
    if signer_info is not None:
        _add_attribute_material(material, signer_info)
    return material


def _attribute_values(attrs, name: str):
    if attrs is None or attrs is core.VOID or isinstance(attrs, core.Void):
        return
    for attr in attrs:
        if attr["type"].native == name:
            yield from attr["values"]


def _add_attribute_material(material: ValidationMaterial, signer_info: cms.SignerInfo) -> None:
    unsigned = signer_info["unsigned_attrs"]
    for values in _attribute_values(unsigned, "certificate_values"):
        material.add_certs(values)
    for values in _attribute_values(unsigned, "revocation_values"):
        if values["crl_vals"]:
            material.add_crls(values["crl_vals"])
        if values["ocsp_vals"]:
            material.add_ocsps(basic_to_ocsp_response(b) for b in values["ocsp_vals"])
    for archival in _attribute_values(signer_info["signed_attrs"], "adobe_revocation_info_archival"):
        if archival["crl"]:
            material.add_crls(archival["crl"])
        if archival["ocsp"]:
            material.add_ocsps(archival["ocsp"])
