"""Trust providers for the format validators: trusted lists (with qualification), ad-hoc anchors, or both.

Each implements the TrustProvider protocol of trustsvc.formats.settings by duck typing (formats never import
trust): anchors as of a moment, where an anchor came from, and the qualification of a signer or a TSA.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from asn1crypto import ocsp, x509
from pyhanko_certvalidator.authority import Authority, TrustAnchor
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.registry import TrustManager

from ..verdict import Qualification
from .anchors import AnchorSet
from .qualification import qualify_certificate, signature_qualification, timestamp_qualified
from .registry import TrustRegistry

__all__ = ["TrustedListTrust", "CombinedTrust"]


class TrustedListTrust:
    """Trust from a snapshot of trusted lists: anchors are the services in good standing at the moment asked."""

    def __init__(self, registry: TrustRegistry):
        self.registry = registry

    @property
    def snapshot_id(self) -> int | None:
        return self.registry.snapshot_id

    def trust_manager(self, moment: datetime) -> TrustManager:
        return self.registry.trust_manager(moment)

    def anchor_source(self, anchor: x509.Certificate) -> str:
        return self.registry.anchor_source(anchor)

    def qualify(
        self, signer: x509.Certificate, path: ValidationPath | None, best_signature_time: datetime, indication: str
    ) -> Qualification:
        issuers = [c for c in path.iter_certs(include_root=True) if c.dump() != signer.dump()] if path else []
        result = qualify_certificate(self.registry, signer, issuers, best_signature_time)
        return Qualification(
            at_issuance=result.at_issuance.label.value,
            at_signing=result.at_signing.label.value,
            signature=signature_qualification(indication, result.final),
            notes=result.notes,
        )

    def timestamp_qualified(self, tsa_cert: x509.Certificate, at: datetime) -> bool | None:
        return timestamp_qualified(self.registry, tsa_cert, at)

    def ocsp_responder_certificates(self, responder_id: ocsp.ResponderId, at: datetime) -> list[x509.Certificate]:
        return self.registry.ocsp_responders(responder_id, at)


class CombinedTrust(TrustedListTrust):
    """Trusted lists plus ad-hoc anchors (``--trust-anchor``): either may anchor a path; only lists qualify."""

    def __init__(self, registry: TrustRegistry, extra: AnchorSet):
        super().__init__(registry)
        self.extra = extra

    def trust_manager(self, moment: datetime) -> TrustManager:
        return _Union(self.registry.trust_manager(moment), self.extra.trust_manager(moment))

    def anchor_source(self, anchor: x509.Certificate) -> str:
        source = self.extra.anchor_source(anchor)
        return source if source != "unknown" else self.registry.anchor_source(anchor)


class _Union(TrustManager):
    def __init__(self, *managers: TrustManager):
        self._managers = managers

    def as_trust_anchor(self, authority: Authority) -> TrustAnchor | None:
        for manager in self._managers:
            anchor = manager.as_trust_anchor(authority)
            if anchor is not None:
                return anchor
        return None

    def find_potential_issuers(self, cert: x509.Certificate) -> Iterator[TrustAnchor]:
        for manager in self._managers:
            yield from manager.find_potential_issuers(cert)
