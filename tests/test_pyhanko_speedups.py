"""The fast PDF hex-string reader behaves exactly like pyHanko's, on every shape of input."""

from __future__ import annotations

import io
import random

import pytest
from pyhanko.pdf_utils.misc import PdfStreamError

from trustsvc.formats import pyhanko_speedups

ORIGINAL = pyhanko_speedups.original()
FAST = pyhanko_speedups.read_hex_string_from_stream


def outcome(reader, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except PdfStreamError as e:
        return ("error", str(e))
    return (type(value).__name__, bytes(value.original_bytes), stream.tell())


CASES = [
    b"<>",
    b"<48656c6c6f>",
    b"<48656C6C6F> trailing",
    b"<4 8\n65\r6c\t6c\x006f\x0c>",
    b"<486>",  # odd: padded with 0
    b"<FEFF00480069>",  # UTF-16 BOM: a text string
    b"<48 65 zz>",
    b"<4865",  # never closed
    b"<48 % a comment\n65>",  # a comment inside: pyHanko skips it
    b"<" + b"ab" * 40000 + b">rest",  # longer than one block
    b"<" + b"0" * (1 << 16) + b">",  # ">" exactly after a block
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_same_result_as_pyhanko(data):
    assert outcome(FAST, data) == outcome(ORIGINAL, data)


def test_random_hex_strings():
    rng = random.Random(11)
    for _ in range(300):
        digits = "".join(rng.choice("0123456789abcdefABCDEF \n") for _ in range(rng.randint(0, 300)))
        data = b"<" + digits.encode() + b">" + rng.choice([b"", b" /Next 1"])
        assert outcome(FAST, data) == outcome(ORIGINAL, data)


def test_installed_in_pyhanko():
    from pyhanko.pdf_utils import generic

    assert generic.read_hex_string_from_stream is FAST
