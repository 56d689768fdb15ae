"""The curated cross-pilot agreement as a source of trust anchors, next to the trusted lists.

A validation as of time T uses the agreement as it stood at T (entries whose last approval came before T and
whose withdrawal, if any, came after). Each entry's CA then anchors certificate paths for signatures made within
the entry's assessed validity period. Anchors from the agreement are labelled ``agreement: NAME`` so that
policies can tell them apart (``R-CHAIN`` sources and ``or_anchored_in: [agreement]`` in procure-agreement);
they never make a certificate qualified: only the trusted lists do that.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from asn1crypto import ocsp, x509
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.registry import SimpleTrustManager, TrustManager
from sqlalchemy import Engine

from ..formats.material import parsed_once
from .agreement import Agreement, Entry
from .provider import CombinedTrust, TrustedListTrust, _Union

__all__ = ["AgreementAnchors", "MIN_QUALITY_LEVEL", "with_agreement"]

#: The procure-agreement policy accepts CAs the legal teams assessed at quality level 4 or 5 (PEPPOL-like scale).
MIN_QUALITY_LEVEL = 4


class AgreementAnchors:
    """The agreement's CAs in force at one validation time, each usable within its assessed validity."""

    def __init__(self, entries: list[Entry]):
        self._entries = [(parsed_once("certificate", e.draft.ca_certificate), e) for e in entries]
        self._labels = {
            hashlib.sha256(e.draft.ca_certificate).digest(): f"agreement: {e.draft.name}" for _, e in self._entries
        }

    def __len__(self) -> int:
        return len(self._entries)

    def trust_manager(self, moment: datetime) -> TrustManager:
        roots = [
            CertTrustAnchor(cert)
            for cert, entry in self._entries
            if entry.draft.valid_from <= moment and (entry.draft.valid_to is None or moment < entry.draft.valid_to)
        ]
        return SimpleTrustManager.build(trust_roots=roots)

    def anchor_source(self, anchor: x509.Certificate) -> str:
        return self._labels.get(hashlib.sha256(anchor.dump()).digest(), "unknown")

    def qualify(self, signer, path, best_signature_time, indication) -> None:
        return None

    def timestamp_qualified(self, tsa_cert, at) -> None:
        return None

    def ocsp_responder_certificates(self, responder_id: ocsp.ResponderId, at: datetime) -> list:
        return []


class _Both:
    """Ad-hoc anchors and the agreement's, as one extra source beside the lists."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def trust_manager(self, moment: datetime) -> TrustManager:
        return _Union(self.first.trust_manager(moment), self.second.trust_manager(moment))

    def anchor_source(self, anchor: x509.Certificate) -> str:
        source = self.first.anchor_source(anchor)
        return source if source != "unknown" else self.second.anchor_source(anchor)


def with_agreement(provider, engine: Engine, at: datetime):
    """`provider` plus the agreement's anchors as the agreement stood at `at` (unchanged when none is in force,
    or when the provider is not list-based: ad-hoc trust alone stays exactly what the caller asked for)."""
    if not isinstance(provider, TrustedListTrust):
        return provider
    entries = [e for e in Agreement(engine).in_force(at) if e.draft.quality_level >= MIN_QUALITY_LEVEL]
    if not entries:
        return provider
    anchors = AgreementAnchors(entries)
    if isinstance(provider, CombinedTrust):
        return CombinedTrust(provider.registry, _Both(provider.extra, anchors))
    return CombinedTrust(provider.registry, anchors)
