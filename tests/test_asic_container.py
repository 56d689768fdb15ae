"""ASiC containers (EN 319 162-1) and the ZIP safety under them: hostile ZIPs are refused quickly, with a stable
code and message, and real containers from DSS and SiVa are read as their authors meant.

Every hostile ZIP is built here, with :mod:`zipfile` or by hand, and patched byte by byte where a header must lie.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import shared_path
from trustsvc.errors import InputError, UnsupportedFormatError
from trustsvc.formats.asic_container import (
    ASIC_E_MIMETYPE,
    ASIC_S_MIMETYPE,
    AsicContainer,
    read_container,
    resolve_uri,
)
from trustsvc.formats.zip_safety import ZipLimits, open_zip
from trustsvc.trust.xml_safety import XmlInputError

MiB = 1 << 20
BOMB_SIZE = 50 * MiB

# Offsets of fields in a local header and in a central directory header.
LOCAL_FLAGS, LOCAL_CRC, LOCAL_USIZE = 6, 14, 22
CENTRAL_FLAGS, CENTRAL_CRC, CENTRAL_USIZE = 8, 16, 24


# --- building ZIPs ----------------------------------------------------------------------------------------------


def make_zip(*entries: tuple[str, bytes] | tuple[str, bytes, int], **kwargs: Any) -> bytes:
    """A ZIP written by zipfile: (name, content[, compression]), deflated unless said otherwise."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which some tests want
        with zipfile.ZipFile(out, "w", **kwargs) as archive:
            for name, content, *method in entries:
                archive.writestr(zipfile.ZipInfo(name), content, compress_type=method[0] if method else 8)
    return out.getvalue()


@dataclass
class Raw:
    """One entry of a ZIP written by hand: names, flags and payloads exactly as given."""

    name: bytes
    content: bytes
    payload: bytes | None = None  # what is stored; None: the content itself, stored
    method: int = 0


def raw_zip(*entries: Raw, gap: bytes = b"") -> bytes:
    """A ZIP with `gap` bytes hidden between entries (their offsets still right)."""
    body = bytearray()
    central = bytearray()
    for index, entry in enumerate(entries):
        if index:
            body += gap
        payload = entry.content if entry.payload is None else entry.payload
        sizes = (zlib.crc32(entry.content), len(payload), len(entry.content), len(entry.name))
        central += struct.pack(
            "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, entry.method, 0, 0x21, *sizes, 0, 0, 0, 0, 0, len(body)
        )
        central += entry.name
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, entry.method, 0, 0x21, *sizes, 0)
        body += entry.name + payload
    count = len(entries)
    return bytes(
        body + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(body), 0)
    )


def central_offsets(data: bytes) -> list[int]:
    """Where each central directory header starts."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack_from("<HLL", data, eocd + 10)
    offsets = []
    for _ in range(count):
        offsets.append(offset)
        lengths = struct.unpack_from("<HHH", data, offset + 28)
        offset += 46 + sum(lengths)
    return offsets


def patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def patch_headers(data: bytes, index: int, local: int | None, central: int | None, fmt: str, value: int) -> bytes:
    """Set a field of entry `index` in its local header, its central header, or both."""
    if local is not None:
        data = patch(data, zipfile.ZipFile(io.BytesIO(data)).infolist()[index].header_offset + local, fmt, value)
    if central is not None:
        data = patch(data, central_offsets(data)[index] + central, fmt, value)
    return data


def refused(call: Callable[..., Any], *args: Any) -> InputError:
    """The InputError `call` raises, which it must raise within 2 seconds."""
    start = time.perf_counter()
    with pytest.raises(InputError) as error:
        call(*args)
    assert time.perf_counter() - start < 2
    return error.value


def read_all(data: bytes) -> None:
    archive = open_zip(data)
    for name in archive.names():
        archive.read(name)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """50 MB of zeros, deflated into some 50 KB."""
    return make_zip(("zeros.bin", bytes(BOMB_SIZE)))


# --- zip_safety: what an honest ZIP gives -----------------------------------------------------------------------


def test_reads_an_honest_zip(tmp_path) -> None:
    content = bytes(range(256)) * 1000
    data = make_zip(("b.txt", b"stored", 0), ("dir/", b"", 0), ("dir/a.bin", content))
    archive = open_zip(data)
    assert archive.names() == ["b.txt", "dir/", "dir/a.bin"]
    assert archive.size("dir/a.bin") == len(content)
    assert archive.read("b.txt") == b"stored"
    assert archive.read("dir/a.bin") == content
    assert archive.read("dir/") == b""
    assert archive.first_entry().filename == "b.txt"
    assert archive.info("dir/a.bin").compress_type == zipfile.ZIP_DEFLATED
    assert "b.txt" in archive and "nope" not in archive
    archive.extract_to("dir/a.bin", tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == content


def test_reads_data_descriptors_and_zip64_extras() -> None:
    """Streaming writers put sizes after the data (flag bit 3); some always write ZIP64 fields."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buffer = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:
            self.buffer += b
            return len(b)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("a.txt", b"streamed " * 100, compress_type=zipfile.ZIP_DEFLATED)
        with archive.open("b.txt", "w", force_zip64=True) as entry:
            entry.write(b"zip64 " * 100)
    data = bytes(stream.buffer)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("a.txt").flag_bits & 0x08
    archive = open_zip(data)
    assert archive.read("a.txt") == b"streamed " * 100
    assert archive.read("b.txt") == b"zip64 " * 100


def test_reads_a_zip64_end_record(monkeypatch) -> None:
    """zipfile writes the ZIP64 end record past 65535 entries; lower that threshold to get one cheaply."""
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    data = make_zip(("a.txt", b"a"), ("b.txt", b"b"))
    assert b"PK\x06\x06" in data
    archive = open_zip(data)
    assert archive.names() == ["a.txt", "b.txt"]
    assert archive.read("b.txt") == b"b"


def test_reading_beyond_a_cap_or_a_missing_entry_is_refused() -> None:
    archive = open_zip(make_zip(("a.txt", b"x" * 100)))
    error = refused(archive.read, "a.txt", 10)
    assert error.code == "zip-too-large"
    assert error.message == "The ZIP entry 'a.txt' declares 100 bytes, more than the 10 accepted here"
    error = refused(archive.read, "nope")
    assert (error.code, error.message) == ("zip-no-such-entry", "The ZIP container has no entry 'nope'")


# --- zip_safety: malformed --------------------------------------------------------------------------------------

NO_END = "The ZIP container is malformed: it has no end of central directory record (not a ZIP, or truncated)"
END_NOT_AT_END = (
    "The ZIP container is malformed: its end of central directory record is not at its end "
    "(truncated, or bytes appended)"
)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: b"", NO_END),
        (lambda d: b"not a zip at all", NO_END),
        (lambda d: d[: len(d) // 2], NO_END),
        (lambda d: d[:-5], NO_END),
        (lambda d: d + b"appended", END_NOT_AT_END),
        (
            lambda d: b"prepended" + d,
            "The ZIP container is malformed: its central directory is not where its end record says "
            "(bytes before or inside it)",
        ),
        (
            lambda d: d.replace(b"PK\x03\x04", b"D?3\x00", 1),  # what DSS's malformed-container.asice does
            "The ZIP container is malformed: entry 'a.txt' has no local header where the central directory points",
        ),
        (
            lambda d: d.replace(b"PK\x01\x02", b"PK\x01\x00", 1),
            "The ZIP container is malformed: central directory record 1 is damaged",
        ),
        (
            lambda d: patch(d, d.rfind(b"PK\x05\x06") + 10, "<H", 3),
            "The ZIP container is malformed: its end record counts 3 entries but its central directory holds 2",
        ),
        (
            lambda d: patch(d, d.rfind(b"PK\x05\x06") + 4, "<H", 1),
            "The ZIP container is malformed: it spans several disks",
        ),
    ],
    ids=["empty", "not-zip", "half", "truncated", "appended", "prepended", "local-sig", "central-sig", "count", "disk"],
)
def test_malformed(mangle: Callable[[bytes], bytes], message: str) -> None:
    error = refused(open_zip, mangle(make_zip(("a.txt", b"hello"), ("b.txt", b"world"))))
    assert (error.code, error.message) == ("zip-malformed", message)


def test_bytes_hidden_between_entries_are_refused() -> None:
    """A streaming reader would see the hidden bytes as an entry the central directory does not list."""
    data = raw_zip(Raw(b"a.txt", b"hello"), Raw(b"b.txt", b"world"), gap=b"PK\x03\x04 hidden entry")
    error = refused(open_zip, data)
    assert error.code == "zip-malformed"
    assert (
        error.message == "The ZIP container is malformed: entry 'b.txt' does not start where the entry before it ends"
    )


def test_two_names_for_one_local_header_are_refused() -> None:
    data = make_zip(("a.txt", b"hello"), ("b.txt", b"world"))
    offsets = central_offsets(data)
    data = patch(data, offsets[1] + 42, "<L", 0)  # b.txt's central record now points at a.txt's local header
    error = refused(open_zip, data)
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'b.txt' does not start where the entry before it ends",
    )


def test_a_local_header_naming_another_file_is_refused() -> None:
    data = make_zip(("a.txt", b"hello"))
    data = data.replace(b"a.txt", b"x.txt", 1)  # the local header only
    error = refused(open_zip, data)
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: the local header of entry 'a.txt' names another file",
    )


def test_a_crc_mismatch_is_refused_on_read() -> None:
    stored = make_zip(("a.txt", b"hello world", 0)).replace(b"hello world", b"hello World")
    archive = open_zip(stored)
    error = refused(archive.read, "a.txt")
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'a.txt' fails its CRC check",
    )
    deflated = make_zip(("a.txt", b"hello world" * 10))
    deflated = patch_headers(deflated, 0, LOCAL_CRC, CENTRAL_CRC, "<L", 1234)
    error = refused(open_zip(deflated).read, "a.txt")
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'a.txt' fails its CRC check",
    )


def test_broken_and_truncated_deflate_streams_are_refused_on_read() -> None:
    broken = raw_zip(Raw(b"a.txt", b"hello", payload=b"\xff" * 10, method=8))
    error = refused(open_zip(broken).read, "a.txt")
    assert error.code == "zip-malformed"
    assert error.message == (
        "The ZIP container is malformed: entry 'a.txt' has broken compressed data "
        "(Error -3 while decompressing data: invalid block type)"
    )
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    unfinished = compressor.compress(b"hello") + compressor.flush(zlib.Z_SYNC_FLUSH)  # no final block
    truncated = raw_zip(Raw(b"a.txt", b"hello", payload=unfinished, method=8))
    error = refused(open_zip(truncated).read, "a.txt")
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'a.txt' has truncated compressed data",
    )


def test_an_entry_holding_less_than_declared_is_refused_on_read() -> None:
    data = make_zip(("a.txt", b"x" * 1000))
    data = patch_headers(data, 0, LOCAL_USIZE, CENTRAL_USIZE, "<L", 2000)
    error = refused(open_zip(data).read, "a.txt")
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'a.txt' holds 1000 bytes, not the 2000 declared",
    )


# --- zip_safety: bombs and sizes --------------------------------------------------------------------------------


def test_a_deflate_bomb_is_refused_before_decompressing(bomb: bytes) -> None:
    compressed = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("zeros.bin").compress_size
    error = refused(open_zip, bomb)
    assert error.code == "zip-bomb"
    assert error.message == (
        f"The ZIP entry 'zeros.bin' expands {BOMB_SIZE // compressed} times, more than the limit of 200 (a ZIP bomb)"
    )


def test_a_bomb_lying_about_its_size_stops_at_the_declared_size(bomb: bytes, tmp_path) -> None:
    """Local and central headers agree on 1000 bytes; the stream holds 50 MB. zipfile would cut it short quietly."""
    lying = patch_headers(bomb, 0, LOCAL_USIZE, CENTRAL_USIZE, "<L", 1000)
    tracemalloc.start()
    try:
        archive = open_zip(lying)
        assert archive.size("zeros.bin") == 1000
        error = refused(archive.read, "zeros.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * MiB
    assert (error.code, error.message) == (
        "zip-bomb",
        "The ZIP entry 'zeros.bin' holds more than its declared 1000 bytes",
    )
    target = tmp_path / "zeros.bin"
    error = refused(archive.extract_to, "zeros.bin", target)
    assert error.code == "zip-bomb"
    assert not target.exists()


def test_a_central_directory_lying_alone_is_refused_at_open(bomb: bytes) -> None:
    lying = patch_headers(bomb, 0, None, CENTRAL_USIZE, "<L", 1000)
    error = refused(open_zip, lying)
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: the local and central headers of entry 'zeros.bin' disagree on its size "
        "or CRC",
    )


def test_too_many_entries_are_refused_before_zipfile_reads_them() -> None:
    data = make_zip(*((f"f{i}.txt", b"x", 0) for i in range(2000)))
    error = refused(open_zip, data)
    assert (error.code, error.message) == ("zip-too-many-entries", "The ZIP container has more than 1000 entries")
    eocd = data.rfind(b"PK\x05\x06")
    understated = patch(patch(data, eocd + 8, "<H", 1), eocd + 10, "<H", 1)  # "1 entry": the walk counts anyway
    error = refused(open_zip, understated)
    assert (error.code, error.message) == ("zip-too-many-entries", "The ZIP container has more than 1000 entries")
    error = refused(open_zip, make_zip(*((f"f{i}", b"") for i in range(6))), ZipLimits(max_entries=5))
    assert (error.code, error.message) == ("zip-too-many-entries", "The ZIP container has more than 5 entries")


def test_declared_sizes_beyond_the_limits_are_refused() -> None:
    huge = patch_headers(make_zip(("big.bin", b"x" * 5000)), 0, LOCAL_USIZE, CENTRAL_USIZE, "<L", 600 * MiB)
    error = refused(open_zip, huge)
    assert error.code == "zip-too-large"
    assert error.message == (
        f"The ZIP entry 'big.bin' declares {600 * MiB} bytes uncompressed, more than the limit of {512 * MiB}"
    )
    two = make_zip(("a.bin", b"x" * 2000), ("b.bin", b"y" * 2000))
    error = refused(open_zip, two, ZipLimits(max_total_uncompressed=3000))
    assert (error.code, error.message) == (
        "zip-too-large",
        "The ZIP container declares 4000 bytes uncompressed in total, more than the limit of 3000",
    )


# --- zip_safety: names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b"../evil.txt", "a '..' segment"),
        (b"/etc/passwd", "an absolute path"),
        (b"C:\\x", "a backslash"),
        (b"C:x", "a drive letter"),
        (b"a/../../b", "a '..' segment"),
        (b"a/..", "a '..' segment"),
        (b"a//b", "a '.' or empty segment"),
        (b"./a", "a '.' or empty segment"),
        (b"evil.txt\x00.pdf", "a NUL or control character"),
        (b"new\nline", "a NUL or control character"),
        (b"", "it is empty"),
        (b"a" * 1025, "longer than 1024 characters"),
    ],
    ids=["dotdot", "absolute", "backslash", "drive", "dotdot-inner", "dotdot-last", "empty-seg", "dot", "nul", "lf",
         "empty", "long"],
)  # fmt: skip
def test_unsafe_names_are_refused(name: bytes, reason: str) -> None:
    error = refused(open_zip, raw_zip(Raw(b"ok.txt", b"fine"), Raw(name, b"payload")))
    shown = name.decode("cp437")
    shown = repr(shown if len(shown) <= 100 else shown[:100] + "...")
    assert (error.code, error.message) == ("zip-unsafe-path", f"The ZIP entry {shown} has an unsafe name: {reason}")


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("a.txt", "a.txt", "The ZIP entry 'a.txt' appears twice"),
        ("Offer.pdf", "offer.PDF", "The ZIP entry 'offer.PDF' clashes with 'Offer.pdf' (case or Unicode form)"),
        (
            "caf\u00e9.txt",
            "cafe\u0301.txt",
            "The ZIP entry 'cafe\u0301.txt' clashes with 'caf\u00e9.txt' (case or Unicode form)",
        ),
        ("docs", "docs/", "The ZIP entry 'docs/' clashes with 'docs' (case or Unicode form)"),
    ],
    ids=["same", "case", "unicode-form", "file-and-folder"],
)
def test_duplicate_names_are_refused(first: str, second: str, message: str) -> None:
    error = refused(open_zip, make_zip((first, b"one", 0), (second, b"", 0)))
    assert (error.code, error.message) == ("zip-duplicate-entry", message)


# --- zip_safety: encryption and compression ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "central"), [(LOCAL_FLAGS, CENTRAL_FLAGS), (LOCAL_FLAGS, None), (None, CENTRAL_FLAGS)]
)
def test_encrypted_entries_are_refused(local: int | None, central: int | None) -> None:
    data = patch_headers(make_zip(("secret.txt", b"top secret")), 0, local, central, "<H", 0x0001)
    error = refused(open_zip, data)
    assert (error.code, error.message) == ("zip-encrypted", "The ZIP entry 'secret.txt' is encrypted")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compressions_are_refused(method: int) -> None:
    error = refused(open_zip, make_zip(("a.txt", b"hello" * 100, method)))
    assert error.code == "zip-unsupported-compression"
    assert error.message == (
        f"The ZIP entry 'a.txt' uses compression method {method} (only stored and deflated are supported)"
    )


def test_mangled_zips_only_ever_raise_input_errors() -> None:
    """Every prefix and a few thousand random byte changes of a small container: an InputError or a clean read."""
    data = asic(("mimetype", ASIC_E_MIMETYPE.encode(), 0), ("doc.txt", b"hello " * 50), ("META-INF/x.xml", b"<a/>"))
    rng = random.Random(319162)
    variants = [data[:cut] for cut in range(len(data))]
    for _ in range(3000):
        mangled = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        variants.append(bytes(mangled))
    start = time.perf_counter()
    outcomes = {"read": 0, "refused": 0}
    for variant in variants:
        try:
            read_all(variant)
            read_container(variant)
            outcomes["read"] += 1
        except InputError:
            outcomes["refused"] += 1
    assert time.perf_counter() - start < 20
    assert outcomes["refused"] > len(data)


# --- asic_container ---------------------------------------------------------------------------------------------


def asic(*entries: tuple[str, bytes] | tuple[str, bytes, int]) -> bytes:
    return make_zip(*entries)


def asic_manifest(sig_uri: str | None, *refs: str) -> bytes:
    """An ASiCManifest whose references are given as raw XML (sig_uri None: no SigReference at all)."""
    sig = f'<asic:SigReference URI="{sig_uri}" MimeType="application/pkcs7-signature"/>' if sig_uri is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"{sig}{''.join(refs)}</asic:ASiCManifest>"
    ).encode()


def data_ref(uri: str, algorithm: str, digest: str, extra: str = "") -> str:
    return (
        f'<asic:DataObjectReference URI="{uri}" MimeType="application/pdf"{extra}>'
        f'<ds:DigestMethod Algorithm="{algorithm}"/><ds:DigestValue>{digest}</ds:DigestValue>'
        "</asic:DataObjectReference>"
    )


SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_asic_s_with_a_stored_mimetype_first() -> None:
    data = asic(("mimetype", ASIC_S_MIMETYPE.encode(), 0), ("offer.pdf", b"%PDF"), ("META-INF/signature.p7s", b"0"))
    container = read_container(data)
    assert (container.kind, container.mimetype) == ("ASiC-S", ASIC_S_MIMETYPE)
    assert container.data_files == ("offer.pdf",)
    assert container.cades_signatures == ("META-INF/signature.p7s",)
    assert container.xades_signatures == container.timestamps == container.manifests == container.other_meta == ()
    assert container.warnings == ()
    assert container.zip.read("offer.pdf") == b"%PDF"


def test_asic_e_with_a_manifest() -> None:
    offer, annex = b"%PDF offer", b"annex"
    manifest = asic_manifest(
        "META-INF/signature001.p7s",
        data_ref("my%20offer.pdf", SHA256, b64(hashlib.sha256(offer).digest()), ' Rootfile="true"'),
        data_ref("./annexes/annex%C3%A9.txt", "http://www.w3.org/2007/05/xmldsig-more#sha3-256", "AAEC\n AwQ="),
        data_ref("x", "urn:example:unknown-digest", "AA=="),
    )
    data = asic(
        ("mimetype", ASIC_E_MIMETYPE.encode(), 0),
        ("my offer.pdf", offer),
        ("annexes/", b"", 0),
        ("annexes/annexé.txt", annex),
        ("META-INF/manifest.xml", b"<manifest/>"),
        ("META-INF/ASiCManifest001.xml", manifest),
        ("META-INF/signature001.p7s", b"cms"),
        ("META-INF/signatures001.xml", b"<xades/>"),
        ("META-INF/timestamp001.tst", b"tst"),
        ("META-INF/ASiCArchiveManifest.xml", b"<archive/>"),
    )
    container = read_container(data)
    assert container.kind == "ASiC-E"
    assert container.data_files == ("my offer.pdf", "annexes/annexé.txt")
    assert container.cades_signatures == ("META-INF/signature001.p7s",)
    assert container.xades_signatures == ("META-INF/signatures001.xml",)
    assert container.timestamps == ("META-INF/timestamp001.tst",)
    assert container.other_meta == ("META-INF/manifest.xml", "META-INF/ASiCArchiveManifest.xml")
    assert container.warnings == ()
    (parsed,) = container.manifests
    assert parsed.name == "META-INF/ASiCManifest001.xml"
    assert (parsed.signature_uri, parsed.signature_mime_type) == (
        "META-INF/signature001.p7s",
        "application/pkcs7-signature",
    )
    assert parsed.raw == manifest
    first, second, third = parsed.references
    assert (first.uri, first.digest_algorithm, first.mime_type, first.root_file) == (
        "my%20offer.pdf",
        "sha256",
        "application/pdf",
        True,
    )
    assert first.digest == hashlib.sha256(offer).digest()
    assert (second.digest_algorithm, second.digest, second.root_file) == ("sha3_256", bytes(range(5)), False)
    assert third.digest_algorithm == "urn:example:unknown-digest"
    assert resolve_uri(container, first.uri) == "my offer.pdf"
    assert resolve_uri(container, second.uri) == "annexes/annexé.txt"
    assert resolve_uri(container, third.uri) is None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("my%20offer.pdf", "my offer.pdf"),
        ("./my%20offer.pdf", "my offer.pdf"),
        ("my offer.pdf", "my offer.pdf"),
        ("annexes/../my%20offer.pdf", "my offer.pdf"),
        ("annexes/./a.txt", "annexes/a.txt"),
        ("../my%20offer.pdf", None),
        ("annexes/../../my%20offer.pdf", None),
        ("%2E%2E/my%20offer.pdf", None),
        ("/my%20offer.pdf", None),
        ("file:///my%20offer.pdf", None),
        ("http://example.com/my%20offer.pdf", None),
        ("C:my%20offer.pdf", None),
        ("my%20offer.pdf#page=1", None),
        ("annexes%5Ca.txt", None),
        ("my%00offer.pdf", None),
        ("%FF.pdf", None),
        ("annexes/", None),
        ("missing.pdf", None),
        ("", None),
    ],
)
def test_resolve_uri(uri: str, expected: str | None) -> None:
    data = asic(("my offer.pdf", b"1"), ("annexes/", b"", 0), ("annexes/a.txt", b"2"), ("META-INF/signature.p7s", b""))
    assert resolve_uri(read_container(data), uri) == expected


@pytest.mark.parametrize(
    ("entries", "kind"),
    [
        ((("offer.pdf", b"1"),), "ASiC-S"),
        ((("offer.pdf", b"1"), ("annex.pdf", b"2")), "ASiC-E"),
        ((("offer.pdf", b"1"), ("META-INF/ASiCManifest.xml", asic_manifest("META-INF/signature001.p7s"))), "ASiC-E"),
        ((), "ASiC-E"),
    ],
    ids=["one-file", "two-files", "manifest", "empty"],
)
def test_without_mimetype_the_kind_comes_from_the_contents(entries: tuple, kind: str) -> None:
    container = read_container(asic(*entries))
    assert (container.kind, container.mimetype) == (kind, None)
    assert container.warnings == (
        ("MIMETYPE_MISSING", f"the container has no mimetype entry; read as {kind} from its contents"),
    )


def test_mimetype_stored_the_wrong_way_is_a_warning() -> None:
    mimetype = zipfile.ZipInfo("mimetype")
    mimetype.extra = struct.pack("<HH", 0xCAFE, 2) + b"xx"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("offer.pdf", b"%PDF")
        archive.writestr(mimetype, ASIC_E_MIMETYPE + "\n", compress_type=zipfile.ZIP_DEFLATED)
    container = read_container(out.getvalue())
    assert (container.kind, container.mimetype) == ("ASiC-E", ASIC_E_MIMETYPE)
    assert container.warnings == (
        ("MIMETYPE_NOT_FIRST", "the mimetype entry is not the first entry of the ZIP"),
        ("MIMETYPE_COMPRESSED", "the mimetype entry is compressed; it should be stored"),
        ("MIMETYPE_EXTRA_FIELD", "the mimetype entry has an extra field; it should have none"),
        ("MIMETYPE_WHITESPACE", "the mimetype entry has whitespace around the media type"),
    )


def test_a_compressed_mimetype_alone() -> None:
    container = read_container(asic(("mimetype", ASIC_S_MIMETYPE.encode()), ("a.txt", b"a")))
    assert container.warnings == (("MIMETYPE_COMPRESSED", "the mimetype entry is compressed; it should be stored"),)


ODT = "application/vnd.oasis.opendocument.text"


@pytest.mark.parametrize(
    ("mimetype", "message"),
    [
        (ODT.encode(), f"not an ASiC container (mimetype '{ODT}')"),
        (b"", "not an ASiC container (mimetype '')"),
        (b"\xff\xfe", "not an ASiC container (mimetype b'\\xff\\xfe')"),
        (b"x" * 300, "not an ASiC container (mimetype entry of 300 bytes)"),
    ],
    ids=["odt", "empty", "binary", "long"],
)  # fmt: skip
def test_a_mimetype_other_than_asic_is_unsupported(mimetype: bytes, message: str) -> None:
    error = refused(read_container, asic(("mimetype", mimetype, 0), ("content.xml", b"<a/>")))
    assert isinstance(error, UnsupportedFormatError)
    assert (error.code, error.message) == ("unsupported-format", message)


def test_asic_s_with_several_data_files_is_refused() -> None:
    data = asic(("mimetype", ASIC_S_MIMETYPE.encode(), 0), ("a.pdf", b"1"), ("b.pdf", b"2"))
    error = refused(read_container, data)
    assert (error.code, error.message) == (
        "asic-s-several-files",
        "The ASiC-S container holds 2 data files; an ASiC-S container holds exactly one",
    )


def test_a_container_without_signature_is_returned_as_it_is() -> None:
    container = read_container(asic(("mimetype", ASIC_E_MIMETYPE.encode(), 0), ("a.pdf", b"1"), ("b.pdf", b"2")))
    assert container.cades_signatures == container.xades_signatures == container.timestamps == ()
    assert container.manifests == ()
    assert container.data_files == ("a.pdf", "b.pdf")


def test_asic_s_names_its_signature_exactly() -> None:
    data = asic(
        ("mimetype", ASIC_S_MIMETYPE.encode(), 0),
        ("a.pdf", b"1"),
        ("META-INF/signatures001.xml", b"<x/>"),
        ("META-INF/signature001.p7s", b"0"),
        ("META-INF/sub/signature.p7s", b"0"),
    )
    container = read_container(data)
    assert container.xades_signatures == ()
    assert container.cades_signatures == ("META-INF/signature001.p7s",)
    assert container.other_meta == ("META-INF/signatures001.xml", "META-INF/sub/signature.p7s")
    assert container.warnings == (
        (
            "NONSTANDARD_NAME",
            "META-INF/signatures001.xml is not read as a signature: ASiC-S names it META-INF/signatures.xml",
        ),
        ("NONSTANDARD_NAME", "META-INF/signature001.p7s is not named META-INF/signature.p7s as ASiC-S requires"),
    )


M = "META-INF/ASiCManifest.xml"
NO_ALGORITHM = "the reference to 'a.pdf' has no ds:DigestMethod/@Algorithm"
BAD_B64 = "the reference to 'a.pdf' has no valid base64 ds:DigestValue"


@pytest.mark.parametrize(
    ("manifest", "detail"),
    [
        (asic_manifest(None, data_ref("a.pdf", SHA256, "AA==")), "it has 0 asic:SigReference elements instead of one"),
        (asic_manifest("", data_ref("a.pdf", SHA256, "AA==")), "its asic:SigReference has no URI"),
        (
            asic_manifest("s.p7s").replace(b"<asic:Sig", b'<asic:SigReference URI="t.p7s"/><asic:Sig'),
            "it has 2 asic:SigReference elements instead of one",
        ),
        (
            asic_manifest("s.p7s").replace(b'URI="s.p7s"', b'Uri="s.p7s"'),
            "its asic:SigReference has no URI",
        ),
        (asic_manifest("s.p7s", data_ref("a.pdf", SHA256, "not base64!")), BAD_B64),
        (asic_manifest("s.p7s", data_ref("a.pdf", SHA256, "AAA")), BAD_B64),
        (asic_manifest("s.p7s", data_ref("a.pdf", SHA256, "")), BAD_B64),
        (asic_manifest("s.p7s", data_ref("a.pdf", "", "AA==")), NO_ALGORITHM),
        (asic_manifest("s.p7s", data_ref("", SHA256, "AA==")), "an asic:DataObjectReference has no URI"),
        (b'<ASiCManifest xmlns="urn:other"/>', "its root element is ASiCManifest, not asic:ASiCManifest"),
    ],
    ids=["no-sigref", "empty-sigref", "two-sigrefs", "sigref-no-uri", "bad-base64", "bad-padding", "no-digest",
         "no-algorithm", "no-uri", "wrong-namespace"],
)  # fmt: skip
def test_malformed_manifests_are_refused(manifest: bytes, detail: str) -> None:
    data = asic(("mimetype", ASIC_E_MIMETYPE.encode(), 0), ("a.pdf", b"1"), (M, manifest))
    error = refused(read_container, data)
    assert (error.code, error.message) == ("asic-manifest-malformed", f"The ASiC manifest '{M}' is malformed: {detail}")


def test_a_manifest_with_a_dtd_is_refused_by_the_xml_parser() -> None:
    manifest = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + asic_manifest("s.p7s").split(b"?>", 1)[1]
    error = refused(read_container, asic(("a.pdf", b"1"), (M, manifest)))
    assert isinstance(error, XmlInputError)
    assert error.code == "dtd-forbidden"


# --- real containers (../shared/corpus) -------------------------------------------------------------------------

NOT_FIRST = ("MIMETYPE_NOT_FIRST",)


@dataclass(frozen=True)
class Expected:
    kind: str
    data_files: tuple[str, ...]
    cades: tuple[str, ...] = ()
    xades: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    manifests: tuple[str, ...] = ()
    other_meta: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


CORPUS = {
    "dss/asic-xades/onefile-ok.asice": Expected(
        "ASiC-E", ("test.text",), xades=("META-INF/signatures001.xml",), other_meta=("META-INF/manifest.xml",),
        warnings=NOT_FIRST,
    ),
    "dss/asic-xades/onefile-ok.asics": Expected(
        "ASiC-S", ("test.text",), xades=("META-INF/signatures.xml",), warnings=NOT_FIRST
    ),
    "dss/asic-xades/multifiles-ok.asice": Expected(
        "ASiC-E", ("test.text", "test2.text"), xades=("META-INF/signatures001.xml", "META-INF/signatures002.xml"),
        other_meta=("META-INF/manifest.xml",), warnings=NOT_FIRST,
    ),
    "dss/asic-xades/no-signed-file.asice": Expected(
        "ASiC-E", (), xades=("META-INF/signatures0.xml", "META-INF/signatures1.xml"),
        other_meta=("META-INF/manifest.xml",), warnings=("MIMETYPE_COMPRESSED",),
    ),
    "dss/asic-cades/onefile-ok.asice": Expected(
        "ASiC-E", ("test.text",), cades=("META-INF/signature001.p7s",), manifests=("META-INF/ASiCManifest.xml",),
        warnings=NOT_FIRST,
    ),
    "dss/asic-cades/onefile-ok.asics": Expected(
        "ASiC-S", ("test.text",), cades=("META-INF/signature.p7s",), warnings=NOT_FIRST
    ),
    "dss/asic-cades/brokenReference.asice": Expected(
        "ASiC-E", ("test.text", "test2.text"), cades=("META-INF/signature001.p7s",),
        manifests=("META-INF/ASiCManifest.xml",), warnings=NOT_FIRST,
    ),
    "siva/tst-asics/1xTST-valid-bdoc-data-file.asics": Expected(
        "ASiC-S", ("valid-bdoc-tm.bdoc",), timestamps=("META-INF/timestamp.tst",)
    ),
    "siva-perf/small-2sig/ASICE.asice": Expected(
        "ASiC-E", ("atarktikaleping.pdf",), xades=("META-INF/signatures0.xml", "META-INF/signatures1.xml"),
        other_meta=("META-INF/manifest.xml",),
    ),
    "siva-perf/small-2sig/ASICS.asics": Expected(
        "ASiC-S", ("DDOC.ddoc",), timestamps=("META-INF/timestamp.tst",), other_meta=("META-INF/manifest.xml",)
    ),
}  # fmt: skip


def corpus_container(path: str) -> AsicContainer:
    return read_container(shared_path("corpus", *path.split("/")).read_bytes())


@pytest.mark.parametrize("path", sorted(CORPUS))
def test_real_containers(path: str) -> None:
    expected = CORPUS[path]
    container = corpus_container(path)
    assert container.kind == expected.kind
    assert container.mimetype == {"ASiC-S": ASIC_S_MIMETYPE, "ASiC-E": ASIC_E_MIMETYPE}[expected.kind]
    assert container.data_files == expected.data_files
    assert container.cades_signatures == expected.cades
    assert container.xades_signatures == expected.xades
    assert container.timestamps == expected.timestamps
    assert tuple(m.name for m in container.manifests) == expected.manifests
    assert container.other_meta == expected.other_meta
    assert tuple(code for code, _ in container.warnings) == expected.warnings
    for name in container.zip.names():
        assert len(container.zip.read(name)) == container.zip.size(name)


def test_real_asic_e_cades_manifest() -> None:
    container = corpus_container("dss/asic-cades/onefile-ok.asice")
    (manifest,) = container.manifests
    assert (manifest.signature_uri, manifest.signature_mime_type) == (
        "META-INF/signature001.p7s",
        "application/pkcs7-signature",
    )
    assert manifest.raw == container.zip.read("META-INF/ASiCManifest.xml")
    (reference,) = manifest.references
    assert (reference.uri, reference.digest_algorithm, reference.mime_type, reference.root_file) == (
        "test.text",
        "sha256",
        "text/plain",
        False,
    )
    assert container.zip.read(resolve_uri(container, reference.uri)) == b"Hello World !"
    assert reference.digest == hashlib.sha256(b"Hello World !").digest()


def test_real_broken_reference() -> None:
    """DSS changed test.text to "Hello Nowina !" after signing; test2.text still matches its digest."""
    container = corpus_container("dss/asic-cades/brokenReference.asice")
    (manifest,) = container.manifests
    assert manifest.signature_uri == "META-INF/signature001.p7s"
    matches = {
        ref.uri: hashlib.new(ref.digest_algorithm, container.zip.read(resolve_uri(container, ref.uri))).digest()
        == ref.digest
        for ref in manifest.references
    }
    assert matches == {"test.text": False, "test2.text": True}
    assert container.zip.read("test.text") == b"Hello Nowina !"


def test_real_malformed_container_is_refused() -> None:
    """DSS overwrote the first local header's signature (PK\\x03\\x04 -> D?3\\x00); the central directory is intact."""
    data = shared_path("corpus", "dss", "asic-xades", "malformed-container.asice").read_bytes()
    error = refused(read_container, data)
    assert (error.code, error.message) == (
        "zip-malformed",
        "The ZIP container is malformed: entry 'META-INF/manifest.xml' has no local header where the central "
        "directory points",
    )


def test_real_asic_s_timestamp_of_a_bdoc() -> None:
    container = corpus_container("siva/tst-asics/1xTST-valid-bdoc-data-file.asics")
    assert container.zip.first_entry().filename == "mimetype"
    assert container.zip.size("valid-bdoc-tm.bdoc") == 7199
    assert container.zip.read("valid-bdoc-tm.bdoc").startswith(b"PK\x03\x04")  # the signed data is itself a BDOC
