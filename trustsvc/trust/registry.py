"""The trusted-list registry: every listed service, indexed by the keys that identify it, valid as of a moment.

Built once per trust snapshot (all accepted lists), then shared by every validation that uses the snapshot. A
lookup from a certificate to its services is a dictionary access on the hash of its public key (microseconds).
As a trust provider, it answers "which listed services were in good standing at time T": the trust anchors of a
validation are the CA services listed as of the signing time, so a CA withdrawn after the signature still
anchors it, and one withdrawn before does not.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache

from asn1crypto import ocsp, x509
from pyhanko_certvalidator.authority import (
    Authority,
    AuthorityWithCert,
    TrustAnchor,
    TrustedServiceType,
    TrustQualifiers,
)
from pyhanko_certvalidator.registry import TrustManager

from .cert_keys import certificate_parts, name_key, name_key_der
from .tsl_model import CA_PKC, CA_QC, NATIONAL_ROOT_CA_QC, OCSP_QC, TSA, TSA_QTST, TrustedList, TrustService

__all__ = ["ListedService", "TrustRegistry", "spki_key", "ski_of"]

#: Service types whose certificates anchor certificate paths (signers' CAs, and TSAs, which are listed by their
#: own certificate).
ANCHOR_TYPES = frozenset({CA_QC, CA_PKC, NATIONAL_ROOT_CA_QC, TSA_QTST, TSA})

#: Service types of OCSP responders a list vouches for (TS 119 612 § 5.5.1).
OCSP_TYPES = frozenset({OCSP_QC, "Certstatus/OCSP"})


def spki_key(public_key) -> bytes:
    """The index key of a public key: SHA-256 of its SubjectPublicKeyInfo DER."""
    return hashlib.sha256(public_key.dump()).digest()


def ski_of(cert: x509.Certificate) -> bytes:
    """The subject key identifier as RFC 5280 method 1 computes it (SHA-1 of the key bits).

    Used instead of the certificate's own extension when matching a list's X509SKI, so that a certificate cannot
    claim a listed SKI without holding the listed key.
    """
    return hashlib.sha1(cert.public_key["public_key"].contents[1:]).digest()


class ListedService:
    """A service as listed: where (territory, list label), by whom, and the certificates that identify it.

    Certificates are kept as DER and decoded on first use: a registry of the EU lists holds about 4,000 of them,
    and a validation touches a handful.
    """

    def __init__(
        self,
        territory: str,
        list_label: str,
        provider: str,
        service: TrustService,
        ders: tuple[bytes, ...],
        skis: frozenset[bytes],
    ):
        self.territory = territory
        self.list_label = list_label
        self.provider = provider
        self.service = service
        self.ders = ders
        self.skis = skis
        self._certificates: tuple[x509.Certificate, ...] | None = None

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        if self._certificates is None:
            self._certificates = tuple(x509.Certificate.load(der) for der in self.ders)
        return self._certificates

    def period_at(self, moment: datetime) -> tuple[datetime, datetime | None] | None:
        """The stretch of good standing (positive status) that contains `moment`, or None.

        Consecutive positive states merge (e.g. ``accredited`` then ``granted`` at the 2016 migration).
        """
        states = sorted(self.service.states, key=lambda s: s.start)
        current = None
        for index, state in enumerate(states):
            if state.start <= moment:
                current = index
        if current is None or not states[current].status.is_positive:
            return None
        start = current
        while start > 0 and states[start - 1].status.is_positive:
            start -= 1
        end = None
        for state in states[current + 1 :]:
            if not state.status.is_positive:
                end = state.start
                break
        return states[start].start, end

    def state_at(self, moment: datetime):
        return self.service.state_at(moment)


class TrustRegistry:
    """All services of a set of trusted lists, indexed by public key, SKI and subject name."""

    def __init__(self, lists: Iterable[tuple[TrustedList, str]], *, snapshot_id: int | None = None):
        self.snapshot_id = snapshot_id
        self._by_spki: dict[bytes, list[ListedService]] = defaultdict(list)
        self._by_ski: dict[bytes, list[ListedService]] = defaultdict(list)
        self._by_subject: dict[str, list[ListedService]] = defaultdict(list)
        self._services: list[ListedService] = []
        self.lists: list[tuple[TrustedList, str]] = []
        for tl, label in lists:
            self.lists.append((tl, label))
            if tl.is_lotl:
                continue
            for provider, service in tl.services():
                self._add(tl, label, provider.name, service)

    def _add(self, tl: TrustedList, label: str, provider: str, service: TrustService) -> None:
        ders: dict[bytes, None] = {}
        skis: set[bytes] = set()
        spkis: set[bytes] = set()
        subjects: set[str] = set()
        for state in service.states:
            for der in state.identity.certificates:
                try:
                    spki, key_bits, _declared, subject = certificate_parts(der)
                except (ValueError, TypeError, IndexError):
                    continue  # not a certificate: it cannot anchor anything
                ders[der] = None
                spkis.add(hashlib.sha256(spki).digest())
                skis.add(hashlib.sha1(key_bits).digest())
                subjects.add(name_key_der(subject))
            skis.update(state.identity.skis)
        listed = ListedService(tl.territory, label, provider, service, tuple(ders), frozenset(skis))
        self._services.append(listed)
        for key in spkis:
            self._by_spki[key].append(listed)
        for ski in listed.skis:
            self._by_ski[ski].append(listed)
        for subject in subjects - {""}:
            self._by_subject[subject].append(listed)

    @property
    def services(self) -> list[ListedService]:
        return list(self._services)

    def services_for_key(self, cert: x509.Certificate) -> list[ListedService]:
        """Services identified by this certificate's key (by certificate or by X509SKI)."""
        found = list(self._by_spki.get(spki_key(cert.public_key), ()))
        for listed in self._by_ski.get(ski_of(cert), ()):
            if listed not in found:
                found.append(listed)
        return found

    def ocsp_responders(self, responder_id: ocsp.ResponderId, at: datetime) -> list[x509.Certificate]:
        """Certificates of listed OCSP services (Certstatus/OCSP[/QC]) in good standing at `at`, by responder id."""
        if responder_id.name == "by_key":
            candidates = [(s, c) for s in self._by_ski.get(responder_id.native, ()) for c in s.certificates]
        else:
            candidates = list(self.anchors_named(responder_id.chosen))
        return [
            cert
            for listed, cert in candidates
            if listed.service.current.type in OCSP_TYPES and listed.period_at(at) is not None
        ]

    def anchor_count(self, moment: datetime) -> int:
        """How many certificates anchor paths at `moment` (a health figure: never report healthy with zero)."""
        return sum(
            len(s.ders)
            for s in self._services
            if s.service.current.type in ANCHOR_TYPES and s.period_at(moment) is not None
        )

    # -- the TrustProvider protocol of trustsvc.formats.settings -------------------------------------------------

    def trust_manager(self, moment: datetime) -> TrustManager:
        return _ListedTrustManager(self, moment)

    def anchor_source(self, anchor: x509.Certificate) -> str:
        """The list that made `anchor` an anchor: a service of an anchoring type (CA, TSA) if there is one (the
        same key may also be listed for, say, a preservation service in another list)."""
        services = self.services_for_key(anchor)
        chosen = [s for s in services if s.service.current.type in ANCHOR_TYPES] or services
        return chosen[0].list_label if chosen else "unknown"

    # -- lookups used by the trust manager -------------------------------------------------------------------------

    def anchors_named(self, name: x509.Name) -> Iterator[tuple[ListedService, x509.Certificate]]:
        """(service, certificate) of every listed certificate whose subject is `name`."""
        key = name_key(name)
        for listed in self._by_subject.get(key, ()) if key else ():
            for cert in listed.certificates:
                if _subject_of(cert.dump()) == key:
                    yield listed, cert


@lru_cache(maxsize=8192)
def _subject_of(der: bytes) -> str:
    try:
        return name_key(x509.Certificate.load(der).subject)
    except (ValueError, TypeError, IndexError):
        return ""


def _service_type(listed: ListedService) -> TrustedServiceType:
    if listed.service.current.type in (TSA_QTST, TSA):
        return TrustedServiceType.TIME_STAMPING_AUTHORITY
    return TrustedServiceType.CERTIFICATE_AUTHORITY


class _ListedTrustManager(TrustManager):
    """certvalidator's view of the registry as of one moment: anchors are services in good standing then."""

    def __init__(self, registry: TrustRegistry, moment: datetime):
        self._registry = registry
        self._moment = moment

    def _anchor(self, listed: ListedService, cert: x509.Certificate) -> TrustAnchor | None:
        if listed.service.current.type not in ANCHOR_TYPES:
            return None
        period = listed.period_at(self._moment)
        if period is None:
            return None
        quals = TrustQualifiers(valid_from=period[0], valid_until=period[1], trusted_service_type=_service_type(listed))
        return TrustAnchor(AuthorityWithCert(cert), quals=quals)

    def as_trust_anchor(self, authority: Authority) -> TrustAnchor | None:
        for listed in self._registry._by_spki.get(spki_key(authority.public_key), ()):
            for cert in listed.certificates:
                same_name = _subject_of(cert.dump()) == name_key(authority.name)
                if same_name and cert.public_key.dump() == authority.public_key.dump():
                    anchor = self._anchor(listed, cert)
                    if anchor is not None:
                        return anchor
        return None

    def find_potential_issuers(self, cert: x509.Certificate) -> Iterator[TrustAnchor]:
        seen: set[bytes] = set()
        aki = cert.authority_key_identifier
        for listed, ca_cert in self._registry.anchors_named(cert.issuer):  # names already match
            der = ca_cert.dump()
            if der in seen or (aki and ca_cert.key_identifier and aki != ca_cert.key_identifier):
                continue
            anchor = self._anchor(listed, ca_cert)
            if anchor is not None:
                seen.add(der)
                yield anchor
