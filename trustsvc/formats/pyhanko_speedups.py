"""A faster reader for PDF hex strings, the single largest cost of validating a small PDF with pyHanko.

A signature's ``/Contents`` is a hex string of tens of kilobytes; pyHanko reads it one byte at a time through a
generator (../shared/reference/performance.md: about a quarter of a PAdES validation). This reader finds the
closing ``>`` in blocks and decodes the digits in one call, with exactly pyHanko's semantics: PDF whitespace is
ignored, any other non-hex byte is an error, an odd number of digits is padded with 0, a string that never ends
is an error (and a comment inside, which pyHanko skips, is left to pyHanko's reader). Installed once, on import
(tests/test_pyhanko_speedups.py compares it with pyHanko's on edge cases).
"""

from __future__ import annotations

import binascii

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE, PdfStreamError

__all__ = ["read_hex_string_from_stream", "install"]

_WHITESPACE = PDF_WHITESPACE
_BLOCK = 1 << 16
_original = generic.read_hex_string_from_stream


def read_hex_string_from_stream(stream):
    opening = stream.tell()
    stream.read(1)  # the opening "<"
    start = stream.tell()
    parts = []
    consumed = 0
    while True:
        block = stream.read(_BLOCK)
        if not block:
            raise PdfStreamError("Stream ended prematurely")
        end = block.find(b">")
        if b"%" in (block if end < 0 else block[:end]):  # a comment inside: let pyHanko's reader skip it
            stream.seek(opening)
            return _original(stream)
        if end >= 0:
            parts.append(block[:end])
            stream.seek(start + consumed + end + 1)
            break
        parts.append(block)
        consumed += len(block)
    digits = b"".join(parts).translate(None, _WHITESPACE)
    stray = digits.translate(None, generic.HEX_DIGITS)
    if stray:
        raise PdfStreamError("Unexpected token in hex string: " + repr(stray[:1]))
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install() -> None:
    generic.read_hex_string_from_stream = read_hex_string_from_stream


def original():
    """pyHanko's own reader (for the equivalence tests)."""
    return _original


install()
