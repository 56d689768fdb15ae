"""The validation pipeline: a file in, a report out. Detection, then the format's validator; nothing else.

Policies (per pilot) and qualification plug in here later; the format validators below never see them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .formats import DetachedContent, ValidationSettings, detect, validate_detected
from .verdict import DocumentInfo, Finding, Report, TrustSummary

__all__ = ["Submission", "validate_submission", "DEFAULT_MAX_DOCUMENT_BYTES"]

#: Signed documents are read into memory (PDF and CMS parsing need random access); detached content is not.
DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    """What was submitted: the signed document, and the files it may sign detached."""

    document: Path
    contents: tuple[Path, ...] = ()
    filename: str | None = None
    content_names: tuple[str, ...] = ()


async def validate_submission(
    submission: Submission,
    settings: ValidationSettings,
    *,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    trust_summary: TrustSummary | None = None,
) -> Report:
    data = _read_document(submission.document, max_document_bytes)
    detected = detect(data)
    names = submission.content_names or tuple(p.name for p in submission.contents)
    contents = [DetachedContent(name, Path(path)) for name, path in zip(names, submission.contents, strict=True)]
    result = await validate_detected(detected, contents, settings)
    errors: tuple[Finding, ...] = result.document_errors
    if not result.signatures:
        errors = (Finding("NO_SIGNATURE_FOUND", "The document carries no signature."), *errors)
    document = DocumentInfo(
        filename=submission.filename or submission.document.name,
        sha256=hashlib.sha256(data).hexdigest(),
        format=result.format,
        errors=errors,
        warnings=result.document_warnings,
    )
    return Report(
        document=document,
        validation_time=settings.validation_time,
        signatures=result.signatures,
        timestamps=result.document_timestamps,
        trust=trust_summary,
    )


def _read_document(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(
                f"{path.name} is {size} bytes; signed documents over {limit} bytes are refused", code="too-large"
            )
        return path.read_bytes()
    except IsADirectoryError as e:
        raise InputError(f"{path} is a directory, not a file", code="not-a-file") from e
    except FileNotFoundError as e:
        raise InputError(f"{path}: no such file", code="not-found") from e
    except PermissionError as e:
        raise InputError(f"{path}: permission denied", code="unreadable") from e
