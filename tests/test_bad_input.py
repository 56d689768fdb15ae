"""Bad input: whatever is submitted, a verdict or one line on stderr, quickly, and never a traceback.

The contract of the ``trustsvc`` command (README, ../shared/DESIGN.md): either exit status 2 with exactly one line
on stderr starting with ``trustsvc: `` and nothing on stdout, or a verdict (exit status 0, 1 or 3) with the JSON
report on stdout. Most cases run the installed console script as a subprocess, each with its exact message; the
in-process tests below sweep many truncation points and crafted PDFs where a subprocess each would be overkill.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from conftest import PEM, ROOT_PEMS, SAMPLES, T_VAL, shared_path, validate
from trustsvc.errors import InputError, TrustSvcError, UnsupportedFormatError
from trustsvc.formats.detect import Kind, detect
from trustsvc.verdict import Indication

#: Seconds a single validation may take; the subprocess is killed a little later (start-up included).
TIME_LIMIT = 10.0
AT = "2026-11-28T12:00:00Z"
NOT_SIGNED = "not a signed document: neither PDF, XML, ZIP (ASiC), CMS/PKCS#7 nor an RFC 3161 time-stamp"
TRACEBACK_MARKERS = ("Traceback", 'File "', "internal error")


def _console_script() -> str:
    beside = Path(sys.executable).parent / "trustsvc"
    if beside.exists():
        return str(beside)
    found = shutil.which("trustsvc")
    if found is None:
        pytest.skip("the trustsvc console script is not installed (pip install -e .)")
    return found


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(*args: str | Path, cwd: Path) -> CliResult:
    command = [_console_script(), *map(str, args)]
    env = {k: v for k, v in os.environ.items() if k != "TRUSTSVC_DEBUG"}
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIME_LIMIT * 2, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(command[1:])}: still running after {TIME_LIMIT * 2:.0f} s")
    seconds = time.monotonic() - start
    assert seconds < TIME_LIMIT, f"{' '.join(command[1:])} took {seconds:.1f} s"
    return CliResult(proc.returncode, proc.stdout, proc.stderr, seconds)


def validate_cli(document: str | Path, *options: str | Path, cwd: Path) -> CliResult:
    return run_cli("validate", document, "--offline", *options, cwd=cwd)


def assert_refused(result: CliResult, message: str | re.Pattern) -> None:
    """Exit status 2, nothing on stdout, and exactly the one line `trustsvc: <message>` on stderr."""
    assert result.returncode == 2, result
    assert result.stdout == "", result
    assert not any(marker in result.stderr for marker in TRACEBACK_MARKERS), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, f"not one line: {result.stderr!r}"
    line = result.stderr[:-1]
    assert line.startswith("trustsvc: "), line
    if isinstance(message, re.Pattern):
        assert message.fullmatch(line[len("trustsvc: ") :]), line
    else:
        assert line == f"trustsvc: {message}"


def assert_verdict(result: CliResult) -> dict:
    """Exit status 0, 1 or 3 with the JSON report on stdout and nothing on stderr."""
    assert result.returncode in (0, 1, 3), result
    assert result.stderr == "", result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"document", "validation_time", "signatures"}
    return report


def _pdf_sample(name: str) -> bytes:
    return (SAMPLES / "pades" / name).read_bytes()


def _der_lengths(der: bytes) -> tuple[int, int]:
    """(header length, content length) of the outer DER element."""
    if der[1] < 0x80:
        return 2, der[1]
    count = der[1] & 0x7F
    return 2 + count, int.from_bytes(der[2 : 2 + count], "big")


# ---------------------------------------------------------------------------------------------------------------
# Crafted PDFs


def _minimal_pdf_body() -> tuple[bytearray, list[int]]:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(
        (
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ),
        start=1,
    ):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return out, offsets


def _xref_table(offsets: list[int]) -> bytes:
    entries = b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1) + entries


def pdf_xref_prev_to_itself() -> tuple[bytes, int]:
    """A classic cross-reference table whose trailer /Prev is its own offset."""
    out, offsets = _minimal_pdf_body()
    xref = len(out)
    out += _xref_table(offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (xref, xref)
    return bytes(out), xref


def pdf_xref_two_section_loop() -> tuple[bytes, int]:
    """Two cross-reference sections, each the /Prev of the other."""
    out, offsets = _minimal_pdf_body()
    first = len(out)

    def section(prev: int) -> bytes:
        return _xref_table(offsets) + b"trailer\n<< /Size 4 /Root 1 0 R /Prev %010d >>\n" % prev

    second = first + len(section(0))
    out += section(second) + section(first) + b"startxref\n%d\n%%%%EOF\n" % second
    return bytes(out), second


def pdf_xref_stream_prev_to_itself() -> tuple[bytes, int]:
    """A cross-reference stream whose /Prev is its own offset."""
    out, offsets = _minimal_pdf_body()
    xref = len(out)
    rows = [b"\x00\x00\x00\x00\xff"] + [b"\x01" + o.to_bytes(3, "big") + b"\x00" for o in [*offsets, xref]]
    data = zlib.compress(b"".join(rows))
    out += (
        b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 3 1] /Root 1 0 R /Prev %d /Filter /FlateDecode /Length %d >>\n"
        b"stream\n" % (xref, len(data))
    )
    out += data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out), xref


def _last_startxref(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def append_update(data: bytes, objects: dict[int, bytes], *, prev_to_itself: bool = False) -> bytes:
    """An incremental update (classic xref table) adding or replacing raw objects; the trailer of the last one."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    root = reader.trailer.raw_get("/Root")
    size = max(int(reader.trailer["/Size"]), *(n + 1 for n in objects))
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number, offset in sorted(offsets.items()):
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    prev = xref if prev_to_itself else _last_startxref(data)
    out += b"trailer\n<< /Size %d /Root %d %d R /Prev %d >>\n" % (size, root.idnum, root.generation, prev)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def catalog_with(data: bytes, extra: bytes) -> dict[int, bytes]:
    """The document catalogue rewritten with `extra` entries (raw PDF syntax) added."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    root_ref = reader.trailer.raw_get("/Root")
    buffer = io.BytesIO()
    reader.root.write_to_stream(buffer, None)
    body = buffer.getvalue().rstrip()
    assert body.endswith(b">>")
    return {root_ref.idnum: body[:-2] + b" " + extra + b" >>"}


def next_object_number(data: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(data), strict=False).trailer["/Size"])


DEEP = b"[" * 50_000 + b"]" * 50_000


@cache
def flate_bomb() -> bytes:
    """64 MiB of zeros, deflated twice: about 200 bytes (/Filter [/FlateDecode /FlateDecode])."""
    return zlib.compress(zlib.compress(b"\0" * (64 << 20), 9), 9)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def crafted_attacks(base: bytes) -> dict[str, bytes]:
    """Incremental updates on a signed PDF that loop, nest, inflate or reference themselves."""
    n = next_object_number(base)
    reader = PdfFileReader(io.BytesIO(base), strict=False)
    pages = reader.root.raw_get("/Pages").idnum
    acroform = reader.root.raw_get("/AcroForm")
    attacks = {
        "xref /Prev to itself": append_update(base, {n: b"<< /Foo 1 >>"}, prev_to_itself=True),
        "page tree cycle": append_update(base, {pages: b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % pages}),
        "nesting in the catalogue": append_update(base, catalog_with(base, b"/Foo " + DEEP)),
        "nesting in an object": append_update(base, {**catalog_with(base, b"/Foo %d 0 R" % n), n: DEEP}),
        "/Length refers to itself": append_update(
            base, {**catalog_with(base, b"/Foo %d 0 R" % n), n: b"<< /Length %d 0 R >>\nstream\nabc\nendstream" % n}
        ),
        "flate bomb": append_update(
            base,
            {
                **catalog_with(base, b"/Foo %d 0 R /Metadata %d 0 R" % (n, n)),
                n: _stream(b"/Type /Metadata /Subtype /XML /Filter [/FlateDecode /FlateDecode]", flate_bomb()),
            },
        ),
        "object stream holding itself": append_update(
            base,
            {
                **catalog_with(base, b"/Foo %d 0 R" % n),
                n: _stream(b"/Type /ObjStm /N 1 /First 5", b"%d 0 %d 0 R" % (n, n)),
            },
        ),
        "unknown stream filter": append_update(
            base, {**catalog_with(base, b"/Foo %d 0 R" % n), n: _stream(b"/Filter /NoSuchDecode", b"abc")}
        ),
    }
    if isinstance(acroform, generic.IndirectObject):
        attacks["form field cycle"] = append_update(
            base,
            {
                acroform.idnum: b"<< /Fields [%d 0 R] >>" % n,
                n: b"<< /FT /Sig /T (loop) /Kids [%d 0 R] /Parent %d 0 R >>" % (n, n),
            },
        )
    return attacks


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfFileWriter()
    writer.encrypt("owner-secret", user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dss_with_empty_ocsp(base: bytes) -> bytes:
    """A signed PDF whose DSS gains an OCSPResponse 'successful' without its responseBytes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(base))
    ref = writer.add_object(generic.StreamObject(stream_data=bytes.fromhex("30030a0100")))
    dss = writer.root.get("/DSS")
    if dss is None:
        writer.root["/DSS"] = generic.DictionaryObject({generic.pdf_name("/OCSPs"): generic.ArrayObject([ref])})
    else:
        dss = dss.get_object()
        dss.setdefault(generic.pdf_name("/OCSPs"), generic.ArrayObject()).append(ref)
        writer.mark_update(writer.root.raw_get("/DSS"))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def unknown_digest_algorithm(base: bytes) -> bytes:
    """A signed PDF whose CMS names an unknown digest algorithm (2.16.840.1.101.3.68.2.1 instead of SHA-256)."""
    match = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", base)
    assert match
    der = bytes.fromhex(match[1].decode())
    sha256 = bytes.fromhex("0609608648016503040201")
    assert sha256 in der
    changed = der.replace(sha256, bytes.fromhex("0609608648016503440201")).hex().encode()
    return base[: match.start(1)] + (changed.upper() if match[1][:8].isupper() else changed) + base[match.end(1) :]


# ---------------------------------------------------------------------------------------------------------------
# The command: refused with one line


def test_empty_file(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert_refused(validate_cli("empty.pdf", cwd=tmp_path), "the file is empty")


def test_random_bytes(tmp_path):
    data = random.Random(20261128).randbytes(4096)
    assert data[:1] != b"\x30" and b"%PDF-" not in data and b"PK\x05\x06" not in data
    (tmp_path / "random.bin").write_bytes(data)
    assert_refused(validate_cli("random.bin", cwd=tmp_path), NOT_SIGNED)


def test_random_bytes_that_look_like_der(tmp_path):
    data = b"\x30\x82\x0f\xfc" + random.Random(3161).randbytes(4092)
    (tmp_path / "random.p7m").write_bytes(data)
    pattern = re.compile(r"not a valid CMS/PKCS#7 or time-stamp structure \([^\n]+\)")
    assert_refused(validate_cli("random.p7m", cwd=tmp_path), pattern)
    with pytest.raises(InputError) as caught:
        detect(data)
    assert caught.value.code == "malformed-cms"


def test_text_file_named_pdf(tmp_path):
    (tmp_path / "bid.pdf").write_text("Dear sirs, please find our bid attached.\n")
    assert_refused(validate_cli("bid.pdf", cwd=tmp_path), NOT_SIGNED)


def _after_last_eof(data: bytes) -> str:
    trailing = len(data) - data.rindex(b"%%EOF") - 5
    return (
        f"not a readable PDF ({trailing} bytes follow its last %%EOF marker: the file is truncated, "
        "or something was appended to it)"
    )


@pytest.mark.parametrize("cut", ["header only", "middle", "before %%EOF"])
def test_truncated_pdf(tmp_path, cut):
    """b-t.pdf has two revisions: a cut inside the second leaves the first followed by bytes of no revision."""
    data = _pdf_sample("b-t.pdf")
    end = {"header only": data.index(b"\n") + 1, "middle": len(data) // 2, "before %%EOF": data.rindex(b"%%EOF")}[cut]
    truncated = data[:end]
    (tmp_path / "cut.pdf").write_bytes(truncated)
    message = (
        "not a readable PDF (Could not read malformed PDF file)" if cut == "header only" else _after_last_eof(truncated)
    )
    assert_refused(validate_cli("cut.pdf", cwd=tmp_path), message)


def test_signed_pdf_with_bytes_appended(tmp_path):
    data = _pdf_sample("b-lt.pdf") + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    (tmp_path / "appended.pdf").write_bytes(data)
    assert_refused(validate_cli("appended.pdf", cwd=tmp_path), _after_last_eof(data))


@pytest.mark.parametrize("sample", ["cades/enveloping-b-t.p7m", "cades/detached-b-t.p7s", "timestamps/bid.xml.tsr"])
def test_truncated_cms(tmp_path, sample):
    data = (SAMPLES / sample).read_bytes()
    half = data[: len(data) // 2]
    header, length = _der_lengths(data)
    (tmp_path / "cut.bin").write_bytes(half)
    expected = (
        "not a valid CMS/PKCS#7 or time-stamp structure "
        f"(Insufficient data - {length} bytes requested but only {len(half) - header} available)"
    )
    assert_refused(validate_cli("cut.bin", cwd=tmp_path), expected)


XREF_LOOPS = [pdf_xref_prev_to_itself, pdf_xref_two_section_loop, pdf_xref_stream_prev_to_itself]


@pytest.mark.parametrize("craft", XREF_LOOPS, ids=lambda f: f.__name__)
def test_pdf_whose_xref_loops(tmp_path, craft):
    data, offset = craft()
    (tmp_path / "loop.pdf").write_bytes(data)
    assert_refused(validate_cli("loop.pdf", cwd=tmp_path), f"not a readable PDF (startxref loop detected at {offset})")


def test_signed_pdf_whose_update_xref_loops(tmp_path):
    base = _pdf_sample("b-lt.pdf")
    data = append_update(base, {next_object_number(base): b"<< /Foo 1 >>"}, prev_to_itself=True)
    (tmp_path / "loop.pdf").write_bytes(data)
    offset = _last_startxref(data)
    assert_refused(validate_cli("loop.pdf", cwd=tmp_path), f"not a readable PDF (startxref loop detected at {offset})")


def test_dss_pades_infinite_loop_sample(tmp_path):
    path = shared_path("corpus", "dss", "pades", "pades_infinite_loop.pdf")
    assert_refused(validate_cli(path, cwd=tmp_path), "not a readable PDF (Stream ended prematurely)")


def test_directory_instead_of_a_file(tmp_path):
    (tmp_path / "bids").mkdir()
    assert_refused(validate_cli("bids", cwd=tmp_path), "Invalid value for 'FILE': File 'bids' is a directory.")


def test_missing_file(tmp_path):
    assert_refused(validate_cli("missing.pdf", cwd=tmp_path), "missing.pdf: no such file")


def test_missing_content_file(tmp_path):
    result = validate_cli(SAMPLES / "cades" / "detached-b-t.p7s", "--content", "bid.xml", cwd=tmp_path)
    assert_refused(result, "Invalid value for '--content': File 'bid.xml' does not exist.")


def test_garbage_at(tmp_path):
    result = validate_cli(SAMPLES / "pades" / "b-t.pdf", "--at", "yesterday", cwd=tmp_path)
    assert_refused(
        result, "Invalid value for '--at': 'yesterday' is not an ISO-8601 date or time (e.g. 2026-11-28T10:00:00Z)"
    )


def test_trust_anchor_that_is_text(tmp_path):
    (tmp_path / "root.pem").write_text("not a cert\n")
    result = validate_cli(SAMPLES / "pades" / "b-t.pdf", "--trust-anchor", "root.pem", cwd=tmp_path)
    assert_refused(
        result, "root.pem is not a certificate file (Insufficient data - 111 bytes requested but only 9 available)"
    )


def test_trust_anchor_that_is_empty(tmp_path):
    (tmp_path / "root.pem").write_bytes(b"")
    result = validate_cli(SAMPLES / "pades" / "b-t.pdf", "--trust-anchor", "root.pem", cwd=tmp_path)
    assert_refused(
        result, "root.pem is not a certificate file (Insufficient data - 1 bytes requested but only 0 available)"
    )


def test_trust_anchor_that_is_another_der_structure(tmp_path):
    shutil.copy(SAMPLES / "cades" / "enveloping-b-t.p7m", tmp_path / "root.der")
    result = validate_cli(SAMPLES / "pades" / "b-t.pdf", "--trust-anchor", "root.der", cwd=tmp_path)
    assert_refused(result, re.compile(r"root\.der is not a certificate file \([^\n]+\)"))


def test_missing_trust_anchor(tmp_path):
    result = validate_cli(SAMPLES / "pades" / "b-t.pdf", "--trust-anchor", "root.pem", cwd=tmp_path)
    assert_refused(result, "Invalid value for '--trust-anchor': File 'root.pem' does not exist.")


def test_pdf_encrypted_with_a_password(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(encrypted_pdf("user-secret"))
    result = validate_cli("locked.pdf", cwd=tmp_path)
    assert_refused(result, "the PDF is encrypted with a password; submit it unencrypted")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate",), "Missing argument 'FILE'."),
        (("validate", "x.pdf", "--bogus"), "No such option '--bogus'."),
        (
            ("validate", "x.pdf", "--output", "xml"),
            "Invalid value for '--output': 'xml' is not one of 'json', 'text', 'etsi-xml'.",
        ),
        (("frobnicate",), "No such command 'frobnicate'."),
    ],
    ids=["no file", "unknown option", "unknown output", "unknown command"],
)
def test_usage_errors(tmp_path, args, message):
    assert_refused(run_cli(*args, cwd=tmp_path), message)


# ---------------------------------------------------------------------------------------------------------------
# The command: verdicts


def test_cms_with_two_signer_infos_gives_two_verdicts(tmp_path):
    cases = yaml.safe_load((Path(__file__).parent / "cases" / "samples.yaml").read_text())
    (case,) = [c for c in cases if c["file"] == "cades/two-signers.p7s"]
    anchors = [opt for pem in ROOT_PEMS for opt in ("--trust-anchor", pem)]
    result = validate_cli(
        SAMPLES / "cades" / "two-signers.p7s",
        "--content",
        SAMPLES / "content" / "bid.xml",
        "--at",
        AT,
        *anchors,
        cwd=tmp_path,
    )
    report = assert_verdict(result)
    signatures = report["signatures"]
    assert [s["id"] for s in signatures] == ["sig-1", "sig-2"]
    got = [s["indication"] + (f"/{s['subindication']}" if s["subindication"] else "") for s in signatures]
    assert got == case["offline"]
    indications = {s["indication"] for s in signatures}
    expected_status = 1 if "TOTAL_FAILED" in indications else 0 if indications == {"TOTAL_PASSED"} else 3
    assert result.returncode == expected_status
    assert signatures[0]["signer"] != signatures[1]["signer"]


def test_pdf_without_signature_is_a_verdict(tmp_path):
    report = assert_verdict(result := validate_cli(SAMPLES / "pades" / "no-signature.pdf", cwd=tmp_path))
    assert result.returncode == 1
    assert [e["code"] for e in report["document"]["errors"]] == ["NO_SIGNATURE_FOUND"]


def test_pdf_encrypted_without_user_password_is_read(tmp_path):
    (tmp_path / "owner-only.pdf").write_bytes(encrypted_pdf(""))
    report = assert_verdict(result := validate_cli("owner-only.pdf", cwd=tmp_path))
    assert result.returncode == 1 and report["signatures"] == []


@pytest.mark.parametrize("name", ["page tree cycle", "form field cycle", "flate bomb"])
def test_crafted_pdf_through_the_command(tmp_path, name):
    data = crafted_attacks(_pdf_sample("b-lt.pdf"))[name]
    (tmp_path / "crafted.pdf").write_bytes(data)
    result = validate_cli("crafted.pdf", "--at", AT, "--trust-anchor", PEM / "ms-fr" / "root.pem", cwd=tmp_path)
    if result.returncode == 2:
        assert_refused(result, re.compile(r"(not a readable PDF|the PDF's form fields cannot be read) \([^\n]+\)"))
    else:
        report = assert_verdict(result)
        assert all(s["indication"] != "TOTAL_PASSED" for s in report["signatures"])


# ---------------------------------------------------------------------------------------------------------------
# In process: many truncation points, crafted PDFs


def run_isolated(coroutine):
    """Run a coroutine on an event loop of its own (leaving pytest-asyncio's loop and the global policy alone)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _validate_in_process(path: Path, anchors) -> tuple[object, float]:
    start = time.monotonic()
    try:
        outcome: object = run_isolated(validate(path, anchors=anchors, at=T_VAL))
    except TrustSvcError as e:
        outcome = e
    seconds = time.monotonic() - start
    assert seconds < TIME_LIMIT, f"{path.name} took {seconds:.1f} s"
    return outcome, seconds


@pytest.mark.parametrize(
    "sample",
    [
        "pades/b-t.pdf",
        "pades/b-lta.pdf",
        "pades/two-signatures.pdf",
        "cades/enveloping-b-lta.p7m",
        "cades/detached-b-lt.p7s",
        "timestamps/bid.xml.tsr",
    ],
)
def test_truncated_anywhere(tmp_path, anchors, sample):
    """Cut at 24 points: a clean one-line error, or a verdict; one that passes only if the cut ends a revision."""
    data = (SAMPLES / sample).read_bytes()
    cuts = sorted({1, 2, 16, len(data) - 1, *(len(data) * k // 21 for k in range(1, 21))})
    for cut in cuts:
        path = tmp_path / f"cut-{cut}{Path(sample).suffix}"
        path.write_bytes(data[:cut])
        outcome, _ = _validate_in_process(path, anchors)
        if isinstance(outcome, TrustSvcError):
            assert outcome.message and "\n" not in outcome.message, (cut, outcome.message)
            assert isinstance(outcome, InputError), (cut, outcome)
        elif not data[:cut].rstrip(b"\0\t\n\f\r ").endswith(b"%%EOF"):
            assert all(s.indication != Indication.TOTAL_PASSED for s in outcome.signatures), cut


def test_crafted_pdfs_in_process(tmp_path, anchors):
    """Loops, deep nesting, inflation bombs and self-references in an update to a PDF that otherwise passes."""
    base = _pdf_sample("b-lt.pdf")
    (tmp_path / "base.pdf").write_bytes(base)
    outcome, _ = _validate_in_process(tmp_path / "base.pdf", anchors)
    assert [s.indication for s in outcome.signatures] == [Indication.TOTAL_PASSED], "the base must pass"
    for name, data in crafted_attacks(base).items():
        path = tmp_path / (name.replace(" ", "-").replace("/", "") + ".pdf")
        path.write_bytes(data)
        outcome, _ = _validate_in_process(path, anchors)
        if isinstance(outcome, TrustSvcError):
            assert outcome.code == "unreadable-pdf" and "\n" not in outcome.message, (name, outcome.message)
        else:
            assert outcome.signatures, name
            assert all(s.indication != Indication.TOTAL_PASSED for s in outcome.signatures), name


def test_dss_ocsp_response_without_response_bytes(tmp_path, anchors):
    path = tmp_path / "empty-ocsp.pdf"
    path.write_bytes(dss_with_empty_ocsp(_pdf_sample("b-lt.pdf")))
    outcome, _ = _validate_in_process(path, anchors)
    assert not isinstance(outcome, TrustSvcError)


def test_unknown_digest_algorithm(tmp_path, anchors):
    path = tmp_path / "unknown-digest.pdf"
    path.write_bytes(unknown_digest_algorithm(_pdf_sample("b-b.pdf")))
    outcome, _ = _validate_in_process(path, anchors)
    assert not isinstance(outcome, TrustSvcError)
    (sig,) = outcome.signatures
    assert (sig.indication, sig.subindication.value) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")


# ---------------------------------------------------------------------------------------------------------------
# In process: detection


def _der(tag: int, content: bytes) -> bytes:
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def test_zip_with_damaged_first_header_is_refused_as_malformed(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.etsi.asic-e+zip")
        archive.writestr("META-INF/signatures001.xml", "<x/>")
    data = b"D?3\x00" + buffer.getvalue()[4:]
    assert detect(data).kind is Kind.ZIP  # still recognised as a container by its end record
    damaged = tmp_path / "damaged.asice"
    damaged.write_bytes(data)
    assert_refused(
        validate_cli(damaged, cwd=tmp_path),
        "The ZIP container is malformed: entry 'mimetype' has no local header where the central directory points",
    )


def test_signed_content_not_of_its_declared_type_is_unsupported():
    oid = bytes.fromhex("06092a864886f70d010702")  # signed-data
    encap = _der(0x30, oid + _der(0xA0, _der(0x04, b"Hello World")))
    signed_data = _der(0x30, _der(0x02, b"\x01") + _der(0x31, b"") + encap + _der(0x31, b""))
    content_info = _der(0x30, oid + _der(0xA0, signed_data))
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(content_info)
    assert caught.value.message == (
        "the signed content is declared as signed_data but is not one; such CMS signatures are not supported yet"
    )


@pytest.mark.parametrize(
    "sample", ["cades/enveloping-b-t.p7m", "cades/detached-b-lt.p7s", "cades/two-signers.p7s", "timestamps/bid.xml.tsr"]
)
def test_detection_parses_everything_and_changes_no_byte(sample):
    data = (SAMPLES / sample).read_bytes()
    detected = detect(data)
    assert detected.kind in (Kind.CMS, Kind.TIMESTAMP)
    signed_data = detected.content_info["content"]
    for signer_info in signed_data["signer_infos"]:
        assert signer_info["signed_attrs"].dump() in data
    if detected.kind is Kind.CMS:
        assert detected.content_info.dump() == data


def test_document_timestamp_typed_sig_is_a_document_timestamp(anchors):
    """DSS wrote document time-stamps as /Type /Sig until 2016: a time-stamp, not a signature to verify."""
    path = shared_path("corpus", "siva", "generic", "hellopades-pades-lt-sha256-sign.pdf")
    report = run_isolated(validate(path, anchors=anchors, at=T_VAL))
    assert len(report.signatures) == 1
    assert len(report.timestamps) == 1


def test_signature_placeholder_says_so(anchors):
    path = shared_path("corpus", "pyhanko", "pdf", "coverage-anomalies", "base.pdf")
    report = run_isolated(validate(path, anchors=anchors, at=T_VAL))
    (sig,) = report.signatures
    assert sig.indication == Indication.TOTAL_FAILED
    assert [e.code for e in sig.errors] == ["MALFORMED_SIGNATURE"]
    assert sig.errors[0].message == (
        "Signature field 'Sig1' is malformed: its /Contents holds no signature (an unsigned placeholder)."
    )


# -- XML and ASiC ---------------------------------------------------------------------------------------------------

_XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">&lol3;</ds:Signature>"""
_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><bid>&xxe;</bid>"""
_DTD_REFUSED = "XML input declares a DOCTYPE (DTDs and entities are refused)"


def _container(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name written on purpose
        archive.writestr("mimetype", "application/vnd.etsi.asic-e+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.xml", _XML_BOMB, _DTD_REFUSED),
        ("xxe.xml", _XXE, _DTD_REFUSED),
        (
            "deep.xml",
            b"<a>" * 5000 + b"</a>" * 5000,
            re.compile(r"XML input refused: Excessive depth in document: 256, .*"),
        ),
        ("broken.xml", b"<ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'><unclosed>", re.compile(r".*")),
        (
            "traversal.asice",
            _container([("../evil.txt", b"x"), ("META-INF/signatures001.xml", b"<x/>")]),
            re.compile(r".*'\.\./evil\.txt'.*"),
        ),
        (
            "bomb.asice",
            _container([("bid.pdf", bytes(60 * 1024 * 1024))], zipfile.ZIP_DEFLATED),
            re.compile(r"The ZIP entry 'bid\.pdf' expands \d+ times, more than the limit of 200 \(a ZIP bomb\)"),
        ),
        (
            "duplicate.asice",
            _container([("bid.pdf", b"a"), ("bid.pdf", b"b")]),
            re.compile(r".*'bid\.pdf'.*"),
        ),
    ],
    ids=["xml-bomb", "xxe", "too-deep", "not-well-formed", "zip-traversal", "zip-bomb", "zip-duplicate"],
)
def test_hostile_xml_and_containers_are_refused_in_one_line(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    result = validate_cli(path, cwd=tmp_path)
    assert_refused(result, message)
    assert "root:" not in result.stderr  # nothing of /etc/passwd


def test_an_xml_signature_over_nothing_is_not_a_pass(tmp_path):
    result = validate_cli(SAMPLES / "xades" / "no-references.xml", "--at", AT, cwd=tmp_path)
    report = assert_verdict(result)
    (signature,) = report["signatures"]
    assert (signature["indication"], signature["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert signature["errors"][0] == {
        "code": "NO_REFERENCE",
        "message": "The signature has no reference: it signs nothing.",
    }
    assert result.returncode == 1


def test_a_container_without_signature_is_no_signature(tmp_path):
    path = tmp_path / "unsigned.asice"
    path.write_bytes(_container([("bid.pdf", b"%PDF-1.7 not signed")]))
    report = assert_verdict(validate_cli(path, cwd=tmp_path))
    assert report["signatures"] == []
    assert report["document"]["format"] == "ASiC-E"
    assert [e["code"] for e in report["document"]["errors"]] == ["NO_SIGNATURE_FOUND"]
