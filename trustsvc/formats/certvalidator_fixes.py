"""Two corrections to pyhanko-certvalidator 0.33 that trusted-list validation needs (applied once, on import).

1. **A CRL signed by the trust anchor itself, when the anchor is not self-signed.** Trusted lists make issuing
   CAs anchors (the CA/QC service's certificate), and those CAs sign the CRLs of the certificates they issue. To
   check such a CRL, certvalidator builds the CRL issuer's path by cutting the end-entity path back to the CRL
   issuer's *issuer* (the root), which a path that starts at the anchor does not contain: LookupError, "the chain
   of trust for the CRL issuer could not be determined", and every CRL-only signature is INDETERMINATE. When the
   candidate CRL issuer *is* the anchor, its path is the anchor alone, as certvalidator already does for
   self-signed anchors.
2. **An OCSP response saying "revoked at R" checked as of a time before R.** It proves the certificate was not
   revoked then (a revocation, or a suspension, at R leaves the certificate good before R), yet
   certvalidator counts it as "no answer", and a signature time-stamped before a later revocation comes out
   INDETERMINATE unless a CRL happens to be available. It is counted as good at that time, as EN 319 102-1
   § 5.6.2.4 and EU DSS do.

The version of pyhanko-certvalidator is pinned in pyproject.toml; tests/test_certvalidator_fixes.py fails if
either behaviour changes upstream.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import x509
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.revinfo import validate_ocsp

__all__ = ["apply"]

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    _original_truncate = ValidationPath.truncate_to_issuer_and_append

    def truncate_to_issuer_and_append(self: ValidationPath, cert: x509.Certificate) -> ValidationPath:
        try:
            return _original_truncate(self, cert)
        except LookupError:
            anchor_cert = getattr(self.trust_anchor.authority, "certificate", None)
            if anchor_cert is not None and anchor_cert.dump() == cert.dump():
                return ValidationPath(self.trust_anchor, interm=[], leaf=None)
            raise

    ValidationPath.truncate_to_issuer_and_append = truncate_to_issuer_and_append  # type: ignore[method-assign]

    _original_status = validate_ocsp._check_ocsp_status

    def check_ocsp_status(ocsp_response, proc_state, control_time: datetime | None) -> bool:
        if _original_status(ocsp_response, proc_state, control_time):
            return True  # good (a revocation before control_time raised RevokedError above)
        single = ocsp_response.extract_single_response()
        if single is None or single["cert_status"].name != "revoked" or control_time is None:
            return False
        return single["cert_status"].chosen["revocation_time"].native > control_time

    validate_ocsp._check_ocsp_status = check_ocsp_status
