"""Signed reports: the service's own signature over a report, so that a platform can archive proof of what was
validated, when, against which trust snapshot and which policy versions.

The report (the JSON document exactly as the service returned it) is wrapped in a CAdES baseline B signature
(CMS SignedData enveloping the JSON, with signing-certificate-v2 and signing-time), made with the key and
certificate the operator configures (``TRUSTSVC_REPORT_KEY`` / ``TRUSTSVC_REPORT_CERT``). Anyone can verify it with
``openssl cms -verify`` or ``trustsvc validate report.p7m`` and read the JSON back out of it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

from asn1crypto import cms
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import ConfigurationError
from ..trust.anchors import load_certificates

__all__ = ["ReportSigner", "unwrap_signed_report"]


class ReportSigner:
    """The operator's signing key and certificate (and its chain), loaded once."""

    def __init__(self, signer: signers.SimpleSigner, *, demo: bool = False):
        self._signer = signer
        self.demo = demo

    @classmethod
    def from_files(cls, key: Path, cert: Path, password: str | None = None, *, demo: bool = False) -> ReportSigner:
        """The key (PEM or DER) and the certificate file: the signer's certificate first, then its chain."""
        certificates = load_certificates(cert)
        try:
            private_key = load_private_key_from_pemder(str(key), password.encode() if password else None)
        except (OSError, ValueError, TypeError) as e:
            raise ConfigurationError(
                f"report signing: cannot load the key {key} ({type(e).__name__}: wrong password or format?)",
                code="report-signer",
            ) from e
        signer = signers.SimpleSigner(
            signing_cert=certificates[0],
            signing_key=private_key,
            cert_registry=SimpleCertificateStore.from_certs(certificates),
        )
        return cls(signer, demo=demo)

    @property
    def subject(self) -> str:
        return self._signer.signing_cert.subject.human_friendly

    async def sign(self, report: bytes, now: datetime) -> bytes:
        """The report wrapped in the service's CAdES signature (DER of a CMS ContentInfo)."""
        attributes = PdfCMSSignedAttributes(signing_time=now)
        signed = await self._signer.async_sign_general_data(
            cms.ContentInfo({"content_type": "data", "content": report}),
            "sha256",
            detached=False,
            use_cades=True,
            signed_attr_settings=attributes,
        )
        return signed.dump()


def unwrap_signed_report(der: bytes) -> bytes:
    """The report a signed report carries (without checking the signature: use the validator for that)."""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        content = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"].native
        if isinstance(content, bytes):
            return content
    raise ValueError("not a signed trustsvc report")
