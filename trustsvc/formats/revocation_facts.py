"""What the revocation data at hand verifiably says about one certificate.

Certificate path validation answers one question: was the certificate good at the validation time? Acceptance
policies need more: when it was revoked and why (revoked after the proof of existence is acceptable, a suspension
is not final), and how recent the newest information is (the grace period after the proof of existence). This
module reads those facts from CRLs and OCSP responses already at hand, embedded in the signature or fetched.

Revocation data travels in documents anyone can edit outside the signed bytes: someone could append a forged
"revoked" OCSP response to a competitor's bid, or a forged "good" one to their own. Only data that is authoritative
for the certificate and whose signature verifies counts: an OCSP response signed by the issuer or by its delegated
responder (RFC 6960 § 4.2.2.2), a complete direct CRL signed by the issuer whose scope covers the certificate
(RFC 5280 § 6.3.3). Everything else, malformed data included, is skipped (and logged at debug level).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from asn1crypto import algos, crl, keys, ocsp, x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from ..verdict import RevocationFacts
from .digests import digest_bytes
from .keys import LENIENT_VALIDATOR
from .parse_errors import ASN1_ERRORS

__all__ = ["RevocationFacts", "revocation_facts"]

logger = logging.getLogger(__name__)

Source = Literal["ocsp", "crl"]

_HOLD = "certificate_hold"
#: The CRL extensions understood here: a CRL with any other critical extension must not be used to determine
#: the status of certificates (RFC 5280 § 5.2).
_UNDERSTOOD_CRL_EXTENSIONS = {"issuing_distribution_point", "crl_number", "authority_key_identifier", "freshest_crl"}
#: What a signature check raises on a wrong key, a mangled signature or an algorithm we cannot compute
#: (pyHanko asserts the key type matches the signature algorithm).
_SIGNATURE_ERRORS = (InvalidSignature, UnsupportedAlgorithm, AssertionError, *ASN1_ERRORS)


_NO_FACTS = RevocationFacts(revoked_at=None, reason=None, latest_issued=None, latest_source=None, on_hold=False)


@dataclass(frozen=True)
class _Statement:
    """One verified source's word on the certificate: good as of `issued`, or revoked at `revoked_at`."""

    issued: datetime
    source: Source
    revoked_at: datetime | None = None
    reason: str | None = None


#: The OCSP responders a trust source lists for a responder id at a time (TL Certstatus/OCSP services).
TrustedResponders = Callable[[ocsp.ResponderId, datetime], list[x509.Certificate]]


def revocation_facts(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    crls: Iterable[crl.CertificateList],
    ocsps: Iterable[ocsp.OCSPResponse],
    trusted_responders: TrustedResponders | None = None,
) -> RevocationFacts:
    """The revocation facts about `cert` (issued by `issuer`) that the given CRLs and OCSP responses prove.

    Besides the issuer and its delegates, an OCSP responder the trusted lists vouch for counts (`trusted_responders`,
    as for the path validation: Estonia's SK responder answers for ESTEID-SK 2011).
    """
    try:
        if not _issued_by(cert, issuer):
            logger.debug("no revocation facts: the certificate is not issued by the given issuer")
            return _NO_FACTS
    except ASN1_ERRORS as e:
        logger.debug("no revocation facts: unreadable certificate or issuer: %s", e)
        return _NO_FACTS
    statements: list[_Statement] = []
    for certificate_list in crls:
        try:
            statements.extend(_crl_statements(certificate_list, cert, issuer))
        except ASN1_ERRORS as e:
            logger.debug("unreadable CRL skipped: %s", e)
    for response in ocsps:
        try:
            statements.extend(_ocsp_statements(response, cert, issuer, trusted_responders))
        except ASN1_ERRORS as e:
            logger.debug("unreadable OCSP response skipped: %s", e)
    return _combine(statements)


def _combine(statements: list[_Statement]) -> RevocationFacts:
    if not statements:
        return _NO_FACTS
    latest = max(s.issued for s in statements)
    newest = [s for s in statements if s.issued == latest]
    source: Source = "ocsp" if any(s.source == "ocsp" for s in newest) else "crl"
    revocations = [s for s in statements if s.revoked_at is not None and s.reason != _HOLD]
    if revocations:
        first = min(revocations, key=lambda s: (s.revoked_at, s.reason is None))
        return RevocationFacts(first.revoked_at, first.reason, latest, source, on_hold=False)
    # a hold counts only while nothing newer says good; between equally recent items the hold wins
    holds = [s.revoked_at for s in newest if s.reason == _HOLD and s.revoked_at is not None]
    if holds:
        return RevocationFacts(min(holds), _HOLD, latest, source, on_hold=True)
    return RevocationFacts(None, None, latest, source, on_hold=False)


def _statement(issued: datetime, source: Source, revoked_at: datetime | None, reason: str | None) -> _Statement:
    if reason == "remove_from_crl":  # the entry un-revokes (a lifted hold): good as of this information
        return _Statement(issued, source)
    return _Statement(issued, source, revoked_at, None if reason == "unspecified" else reason)


# ---------------------------------------------------------------- CRL


def _crl_statements(
    certificate_list: crl.CertificateList, cert: x509.Certificate, issuer: x509.Certificate
) -> list[_Statement]:
    tbs = certificate_list["tbs_cert_list"]
    if tbs["issuer"] != cert.issuer:
        return _skip("CRL of another issuer")
    if certificate_list.delta_crl_indicator_value is not None:
        return _skip("delta CRL")
    if certificate_list.critical_extensions - _UNDERSTOOD_CRL_EXTENSIONS:
        return _skip("CRL with an unrecognized critical extension")
    idp = certificate_list.issuing_distribution_point_value
    if idp is not None and not _idp_covers(idp, cert):
        return _skip("CRL whose scope does not cover the certificate")
    if not _verifies(
        certificate_list["signature"].native, tbs.dump(), issuer.public_key, certificate_list["signature_algorithm"]
    ):
        return _skip("CRL whose signature does not verify with the issuer's key")
    this_update: datetime = tbs["this_update"].native
    for entry in tbs["revoked_certificates"]:
        if entry["user_certificate"].native == cert.serial_number:
            reason = entry.crl_reason_value
            revoked_at = entry["revocation_date"].native
            return [_statement(this_update, "crl", revoked_at, reason.native if reason is not None else None)]
    return [_Statement(this_update, "crl")]


def _idp_covers(idp: crl.IssuingDistributionPoint, cert: x509.Certificate) -> bool:
    """Whether a complete direct CRL with this issuing distribution point lists all revocations of `cert`."""
    if idp["indirect_crl"].native or idp["only_some_reasons"].native is not None:
        return False
    if idp["only_contains_attribute_certs"].native:
        return False
    if idp["only_contains_ca_certs"].native and not cert.ca:
        return False
    if idp["only_contains_user_certs"].native and cert.ca:
        return False
    if idp["distribution_point"].native is None:
        return True
    # a CRL partitioned by distribution point covers the certificates that name one of its distribution points
    crl_names = _full_names(idp["distribution_point"], cert.issuer)
    cert_dps = cert.crl_distribution_points_value
    if not cert_dps:
        return x509.GeneralName(name="directory_name", value=cert.issuer) in crl_names
    return any(
        name in crl_names
        for dp in cert_dps
        if dp["distribution_point"].native is not None
        for name in _full_names(dp["distribution_point"], cert.issuer)
    )


def _full_names(name: x509.DistributionPointName, crl_issuer: x509.Name) -> list[x509.GeneralName]:
    if name.name == "full_name":
        return list(name.chosen)
    relative = crl_issuer.copy()
    relative.chosen.append(name.chosen.untag())
    return [x509.GeneralName(name="directory_name", value=relative)]


# ---------------------------------------------------------------- OCSP


def _ocsp_statements(
    response: ocsp.OCSPResponse,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    trusted_responders: TrustedResponders | None = None,
) -> list[_Statement]:
    if response["response_status"].native != "successful":
        return _skip("unsuccessful OCSP response")
    if response["response_bytes"]["response_type"].native != "basic_ocsp_response":
        return _skip("OCSP response of an unknown type")
    basic = response.basic_ocsp_response
    tbs = basic["tbs_response_data"]
    singles = [single for single in tbs["responses"] if _is_about(single["cert_id"], cert, issuer)]
    if not singles:
        return _skip("OCSP response about other certificates")
    if not _signed_by_authorised_responder(basic, issuer) and not _signed_by_trusted_responder(
        basic, trusted_responders
    ):
        return _skip("OCSP response not signed by the issuer, its delegated responder or a listed responder")
    statements: list[_Statement] = []
    for single in singles:
        status = single["cert_status"]
        this_update: datetime = single["this_update"].native
        if status.name == "good":
            statements.append(_Statement(this_update, "ocsp"))
        elif status.name == "revoked":
            revoked = status.chosen
            statements.append(
                _statement(this_update, "ocsp", revoked["revocation_time"].native, revoked["revocation_reason"].native)
            )
    return statements


def _is_about(cert_id: ocsp.CertId, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert_id["serial_number"].native != cert.serial_number:
        return False
    algorithm = cert_id["hash_algorithm"]["algorithm"].native
    # the hash of the issuer name as the certificate or the issuer encodes it (both equal as names: see _issued_by)
    name_hashes = {digest_bytes(algorithm, cert.issuer.dump()), digest_bytes(algorithm, issuer.subject.dump())}
    key_hash = digest_bytes(algorithm, _key_bits(issuer.public_key))
    return cert_id["issuer_name_hash"].native in name_hashes and cert_id["issuer_key_hash"].native == key_hash


def _signed_by_authorised_responder(basic: ocsp.BasicOCSPResponse, issuer: x509.Certificate) -> bool:
    tbs = basic["tbs_response_data"]
    responder_id: ocsp.ResponderId = tbs["responder_id"]
    produced_at: datetime = tbs["produced_at"].native
    embedded = list(basic["certs"]) if basic["certs"] else []
    for candidate in [issuer, *embedded]:
        try:
            if (
                _designates(responder_id, candidate)
                and (candidate is issuer or _is_delegated_responder(candidate, issuer, produced_at))
                and _verifies(basic["signature"].native, tbs.dump(), candidate.public_key, basic["signature_algorithm"])
            ):
                return True
        except ASN1_ERRORS as e:  # an unreadable embedded certificate (outside the signed data) is passed over
            logger.debug("unreadable OCSP responder certificate skipped: %s", e)
    return False


def _signed_by_trusted_responder(basic: ocsp.BasicOCSPResponse, trusted_responders: TrustedResponders | None) -> bool:
    if trusted_responders is None:
        return False
    tbs = basic["tbs_response_data"]
    for responder in trusted_responders(tbs["responder_id"], tbs["produced_at"].native):
        if _verifies(basic["signature"].native, tbs.dump(), responder.public_key, basic["signature_algorithm"]):
            return True
    return False


def _designates(responder_id: ocsp.ResponderId, candidate: x509.Certificate) -> bool:
    if responder_id.name == "by_name":
        return responder_id.chosen == candidate.subject
    return responder_id.chosen.native == hashlib.sha1(_key_bits(candidate.public_key)).digest()


def _is_delegated_responder(responder: x509.Certificate, issuer: x509.Certificate, produced_at: datetime) -> bool:
    eku = responder.extended_key_usage_value
    return (
        eku is not None
        and "ocsp_signing" in eku.native
        and responder.not_valid_before <= produced_at <= responder.not_valid_after
        and _issued_by(responder, issuer)
    )


# ---------------------------------------------------------------- signatures


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    return cert.issuer == issuer.subject and _verifies(
        cert["signature_value"].native, cert["tbs_certificate"].dump(), issuer.public_key, cert["signature_algorithm"]
    )


def _verifies(
    signature: bytes, signed_data: bytes, public_key: keys.PublicKeyInfo, algorithm: algos.SignedDigestAlgorithm
) -> bool:
    try:
        LENIENT_VALIDATOR.validate_signature(signature, signed_data, public_key, algorithm)
    except _SIGNATURE_ERRORS:
        return False
    return True


def _key_bits(public_key: keys.PublicKeyInfo) -> bytes:
    """The subjectPublicKey BIT STRING contents without the unused-bits octet (what RFC 6960 key hashes cover)."""
    return public_key["public_key"].contents[1:]


def _skip(why: str) -> list[_Statement]:
    logger.debug("%s skipped", why)
    return []
