"""Format validators. Each recognised kind of document has one; all return the same verdict type."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..verdict import SignatureVerdict, TimestampVerdict
from .cades import validate_cms
from .content import DetachedContent
from .detect import Detected, Kind, detect
from .pades import validate_pdf
from .settings import TrustProvider, ValidationSettings
from .timestamp import validate_timestamp_token

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
    raise InputError(f"no validator for {detected.kind.value} documents")
