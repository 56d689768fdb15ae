"""Certificate path validation at a given time, with certvalidator's errors mapped to EN 319 102-1 terms.

This is the one place where pyhanko-certvalidator exceptions become sub-indications (X.509 certificate
validation, EN 319 102-1 § 5.2.6). A path is checked either at the validation time, or "in the past" at a
proof-of-existence time (the best signature time of § 5.6.2), where revocation data issued later still counts.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import crl, ocsp, x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.ltv.poe import POEManager
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import CertificateRegistry
from pyhanko_certvalidator.revinfo.archival import process_legacy_crl_input, process_legacy_ocsp_input
from pyhanko_certvalidator.revinfo.manager import RevinfoManager

from ..verdict import SubIndication
from . import certvalidator_fixes
from .material import ValidationMaterial
from .ocsp_trust import trusted_responder_assertions
from .settings import ValidationSettings

__all__ = ["PathCheck", "validate_certificate_path", "SIGNER_KEY_USAGE"]

logger = logging.getLogger(__name__)

certvalidator_fixes.apply()

#: A signing certificate must allow digital signatures; nonRepudiation alone (contentCommitment) is accepted too.
#: Whether it must carry nonRepudiation is a policy question (DSS: a warning), reported separately.
SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)

_REVINFO_POLICY = CertRevTrustPolicy(REQUIRE_REVINFO, retroactive_revinfo=True)


@dataclass(frozen=True)
class PathCheck:
    """Outcome of validating one certificate's path at one moment."""

    moment: datetime
    subindication: SubIndication | None
    message: str | None = None
    path: ValidationPath | None = None
    revocation_time: datetime | None = None
    ca_revoked: bool = False
    algorithm_banned_since: datetime | None = None
    crls: tuple[crl.CertificateList, ...] = ()
    ocsps: tuple[ocsp.OCSPResponse, ...] = ()
    """Every CRL and OCSP response the validation had (embedded, supplied and fetched), for the policies' facts."""

    @property
    def ok(self) -> bool:
        return self.subindication is None

    @property
    def anchor(self) -> x509.Certificate | None:
        if self.path is None:
            return None
        try:
            return self.path.trust_anchor.authority.certificate
        except AttributeError:
            return None


def build_context(
    settings: ValidationSettings, material: ValidationMaterial, moment: datetime, *, fetch: bool
) -> ValidationContext:
    """A fresh validation context: certvalidator caches revocation results in it, so never share one.

    OCSP answers from responders the trust source lists (trusted responders) enter as non-revocation assertions.
    """
    fetchers = settings.fetcher_backend.get_fetchers() if fetch and settings.fetcher_backend is not None else None
    registry = CertificateRegistry.build(material.certs, cert_fetcher=fetchers.cert_fetcher if fetchers else None)
    revinfo = RevinfoManager(
        certificate_registry=registry,
        poe_manager=POEManager(),
        crls=process_legacy_crl_input(material.crls),
        ocsps=process_legacy_ocsp_input(material.ocsps),
        assertions=trusted_responder_assertions(material, settings.trust),
        fetchers=fetchers,
    )
    return ValidationContext(
        trust_manager=settings.trust.trust_manager(moment),
        certificate_registry=registry,
        revinfo_manager=revinfo,
        moment=moment,
        allow_fetching=fetchers is not None,
        revinfo_policy=_REVINFO_POLICY,
        algorithm_usage_policy=settings.chain_crypto_suite,
        time_tolerance=settings.time_tolerance,
    )


async def validate_certificate_path(
    cert: x509.Certificate,
    material: ValidationMaterial,
    settings: ValidationSettings,
    moment: datetime,
    *,
    key_usage: KeyUsageConstraints | None = SIGNER_KEY_USAGE,
    fetch: bool = False,
) -> PathCheck:
    """Build and validate a path from `cert` to one of the trust anchors, as of `moment`."""
    context = build_context(settings, material, moment, fetch=fetch)
    check = await _validate(cert, material, context, moment, key_usage)
    revinfo = context.revinfo_manager
    return dataclasses.replace(check, crls=tuple(revinfo.crls), ocsps=tuple(revinfo.ocsps))


async def _validate(
    cert: x509.Certificate,
    material: ValidationMaterial,
    context: ValidationContext,
    moment: datetime,
    key_usage: KeyUsageConstraints | None,
) -> PathCheck:
    validator = CertificateValidator(cert, intermediate_certs=material.certs, validation_context=context)
    try:
        path = await validator.async_validate_path()
        if key_usage is not None:
            key_usage.validate(cert)
    except PathBuildingError as e:
        return PathCheck(moment, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, _msg(e, "no path to a trust anchor"))
    except RevokedError as e:
        sub = SubIndication.REVOKED_NO_POE if e.is_ee_cert else SubIndication.REVOKED_CA_NO_POE
        if e.is_side_validation:
            sub = SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE
        return PathCheck(
            moment, sub, e.failure_msg, _path(e), revocation_time=e.revocation_dt, ca_revoked=not e.is_ee_cert
        )
    except ExpiredError as e:
        return PathCheck(moment, SubIndication.OUT_OF_BOUNDS_NO_POE, e.failure_msg, _path(e))
    except NotYetValidError as e:
        return PathCheck(moment, SubIndication.NOT_YET_VALID, e.failure_msg, _path(e))
    except DisallowedAlgorithmError as e:
        if e.banned_since is None:
            return PathCheck(moment, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, e.failure_msg, _path(e))
        return PathCheck(
            moment,
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            e.failure_msg,
            _path(e),
            algorithm_banned_since=e.banned_since,
        )
    except InsufficientRevinfoError as e:  # includes StaleRevinfoError
        return PathCheck(moment, SubIndication.TRY_LATER, e.failure_msg, _path(e))
    except InvalidCertificateError as e:
        return PathCheck(moment, SubIndication.CHAIN_CONSTRAINTS_FAILURE, e.failure_msg)
    except PathValidationError as e:
        return PathCheck(moment, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, e.failure_msg, _path(e))
    except ValidationError as e:
        return PathCheck(moment, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, e.failure_msg)
    except (ValueError, TypeError, KeyError, NotImplementedError) as e:  # a malformed certificate on the path
        return PathCheck(
            moment, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, f"a certificate of the path is malformed ({e})"
        )
    return PathCheck(moment, None, path=path)


def _path(error: PathValidationError) -> ValidationPath | None:
    """The path that was being validated when `error` struck: it names the anchor and the CAs, which the report
    and qualification still need. A side validation (an OCSP responder's path) is not the signer's path."""
    return None if error.is_side_validation else error.original_path


def _msg(error: Exception, fallback: str) -> str:
    text = str(error).strip()
    return text or fallback
