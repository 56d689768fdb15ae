"""OCSP responses from responders the trusted lists vouch for ("trusted responders", RFC 6960 § 4.2.2.2).

Some CAs answer OCSP through a responder that is not their own delegate: its certificate is issued by another CA
(Estonia's SK OCSP RESPONDER 2011 for ESTEID-SK 2011), or not embedded at all. The member state lists such a
responder in its trusted list as a Certstatus/OCSP service, with its certificate. pyhanko-certvalidator only
accepts the issuer or its delegate, so a response from a listed responder is checked here (responder listed in
good standing when it answered, signature valid, status good) and handed over as an assertion that the
certificate was not revoked at the response's thisUpdate. EU DSS accepts the same responses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from asn1crypto import ocsp, x509
from cryptography.exceptions import UnsupportedAlgorithm
from pyhanko_certvalidator.errors import InvalidSignature
from pyhanko_certvalidator.policy_decl import NonRevokedStatusAssertion

from .digests import digest_bytes
from .keys import LENIENT_VALIDATOR
from .material import ValidationMaterial
from .parse_errors import ASN1_ERRORS
from .settings import TrustProvider

__all__ = ["trusted_responder_assertions"]

logger = logging.getLogger(__name__)


def trusted_responder_assertions(material: ValidationMaterial, trust: TrustProvider) -> list[NonRevokedStatusAssertion]:
    assertions: list[NonRevokedStatusAssertion] = []
    for response in material.ocsps:
        try:
            assertions.extend(_assertions_from(response, material.certs, trust))
        except ASN1_ERRORS as e:
            logger.info("unreadable OCSP response skipped: %s", e)
    return assertions


def _assertions_from(
    response: ocsp.OCSPResponse, certs: list[x509.Certificate], trust: TrustProvider
) -> Iterable[NonRevokedStatusAssertion]:
    basic = response.basic_ocsp_response
    tbs = basic["tbs_response_data"]
    produced_at: datetime = tbs["produced_at"].native
    responders = trust.ocsp_responder_certificates(tbs["responder_id"], produced_at)
    if not responders or not any(_signed_by(basic, responder) for responder in responders):
        return
    for single in tbs["responses"]:
        if single["cert_status"].name != "good":
            continue
        for cert in _certificates_for(single["cert_id"], certs):
            yield NonRevokedStatusAssertion(cert.sha256, single["this_update"].native)


def _signed_by(basic: ocsp.BasicOCSPResponse, responder: x509.Certificate) -> bool:
    try:
        LENIENT_VALIDATOR.validate_signature(
            basic["signature"].native,
            basic["tbs_response_data"].dump(),
            responder.public_key,
            basic["signature_algorithm"],
        )
    except (InvalidSignature, UnsupportedAlgorithm, AssertionError, ValueError, TypeError, NotImplementedError):
        return False  # AssertionError: pyHanko asserts the key type matches the signature algorithm
    return True


def _certificates_for(cert_id: ocsp.CertId, certs: list[x509.Certificate]) -> Iterable[x509.Certificate]:
    algorithm = cert_id["hash_algorithm"]["algorithm"].native
    serial = cert_id["serial_number"].native
    by_subject = {c.subject.dump(): c for c in certs}
    for cert in certs:
        if cert.serial_number != serial:
            continue
        issuer = by_subject.get(cert.issuer.dump())
        if issuer is None:
            continue
        key_bits = issuer.public_key["public_key"].contents[1:]
        if (
            digest_bytes(algorithm, cert.issuer.dump()) == cert_id["issuer_name_hash"].native
            and digest_bytes(algorithm, key_bits) == cert_id["issuer_key_hash"].native
        ):
            yield cert
