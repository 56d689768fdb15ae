"""PAdES: every signature and document time-stamp of a PDF, each judged on the revision it signed.

What pyHanko's AdES functions leave out is done here (../shared/reference/pyhanko.md §8): a signature whose
revision was changed afterwards in ways the PDF rules do not allow (modification level OTHER, DocMDP violations,
coverage short of the whole revision) fails with FORMAT_FAILURE, however good its cryptography; the Document
Security Store and the Adobe revocation attribute feed the revocation checks; document time-stamps are proofs of
existence for the signatures they cover.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from dataclasses import dataclass

from asn1crypto import cms, core
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt.api import AuthStatus
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.diff_analysis.policy_api import DiffResult
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from ..errors import InputError
from ..verdict import Finding, Indication, SignatureVerdict, SubIndication, TimestampVerdict
from . import pyhanko_speedups  # noqa: F401  (faster /Contents parsing)
from .cms_process import AttachedTimestamp, CmsEvidence, TimestampKind, validate_cms_signature, validate_timestamp_set
from .cms_signer import attribute_values, signer_identity
from .digests import digest_bytes
from .material import ValidationMaterial, material_from_signed_data, parsed_once
from .parse_errors import ASN1_ERRORS, PDF_ERRORS
from .pdf_diff import DIFF_POLICY
from .settings import ValidationSettings
from .tst import TimestampToken, TokenFormatError, parse_token

__all__ = ["PdfValidation", "validate_pdf"]

logger = logging.getLogger(__name__)

_PADES_SUBFILTERS = {"/ETSI.CAdES.detached"}
_PKCS7_SUBFILTERS = {"/adbe.pkcs7.detached", "/adbe.pkcs7.sha1"}


@dataclass(frozen=True)
class PdfValidation:
    """The verdicts for a PDF, plus its document time-stamps (which belong to no single signature)."""

    signatures: tuple[SignatureVerdict, ...]
    document_timestamps: tuple[TimestampVerdict, ...]


@dataclass
class _Field:
    name: str
    kind: str  # "/Sig" or "/DocTimeStamp"
    embedded: EmbeddedPdfSignature | None
    error: str | None
    revision: int


def open_pdf(data: bytes) -> PdfFileReader:
    """Parse a PDF's structure; anything that is not a readable PDF becomes an InputError.

    The reader applies pyHanko's decoding limits for untrusted input (no stream may inflate without bound, and the
    whole document has a decoding budget); cross-reference loops are detected by pyHanko while reading the xrefs.
    Bytes after the last %%EOF belong to no revision and no signature: pyHanko skips up to 1 KiB of them and would
    validate the previous revision of a file cut inside its last update, so they are refused here.
    """
    eof = data.rfind(b"%%EOF")
    trailing = data[eof + 5 :] if eof >= 0 else b""
    if trailing.strip(b"\0\t\n\f\r "):
        raise InputError(
            f"not a readable PDF ({len(trailing)} bytes follow its last %%EOF marker: the file is truncated, "
            "or something was appended to it)",
            code="unreadable-pdf",
        )
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DecodeLimits.for_untrusted_input())
        if reader.encrypted:
            if reader.decrypt(b"").status == AuthStatus.FAILED:
                raise InputError("the PDF is encrypted with a password; submit it unencrypted", code="encrypted-pdf")
        reader.root  # noqa: B018  (forces the trailer and catalogue to resolve)
        _memoise_revision_lookups(reader)
    except PDF_ERRORS as e:
        raise InputError(f"not a readable PDF ({_short(e)})", code="unreadable-pdf") from e
    return reader


def _memoise_revision_lookups(reader: PdfFileReader) -> None:
    """Cache "which revision introduced this object" for this reader.

    Difference analysis asks it for every object reachable from every later revision, once per signature: on a
    PDF with 25 signatures, 750,000 questions, each a scan of all xref sections (60% of the validation time).
    The xref table never changes once read, so the answer can be cached on this reader instance.
    """
    xrefs = reader.xrefs
    xrefs.get_introducing_revision = functools.cache(xrefs.get_introducing_revision)


async def validate_pdf(data: bytes, settings: ValidationSettings) -> PdfValidation:
    """Validate every signature of a PDF given as bytes."""
    reader = open_pdf(data)
    reader._trustsvc_orphan_data = _orphan_data(data, reader)  # read by _modification_check
    fields = _collect_fields(reader)
    document_material = _dss_material(reader)
    doc_timestamps = [f for f in fields if f.kind == "/DocTimeStamp"]
    verdicts: list[SignatureVerdict] = []
    number = 0
    for field_ in fields:
        if field_.kind != "/Sig":
            continue
        number += 1
        verdicts.append(
            await _validate_signature(reader, field_, f"sig-{number}", document_material, doc_timestamps, settings)
        )
    ts_verdicts = tuple(await _document_timestamp_verdicts(doc_timestamps, document_material, settings))
    return PdfValidation(tuple(verdicts), ts_verdicts)


def _collect_fields(reader: PdfFileReader) -> list[_Field]:
    """Every filled signature field: signatures, and document time-stamps (also the old /Type /Sig ones)."""

    def kind_of(sig_obj_ref) -> str:
        # early PAdES writers (DSS before 2016) typed document time-stamps /Sig; the /SubFilter tells them apart
        try:
            sig_obj = sig_obj_ref.get_object()
            if sig_obj.get("/Type") == "/DocTimeStamp" or sig_obj.get("/SubFilter") == "/ETSI.RFC3161":
                return "/DocTimeStamp"
        except (*PDF_ERRORS, *ASN1_ERRORS):
            pass
        return "/Sig"

    def reason(sig_obj_ref, error: BaseException) -> str:
        try:
            contents = sig_obj_ref.get_object().get("/Contents")
            raw = getattr(contents, "original_bytes", contents)
            if isinstance(raw, bytes) and not raw.strip(b"\0"):
                return "its /Contents holds no signature (an unsigned placeholder)"
        except (*PDF_ERRORS, *ASN1_ERRORS):
            pass
        return _short(error)

    fields: list[_Field] = []
    try:
        found = list(enumerate_sig_fields(reader, filled_status=True))
    except PDF_ERRORS as e:
        raise InputError(f"the PDF's form fields cannot be read ({_short(e)})", code="unreadable-pdf") from e
    if len(found) > MAX_SIGNATURE_FIELDS:
        raise InputError(
            f"The PDF has {len(found)} signed fields; at most {MAX_SIGNATURE_FIELDS} are validated in one document",
            code="too-many-signatures",
        )
    for name, sig_obj_ref, field_ref in found:
        kind = kind_of(sig_obj_ref)
        try:
            embedded = EmbeddedPdfSignature(reader, field_ref, name)
            revision = embedded.signed_revision
        except (*PDF_ERRORS, *ASN1_ERRORS, SignatureValidationError) as e:
            fields.append(_Field(name, kind, None, reason(sig_obj_ref, e), reader.xrefs.total_revisions))
            continue
        fields.append(_Field(name, kind, embedded, None, revision))
    fields.sort(key=lambda f: f.revision)
    return fields


_DSS_KINDS = {"/Certs": "certificate", "/CRLs": "crl", "/OCSPs": "ocsp"}
#: Most signed fields validated in one PDF (each costs a full validation; bids carry a handful).
MAX_SIGNATURE_FIELDS = 100


def _dss_material(reader: PdfFileReader) -> ValidationMaterial:
    """Certificates, CRLs and OCSP responses in the Document Security Store (PAdES B-LT)."""
    material = ValidationMaterial()
    try:
        dss = reader.root.get("/DSS")
        if dss is None:
            return material
        dss = dss.get_object()
        for key, adder in (
            ("/Certs", material.add_certs),
            ("/CRLs", material.add_crls),
            ("/OCSPs", material.add_ocsps),
        ):
            for ref in dss.get(key, generic.ArrayObject()):
                try:
                    adder([parsed_once(_DSS_KINDS[key], bytes(ref.get_object().data))])
                except (*PDF_ERRORS, *ASN1_ERRORS) as e:
                    logger.info("skipping unreadable DSS entry %s: %s", key, e)
    except PDF_ERRORS as e:
        logger.info("unreadable DSS: %s", e)
    return material


def _dss_revision(reader: PdfFileReader) -> int | None:
    """The first revision that has a DSS, if any."""
    for revision in range(reader.xrefs.total_revisions):
        try:
            if "/DSS" in reader.get_historical_root(revision):
                return revision
        except PDF_ERRORS:
            return None
    return None


async def _validate_signature(
    reader: PdfFileReader,
    field_: _Field,
    sig_id: str,
    document_material: ValidationMaterial,
    doc_timestamps: list[_Field],
    settings: ValidationSettings,
) -> SignatureVerdict:
    def broken(message: str) -> SignatureVerdict:
        return SignatureVerdict(
            id=sig_id,
            format="PAdES",
            level=None,
            indication=Indication.TOTAL_FAILED,
            subindication=SubIndication.FORMAT_FAILURE,
            signer=None,
            claimed_signing_time=None,
            best_signature_time=None,
            scope=None,
            errors=(Finding("MALFORMED_SIGNATURE", f"Signature field {field_.name!r} is malformed: {message}."),),
        )

    sig = field_.embedded
    if sig is None:
        return broken(field_.error or "unreadable")
    try:
        subfilter = str(sig.sig_object.get("/SubFilter", ""))
        evidence, scope, findings = _evidence(reader, sig, subfilter, document_material, doc_timestamps)
        outcome = await validate_cms_signature(evidence, settings)
        level = _level(reader, sig, subfilter, evidence, outcome.valid_timestamp_kinds, doc_timestamps)
    except (*PDF_ERRORS, *ASN1_ERRORS, SignatureValidationError) as e:
        return broken(_short(e))
    return SignatureVerdict(
        id=sig_id,
        format="PAdES",
        level=level,
        indication=outcome.indication,
        subindication=outcome.subindication,
        signer=signer_identity(outcome.signer_cert) if outcome.signer_cert else None,
        claimed_signing_time=outcome.claimed_signing_time or _pdf_signing_time(sig),
        best_signature_time=outcome.best_signature_time,
        trust_anchor=outcome.trust_anchor,
        qualification=outcome.qualification,
        timestamps=outcome.timestamps,
        scope=scope,
        errors=outcome.errors,
        warnings=outcome.warnings,
        infos=outcome.infos + tuple(findings),
        facts=outcome.facts,
    )


def _evidence(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    subfilter: str,
    document_material: ValidationMaterial,
    doc_timestamps: list[_Field],
) -> tuple[CmsEvidence, str, list[Finding]]:
    signed_data = sig.signed_data
    signer_info = sig.signer_info
    infos: list[Finding] = [
        Finding("PDF_FIELD", f"Signature field {sig.field_name!r}, revision {sig.signed_revision + 1}.")
    ]
    material = material_from_signed_data(signed_data, signer_info)
    material.extend(document_material)

    econtent = signed_data["encap_content_info"]["content"]
    if subfilter == "/adbe.pkcs7.sha1" and not isinstance(econtent, core.Void):
        wrapped = bytes(econtent)

        def content_digest(algorithm: str) -> bytes | None:
            # the signed content is the SHA-1 digest of the byte range; check that it is the document's
            return digest_bytes(algorithm, wrapped) if wrapped == sig.compute_digest("sha1") else b""
    else:

        def content_digest(algorithm: str) -> bytes | None:
            return sig.compute_digest(algorithm)

    structural, scope = _modification_check(sig, subfilter)
    timestamps = _attached_timestamps(signer_info, content_digest)
    for order, ts_field in enumerate(doc_timestamps, start=1):
        if ts_field.revision > sig.signed_revision:
            timestamps.append(_document_timestamp(ts_field, order))
    evidence = CmsEvidence(
        signed_data=signed_data,
        signer_info=signer_info,
        content_digest=content_digest,
        material=material,
        timestamps=timestamps,
        structural_failure=structural,
    )
    return evidence, scope, infos


_LINEARIZED = re.compile(rb"/Linearized\s")


def _orphan_data(data: bytes, reader: PdfFileReader) -> bool:
    """More end-of-file markers than revisions: an update (or loose objects) appended and then hidden behind a
    final startxref that points back to an older cross-reference section. Conforming readers skip it; readers that
    rebuild the file by scanning show it. (A linearized file has one extra marker for its first-page section.)"""
    markers = data.count(b"%%EOF")
    allowed = reader.xrefs.total_revisions + (1 if _LINEARIZED.search(data[:2048]) else 0)
    return markers > allowed


def _modification_check(sig: EmbeddedPdfSignature, subfilter: str) -> tuple[Finding | None, str]:
    """Coverage and the changes made after signing (shadow attacks, page content replaced, ...)."""
    if subfilter not in _PADES_SUBFILTERS | _PKCS7_SUBFILTERS:
        return Finding("UNSUPPORTED_SUBFILTER", f"Unsupported signature /SubFilter {subfilter or '(none)'}."), "NONE"
    coverage = sig.evaluate_signature_coverage()
    sig.coverage = coverage
    if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return (
            Finding(
                "PARTIAL_COVERAGE",
                "The signature does not cover its whole revision of the PDF (nonstandard /ByteRange).",
            ),
            "PARTIAL",
        )
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return None, "FULL"
    if sig.signed_revision >= sig.reader.xrefs.total_revisions - 1 or getattr(
        sig.reader, "_trustsvc_orphan_data", False
    ):
        # bytes after the signed revision that no cross-reference section accounts for: a conforming reader ignores
        # them, one that rebuilds the file by scanning shows them (attacker objects redefining signed ones)
        return (
            Finding(
                "DATA_AFTER_SIGNED_REVISION",
                "The PDF carries data after its signed revision that is not a valid incremental update.",
            ),
            "PARTIAL",
        )
    try:
        diff = sig.evaluate_modifications(DIFF_POLICY)
    except (*PDF_ERRORS, *ASN1_ERRORS) as e:
        diff = SuspiciousModification(f"the later revisions cannot be analysed ({_short(e)})")
    if isinstance(diff, SuspiciousModification) or not isinstance(diff, DiffResult):
        return (
            Finding("MODIFIED_AFTER_SIGNING", f"The PDF was changed after it was signed: {_first_sentence(diff)}."),
            "PARTIAL",
        )
    level = diff.modification_level
    docmdp = sig.docmdp_level
    if level == ModificationLevel.OTHER:
        return (
            Finding("MODIFIED_AFTER_SIGNING", "The PDF was changed after it was signed in ways a signed PDF forbids."),
            "PARTIAL",
        )
    if docmdp is not None and level.value > docmdp.value:
        return (
            Finding(
                "DOCMDP_VIOLATION",
                f"The PDF was changed after signing ({level.name.lower()}) beyond what its certification allows.",
            ),
            "PARTIAL",
        )
    return None, "FULL" if level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES) else "PARTIAL"


def _attached_timestamps(signer_info: cms.SignerInfo, content_digest) -> list[AttachedTimestamp]:
    signature_value = signer_info["signature"].native
    attached: list[AttachedTimestamp] = []
    for value in attribute_values(signer_info["unsigned_attrs"], "signature_time_stamp_token"):
        attached.append(_attach(TimestampKind.SIGNATURE, 0, value, lambda a: digest_bytes(a, signature_value)))
    for value in attribute_values(signer_info["signed_attrs"], "content_time_stamp"):
        attached.append(_attach(TimestampKind.CONTENT, 0, value, content_digest))
    return attached


def _attach(kind: str, order: int, value, expected) -> AttachedTimestamp:
    try:
        token: TimestampToken | None = parse_token(value)
        error = None
    except TokenFormatError as e:
        token, error = None, str(e)
    return AttachedTimestamp(kind=kind, order=order, token=token, expected_imprint=expected, parse_error=error)


def _document_timestamp(ts_field: _Field, order: int) -> AttachedTimestamp:
    ts = ts_field.embedded
    if ts is None:
        return AttachedTimestamp(TimestampKind.DOCUMENT, order, None, lambda a: None, parse_error=ts_field.error)
    attached = _attach(
        TimestampKind.DOCUMENT,
        order,
        cms.ContentInfo({"content_type": "signed_data", "content": ts.signed_data}),
        lambda a: ts.compute_digest(a),
    )
    try:
        coverage = ts.evaluate_signature_coverage()
    except PDF_ERRORS as e:
        coverage = SignatureCoverageLevel.UNCLEAR
        logger.info("document time-stamp coverage unreadable: %s", e)
    if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        attached.coverage_failure = "the document time-stamp does not cover its whole revision"
    return attached


async def _document_timestamp_verdicts(
    doc_timestamps: list[_Field], material: ValidationMaterial, settings: ValidationSettings
) -> list[TimestampVerdict]:
    """Document time-stamps on their own (also reported inside the verdict of each signature they cover)."""
    attached = [_document_timestamp(ts_field, order) for order, ts_field in enumerate(doc_timestamps, start=1)]
    return list(await validate_timestamp_set(attached, material, settings))


def _level(reader, sig, subfilter, evidence: CmsEvidence, valid_kinds, doc_timestamps: list[_Field]) -> str:
    prefix = "PAdES-BASELINE" if subfilter in _PADES_SUBFILTERS else "PKCS7"
    kinds = {t.kind for t in evidence.timestamps}
    if not ({TimestampKind.SIGNATURE, TimestampKind.DOCUMENT} & kinds):
        return f"{prefix}-B"
    has_revinfo = evidence.material.revocation_count > 0
    if not has_revinfo:
        return f"{prefix}-T"
    dss_revision = _dss_revision(reader)
    if dss_revision is not None and any(
        f.revision > sig.signed_revision and f.revision >= dss_revision for f in doc_timestamps
    ):
        return f"{prefix}-LTA"
    return f"{prefix}-LT"


def _pdf_signing_time(sig: EmbeddedPdfSignature):
    try:
        return sig.self_reported_timestamp
    except (*PDF_ERRORS, *ASN1_ERRORS):
        return None


def _first_sentence(error: object) -> str:
    text = _short(error)
    end = text.find(": ")
    end = text.find(". ") if end < 0 else end
    return (text[:end] if end > 0 else text).rstrip(".")


def _short(error: object) -> str:
    text = str(error).strip().replace("\n", " ")
    if not text:
        text = type(error).__name__
    return text[:300]
