"""Recognising what a submitted file is, from its bytes rather than its name.

Bids arrive as PDFs, CMS files (sometimes Base64 or PEM armoured, as Italian .p7m files often are), time-stamp
responses or tokens, XML or ZIP containers. A file that is none of these is refused with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import struct
import zlib
from dataclasses import dataclass

from asn1crypto import cms, core, crl, tsp
from pyhanko.pdf_utils import misc

from ..errors import InputError, UnsupportedFormatError

__all__ = ["Kind", "Detected", "detect", "parse_fully", "ASN1_ERRORS", "PDF_ERRORS"]

#: What asn1crypto raises on a malformed or truncated structure (UnicodeDecodeError is a ValueError).
ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, NotImplementedError, RecursionError)

#: What pyHanko's PDF parser lets through on a malformed PDF: its own errors, and those of the codecs and of
#: Python (an unknown /Filter is a NotImplementedError, a broken Flate stream a zlib.error, a self-referencing
#: /Length or nesting too deep a RecursionError, and a few of its sanity checks are plain asserts).
PDF_ERRORS = (
    misc.PdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
    OverflowError,
    NotImplementedError,
    AssertionError,
    zlib.error,
    struct.error,
)

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
    if b"%PDF-" in head:
        return Detected(Kind.PDF, data)
    if data.startswith(b"PK\x03\x04"):
        raise UnsupportedFormatError("ZIP containers (ASiC) are not supported yet")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        raise UnsupportedFormatError("XML signatures (XAdES) are not supported yet")
    der = _unarmour(data)
    if der is None:
        if _ZIP_END in data[-_ZIP_END_SPAN:]:  # a ZIP whose first local header is damaged: still a container
            raise UnsupportedFormatError("ZIP containers (ASiC) are not supported yet")
        raise InputError("not a signed document: neither PDF nor CMS/PKCS#7 nor an RFC 3161 time-stamp")
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
            parse_fully(token)
            return Detected(Kind.TIMESTAMP, der, token)
        info = cms.ContentInfo.load(der)
        content_type = info["content_type"].native
        if content_type != "signed_data":
            raise InputError(f"the CMS file is {content_type}, not signed data", code="not-signed-data")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        econtent_type = encap["content_type"].native
        _check_econtent(encap, econtent_type)
        parse_fully(info)  # parse everything now, so that a truncated or malformed part is reported here
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


def parse_fully(value: core.Asn1Value) -> None:
    """Parse every nested element of an asn1crypto value now, without building its (slow) ``.native`` form.

    asn1crypto parses lazily: a malformed certificate or attribute deep inside a signature otherwise fails later,
    wherever it is first touched, with a ValueError. Raises one of ASN1_ERRORS. The entries of CRLs are left out:
    a CRL can list hundreds of thousands of certificates, and revocation checking reads them itself.
    """
    stack: list[core.Asn1Value] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, core.Void | crl.RevokedCertificates):
            continue
        if isinstance(item, core.Choice):
            stack.append(item.chosen)
        elif isinstance(item, core.Sequence | core.Set):
            stack.extend(item[name] for name in item)
        elif isinstance(item, core.SequenceOf | core.SetOf):
            stack.extend(item)
        elif isinstance(item, core.Any | core.ParsableOctetString | core.ParsableOctetBitString):
            parsed = item._parsed  # set when the schema gave this element a type (and asn1crypto parsed it)
            if parsed is not None:
                stack.append(parsed[0] if isinstance(parsed, tuple) else parsed)
        elif not isinstance(item, core.OctetString | core.OctetBitString | core.BitString):
            item.native  # noqa: B018  (times, strings, integers: decoding them is what can fail)


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
