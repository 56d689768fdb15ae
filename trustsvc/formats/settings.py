"""What a format validator needs from outside: the validation time, the trust anchors, fetching, crypto rules.

Format validators never reach into `trust/` or `policy/`: the engine builds these settings and hands them in.
`TrustProvider` is a protocol so that any trust source (ad-hoc anchors, a trusted-list snapshot) fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from asn1crypto import ocsp, x509
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.registry import TrustManager

from ..verdict import Qualification
from .crypto_suite import CHAIN_SUITE, DEFAULT_SUITE, CryptoSuite

__all__ = ["TrustProvider", "ValidationSettings"]


class TrustProvider(Protocol):
    """Trust anchors usable by pyhanko-certvalidator as of a moment, and what the trust source says of them."""

    def trust_manager(self, moment: datetime) -> TrustManager:
        """Anchors in force at `moment` (trusted-list services are anchors only while in good standing)."""
        ...

    def anchor_source(self, anchor: x509.Certificate) -> str:
        """A label for the source of trust in `anchor`, e.g. ``ad-hoc`` or ``TL FR #174``."""
        ...

    def qualify(
        self, signer: x509.Certificate, path: ValidationPath | None, best_signature_time: datetime, indication: str
    ) -> Qualification | None:
        """The signer's qualification (TS 119 615), or None when the source cannot tell (ad-hoc anchors)."""
        ...

    def timestamp_qualified(self, tsa_cert: x509.Certificate, at: datetime) -> bool | None:
        """Whether a time-stamp at `at` by this TSA is qualified; None when the source cannot tell."""
        ...

    def ocsp_responder_certificates(self, responder_id: ocsp.ResponderId, at: datetime) -> list[x509.Certificate]:
        """Certificates of OCSP responders the trust source lists (in good standing at `at`) under this id."""
        ...


@dataclass(frozen=True)
class ValidationSettings:
    """The fixed parameters of one validation run.

    :param validation_time: the "current time" of EN 319 102-1; captured once so that every signature of a
        document is judged at the same moment.
    :param historical: true when the caller asked to validate as of a past time (``--at``): revocation that
        happened after `validation_time` is then not held against a certificate.
    :param fetcher_backend: None validates offline, from embedded and supplied data only.
    :param deposit_time: when the tendering platform received the document (its deposit receipt), given by the
        caller: a proof of existence of every signature in it (EN 319 102-1 accepts POEs from outside the
        signature). Policies decide whether they accept it.
    :param cautionary_period: how long after the best signature time revocation data must have been issued to be
        sure a revocation made before signing was published; when the embedded data is older and fetching is
        allowed, fresh data is fetched so that policies with a grace period can decide. None: never fetched.
    """

    validation_time: datetime
    trust: TrustProvider
    historical: bool = False
    fetcher_backend: FetcherBackend | None = None
    crypto_suite: CryptoSuite = DEFAULT_SUITE
    chain_crypto_suite: CryptoSuite = CHAIN_SUITE
    time_tolerance: timedelta = timedelta(seconds=1)
    deposit_time: datetime | None = None
    cautionary_period: timedelta | None = timedelta(hours=24)

    @property
    def offline(self) -> bool:
        return self.fetcher_backend is None
