"""Recognising what a submitted file is, from its bytes rather than its name.

Bids arrive as PDFs, CMS files (sometimes Base64 or PEM armoured, as Italian .p7m files often are), time-stamp
responses or tokens, XML or ZIP containers. A file that is none of these is refused with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass

from asn1crypto import cms, core, tsp

from ..errors import InputError, UnsupportedFormatError
from .parse_errors import ASN1_ERRORS

__all__ = ["Kind", "Detected", "detect"]

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_ZIP_END = b"PK\x05\x06"  # the end-of-central-directory record, in the last 22 bytes + at most 64 KiB of comment
_ZIP_END_SPAN = 22 + 0xFFFF


class Kind(enum.Enum):
    PDF = "PDF"
    CMS = "CMS"
    TIMESTAMP = "RFC3161"
    XML = "XML"
    ZIP = "ZIP"


@dataclass(frozen=True)
class Detected:
    kind: Kind
    data: bytes
    content_info: cms.ContentInfo | None = None


def detect(data: bytes) -> Detected:
    """Classify `data`; raise InputError (with a reason) when it is not a signed document."""
    if not data:
        raise InputError("the file is empty", code="empty-file")
    head = data[:1024]
    if data.startswith(b"PK\x03\x04"):  # before the PDF test: a container may store a PDF near its start
        return Detected(Kind.ZIP, data)
    if b"%PDF-" in head:
        return Detected(Kind.PDF, data)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return Detected(Kind.XML, data)
    der = _unarmour(data)
    if der is None:
        if _ZIP_END in data[-_ZIP_END_SPAN:]:  # a ZIP whose first local header is damaged: still a container
            return Detected(Kind.ZIP, data)
        raise InputError(
            "not a signed document: neither PDF, XML, ZIP (ASiC), CMS/PKCS#7 nor an RFC 3161 time-stamp",
            code="not-a-signed-document",
        )
    return _classify_der(der)


def _unarmour(data: bytes) -> bytes | None:
    if data[:1] == b"\x30":
        return data
    match = _PEM.search(data[: 1 << 20] if len(data) > (64 << 20) else data)
    if match:
        return _b64(match.group(2))
    if len(data) < (256 << 20) and _BASE64.match(data[:4096]) and _BASE64.match(data):
        return _b64(data)
    return None


def _b64(text: bytes) -> bytes | None:
    try:
        der = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return der if der[:1] == b"\x30" else None


def _classify_der(der: bytes) -> Detected:
    try:
        first_inner_tag = _first_inner_tag(der)
        if first_inner_tag == 0x30:  # TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ... }
            response = tsp.TimeStampResp.load(der)
            status = response["status"]["status"].native
            token = response["time_stamp_token"]
            if isinstance(token, core.Void):
                raise InputError(f"the time-stamp response carries no token (status: {status})", code="no-token")
            return Detected(Kind.TIMESTAMP, der, token)
        info = cms.ContentInfo.load(der)
        content_type = info["content_type"].native
        if content_type != "signed_data":
            raise InputError(f"the CMS file is {content_type}, not signed data", code="not-signed-data")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        econtent_type = encap["content_type"].native
        _check_econtent(encap, econtent_type)
    except InputError:
        raise
    except ASN1_ERRORS as e:
        raise InputError(f"not a valid CMS/PKCS#7 or time-stamp structure ({_short(e)})", code="malformed-cms") from e
    if econtent_type == "tst_info":
        return Detected(Kind.TIMESTAMP, der, info)
    return Detected(Kind.CMS, der, info)


def _check_econtent(encap: cms.EncapsulatedContentInfo, econtent_type: str) -> None:
    """The signed content must parse as the type it declares (asn1crypto parses it as such, and fails otherwise)."""
    try:
        encap["content"]  # noqa: B018
    except ASN1_ERRORS as e:
        if econtent_type in ("data", "tst_info"):
            raise
        raise UnsupportedFormatError(
            f"the signed content is declared as {econtent_type} but is not one; such CMS signatures are not "
            "supported yet"
        ) from e


def _first_inner_tag(der: bytes) -> int:
    """The tag of the first element inside the outer SEQUENCE."""
    if len(der) < 2:
        raise ValueError("truncated")
    length_byte = der[1]
    offset = 2 if length_byte < 0x80 else 2 + (length_byte & 0x7F)
    if offset >= len(der):
        raise ValueError("truncated")
    return der[offset]


def _short(error: Exception) -> str:
    text = str(error).strip().replace("\n", " ") or type(error).__name__
    return text[:200]
