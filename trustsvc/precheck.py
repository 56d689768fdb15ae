"""The bidder pre-check: before the deadline, will my certificate (or my signed test document) be accepted where
I bid, and if not, what do I do?

A certificate is judged as the signer's certificate of a PAdES B-B bid signed a little over a day ago (so that
revocation data issued now counts as fresh, as it would when the platform validates a real bid): its path to a
trusted-list or agreement anchor, its revocation status, its qualification, then every pilot's policy. A signed
test document is validated as a bid is. Either way each pilot's decision comes with the reason in plain words
and the next step. Nothing uploaded is kept: the bytes live in memory for the request only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from asn1crypto import keys, x509

from .engine import Submission, validate_submission
from .errors import InputError
from .formats import ValidationSettings
from .formats.cms_process import judge_certificate
from .formats.cms_signer import signer_identity
from .formats.material import ValidationMaterial
from .formats.parse_errors import ASN1_ERRORS
from .formats.signer_facts import certificate_facts
from .policy.apply import apply_policies, resolve_requests
from .policy.catalogue import PolicySet
from .trust.agreement_trust import with_agreement
from .verdict import (
    Decision,
    DocumentInfo,
    Indication,
    PolicyDecision,
    Report,
    RevocationFacts,
    SignatureFacts,
    SignatureVerdict,
    SubIndication,
)

__all__ = [
    "ADVICE",
    "PILOT_NAMES",
    "PilotAdvice",
    "PrecheckResult",
    "precheck_certificate",
    "precheck_document",
    "read_upload",
    "precheck_bytes",
    "precheck_upload",
    "result_to_dict",
]

#: Largest upload the pre-check reads (a certificate is a few KB; a test document should be small).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024

PILOT_NAMES = {
    "fr": "France",
    "it": "Italy",
    "cz": "Czech Republic",
    "se": "Sweden",
    "es": "Spain",
    "procure": "Cross-pilot agreement",
}

#: The plain-language texts of the pre-check, by stable id (the pages translate them; {pilot} is a pilot name).
ADVICE = {
    "accepted": "Accepted: a bid signed with this certificate meets the rules of {pilot}.",
    "accepted-document": "Accepted: this signed document meets the rules of {pilot}.",
    "R-CHAIN": "Your certificate was not issued by a certification authority that {pilot} trusts (the EU trusted "
    "lists, or the cross-pilot agreement). Get a certificate from a trust service provider on your country's "
    "trusted list.",
    "R-QC-ISS": "{pilot} requires a qualified certificate for electronic signatures. Ask a qualified trust "
    "service provider of your country for one.",
    "R-QC-SIG": "{pilot} requires a qualified certificate for electronic signatures. Ask a qualified trust "
    "service provider of your country for one.",
    "R-QSCD": "{pilot} requires a qualified electronic signature: a qualified certificate whose key is on a "
    "qualified signature creation device (a smart card, USB token or remote signing service certified as QSCD). "
    "Ask your trust service provider for a QSCD-based certificate.",
    "R-VAL": "Your certificate is not valid at the time of signing (expired or not yet valid). Renew it before "
    "you sign your bid.",
    "R-REV": "Your certificate is revoked or suspended. Contact your trust service provider and get a new "
    "certificate before you sign.",
    "R-REV-unknown": "Whether your certificate is revoked could not be checked now. Sign as usual: the platform "
    "checks it when you submit your bid.",
    "R-KU": "This certificate is meant for authentication, not for signing. Use the signing certificate of your "
    "card or token.",
    "R-NP": "This certificate belongs to an organisation (an electronic seal); {pilot} expects the signature of a "
    "natural person who represents the bidder.",
    "R-CRYPTO": "Your key or its algorithm is too weak for {pilot}. Request a new certificate (RSA of 3072 bits or "
    "more, or ECDSA P-256 or stronger).",
    "R-POL": "{pilot} expects signatures made under its signature policy. Use a signing tool configured for it.",
    "R-TST": "{pilot} requires a qualified time-stamp on the signature. Use a signing tool that adds one from a "
    "qualified time-stamping service.",
    "R-FMT": "{pilot} does not accept this signature format or level. Sign as PAdES (PDF), CAdES or XAdES.",
    "R-INT": "The signature of this document is broken: the document or the signature was changed after "
    "signing. Sign it again.",
    "R-SCERT": "The signature does not identify its signing certificate. Use an up-to-date signing tool.",
    "manual": "The authority of {pilot} will review this signature by hand; you may be asked for more information.",
    "retry": "The answer is not final yet (revocation data is still being published). Check again later.",
}

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_PRIVATE = (
    "This is a private key, not a certificate: it was refused and not kept. Never send your private key to "
    "anyone; upload your certificate (.cer, .crt or .pem) instead."
)


@dataclass(frozen=True)
class PilotAdvice:
    pilot: str
    policy_id: str | None
    decision: Decision
    reason: str
    next_step: str | None
    rule: str | None
    legal_basis: str | None
    advice_id: str | None = None  # the ADVICE key of next_step (for translation)


@dataclass(frozen=True)
class PrecheckResult:
    kind: str  # "certificate" or "document"
    subject: str
    issuer: str
    country: str | None
    not_before: datetime
    not_after: datetime
    qualification: str | None
    trusted_by: str | None
    pilots: tuple[PilotAdvice, ...]
    report: Report | None = None
    revocation_checked: bool = True
    """False when the service is offline: the decisions then assume the certificate is not revoked."""


def read_upload(data: bytes) -> x509.Certificate | None:
    """The certificate in `data` (PEM or DER), None when it is rather a signed document; refuses private keys
    and key stores (which hold one) without keeping anything."""
    if not data:
        raise InputError("The file is empty.", code="empty-file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", code="too-large")
    blocks = _PEM.findall(data[: 1 << 20])
    if any(b"PRIVATE KEY" in label for label, _ in blocks):
        raise InputError(_PRIVATE, code="private-key")
    for label, body in blocks:
        if label in (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"):
            return _certificate(_b64(body))
    if blocks:
        raise InputError("The PEM file holds no certificate.", code="not-a-certificate")
    if data[:1] == b"\x30":
        if _is_private_key(data):
            raise InputError(_PRIVATE, code="private-key")
        try:
            return _certificate(data)
        except InputError:
            return None  # a CMS signature or time-stamp: validated as a document
    return None


def _b64(body: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError("The PEM certificate is not valid base64.", code="not-a-certificate") from e


def _certificate(der: bytes) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(der)
        cert.native  # noqa: B018 - parse in full now
        return cert
    except ASN1_ERRORS as e:
        raise InputError("The file is not an X.509 certificate.", code="not-a-certificate") from e


def _is_private_key(der: bytes) -> bool:
    """PKCS#8 / PKCS#1 / SEC1 private keys, and PKCS#12 key stores (version 3 then a data ContentInfo)."""
    for spec in (keys.PrivateKeyInfo, keys.EncryptedPrivateKeyInfo, keys.RSAPrivateKey, keys.ECPrivateKey):
        try:
            spec.load(der, strict=True).native  # noqa: B018
            return True
        except ASN1_ERRORS:
            continue
    header = 2 if len(der) < 2 or der[1] < 0x80 or der[1] == 0x80 else 2 + (der[1] & 0x7F)
    return der[header : header + 4] == b"\x02\x01\x03\x30"  # PFX: version 3, then the authSafe ContentInfo


async def precheck_certificate(
    cert: x509.Certificate, settings: ValidationSettings, policies: PolicySet
) -> PrecheckResult:
    """Judge `cert` as the signer of a PAdES B-B bid under every pilot's policy."""
    now = settings.validation_time
    signed = now - timedelta(hours=25)
    if signed < cert.not_valid_before:
        signed = now
    material = ValidationMaterial()
    material.add_certs([cert])
    judged = await judge_certificate(cert, material, settings, signed)
    checked = True
    if judged.subindication == SubIndication.TRY_LATER and settings.offline:
        # offline, revocation cannot be known: answer "if it is not revoked", and say so (advice, not evidence)
        checked = False
        judged = dataclasses.replace(
            judged,
            indication=Indication.TOTAL_PASSED,
            subindication=None,
            revocation=RevocationFacts(latest_issued=now, latest_source="assumed: not checked offline"),
            qualification=settings.trust.qualify(cert, judged.path, signed, Indication.TOTAL_PASSED.value),
        )
    facts = SignatureFacts(
        signer=certificate_facts(cert, judged.qualification),
        digest_algorithm="sha256",
        signature_mechanism=_mechanism(cert),
        signature_hash="sha256",
        signing_certificate_signed=True,
        revocation=judged.revocation,
    )
    verdict = SignatureVerdict(
        id="certificate",
        format="PAdES",
        level="PAdES-BASELINE-B",
        indication=judged.indication,
        subindication=judged.subindication,
        signer=signer_identity(cert),
        claimed_signing_time=signed,
        best_signature_time=signed,
        trust_anchor=judged.trust_anchor,
        qualification=judged.qualification,
        facts=facts,
    )
    report = apply_policies(
        Report(document=_document(), validation_time=signed, signatures=(verdict,)),
        resolve_requests(["all"], policies),
        policies,
    )
    revoked = judged.revocation.revoked_at is not None
    result = _result("certificate", cert, judged.qualification, judged.trust_anchor, report, None, revoked)
    return dataclasses.replace(result, revocation_checked=checked)


async def precheck_document(
    data: bytes, filename: str, settings: ValidationSettings, policies: PolicySet
) -> PrecheckResult:
    """Validate a signed test document as a bid, then advise per pilot from its first signature's certificate."""
    with tempfile.TemporaryDirectory(prefix="trustsvc-precheck-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        report = await validate_submission(Submission(document=path, filename=filename), settings)
    report = apply_policies(report, resolve_requests(["all"], policies), policies)
    signature = next((s for s in report.signatures if s.facts is not None and s.signer is not None), None)
    if signature is None:
        raise InputError("The document carries no signature with a certificate to check.", code="no-signature")
    revoked = signature.facts is not None and signature.facts.revocation.revoked_at is not None
    return _result("document", None, signature.qualification, signature.trust_anchor, report, signature, revoked)


def _result(
    kind: str,
    cert: x509.Certificate | None,
    qualification,
    anchor,
    report: Report,
    signature: SignatureVerdict | None,
    revoked: bool,
) -> PrecheckResult:
    """The result for the page and the API: who the certificate names, and each pilot's advice."""
    if signature is not None:
        identity = signature.signer
        facts = signature.facts.signer if signature.facts else None
        subject, issuer, country = identity.subject, identity.issuer, identity.country
        not_before = facts.not_before if facts else report.validation_time
        not_after = facts.not_after if facts else report.validation_time
    else:
        assert cert is not None
        identity = signer_identity(cert)
        subject, issuer, country = identity.subject, identity.issuer, identity.country
        not_before, not_after = cert.not_valid_before, cert.not_valid_after
    advices = tuple(_advice(decision, kind, revoked) for decision in report.policies)
    return PrecheckResult(
        kind,
        subject,
        issuer,
        country,
        not_before,
        not_after,
        qualification.signature if qualification else None,
        anchor.source if anchor else None,
        advices,
        report if kind == "document" else None,
    )


_BLOCKING = ("FAILED", "PENDING", "UNDETERMINED")


def _advice(decision: PolicyDecision, kind: str, revoked: bool) -> PilotAdvice:
    pilot = decision.pilot or decision.id
    name = PILOT_NAMES.get(pilot, pilot)
    if decision.decision == Decision.ACCEPT:
        key = "accepted" if kind == "certificate" else "accepted-document"
        return PilotAdvice(pilot, decision.id, decision.decision, ADVICE[key].format(pilot=name), None, None, None, key)
    blocking = [r for r in decision.reasons if r.rule not in ("OUTCOME", "POLICY") and r.result in _BLOCKING]
    first = blocking[0] if blocking else None
    rule = first.rule if first else None
    key = rule if rule in ADVICE else None
    if rule == "R-REV" and not revoked:
        key = "R-REV-unknown"
    if key is None:
        key = "retry" if decision.decision == Decision.RETRY else "manual"
    reason = _without_signature_id(first.message if first else decision.reasons[0].message)
    return PilotAdvice(
        pilot,
        decision.id,
        decision.decision,
        reason,
        ADVICE[key].format(pilot=name),
        rule,
        first.legal_basis if first else None,
        key,
    )


def _without_signature_id(message: str) -> str:
    return re.sub(r"^(sig-\d+|certificate): ", "", message)


def _mechanism(cert: x509.Certificate) -> str:
    algorithm = cert.public_key.algorithm
    return {"rsa": "rsassa_pkcs1v15", "ec": "ecdsa", "dsa": "dsa"}.get(algorithm, algorithm)


def _document() -> DocumentInfo:
    return DocumentInfo(filename="(certificate pre-check)", sha256="", format="certificate")


async def precheck_bytes(
    data: bytes, filename: str, settings: ValidationSettings, policies: PolicySet
) -> PrecheckResult:
    """A certificate or a signed test document, whichever `data` is (private keys refused, nothing kept)."""
    cert = read_upload(data)
    if cert is not None:
        return await precheck_certificate(cert, settings, policies)
    return await precheck_document(data, filename, settings, policies)


async def precheck_upload(data: bytes, filename: str, context) -> PrecheckResult:
    """The service's pre-check: the trust snapshot in force and the service's fetcher (online unless offline)."""
    now = datetime.now(timezone.utc)
    trust = await asyncio.to_thread(with_agreement, context.trust.current.resolved.provider, context.engine, now)
    settings = ValidationSettings(validation_time=now, trust=trust, fetcher_backend=context.fetcher)
    return await precheck_bytes(data, filename, settings, context.policies)


def result_to_dict(result: PrecheckResult) -> dict:
    """The JSON form of the API and of ``trustsvc precheck --output json``."""
    return {
        "kind": result.kind,
        "certificate": {
            "subject": result.subject,
            "issuer": result.issuer,
            "country": result.country,
            "not_before": _stamp(result.not_before),
            "not_after": _stamp(result.not_after),
            "qualification": result.qualification,
            "trusted_by": result.trusted_by,
        },
        "pilots": [
            {
                "pilot": a.pilot,
                "name": PILOT_NAMES.get(a.pilot, a.pilot),
                "policy": a.policy_id,
                "decision": a.decision.value,
                "reason": a.reason,
                "next_step": a.next_step,
                "rule": a.rule,
                "legal_basis": a.legal_basis,
            }
            for a in result.pilots
        ],
        "revocation_checked": result.revocation_checked,
        "signatures": [s.to_dict() for s in result.report.signatures] if result.report is not None else None,
    }


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
