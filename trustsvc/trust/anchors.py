"""Ad-hoc trust anchors: root certificates the caller names explicitly (``--trust-anchor``).

Never the operating system's TLS store: a validator that trusts whatever the host trusts gives verdicts nobody
can reproduce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.registry import SimpleTrustManager, TrustManager

from ..errors import ConfigurationError

__all__ = ["AnchorSet", "load_certificates"]


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM (one or many) or DER file."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigurationError(f"cannot read trust anchor {path}: {e.strerror}", code="trust-anchor") from e
    try:
        if pem.detect(data):
            certs = [
                x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"
            ]
        else:
            certs = [x509.Certificate.load(data)]
        for cert in certs:
            cert.native  # noqa: B018  (parse fully now)
    except (ValueError, TypeError) as e:
        raise ConfigurationError(f"{path} is not a certificate file ({e})", code="trust-anchor") from e
    if not certs:
        raise ConfigurationError(f"{path} contains no certificate", code="trust-anchor")
    return certs


class AnchorSet:
    """A fixed set of anchors, each with the label of where it came from."""

    def __init__(self, anchors: Iterable[tuple[x509.Certificate, str]] = ()):
        self._sources: dict[bytes, str] = {}
        certs = []
        for cert, source in anchors:
            key = hashlib.sha256(cert.dump()).digest()
            if key not in self._sources:
                self._sources[key] = source
                certs.append(cert)
        self._certs = certs
        self._manager = SimpleTrustManager.build(trust_roots=[CertTrustAnchor(c) for c in certs])

    @classmethod
    def from_files(cls, paths: Iterable[Path], source: str = "ad-hoc") -> AnchorSet:
        return cls((cert, source) for path in paths for cert in load_certificates(Path(path)))

    def trust_manager(self, moment: datetime | None = None) -> TrustManager:
        """The same anchors at any moment: ad-hoc anchors carry no listing history."""
        return self._manager

    def qualify(self, signer, path, best_signature_time, indication) -> None:
        """Ad-hoc anchors say nothing about qualification: that needs the trusted lists."""
        return None

    def timestamp_qualified(self, tsa_cert, at) -> None:
        return None

    def ocsp_responder_certificates(self, responder_id, at) -> list:
        """Ad-hoc roots vouch for no OCSP responder beyond what RFC 6960 delegation allows."""
        return []

    @property
    def certificates(self) -> list[x509.Certificate]:
        return list(self._certs)

    def anchor_source(self, anchor: x509.Certificate) -> str:
        return self._sources.get(hashlib.sha256(anchor.dump()).digest(), "unknown")

    def __len__(self) -> int:
        return len(self._certs)
