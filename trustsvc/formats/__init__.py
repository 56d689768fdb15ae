"""Format validators. Each recognised kind of document has one; all return the same verdict type."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..verdict import Finding, SignatureVerdict, TimestampVerdict
from .asic import validate_asic
from .cades import validate_cms
from .content import DetachedContent
from .detect import Detected, Kind, detect
from .pades import validate_pdf
from .settings import TrustProvider, ValidationSettings
from .timestamp import validate_timestamp_token
from .xades import validate_xades

__all__ = [
    "DetachedContent",
    "FormatResult",
    "Kind",
    "TrustProvider",
    "ValidationSettings",
    "detect",
    "validate_detected",
]


@dataclass(frozen=True)
class FormatResult:
    format: str
    signatures: tuple[SignatureVerdict, ...]
    document_timestamps: tuple[TimestampVerdict, ...] = ()
    document_errors: tuple[Finding, ...] = ()
    document_warnings: tuple[Finding, ...] = ()


async def validate_detected(
    detected: Detected, contents: list[DetachedContent], settings: ValidationSettings
) -> FormatResult:
    """Dispatch a recognised document to its validator."""
    if detected.kind is Kind.PDF:
        result = await validate_pdf(detected.data, settings)
        return FormatResult("PDF", result.signatures, result.document_timestamps)
    if detected.kind is Kind.CMS:
        assert detected.content_info is not None
        signatures = await validate_cms(detected.data, contents, settings)
        return FormatResult("CMS", tuple(signatures))
    if detected.kind is Kind.TIMESTAMP:
        assert detected.content_info is not None
        verdict = await validate_timestamp_token(detected.content_info, contents, settings)
        return FormatResult("RFC3161", (verdict,))
    if detected.kind is Kind.ZIP:
        asic = await validate_asic(detected.data, settings)
        return FormatResult(asic.format, tuple(asic.signatures), (), tuple(asic.errors), tuple(asic.warnings))
    if detected.kind is Kind.XML:
        return FormatResult("XML", tuple(await validate_xades(detected.data, contents, settings)))
    raise InputError(f"no validator for {detected.kind.value} documents")
