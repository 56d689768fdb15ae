"""Verified revocation facts about the signer's certificate, fetched fresh when a grace period calls for it.

Path validation answers "was the certificate revoked at the best signature time?". Policies also ask when it was
revoked (before or after *their* proof of existence), whether it is suspended, and whether the revocation data
was issued long enough after signing that a compromise reported late would show (the cautionary period). The
data the path validation had answers most of that; when it is all older than the cautionary period and fetching
is allowed, the issuer's OCSP responder and CRL are asked now.
"""

from __future__ import annotations

import logging
from datetime import datetime

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator.authority import AuthorityWithCert
from pyhanko_certvalidator.errors import PathValidationError
from pyhanko_certvalidator.fetchers.api import Fetchers

from ..verdict import RevocationFacts
from .certpath import PathCheck
from .revocation_facts import revocation_facts
from .settings import ValidationSettings

__all__ = ["signer_revocation_facts"]

logger = logging.getLogger(__name__)


async def signer_revocation_facts(
    cert: x509.Certificate, check: PathCheck, settings: ValidationSettings, best_signature_time: datetime
) -> RevocationFacts:
    issuer = _issuer(cert, check)
    if issuer is None:
        return RevocationFacts()
    crls, ocsps = list(check.crls), list(check.ocsps)
    listed = settings.trust.ocsp_responder_certificates
    facts = revocation_facts(cert, issuer, crls, ocsps, listed)
    if _wants_fresh_data(facts, settings, best_signature_time):
        fresh_crls, fresh_ocsps = await _fetch(cert, issuer, settings)
        if fresh_crls or fresh_ocsps:
            facts = revocation_facts(cert, issuer, crls + fresh_crls, ocsps + fresh_ocsps, listed)
    return facts


def _issuer(cert: x509.Certificate, check: PathCheck) -> x509.Certificate | None:
    if check.path is None:
        return None
    try:
        authority = check.path.find_issuing_authority(cert)
    except (LookupError, PathValidationError):
        return None
    return getattr(authority, "certificate", None)


def _wants_fresh_data(facts: RevocationFacts, settings: ValidationSettings, best_signature_time: datetime) -> bool:
    period = settings.cautionary_period
    if period is None or settings.offline:
        return False
    settled_from = best_signature_time + period
    if settled_from > settings.validation_time:
        return False  # too early for any data to settle it: policies with a grace period will say "retry"
    return facts.latest_issued is None or facts.latest_issued < settled_from


async def _fetch(
    cert: x509.Certificate, issuer: x509.Certificate, settings: ValidationSettings
) -> tuple[list[crl.CertificateList], list[ocsp.OCSPResponse]]:
    assert settings.fetcher_backend is not None
    fetchers: Fetchers = settings.fetcher_backend.get_fetchers()
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    try:
        if cert.ocsp_urls:
            ocsps.append(await fetchers.ocsp_fetcher.fetch(cert, AuthorityWithCert(issuer)))
    except Exception as e:  # noqa: BLE001 - a fetch failure only means the facts stay as they were
        logger.info("fresh OCSP response not available: %s", type(e).__name__)
    if not ocsps:
        try:
            crls.extend(await fetchers.crl_fetcher.fetch(cert))
        except Exception as e:  # noqa: BLE001
            logger.info("fresh CRL not available: %s", type(e).__name__)
    return crls, ocsps
