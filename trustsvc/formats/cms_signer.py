"""Reading one SignerInfo: its certificate, its attributes, its claimed signing time, its identity for reports.

Shared by every CMS-based format (PAdES, CAdES, time-stamp tokens, ASiC later). Works per SignerInfo, so a
SignedData with several parallel signers yields several signatures instead of pyHanko's "exactly one" error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime

from asn1crypto import cms, core, x509
from pyhanko.sign.general import check_ess_certid
from pyhanko.sign.validation.generic_cms import get_signing_cert_attr

from ..verdict import SignerIdentity

__all__ = [
    "attribute_values",
    "claimed_signing_time",
    "find_signer_certificate",
    "signing_certificate_reference",
    "signer_identity",
    "describe_name",
]


def attribute_values(attrs, name: str) -> Iterator:
    """Values of every attribute called `name` in a SignedAttributes/UnsignedAttributes field (absent: nothing)."""
    if attrs is None or isinstance(attrs, core.Void):
        return
    for attr in attrs:
        if attr["type"].native == name:
            yield from attr["values"]


def find_signer_certificate(
    signer_info: cms.SignerInfo, candidates: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate the SignerInfo's sid designates (issuer and serial, or subject key identifier)."""
    sid = signer_info["sid"]
    for cert in candidates:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.serial_number == ias["serial_number"].native and cert.issuer == ias["issuer"]:
                return cert
        elif sid.name == "subject_key_identifier":
            if cert.key_identifier == sid.chosen.native:
                return cert
    return None


def signing_certificate_reference(signer_info: cms.SignerInfo, cert: x509.Certificate) -> str:
    """How the signed signing-certificate(-v2) attribute relates to `cert`: ``match``, ``mismatch`` or ``absent``.

    The attribute binds the certificate to the signature (EN 319 122-1); without it an attacker could swap in
    another certificate with the same key.
    """
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        return "absent"
    attr = get_signing_cert_attr(signed_attrs)
    if attr is None:
        return "absent"
    return "match" if check_ess_certid(cert, attr["certs"][0]) else "mismatch"


def claimed_signing_time(signer_info: cms.SignerInfo) -> datetime | None:
    """The signing-time attribute: what the signer's clock said. Never a proof of existence."""
    for value in attribute_values(signer_info["signed_attrs"], "signing_time"):
        return value.native
    return None


_SHORT_NAMES = {
    "common_name": "CN",
    "country_name": "C",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "street_address": "STREET",
    "domain_component": "DC",
    "given_name": "GN",
    "surname": "SN",
    "serial_number": "serialNumber",
    "organization_identifier": "organizationIdentifier",
    "email_address": "emailAddress",
    "title": "title",
    "pseudonym": "pseudonym",
}


def describe_name(name: x509.Name) -> str:
    """The distinguished name as an RFC 4514 string (``CN=Jan Novák,O=...,C=CZ``), most specific part first."""
    parts = []
    for rdn in reversed(list(name.chosen)):
        atoms = []
        for atv in rdn:
            key = atv["type"].native
            label = _SHORT_NAMES.get(key, atv["type"].dotted)
            value = atv["value"].native
            if not isinstance(value, str):
                atoms.append(f"{atv['type'].dotted}=#{atv['value'].dump().hex()}")
                continue
            atoms.append(f"{label}={_escape(value)}")
        parts.append("+".join(atoms))
    return ",".join(parts)


def _escape(value: str) -> str:
    out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def signer_identity(cert: x509.Certificate) -> SignerIdentity:
    subject = cert.subject.native
    country = subject.get("country_name")
    return SignerIdentity(
        subject=describe_name(cert.subject),
        issuer=describe_name(cert.issuer),
        serial=format(cert.serial_number, "x"),
        country=country if isinstance(country, str) else None,
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        common_name=subject.get("common_name") if isinstance(subject.get("common_name"), str) else None,
    )
