"""The ETSI EN 319 102-1 validation process for one signature, whatever its format or container.

Format validators (PAdES, CAdES, XAdES, ASiC) gather the evidence: the signature's own core (for CMS the
SignerInfo and the digest of what it signs, for XAdES the ds:Signature and its references; see
:class:`SignatureCore`),
the validation material the document embeds, the time-stamps attached to it, and any structural problem of the
container (for a PDF: changes after signing). This module turns that evidence into a verdict:

1. identification of the signing certificate (§ 5.2.3) and integrity of the signature (§ 5.2.7);
2. validation of every time-stamp (§ 5.4), latest first, so that archive and document time-stamps can vouch for
   older ones; valid time-stamps over the signature give its best signature time (§ 5.5);
3. the signer's certificate path, judged as of the best signature time with revocation data issued then or
   later (the past signature validation of § 5.6.2, which reduces to the ordinary one when there is no
   time-stamp); content time-stamps turn "revoked / expired with no proof" into "failed" (§ 5.3.4);
4. cryptographic constraints judged at the best signature time (TS 119 312 suite).

A fact that cannot be established is INDETERMINATE with the reason; a broken element is never ignored.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from asn1crypto import algos, cms, core, x509
from pyhanko.sign.validation import errors as pyhanko_errors
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko_certvalidator.authority import AuthorityWithCert, TrustAnchor
from pyhanko_certvalidator.path import ValidationPath

from ..verdict import (
    Finding,
    Indication,
    Qualification,
    RevocationFacts,
    SignatureFacts,
    SubIndication,
    TimestampVerdict,
    TrustAnchorRef,
)
from .certpath import PathCheck, validate_certificate_path
from .cms_signer import claimed_signing_time, describe_name, find_signer_certificate, signing_certificate_reference
from .keys import LENIENT_VALIDATOR, has_negative_rsa_modulus
from .material import ValidationMaterial
from .settings import ValidationSettings
from .signer_facts import signature_facts
from .signer_revocation import signer_revocation_facts
from .tst import TimestampToken, check_token_integrity, check_token_validity

__all__ = [
    "TimestampKind",
    "AttachedTimestamp",
    "SignatureCore",
    "SignatureEvidence",
    "CmsCore",
    "CmsEvidence",
    "CmsOutcome",
    "validate_signature",
    "validate_cms_signature",
    "validate_timestamp_set",
]

logger = logging.getLogger(__name__)

#: Failures that only mean "not established yet": more revocation data (fetched online) may settle them.
_FETCHABLE = {SubIndication.TRY_LATER, SubIndication.NO_CERTIFICATE_CHAIN_FOUND}
_FAILED = {
    SubIndication.FORMAT_FAILURE,
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.REVOKED,
    SubIndication.EXPIRED,
    SubIndication.NOT_YET_VALID,
}


class TimestampKind:
    SIGNATURE = "signature"
    CONTENT = "content"
    ARCHIVE = "archive"
    DOCUMENT = "document"


@dataclass
class AttachedTimestamp:
    """A time-stamp found with the signature, and what it should time-stamp.

    :param order: when it was added relative to the others (0 for signature and content time-stamps, then one
        more per archive or document time-stamp); a time-stamp vouches for those with a smaller order.
    :param expected_imprint: the digest of the time-stamped data for a hash algorithm, None if not available.
    """

    kind: str
    order: int
    token: TimestampToken | None
    expected_imprint: Callable[[str], bytes | None]
    parse_error: str | None = None
    coverage_failure: str | None = None

    @property
    def covers_signature(self) -> bool:
        return self.kind != TimestampKind.CONTENT


class SignatureCore(Protocol):
    """What differs between signature formats: how the signer's certificate is named, what the signature value
    covers and how it is checked, which algorithms it used. Everything else of the process is shared."""

    def claimed_signing_time(self) -> datetime | None:
        """The signing time the signer claims (never a proof); raises ValueError when unreadable."""
        ...

    def find_signer_certificate(self, candidates: list[x509.Certificate]) -> x509.Certificate | None: ...

    def signing_certificate_reference(self, cert: x509.Certificate) -> str:
        """``match``, ``mismatch`` or ``absent``: how the signed reference to the signer's certificate relates."""
        ...

    def check_integrity(
        self, cert: x509.Certificate, errors: list[Finding], warnings: list[Finding]
    ) -> SubIndication | None:
        """Verify the signature value and the digests of what it signs (§ 5.2.7); None when intact."""
        ...

    def crypto_constraints(
        self, cert: x509.Certificate, settings: ValidationSettings, moment: datetime
    ) -> tuple[SubIndication, str] | None:
        """The signature's own algorithms judged at `moment`; None when acceptable."""
        ...

    def facts(
        self,
        cert: x509.Certificate | None,
        *,
        qualification: Qualification | None,
        signing_certificate_signed: bool,
        revocation: RevocationFacts,
        deposit_time: datetime | None,
    ) -> SignatureFacts: ...


@dataclass
class SignatureEvidence:
    """Everything a format validator found about one signature.

    :param structural_failure: a container-level reason the signature cannot hold (e.g. the PDF was changed after
        signing); reported as TOTAL_FAILED/FORMAT_FAILURE once integrity is established.
    """

    core: SignatureCore
    material: ValidationMaterial
    timestamps: list[AttachedTimestamp] = field(default_factory=list)
    structural_failure: Finding | None = None
    findings_errors: list[Finding] = field(default_factory=list)
    findings_warnings: list[Finding] = field(default_factory=list)
    findings_infos: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class CmsCore:
    """One CMS SignerInfo as a :class:`SignatureCore`.

    :param content_digest: the digest of the signed content for a hash algorithm; None if the content is not
        available (a detached signature without its file).
    """

    signed_data: cms.SignedData
    signer_info: cms.SignerInfo
    content_digest: Callable[[str], bytes | None]

    def claimed_signing_time(self) -> datetime | None:
        return claimed_signing_time(self.signer_info)

    def find_signer_certificate(self, candidates: list[x509.Certificate]) -> x509.Certificate | None:
        return find_signer_certificate(self.signer_info, candidates)

    def signing_certificate_reference(self, cert: x509.Certificate) -> str:
        return signing_certificate_reference(self.signer_info, cert)

    def check_integrity(
        self, cert: x509.Certificate, errors: list[Finding], warnings: list[Finding]
    ) -> SubIndication | None:
        return _check_cms_integrity(self, cert, errors, warnings)

    def crypto_constraints(
        self, cert: x509.Certificate, settings: ValidationSettings, moment: datetime
    ) -> tuple[SubIndication, str] | None:
        suite = settings.crypto_suite
        verdict = suite.digest_algorithm_allowed(self.signer_info["digest_algorithm"], moment)
        if verdict.allowed:
            verdict = suite.signature_algorithm_allowed(
                self.signer_info["signature_algorithm"], moment, cert.public_key
            )
        return crypto_failure(verdict)

    def facts(self, cert, *, qualification, signing_certificate_signed, revocation, deposit_time) -> SignatureFacts:
        return signature_facts(
            self.signer_info,
            cert,
            qualification=qualification,
            signing_certificate_signed=signing_certificate_signed,
            revocation=revocation,
            deposit_time=deposit_time,
        )


def CmsEvidence(  # noqa: N802 - reads as the evidence type it builds, as before the process became generic
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    content_digest: Callable[[str], bytes | None],
    material: ValidationMaterial,
    **rest,
) -> SignatureEvidence:
    """The evidence of one CMS signature (PAdES, CAdES, ASiC with CAdES)."""
    return SignatureEvidence(CmsCore(signed_data, signer_info, content_digest), material, **rest)


@dataclass(frozen=True)
class CmsOutcome:
    indication: Indication
    subindication: SubIndication | None
    signer_cert: x509.Certificate | None
    claimed_signing_time: datetime | None
    best_signature_time: datetime | None
    trust_anchor: TrustAnchorRef | None
    timestamps: tuple[TimestampVerdict, ...]
    valid_timestamp_kinds: frozenset[str]
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    infos: tuple[Finding, ...]
    qualification: Qualification | None = None
    facts: SignatureFacts | None = None


@dataclass
class _TimestampResult:
    attached: AttachedTimestamp
    intact: bool
    valid: bool
    verdict: TimestampVerdict


@dataclass
class _KnownSoFar:
    """Facts for the policies, filled in as the process establishes them."""

    signing_certificate_signed: bool = False
    revocation: RevocationFacts = field(default_factory=RevocationFacts)


class _Findings:
    def __init__(self, evidence: SignatureEvidence):
        self.errors = list(evidence.findings_errors)
        self.warnings = list(evidence.findings_warnings)
        self.infos = list(evidence.findings_infos)


async def validate_signature(evidence: SignatureEvidence, settings: ValidationSettings) -> CmsOutcome:
    """Run the EN 319 102-1 process on one signature and return its verdict with the facts behind it."""
    findings = _Findings(evidence)
    core = evidence.core
    claimed = _safe_claimed_time(core, findings)
    known = _KnownSoFar()

    def outcome(indication, sub, cert=None, bst=None, anchor=None, ts=(), kinds=frozenset(), path=None) -> CmsOutcome:
        qualification = None
        if cert is not None:
            qualification = _qualify(
                settings, cert, path, evidence.material, bst or settings.validation_time, indication
            )
        facts = core.facts(
            cert,
            qualification=qualification,
            signing_certificate_signed=known.signing_certificate_signed,
            revocation=known.revocation,
            deposit_time=settings.deposit_time,
        )
        return CmsOutcome(
            indication,
            sub,
            cert,
            claimed,
            bst,
            anchor,
            tuple(ts),
            kinds,
            tuple(findings.errors),
            tuple(findings.warnings),
            tuple(findings.infos),
            qualification,
            facts,
        )

    # § 5.2.3: identification of the signing certificate
    cert = core.find_signer_certificate(evidence.material.certs)
    if cert is None:
        findings.errors.append(Finding("NO_SIGNING_CERTIFICATE", "The signer's certificate is not in the signature."))
        return outcome(Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND)
    reference = core.signing_certificate_reference(cert)
    known.signing_certificate_signed = reference == "match"
    if reference == "mismatch":
        findings.errors.append(
            Finding(
                "SIGNING_CERTIFICATE_MISMATCH", "The signed signing-certificate attribute names another certificate."
            )
        )
        return outcome(Indication.INDETERMINATE, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, cert)
    if reference == "absent":
        findings.warnings.append(
            Finding(
                "SIGNING_CERTIFICATE_NOT_SIGNED",
                "The signature does not sign a reference to its certificate (no signing-certificate attribute).",
            )
        )

    # § 5.2.7: cryptographic verification
    failure = core.check_integrity(cert, findings.errors, findings.warnings)
    if failure is not None:
        return outcome(_indication_for(failure), failure, cert)
    if evidence.structural_failure is not None:
        findings.errors.append(evidence.structural_failure)
        return outcome(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, cert)

    # § 5.4 / 5.5: time-stamps and the best signature time
    ts_results = await _validate_timestamps(evidence.timestamps, evidence.material, settings, findings.warnings)
    ts_verdicts = tuple(r.verdict for r in sorted(ts_results, key=lambda r: (r.attached.order, _ts_sort_key(r))))
    valid_kinds = frozenset(r.attached.kind for r in ts_results if r.valid)
    broken = [r for r in ts_results if not r.intact and r.verdict.subindication in _FAILED]
    bst = settings.validation_time
    for r in ts_results:
        if r.valid and r.attached.covers_signature and r.attached.token is not None:
            bst = min(bst, r.attached.token.gen_time)
    if settings.deposit_time is not None:
        bst = min(bst, settings.deposit_time)
    not_before = max(
        (r.attached.token.gen_time for r in ts_results if r.valid and r.attached.kind == TimestampKind.CONTENT),
        default=None,
    )

    signer_path: ValidationPath | None = None

    def done(indication, sub, anchor=None) -> CmsOutcome:
        return outcome(indication, sub, cert, bst, anchor, ts_verdicts, valid_kinds, signer_path)

    if broken:
        for r in broken:
            findings.errors.append(
                Finding(
                    "TIMESTAMP_BROKEN",
                    f"{_article(r.attached.kind)} {r.attached.kind} time-stamp of this signature is broken "
                    f"({r.verdict.message}); "
                    "the signature cannot be relied on as presented.",
                )
            )
        return done(Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE)
    if not_before is not None and not_before > bst + settings.time_tolerance:
        findings.errors.append(
            Finding("TIMESTAMP_ORDER", "The content time-stamp is later than the time-stamp over the signature.")
        )
        return done(Indication.INDETERMINATE, SubIndication.TIMESTAMP_ORDER_FAILURE)

    # cryptographic constraints on the signature itself, at the best signature time
    crypto = core.crypto_constraints(cert, settings, bst)
    if crypto is not None:
        findings.errors.append(Finding("CRYPTO_CONSTRAINTS", crypto[1]))
        return done(Indication.INDETERMINATE, crypto[0])

    # § 5.2.6 / 5.6.2: the signer's certificate path as of the best signature time
    path = await _signer_path(cert, evidence.material, settings, bst)
    signer_path = path.path
    known.revocation = await signer_revocation_facts(cert, path, settings, bst)
    anchor = _anchor_ref(path, settings)
    _chain_crypto_notes(signer_path, settings, bst, findings)
    _key_usage_notes(cert, findings)
    if claimed is not None:
        _claimed_time_notes(claimed, cert, bst, settings, findings, proven=bst < settings.validation_time)

    if path.ok:
        if bst < cert.not_valid_before:
            findings.errors.append(Finding("NOT_YET_VALID", "The signature existed before its certificate was issued."))
            return done(Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID, anchor)
        return done(Indication.TOTAL_PASSED, None, anchor)

    sub = path.subindication
    assert sub is not None
    if sub == SubIndication.TRY_LATER and bst > cert.not_valid_after:
        # revocation status does not matter for a certificate that had expired before any proof of existence
        path = PathCheck(
            bst,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            "The signing certificate expired before the earliest proof that the signature existed.",
        )
        sub = path.subindication
    findings.errors.append(Finding(_PATH_CODES.get(sub, "CERTIFICATE_PATH"), path.message or sub.value))
    if sub == SubIndication.NOT_YET_VALID and bst < cert.not_valid_before:
        return done(Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID, anchor)
    if sub == SubIndication.REVOKED_NO_POE and not_before is not None and path.revocation_time is not None:
        if not_before >= path.revocation_time:
            findings.errors.append(
                Finding("REVOKED", "A content time-stamp proves the signature was made after the revocation.")
            )
            return done(Indication.TOTAL_FAILED, SubIndication.REVOKED, anchor)
    if sub == SubIndication.OUT_OF_BOUNDS_NO_POE and not_before is not None and not_before > cert.not_valid_after:
        findings.errors.append(
            Finding("EXPIRED", "A content time-stamp proves the signature was made after the certificate expired.")
        )
        return done(Indication.TOTAL_FAILED, SubIndication.EXPIRED, anchor)
    return done(_indication_for(sub), sub, anchor)


validate_cms_signature = validate_signature


_PATH_CODES = {
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "NO_TRUSTED_CHAIN",
    SubIndication.REVOKED_NO_POE: "SIGNER_REVOKED",
    SubIndication.REVOKED_CA_NO_POE: "CA_REVOKED",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "CERTIFICATE_OUT_OF_VALIDITY",
    SubIndication.NOT_YET_VALID: "NOT_YET_VALID",
    SubIndication.TRY_LATER: "REVOCATION_UNKNOWN",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "CRYPTO_CONSTRAINTS",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "CRYPTO_CONSTRAINTS",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "CHAIN_CONSTRAINTS",
}


def _qualify(
    settings: ValidationSettings,
    cert: x509.Certificate,
    path: ValidationPath | None,
    material: ValidationMaterial,
    moment: datetime,
    indication: Indication,
) -> Qualification | None:
    """The signer's qualification from the trust source; without a validated path, its issuers by name."""
    if path is None:
        path = _issuer_chain(cert, material)
    return settings.trust.qualify(cert, path, moment, indication.value)


def _issuer_chain(cert: x509.Certificate, material: ValidationMaterial) -> ValidationPath | None:
    """The CAs above `cert` among the embedded certificates, matched by name (enough to look services up)."""
    by_subject = {c.subject.hashable: c for c in material.certs}
    chain = [cert]
    while len(chain) < 8:
        issuer = by_subject.get(chain[-1].issuer.hashable)
        if issuer is None or issuer.dump() in {c.dump() for c in chain}:
            break
        chain.append(issuer)
    if len(chain) == 1:
        return None
    root, *rest = reversed(chain)
    path = ValidationPath(TrustAnchor(AuthorityWithCert(root)), interm=rest[:-1], leaf=rest[-1])
    return path


def _indication_for(sub: SubIndication) -> Indication:
    return Indication.TOTAL_FAILED if sub in _FAILED else Indication.INDETERMINATE


def _safe_claimed_time(core: SignatureCore, findings: _Findings) -> datetime | None:
    try:
        return core.claimed_signing_time()
    except (ValueError, TypeError):
        findings.warnings.append(Finding("SIGNING_TIME_UNREADABLE", "The signing-time attribute cannot be read."))
        return None


_SINGLE_VALUED = ("content_type", "message_digest", "signing_time", "signing_certificate", "signing_certificate_v2")


def _duplicated_attribute(signer_info: cms.SignerInfo) -> str | None:
    """RFC 5652 clause 11 and RFC 5035: these signed attributes appear once, with one value; a second one lets two
    readers see two different signatures (a second signing time, a second certificate reference)."""
    seen: set[str] = set()
    attrs = signer_info["signed_attrs"]
    if attrs is None or isinstance(attrs, core.Void):
        return None
    for attr in attrs:
        name = attr["type"].native
        if name in _SINGLE_VALUED:
            if name in seen or len(attr["values"]) != 1:
                return name
            seen.add(name)
    return None


def _check_cms_integrity(
    core: CmsCore, cert: x509.Certificate, errors: list[Finding], warnings: list[Finding]
) -> SubIndication | None:
    signer_info = core.signer_info
    try:
        duplicated = _duplicated_attribute(signer_info)
    except (ValueError, TypeError, KeyError) as e:
        errors.append(Finding("SIGNATURE_STRUCTURE", f"The signed attributes cannot be read ({e})."))
        return SubIndication.FORMAT_FAILURE
    if duplicated is not None:
        errors.append(
            Finding(
                "DUPLICATED_SIGNED_ATTRIBUTE",
                f"The signed attribute {duplicated.replace('_', '-')} appears more than once or with several values.",
            )
        )
        return SubIndication.FORMAT_FAILURE
    md_algorithm = signer_info["digest_algorithm"]["algorithm"].native
    try:
        digest = core.content_digest(md_algorithm)
    except (ValueError, AttributeError, NotImplementedError) as e:  # pyHanko has no hash for an unknown OID
        errors.append(Finding("UNSUPPORTED_DIGEST", f"The digest algorithm cannot be computed ({e})."))
        return SubIndication.FORMAT_FAILURE
    if digest is None:
        errors.append(
            Finding("SIGNED_DATA_NOT_FOUND", "The signed data is not available: supply the signed file as content.")
        )
        return SubIndication.SIGNED_DATA_NOT_FOUND
    content_type = core.signed_data["encap_content_info"]["content_type"].native
    if has_negative_rsa_modulus(cert.public_key):
        warnings.append(
            Finding(
                "NON_DER_PUBLIC_KEY",
                "The signer's RSA modulus is encoded as a negative number (a known defect of some ID cards); "
                "it was read as the positive number it stands for.",
            )
        )
    try:
        intact, valid = validate_sig_integrity(signer_info, cert, content_type, digest, sig_validator=LENIENT_VALIDATOR)
    except pyhanko_errors.SignatureValidationError as e:
        errors.append(Finding("SIGNATURE_STRUCTURE", e.failure_message or "Malformed signature."))
        sub = e.ades_subindication
        if sub is not None and sub.standard_name in SubIndication.__members__:
            return SubIndication[sub.standard_name]
        return SubIndication.FORMAT_FAILURE
    except (ValueError, TypeError, NotImplementedError, AssertionError, KeyError) as e:
        # AssertionError/TypeError: certvalidator's verdict on a signature algorithm that does not fit the key
        errors.append(Finding("SIGNATURE_STRUCTURE", f"The signature cannot be verified ({type(e).__name__}: {e})."))
        return SubIndication.FORMAT_FAILURE
    if not intact:
        errors.append(Finding("HASH_MISMATCH", "The signed data does not match the signature: it was altered."))
        return SubIndication.HASH_FAILURE
    if not valid:
        errors.append(Finding("SIGNATURE_INVALID", "The signature value does not verify with the signer's key."))
        return SubIndication.SIG_CRYPTO_FAILURE
    return None


def crypto_failure(verdict) -> tuple[SubIndication, str] | None:
    """A crypto-suite verdict as the process reports it: no proof of existence before the algorithm's sunset, or
    an algorithm never acceptable."""
    if verdict.allowed:
        return None
    sub = (
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
        if verdict.not_allowed_after is not None
        else SubIndication.CRYPTO_CONSTRAINTS_FAILURE
    )
    reason = verdict.failure_reason or "algorithm not acceptable"
    if sub == SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE:
        reason += "; nothing proves the signature existed before then"
    return sub, reason[0].upper() + reason[1:] + "."


async def _signer_path(
    cert: x509.Certificate, material: ValidationMaterial, settings: ValidationSettings, moment: datetime
) -> PathCheck:
    """Embedded data first; the network only when that leaves the revocation status or the chain open."""
    check = await validate_certificate_path(cert, material, settings, moment, fetch=False)
    if not check.ok and check.subindication in _FETCHABLE and not settings.offline:
        check = await validate_certificate_path(cert, material, settings, moment, fetch=True)
    return check


def _anchor_ref(path: PathCheck, settings: ValidationSettings) -> TrustAnchorRef | None:
    anchor = path.anchor
    if anchor is None:
        return None
    return TrustAnchorRef(subject=describe_name(anchor.subject), source=settings.trust.anchor_source(anchor))


def _chain_crypto_notes(
    path: ValidationPath | None, settings: ValidationSettings, moment: datetime, findings: _Findings
) -> None:
    """Certificates of the path signed with algorithms the suite no longer accepts: a warning, as EU DSS does."""
    if path is None:
        return
    for cert in path.iter_certs(include_root=False):
        issuer_key = None
        try:
            issuer_key = path.find_issuing_authority(cert).public_key
        except (LookupError, ValueError, AttributeError):
            pass
        verdict = settings.crypto_suite.signature_algorithm_allowed(cert["signature_algorithm"], moment, issuer_key)
        if not verdict.allowed:
            findings.warnings.append(
                Finding(
                    "CERTIFICATE_WEAK_ALGORITHM",
                    f"The certificate of {describe_name(cert.subject)} is signed with an algorithm that is no longer "
                    f"acceptable: {verdict.failure_reason}.",
                )
            )


def _key_usage_notes(cert: x509.Certificate, findings: _Findings) -> None:
    usage = cert.key_usage_value
    if usage is not None and "non_repudiation" not in usage.native:
        findings.warnings.append(
            Finding(
                "KEY_USAGE_NOT_NON_REPUDIATION",
                "The signing certificate is not meant for signatures with legal commitment "
                "(its key usage lacks nonRepudiation); it may be an authentication certificate.",
            )
        )
    eku = cert.extended_key_usage_value
    if eku is not None:
        purposes = set(eku.native)
        if purposes and purposes <= {"client_auth", "server_auth"}:
            findings.warnings.append(
                Finding("EXTENDED_KEY_USAGE_AUTHENTICATION", "The signing certificate is restricted to authentication.")
            )


def _claimed_time_notes(
    claimed: datetime,
    cert: x509.Certificate,
    bst: datetime,
    settings: ValidationSettings,
    findings: _Findings,
    *,
    proven: bool,
) -> None:
    tolerance = timedelta(minutes=5)
    if proven and claimed > bst + tolerance:
        findings.warnings.append(
            Finding("SIGNING_TIME_AFTER_TIMESTAMP", "The claimed signing time is later than the time-stamp over it.")
        )
    if not (cert.not_valid_before <= claimed <= cert.not_valid_after):
        findings.warnings.append(
            Finding(
                "SIGNING_TIME_OUTSIDE_CERTIFICATE",
                "The claimed signing time is outside the certificate's validity period.",
            )
        )


async def validate_timestamp_set(
    timestamps: list[AttachedTimestamp], material: ValidationMaterial, settings: ValidationSettings
) -> tuple[TimestampVerdict, ...]:
    """Verdicts for time-stamps that belong to no single signature (PDF document time-stamps, a bare token)."""
    results = await _validate_timestamps(timestamps, material, settings, [])
    return tuple(r.verdict for r in sorted(results, key=lambda r: (r.attached.order, _ts_sort_key(r))))


async def _validate_timestamps(
    timestamps: list[AttachedTimestamp],
    material: ValidationMaterial,
    settings: ValidationSettings,
    warnings: list[Finding],
) -> list[_TimestampResult]:
    """Validate time-stamps latest first: a valid archive or document time-stamp vouches for earlier ones."""
    results: list[_TimestampResult] = []
    # (order, time) of every valid archive/document time-stamp seen so far
    vouching: list[tuple[int, datetime]] = []
    for attached in sorted(timestamps, key=lambda a: -a.order):
        result = await _validate_one_timestamp(attached, material, settings, vouching)
        results.append(result)
        if result.valid and attached.kind in (TimestampKind.ARCHIVE, TimestampKind.DOCUMENT) and attached.token:
            vouching.append((attached.order, attached.token.gen_time))
        if not result.valid and result.intact:
            warnings.append(
                Finding(
                    "TIMESTAMP_NOT_VALIDATED",
                    f"{_article(attached.kind)} {attached.kind} time-stamp could not be validated "
                    f"({result.verdict.message}); "
                    "it is not used as proof of existence.",
                )
            )
    return results


async def _validate_one_timestamp(
    attached: AttachedTimestamp,
    material: ValidationMaterial,
    settings: ValidationSettings,
    vouching: list[tuple[int, datetime]],
) -> _TimestampResult:
    def verdict(indication, sub, message, token=None, tsa=None) -> TimestampVerdict:
        return TimestampVerdict(
            type=attached.kind,
            time=token.gen_time if token else None,
            indication=indication,
            subindication=sub,
            tsa=tsa,
            message=message,
        )

    token = attached.token
    if token is None:
        v = verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, attached.parse_error or "malformed token")
        return _TimestampResult(attached, False, False, v)
    integrity = check_token_integrity(token, attached.expected_imprint)
    tsa_name = _tsa_name(integrity.tsa_cert)
    if integrity.failure is None and attached.coverage_failure:
        v = verdict(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, attached.coverage_failure, token, tsa_name)
        return _TimestampResult(attached, False, False, v)
    if integrity.failure is not None:
        ind = _indication_for(integrity.failure)
        v = verdict(ind, integrity.failure, integrity.message, token, tsa_name)
        return _TimestampResult(attached, ind != Indication.TOTAL_FAILED, False, v)
    assert integrity.tsa_cert is not None
    # the token is judged at its own time for revocation; expiry and algorithms at its proof-of-existence time
    poe = min([t for order, t in vouching if order > attached.order], default=settings.validation_time)
    check = await _token_path(token, integrity.tsa_cert, material, settings, token.gen_time)
    if check.ok:
        check = _token_still_acceptable(token, integrity.tsa_cert, settings, poe)
    if not check.ok:
        v = verdict(Indication.INDETERMINATE, check.subindication, check.message, token, tsa_name)
        return _TimestampResult(attached, True, False, v)
    qualified = settings.trust.timestamp_qualified(integrity.tsa_cert, token.gen_time)
    passed = dataclasses.replace(verdict(Indication.TOTAL_PASSED, None, None, token, tsa_name), qualified=qualified)
    return _TimestampResult(attached, True, True, passed)


async def _token_path(
    token: TimestampToken,
    tsa_cert: x509.Certificate,
    material: ValidationMaterial,
    settings: ValidationSettings,
    moment: datetime,
) -> PathCheck:
    check = await check_token_validity(token, tsa_cert, material, settings, moment, fetch=False)
    if not check.ok and check.subindication in _FETCHABLE and not settings.offline:
        check = await check_token_validity(token, tsa_cert, material, settings, moment, fetch=True)
    return check


def _token_still_acceptable(
    token: TimestampToken, tsa_cert: x509.Certificate, settings: ValidationSettings, poe: datetime
) -> PathCheck:
    """A token is only as good as the TSA certificate and the algorithms at the time the token is proven to exist."""
    if poe > tsa_cert.not_valid_after + settings.time_tolerance:
        return PathCheck(
            poe,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            "The TSA certificate has expired and no later time-stamp proves the token existed before",
        )
    suite = settings.crypto_suite
    signer_info = token.signed_data["signer_infos"][0]
    verdict = suite.signature_algorithm_allowed(signer_info["signature_algorithm"], poe, tsa_cert.public_key)
    if verdict.allowed:
        verdict = suite.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": token.imprint_algorithm}), poe)
    if not verdict.allowed:
        return PathCheck(poe, SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE, verdict.failure_reason)
    return PathCheck(poe, None)


def _tsa_name(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    cn = cert.subject.native.get("common_name")
    return cn if isinstance(cn, str) else describe_name(cert.subject)


def _ts_sort_key(result: _TimestampResult) -> datetime:
    token = result.attached.token
    return token.gen_time if token is not None else datetime.max.replace(tzinfo=timezone.utc)


def _article(word: str) -> str:
    return "An" if word[:1] in "aeiou" else "A"


@dataclass(frozen=True)
class CertificateJudgement:
    """A certificate judged on its own, as the signer's certificate of a signature made at `moment` would be."""

    indication: Indication
    subindication: SubIndication | None
    message: str | None
    trust_anchor: TrustAnchorRef | None
    qualification: Qualification | None
    revocation: RevocationFacts
    path: ValidationPath | None = None


async def judge_certificate(
    cert: x509.Certificate, material: ValidationMaterial, settings: ValidationSettings, moment: datetime
) -> CertificateJudgement:
    """The signer-certificate steps of the process (path, revocation, qualification) without a signature: what a
    bidder's pre-check needs to know before signing."""
    path = await _signer_path(cert, material, settings, moment)
    revocation = await signer_revocation_facts(cert, path, settings, moment)
    if path.ok:
        indication, sub, message = Indication.TOTAL_PASSED, None, None
    else:
        sub = path.subindication
        assert sub is not None
        indication, message = _indication_for(sub), path.message
    qualification = _qualify(settings, cert, path.path, material, moment, indication)
    anchor = _anchor_ref(path, settings)
    return CertificateJudgement(indication, sub, message, anchor, qualification, revocation, path.path)
