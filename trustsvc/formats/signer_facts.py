"""The facts about a CMS signature that acceptance policies judge, beyond its EN 319 102-1 indication.

A policy asks whether the signer is a natural person, whether the key may make commitments, which algorithms
were used, which signature policy the signer committed to and what verified revocation data says; the format
validator knows these, so it states them once here and the policy layer never parses ASN.1.
"""

from __future__ import annotations

import logging
from datetime import datetime

from asn1crypto import cms, x509
from pyhanko.sign.ades import cades_asn1  # noqa: F401  (registers signature_policy_identifier)

from ..verdict import CertificateFacts, Qualification, RevocationFacts, SignatureFacts, SignaturePolicyRef
from .cms_signer import attribute_values
from .keys import key_bits
from .parse_errors import ASN1_ERRORS

__all__ = ["certificate_facts", "signature_facts", "signature_policy"]

logger = logging.getLogger(__name__)

#: EN 319 411-2 certificate policies: for natural persons (QCP-n, QCP-n-qscd) or legal persons (QCP-l, -qscd).
_NATURAL_PERSON_POLICIES = {"0.4.0.194112.1.0", "0.4.0.194112.1.2"}
_LEGAL_PERSON_POLICIES = {"0.4.0.194112.1.1", "0.4.0.194112.1.3"}
_PERSONAL_NAMES = {"given_name", "surname", "pseudonym"}


def certificate_facts(cert: x509.Certificate, qualification: Qualification | None = None) -> CertificateFacts:
    """What policies ask of the signer's certificate; the qualification (from the trusted lists) tells a seal
    from a signature first, then the certificate's own statements, policies and subject."""
    key_usage = frozenset(cert.key_usage_value.native) if cert.key_usage_value is not None else frozenset()
    eku: frozenset[str] = frozenset()
    if cert.extended_key_usage_value is not None:
        eku = frozenset(p.native for p in cert.extended_key_usage_value)
    policies = frozenset(p["policy_identifier"].dotted for p in cert.certificate_policies_value or ())
    try:
        names = set(cert.subject.native)
    except ValueError:
        names = set()
    public_key = cert.public_key
    return CertificateFacts(
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
        key_usage=key_usage,
        extended_key_usage=eku,
        policies=policies,
        natural_person=_natural_person(cert, qualification, policies, names),
        pseudonym="pseudonym" in names,
        key_algorithm=public_key.algorithm,
        key_bits=key_bits(public_key),
    )


def signature_facts(
    signer_info: cms.SignerInfo,
    cert: x509.Certificate | None,
    *,
    qualification: Qualification | None,
    signing_certificate_signed: bool,
    revocation: RevocationFacts,
    deposit_time: datetime | None,
) -> SignatureFacts:
    mechanism = signature_hash = None
    try:
        algorithm = signer_info["signature_algorithm"]
        mechanism = algorithm.signature_algo
        signature_hash = algorithm.hash_algo
    except (ValueError, KeyError):
        pass
    try:
        digest = signer_info["digest_algorithm"]["algorithm"].native
    except ASN1_ERRORS:
        digest = None
    return SignatureFacts(
        signer=certificate_facts(cert, qualification) if cert is not None else None,
        digest_algorithm=digest,
        signature_mechanism=mechanism,
        signature_hash=signature_hash or digest,
        signing_certificate_signed=signing_certificate_signed,
        signature_policy=signature_policy(signer_info),
        revocation=revocation,
        deposit_time=deposit_time,
    )


def signature_policy(signer_info: cms.SignerInfo) -> SignaturePolicyRef | None:
    """The explicit signature policy (CAdES-EPES signature-policy-identifier), if the signature commits to one."""
    try:
        for value in attribute_values(signer_info["signed_attrs"], "signature_policy_identifier"):
            if value.name != "signature_policy_id":
                continue
            chosen = value.chosen
            digest_info = chosen["sig_policy_hash"]
            return SignaturePolicyRef(
                oid=chosen["sig_policy_id"].dotted,
                digest_algorithm=digest_info["digest_algorithm"]["algorithm"].native,
                digest=digest_info["digest"].native,
            )
    except ASN1_ERRORS as e:
        logger.info("unreadable signature-policy-identifier: %s", e)
    return None


def _natural_person(
    cert: x509.Certificate, qualification: Qualification | None, policies: frozenset[str], names: set[str]
) -> bool | None:
    for label in (qualification.at_signing, qualification.at_issuance) if qualification else ():
        if label and label.endswith(("_ESIG", "_ESIG_QSCD")):
            return True
        if label and label.endswith(("_ESEAL", "_ESEAL_QSCD")):
            return False
    qc_types = _qc_types(cert)
    if qc_types == {"qct_esign"}:
        return True
    if qc_types == {"qct_eseal"}:
        return False
    if policies & _NATURAL_PERSON_POLICIES and not policies & _LEGAL_PERSON_POLICIES:
        return True
    if policies & _LEGAL_PERSON_POLICIES and not policies & _NATURAL_PERSON_POLICIES:
        return False
    if names & _PERSONAL_NAMES:
        return True
    if "organization_identifier" in names:
        return False
    return None


def _qc_types(cert: x509.Certificate) -> set[str]:
    types: set[str] = set()
    try:
        for ext in cert["tbs_certificate"]["extensions"] or ():
            if ext["extn_id"].native != "qc_statements":
                continue
            for statement in ext["extn_value"].parsed:
                if statement["statement_id"].native == "qc_type":
                    types.update(statement["statement_info"].native or ())
    except ASN1_ERRORS:
        return set()
    return types
