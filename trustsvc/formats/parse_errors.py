"""The exceptions malformed input raises inside the parsers we build on (asn1crypto, pyHanko's PDF reader).

Parsing is lazy in both libraries: a malformed certificate, attribute or PDF object fails wherever it is first
touched. Each signature's validation catches these and reports the signature as malformed; nothing escapes as a
traceback.
"""

from __future__ import annotations

import decimal
import struct
import zlib

from pyhanko.pdf_utils import misc

__all__ = ["ASN1_ERRORS", "PDF_ERRORS"]

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
    decimal.InvalidOperation,  # a number such as "." in an object
)
