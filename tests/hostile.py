"""Hostile inputs built from the signed samples: attacked, malformed, oversized and mutated documents.

Importable without pytest (``reliability/hostile_report.py`` runs the same generators). Every generator returns a
list of :class:`Case`: a name, the bytes of the document, the detached contents it comes with, the expectation
(:class:`Expect`) and the file name to submit it under. :func:`judge` applies the expectation to what trustsvc said
(a report or a clean error) and names the problems; :func:`run_case` validates one case in a thread of its own,
offline, as of ``T_VAL``, with a time limit and the Python heap peak measured.

Families (``FAMILIES``):

``pdf``
    Incremental-update attacks on signed PAdES samples (pades/b-lt.pdf, b-b.pdf, two-signatures.pdf), after
    Mladenov et al., "1 Trillion Dollar Refund" (2019): universal signature forgery (USF: /Contents or /ByteRange
    emptied, nulled, zeroed, removed, malformed, in place or in an update), incremental saving attacks (ISA: page
    content replaced, page added, catalogue replaced, objects appended without a cross-reference section, a full
    rewrite without /Prev), signature wrapping (SWA: signed bytes moved with attacker objects in the gap); and shadow
    attacks after Mainka, Mladenov, Rohlmann, "Shadow Attacks" (NDSS 2021) on a shadow document signed here (hide:
    overlay removed through a referenced object, the page or its bounding box; replace: font redefined, annotation
    appearance overwritten, form filled; hide-and-replace: catalogue, page tree or a cross-reference entry switched to
    shadow objects that were signed but unused).
``xml-wrapping``
    XML signature wrapping on xades/enveloped-* and enveloping-* (B-B and B-LT): duplicated Ids in several places,
    the signed object moved into a ds:Object, under a foreign-namespace wrapper or next to a comment, a reference
    switched to another element with the same content, duplicated SignedProperties and QualifyingProperties, a second
    ds:Signature, the KeyInfo certificate swapped.
``cms``
    CAdES (cades/*.p7m, *.p7s) with duplicated or missing signed attributes, re-signed with the signer's test key
    and re-time-stamped so that only the structure is wrong; digest and signature algorithms swapped; certificates
    removed, duplicated, shuffled or forged; signer identifier and content swapped.
``asic``
    ZIP bombs (high ratio, nested, lying sizes), path traversal, duplicate names, huge entry counts, encrypted and
    unsupported entries, and ASiC samples rebuilt with a replaced or an extra file.
``xml-size``
    Deep, huge and wide XML (1000-deep, 20 MB text node, 100k elements, attribute and namespace bombs, many Ids,
    many signatures), bare and inside a signed document.
``mutation``
    Every file of fixtures/samples truncated at 8 points (and, for PDFs, at each earlier revision's end) and
    bit-flipped at 10 seeded places inside what its signatures cover, plus explicit flips in the signature value and
    in the signed content (the detached content included).

Oracle: no signature TOTAL_PASSED, but those an expectation allows (a signature made after the manipulation, a
change the format allows, a control); the attacked signatures of the PDF family TOTAL_FAILED; or a clean one-line
InputError (with a ``zip-`` code for containers).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import hashlib
import io
import random
import re
import struct
import sys
import threading
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from asn1crypto import cms, core, crl, keys, ocsp, pem, x509
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
for _extra in (ROOT / "tests", ROOT / "fixtures" / "certs"):
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

from conftest import ROOT_PEMS, SAMPLES, T_VAL, validate  # noqa: E402
from trustsvc.errors import InputError, TrustSvcError  # noqa: E402
from trustsvc.trust.anchors import AnchorSet  # noqa: E402
from trustsvc.verdict import Indication, Report  # noqa: E402

__all__ = [
    "FAMILIES",
    "Case",
    "Expect",
    "Judgement",
    "Outcome",
    "all_cases",
    "judge",
    "run_case",
]

PEM_DIR = ROOT / "fixtures" / "certs" / "pem"
KEY_DIR = ROOT / "fixtures" / "certs" / "keys"
T_SIGN = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
SEED = 20261128

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"


# ---------------------------------------------------------------------------------------------------------------
# Cases, expectations, judgement


@dataclass(frozen=True)
class Expect:
    """What trustsvc may answer for one hostile input.

    :param may_pass: ids of signatures (``sig-1``, ...) allowed to be TOTAL_PASSED: made after the manipulation, or
        not covering the bytes changed. Every other signature must not be TOTAL_PASSED.
    :param must_fail: ids of signatures that, when reported, must be TOTAL_FAILED (the attacked ones).
    :param partial_pass: a change the format allows (form filling, an unsigned extra file): TOTAL_PASSED is allowed
        when the signature's scope says it does not cover everything (scope other than FULL).
    :param must_pass: a control: every signature must be TOTAL_PASSED (the manipulation machinery is sound).
    :param refusal: code prefixes of the InputErrors accepted instead of a verdict (empty: any code).
    :param must_refuse: only a clean InputError is acceptable.
    :param why: a note shown in failures and in the report.
    """

    may_pass: frozenset[str] = frozenset()
    must_fail: frozenset[str] = frozenset()
    partial_pass: bool = False
    must_pass: bool = False
    refusal: tuple[str, ...] = ()
    must_refuse: bool = False
    why: str = ""

    @property
    def any_pass_allowed(self) -> bool:
        return bool(self.may_pass) or self.partial_pass or self.must_pass


NEVER = Expect()
ALL_IDS = frozenset({"*"})  # in may_pass: every signature


class Case(NamedTuple):
    """One hostile input: ``name`` is ``family/sample/variant``."""

    name: str
    data: bytes
    contents: tuple[tuple[str, bytes], ...]
    expect: Expect
    filename: str
    isolate: bool = False  # validate in a forked process killed at the time limit (known to run long)

    @property
    def family(self) -> str:
        return self.name.split("/", 1)[0]


def _case(
    family: str,
    sample: str,
    variant: str,
    data: bytes,
    expect: Expect = NEVER,
    contents=(),
    filename=None,
    isolate: bool = False,
) -> Case:
    name = f"{family}/{sample}/{variant}"
    return Case(name, data, tuple(contents), expect, filename or Path(sample).name, isolate)


@dataclass
class Outcome:
    """What one validation gave: a report or an error, how long it took and the Python heap peak (bytes)."""

    report: Report | None
    error: BaseException | None
    seconds: float
    peak: int
    finished: bool = True


@dataclass
class Judgement:
    outcome: str  # TOTAL_PASSED / TOTAL_FAILED / INDETERMINATE / no-signature / refused:<code> / ...
    problems: list[str] = field(default_factory=list)
    allowed_pass: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def summary(outcome: Outcome) -> str:
    if outcome.error is not None:
        code = getattr(outcome.error, "code", "-")
        return f"{type(outcome.error).__name__}[{code}]: {outcome.error}"
    if outcome.report is None:
        return "no answer"
    return ", ".join(
        f"{s.id}={s.indication.value}" + (f"/{s.subindication.value}" if s.subindication else "") + f" ({s.scope})"
        for s in outcome.report.signatures
    ) or ("no signature: " + ",".join(e.code for e in outcome.report.document.errors))


def judge(case: Case, outcome: Outcome, *, time_limit: float, memory_limit: int) -> Judgement:
    """Apply the case's expectation to the outcome; every problem is one line."""
    expect = case.expect
    problems: list[str] = []
    if not outcome.finished:
        return Judgement("hang", [f"still running after {time_limit:.0f} s"])
    if outcome.seconds >= time_limit:
        problems.append(f"took {outcome.seconds:.1f} s (limit {time_limit:.0f} s)")
    if outcome.peak >= memory_limit:
        problems.append(f"Python heap peak {outcome.peak / 2**20:.0f} MiB (limit {memory_limit / 2**20:.0f} MiB)")
    error = outcome.error
    if error is not None:
        if not isinstance(error, TrustSvcError):
            problems.append(f"traceback: {type(error).__name__}: {' '.join(str(error).split())}")
            return Judgement("traceback", problems)
        label = f"refused:{error.code}"
        if not isinstance(error, InputError):
            problems.append(f"not an input error: {type(error).__name__}[{error.code}] {error.message}")
        if not error.message or "\n" in error.message or "Traceback" in error.message:
            problems.append(f"not a one-line message: {error.message!r}")
        if expect.refusal and not error.code.startswith(expect.refusal):
            problems.append(f"refused with {error.code!r}, expected a code starting with {expect.refusal}")
        if expect.must_pass:
            problems.append(f"control refused: {error.code}: {error.message}")
        return Judgement(label, problems)
    report = outcome.report
    assert report is not None
    if expect.must_refuse:
        problems.append(f"a verdict where a refusal was expected: {summary(outcome)}")
    signatures = report.signatures
    allowed_pass = False
    for sig in signatures:
        passed = sig.indication == Indication.TOTAL_PASSED
        if expect.must_pass and not passed:
            problems.append(f"control {sig.id} is not TOTAL_PASSED: {summary(outcome)}")
        if passed and not expect.must_pass:
            if sig.id in expect.may_pass or "*" in expect.may_pass or (expect.partial_pass and sig.scope != "FULL"):
                allowed_pass = True
            else:
                problems.append(f"{sig.id} TOTAL_PASSED: {summary(outcome)}")
        if sig.id in expect.must_fail and sig.indication != Indication.TOTAL_FAILED:
            problems.append(f"attacked {sig.id} is not TOTAL_FAILED: {summary(outcome)}")
        if not passed and not sig.errors:
            problems.append(f"{sig.id} is {sig.indication.value} without a reason")
    if expect.must_pass:
        if not signatures:
            problems.append("control has no signature")
        allowed_pass = True
    if not signatures:
        label = "no-signature"
    else:
        attacked = [s for s in signatures if s.id not in expect.may_pass] or list(signatures)
        worst = min(attacked, key=lambda s: _SEVERITY[s.indication])
        label = worst.indication.value
    return Judgement(label, problems, allowed_pass)


_SEVERITY = {Indication.TOTAL_FAILED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_PASSED: 2}


@functools.cache
def test_anchors() -> AnchorSet:
    return AnchorSet.from_files(ROOT_PEMS)


_trace_lock = threading.Lock()


def run_case(
    case: Case, workdir: Path, *, time_limit: float = 5.0, anchors: AnchorSet | None = None, trace: bool = True
) -> Outcome:
    """Validate `case` offline as of T_VAL in a thread of its own, waiting at most `time_limit` seconds.

    With `trace`, the Python heap peak of the validation is measured with tracemalloc (started here if it is not
    running yet; it is process-wide, so cases must not run concurrently).
    """
    anchors = anchors or test_anchors()
    if case.isolate:
        return _run_isolated(case, workdir, time_limit=time_limit, anchors=anchors, trace=trace)
    document, content_paths = _write_case(case, workdir)
    box: dict[str, object] = {}

    def work() -> None:
        start = time.monotonic()
        try:
            loop = asyncio.new_event_loop()
            try:
                box["report"] = loop.run_until_complete(
                    validate(document, anchors=anchors, contents=content_paths, online=False, at=T_VAL)
                )
            finally:
                loop.close()
        except BaseException as e:  # judged by the caller: only an InputError is acceptable
            box["error"] = e
        box["seconds"] = time.monotonic() - start

    with _trace_lock:
        if trace and not tracemalloc.is_tracing():
            tracemalloc.start()
        if trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        worker = threading.Thread(target=work, name=f"hostile {case.name}", daemon=True)
        worker.start()
        worker.join(time_limit)
        if worker.is_alive():
            return Outcome(None, None, time_limit, 0, finished=False)
        peak = tracemalloc.get_traced_memory()[1] - base if trace else 0
    seconds = box["seconds"]
    assert isinstance(seconds, float)
    return Outcome(box.get("report"), box.get("error"), seconds, max(peak, 0))  # type: ignore[arg-type]


def _write_case(case: Case, workdir: Path) -> tuple[Path, list[Path]]:
    workdir.mkdir(parents=True, exist_ok=True)
    document = workdir / case.filename
    document.write_bytes(case.data)
    content_paths = []
    for name, data in case.contents:
        path = workdir / "content" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        content_paths.append(path)
    return document, content_paths


def _run_isolated(case: Case, workdir: Path, *, time_limit: float, anchors: AnchorSet, trace: bool) -> Outcome:
    """Validate in a forked child, killed at the time limit: a known runaway must not keep burning the CPU."""
    import multiprocessing
    import pickle

    document, content_paths = _write_case(case, workdir)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        if trace:
            tracemalloc.start()
        start = time.monotonic()
        try:
            report = asyncio.run(validate(document, anchors=anchors, contents=content_paths, online=False, at=T_VAL))
            result: tuple = ("report", pickle.dumps(report))
        except TrustSvcError as e:
            result = ("error", isinstance(e, InputError), e.code, e.message)
        except BaseException as e:  # reported as a traceback by judge()
            result = ("crash", type(e).__name__, str(e))
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        send.send((*result, time.monotonic() - start, peak))

    process = context.Process(target=child, daemon=True)
    process.start()
    ready = receive.poll(time_limit)
    if not ready:
        process.kill()
        process.join()
        return Outcome(None, None, time_limit, 0, finished=False)
    message = receive.recv()
    process.join()
    seconds, peak = message[-2], message[-1]
    if message[0] == "report":
        return Outcome(pickle.loads(message[1]), None, seconds, peak)
    if message[0] == "error":
        cls = InputError if message[1] else TrustSvcError
        return Outcome(None, cls(message[3], code=message[2]), seconds, peak)
    return Outcome(None, RuntimeError(f"{message[1]}: {message[2]}"), seconds, peak)


# ---------------------------------------------------------------------------------------------------------------
# Samples and local signing material (the test PKI's keys, without loading certomancer)


def sample(path: str) -> bytes:
    return (SAMPLES / path).read_bytes()


@functools.cache
def _detached_content_of() -> dict[str, str]:
    """Sample -> the content file it signs detached (the first entry of tests/cases/samples.yaml that names one)."""
    import yaml

    found: dict[str, str] = {}
    for entry in yaml.safe_load((ROOT / "tests" / "cases" / "samples.yaml").read_text(encoding="utf-8")):
        if entry.get("content") and entry["file"] not in found:
            found[entry["file"]] = entry["content"][0]
    return found


def contents_for(path: str) -> tuple[tuple[str, bytes], ...]:
    content = _detached_content_of().get(path)
    return ((Path(content).name, sample(content)),) if content else ()


@functools.cache
def cert(country: str, label: str) -> x509.Certificate:
    data = (PEM_DIR / f"ms-{country}" / f"{label}.pem").read_bytes()
    return x509.Certificate.load(pem.unarmor(data)[2])


@functools.cache
def private_key(name: str) -> keys.PrivateKeyInfo:
    return keys.PrivateKeyInfo.load(pem.unarmor((KEY_DIR / f"{name}.key.pem").read_bytes())[2])


@functools.cache
def fr_signer():
    """The French qualified signer of the samples (its key is the end-entity key every country shares)."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return signers.SimpleSigner(
        signing_cert=cert("fr", "signer-qscd"),
        signing_key=private_key("signer-qscd"),
        cert_registry=SimpleCertificateStore.from_certs([cert("fr", "qca"), cert("fr", "root")]),
    )


@functools.cache
def fr_timestamper(at: datetime = T_SIGN):
    """The French qualified TSA of the samples, answering as of `at` from this process (its RSA key loaded once)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = serialization.load_der_private_key(private_key("fr-qtsa").dump(), password=None)

    class LocalTimeStamper(DummyTimeStamper):
        def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime):
            algorithm = getattr(hashes, md_algorithm.upper())()
            digest = hashes.Hash(algorithm)
            digest.update(tst_info_data)
            signed_attrs = cms.CMSAttributes(
                [
                    simple_cms_attribute("content_type", "tst_info"),
                    simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                    simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                    simple_cms_attribute("message_digest", digest.finalize()),
                ]
            )
            return key.sign(signed_attrs.dump(), PKCS1v15(), algorithm), signed_attrs

    return LocalTimeStamper(
        tsa_cert=cert("fr", "qtsa"),
        tsa_key=private_key("fr-qtsa"),
        certs_to_embed=SimpleCertificateStore.from_certs([cert("fr", "qtsa"), cert("fr", "root")]),
        fixed_dt=at,
    )


def _run(coroutine):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


@functools.cache
def _dss_material() -> tuple[list, list, list]:
    """Certificates, CRLs and OCSP responses of pades/b-lt.pdf's DSS: issued at T_SIGN for the French signer and TSA."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(sample("pades/b-lt.pdf")), strict=False)
    dss = reader.root["/DSS"]
    certs = [x509.Certificate.load(bytes(r.get_object().data)) for r in dss["/Certs"]]
    crls = [crl.CertificateList.load(bytes(r.get_object().data)) for r in dss["/CRLs"]]
    ocsps = [ocsp.OCSPResponse.load(bytes(r.get_object().data)) for r in dss["/OCSPs"]]
    return certs, crls, ocsps


def sign_pdf_lt(pdf: bytes, field_name: str = "BidSignature") -> bytes:
    """Sign `pdf` as the French signer on T_SIGN: PAdES B-T with a local TSA, then a DSS (B-LT), all offline."""
    import time_machine
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES, reason="Tender bid"
    )
    with time_machine.travel(T_SIGN - timedelta(minutes=1), tick=False):
        signed = _run(
            signers.async_sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=fr_signer(), timestamper=fr_timestamper()
            )
        ).getvalue()
    certs, crls, ocsps = _dss_material()
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    contents = _signature_contents(signed)
    DocumentSecurityStore.supply_dss_in_writer(writer, contents, certs=certs, ocsps=ocsps, crls=crls)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _signature_contents(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader

    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures[-1]
    return sig.pkcs7_content if hasattr(sig, "pkcs7_content") else sig.sig_object["/Contents"]


# ---------------------------------------------------------------------------------------------------------------
# Family "pdf": incremental-update attacks and shadow attacks

EVIL_TEXT = b"BT /F1 18 Tf 50 750 Td (Tender 2026/001 - Bid of EVIL SARL: total amount EUR 1.00) Tj ET"


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


@dataclass(frozen=True)
class _PdfSig:
    byte_range: tuple[int, int, int, int]
    obj: int  # object number of the signature dictionary
    field_name: str
    kind: str  # /Sig or /DocTimeStamp
    der_hex_length: int  # hex digits of the CMS inside /Contents (the rest is zero padding)


def _pdf_reader(data: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data), strict=False)


def _pdf_signatures(data: bytes) -> list[_PdfSig]:
    """Every signature and document time-stamp of a PDF, in the order of their revisions."""
    reader = _pdf_reader(data)
    found = []
    for sig in sorted(reader.embedded_signatures, key=lambda s: s.signed_revision):
        der = sig.pkcs7_content
        header, length = _der_lengths(der)
        kind = "/DocTimeStamp" if sig.sig_object.get("/Type") == "/DocTimeStamp" else "/Sig"
        ref = sig.sig_field.raw_get("/V")
        found.append(_PdfSig(tuple(sig.byte_range), ref.idnum, sig.field_name, kind, 2 * (header + length)))
    return found


def _der_lengths(der: bytes) -> tuple[int, int]:
    """(header length, content length) of the outer DER element."""
    if der[1] < 0x80:
        return 2, der[1]
    count = der[1] & 0x7F
    return 2 + count, int.from_bytes(der[2 : 2 + count], "big")


def _sig_ids(data: bytes) -> list[str]:
    return [f"sig-{i}" for i, s in enumerate((s for s in _pdf_signatures(data) if s.kind == "/Sig"), start=1)]


def _last_startxref(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def raw_update(
    data: bytes,
    objects: dict[int, bytes],
    *,
    root: bytes | None = None,
    prev: int | None = -1,
    entries: dict[int, int] | None = None,
    like: bytes | None = None,
) -> bytes:
    """Append an incremental update with a classic cross-reference table.

    :param objects: object number -> raw body, written in the update.
    :param root: the trailer's /Root reference (raw, e.g. b"1 0 R"); the current one by default.
    :param prev: the trailer's /Prev: -1 for the last startxref, None for none (a section that stands alone).
    :param entries: object number -> offset of a body already in the file (a cross-reference entry only).
    :param like: read the current /Root and /Size from this document instead (when `data` is no longer readable).
    """
    reader = _pdf_reader(like or data)
    if root is None:
        ref = reader.trailer.raw_get("/Root")
        root = b"%d %d R" % (ref.idnum, ref.generation)
    size = max([int(reader.trailer["/Size"]), *(n + 1 for n in [*objects, *(entries or {})])])
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = dict(entries or {})
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number, offset in sorted(offsets.items()):
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    prev_entry = b"" if prev is None else b" /Prev %d" % (_last_startxref(data) if prev == -1 else prev)
    out += b"trailer\n<< /Size %d /Root %s%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, prev_entry, xref)
    return bytes(out)


def _page_info(data: bytes) -> tuple[int, int, int, int]:
    """(catalogue, page tree, first page, its content stream) object numbers."""
    reader = _pdf_reader(data)
    root_ref = reader.trailer.raw_get("/Root")
    pages_ref = reader.root.raw_get("/Pages")
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(0)
    contents = page_ref.get_object().raw_get("/Contents")
    if not hasattr(contents, "idnum"):  # an array of streams
        contents = contents.raw_get(0)
    return root_ref.idnum, pages_ref.idnum, page_ref.idnum, contents.idnum


def _raw_object(data: bytes, number: int) -> bytes:
    """The body of the latest definition of object `number`, re-serialised by pyHanko."""
    from pyhanko.pdf_utils import generic

    reader = _pdf_reader(data)
    obj = reader.get_object(generic.Reference(number, 0))
    buffer = io.BytesIO()
    obj.write_to_stream(buffer, None)
    return buffer.getvalue()


def _with_entries(body: bytes, extra: bytes, drop: Sequence[bytes] = ()) -> bytes:
    """A dictionary body with raw `extra` entries added and the keys in `drop` removed (simple values only)."""
    body = body.strip()
    for key in drop:
        body = re.sub(
            rb"%s\s*(\[[^\]]*\]|<<.*?>>|<[0-9A-Fa-f\s]*>|\([^)]*\)|/\w+|\d+ \d+ R|[-\d.]+|null)" % key, b"", body
        )
    assert body.endswith(b">>"), body[-20:]
    return body[:-2] + b" " + extra + b" >>"


def _next_number(data: bytes) -> int:
    return int(_pdf_reader(data).trailer["/Size"])


def _incremental(data: bytes, change: Callable) -> bytes:
    """Apply `change(writer)` in an incremental update written by pyHanko."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _rewrite_page(writer) -> None:
    from pyhanko.pdf_utils import generic

    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=EVIL_TEXT))
    writer.update_container(page)


def _add_page(writer) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject

    first = writer.root["/Pages"]["/Kids"][0].get_object()
    content = writer.add_object(generic.StreamObject(stream_data=EVIL_TEXT))
    writer.insert_page(PageObject(content, [0, 0, 595, 842], resources=first["/Resources"]))


def _in_place(data: bytes, start: int, end: int, replacement: bytes) -> bytes:
    """Replace data[start:end] by `replacement` padded with spaces to the same length (offsets stay valid)."""
    assert len(replacement) <= end - start, (replacement, end - start)
    return data[:start] + replacement.ljust(end - start) + data[end:]


def _byte_range_span(data: bytes, sig: _PdfSig) -> tuple[int, int]:
    """Where the signature's '[a b c d]' (and the spaces padding it) sit in the file."""
    a, b, c, d = sig.byte_range
    match = re.compile(rb"/ByteRange\s*(\[[^\]]*\]\s*)").search(data, c)
    if match is None or match.start() > c + 64:
        match = list(re.compile(rb"/ByteRange\s*(\[[^\]]*\]\s*)").finditer(data, 0, b))[-1]
    return match.start(1), match.end(1) - 1  # keep the line break that ends the padding


def usf_in_place(data: bytes, sig: _PdfSig) -> dict[str, bytes]:
    """USF without an update: /Contents and /ByteRange rewritten where they are (no offset moves)."""
    a, b, c, d = sig.byte_range
    zeros = b"0" * (c - b - 2)
    der_hex = data[b + 1 : b + 1 + sig.der_hex_length]
    start, end = _byte_range_span(data, sig)
    cases = {
        "usf-contents-zeros": data[:b] + b"<" + zeros + b">" + data[c:],
        "usf-contents-empty-sequence": data[:b] + b"<3000" + zeros[4:] + b">" + data[c:],
        "usf-contents-truncated-der": data[:b]
        + b"<"
        + der_hex[: len(der_hex) // 2].ljust(c - b - 2, b"0")
        + b">"
        + data[c:],
        "usf-contents-empty-string": _in_place(data, b, c, b"<>"),
        "usf-contents-null": _in_place(data, b, c, b"null"),
        "usf-contents-literal-string": _in_place(data, b, c, b"(" + b"0" * 8 + b")"),
    }
    for variant, text in (
        ("usf-byterange-zeros", b"[0 0 0 0]"),
        ("usf-byterange-first-part-only", b"[0 %d 0 0]" % b),
        ("usf-byterange-tail-uncovered", b"[0 %d %d %d]" % (b, c, max(d - 200, 1))),
        ("usf-byterange-beyond-eof", b"[0 %d %d %d]" % (b, c, d + 10_000_000)),
        ("usf-byterange-swapped", b"[%d %d 0 %d]" % (c, d, b)),
        ("usf-byterange-negative", b"[0 -%d %d %d]" % (b, c, d)),
        ("usf-byterange-six-numbers", b"[0 %d %d %d 0 0]" % (b, c, d)),
        ("usf-byterange-overlapping", b"[0 %d %d %d]" % (c + 10, c, d)),
        ("usf-byterange-names", b"[/a /b /c /d]"),
        ("usf-byterange-empty", b"[]"),
        ("usf-byterange-reals", b"[0 %d.5 %d %d]" % (b, c, d)),
        ("usf-byterange-huge-integers", b"[0 99999999999999999999 %d %d]" % (c, d)),
    ):
        cases[variant] = _in_place(data, start, end, text)
    return cases


def usf_updates(data: bytes, sig: _PdfSig) -> dict[str, bytes]:
    """USF in an update: the signature dictionary redefined (with the page rewritten), as a forger would."""
    a, b, c, d = sig.byte_range
    der_hex = data[b + 1 : b + 1 + sig.der_hex_length]
    original = _raw_object(data, sig.obj)
    _, _, _, content = _page_info(data)
    evil = {content: _stream(b"", EVIL_TEXT)}
    pad = b"0" * (c - b - 2 - len(der_hex))
    variants = {
        "usf-update-contents-missing": _with_entries(original, b"", drop=[rb"/Contents"]),
        "usf-update-contents-empty": _with_entries(original, b"/Contents <>", drop=[rb"/Contents"]),
        "usf-update-contents-null": _with_entries(original, b"/Contents null", drop=[rb"/Contents"]),
        "usf-update-contents-zeros": _with_entries(original, b"/Contents <%s>" % (b"0" * 512), drop=[rb"/Contents"]),
        "usf-update-contents-indirect": _with_entries(original, b"/Contents 1 0 R", drop=[rb"/Contents"]),
        "usf-update-byterange-missing": _with_entries(original, b"", drop=[rb"/ByteRange"]),
        "usf-update-byterange-empty": _with_entries(original, b"/ByteRange []", drop=[rb"/ByteRange"]),
        "usf-update-byterange-null": _with_entries(original, b"/ByteRange null", drop=[rb"/ByteRange"]),
        "usf-update-byterange-zeros": _with_entries(original, b"/ByteRange [0 0 0 0]", drop=[rb"/ByteRange"]),
        "usf-update-byterange-beyond-eof": _with_entries(
            original, b"/ByteRange [0 %d %d 99999999]" % (b, c), drop=[rb"/ByteRange"]
        ),
        "usf-update-signature-moved": _with_entries(original, b"", drop=[]),
    }
    cases = {name: raw_update(data, {**evil, sig.obj: body}) for name, body in variants.items()}
    # the original CMS in a new signature dictionary whose /ByteRange covers the new file around its own /Contents
    head = raw_update(
        data,
        {
            **evil,
            sig.obj: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
            b"/ByteRange [0000000000 0000000000 0000000000 0000000000] /Contents <" + der_hex + pad + b"> >>",
        },
    )
    start = head.rindex(b"/Contents <") + len(b"/Contents ")
    end = head.index(b">", start) + 1
    br = b"[%010d %010d %010d %010d]" % (0, start, end, len(head) - end)
    cases["usf-update-byterange-recomputed"] = head.replace(b"[0000000000 0000000000 0000000000 0000000000]", br)
    return cases


def isa_attacks(data: bytes) -> dict[str, bytes]:
    """Incremental saving attacks: what the document shows is changed in an update after the signatures."""
    catalog, pages, page, content = _page_info(data)
    n = _next_number(data)
    page_body = _raw_object(data, page)
    catalog_body = _raw_object(data, catalog)
    cases = {
        "isa-page-content-replaced": _incremental(data, _rewrite_page),
        "isa-content-stream-redefined": raw_update(data, {content: _stream(b"", EVIL_TEXT)}),
        "isa-page-added": _incremental(data, _add_page),
        "isa-page-content-array": raw_update(
            data,
            {
                n: _stream(b"", b"1 1 1 rg 0 700 595 142 re f " + EVIL_TEXT),
                page: _with_entries(page_body, b"/Contents [%d 0 R %d 0 R]" % (content, n), drop=[rb"/Contents"]),
            },
        ),
        "isa-catalog-replaced": raw_update(
            data,
            {
                n: _stream(b"", EVIL_TEXT),
                n + 1: _with_entries(
                    page_body, b"/Contents %d 0 R /Parent %d 0 R" % (n, n + 2), drop=[rb"/Contents", rb"/Parent"]
                ),
                n + 2: b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1),
                n + 3: _with_entries(catalog_body, b"/Pages %d 0 R" % (n + 2), drop=[rb"/Pages"]),
            },
            root=b"%d 0 R" % (n + 3),
        ),
        "isa-catalog-without-acroform": raw_update(
            data, {n: _with_entries(catalog_body, b"", drop=[rb"/AcroForm"])}, root=b"%d 0 R" % n
        ),
        "isa-page-tree-replaced": raw_update(
            data,
            {
                n: _stream(b"", EVIL_TEXT),
                n + 1: _with_entries(page_body, b"/Contents %d 0 R" % n, drop=[rb"/Contents"]),
                pages: b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1),
            },
        ),
        "isa-open-action-javascript": raw_update(
            data, {catalog: _with_entries(catalog_body, b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")}
        ),
        "isa-full-rewrite-without-prev": _full_rewrite(data),
    }
    # objects appended after the last %%EOF with no cross-reference section: only a repairing reader sees them
    tail = b"%d 0 obj\n%s\nendobj\n" % (content, _stream(b"", EVIL_TEXT))
    cases["isa-objects-appended-without-xref"] = data + tail + b"%%EOF\n"
    cases["isa-objects-appended-old-startxref"] = data + tail + b"startxref\n%d\n%%%%EOF\n" % _last_startxref(data)
    cases["isa-objects-appended-no-eof"] = data + tail
    cases["isa-trailer-only-new-root"] = data + b"trailer\n<< /Root %d 0 R >>\n%%%%EOF\n" % n + tail
    # a whole update (objects, xref, trailer) whose final startxref still names the previous section: orphaned
    update = raw_update(data, {content: _stream(b"", EVIL_TEXT)})
    cases["isa-update-orphaned-xref"] = update + b"startxref\n%d\n%%%%EOF\n" % _last_startxref(data)
    return cases


def _full_rewrite(data: bytes) -> bytes:
    """Every object again in one update whose cross-reference section has no /Prev, the page rewritten."""
    from pyhanko.pdf_utils import generic

    reader = _pdf_reader(data)
    _, _, _, content = _page_info(data)
    bodies = {}
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(generic.Reference(number, 0))
        except Exception:  # free or unreadable entries are left out
            continue
        if getattr(obj, "get", lambda _k: None)("/Type") == "/XRef":
            continue
        buffer = io.BytesIO()
        obj.write_to_stream(buffer, None)
        bodies[number] = buffer.getvalue()
    bodies[content] = _stream(b"", EVIL_TEXT)
    return raw_update(data, bodies, prev=None)


def cms_in_pdf(data: bytes, sig: _PdfSig) -> dict[str, bytes]:
    """The signature's CMS changed inside /Contents (same gap, zero padded): algorithms that do not fit the key."""
    a, b, c, d = sig.byte_range
    ci = cms.ContentInfo.load(bytes.fromhex(data[b + 1 : b + 1 + sig.der_hex_length].decode()))

    def put(new_ci: cms.ContentInfo) -> bytes:
        hex_value = new_ci.dump().hex().encode()
        return data[:b] + b"<" + hex_value.ljust(c - b - 2, b"0") + b">" + data[c:]

    def sig_alg(name: str) -> cms.SignedDigestAlgorithm:
        return cms.SignedDigestAlgorithm({"algorithm": name})

    return {
        "cms-signature-algorithm-rsa-for-ec-key": put(_with_signer_info(ci, signature_algorithm=sig_alg("sha256_rsa"))),
        "cms-signature-algorithm-dsa-for-ec-key": put(_with_signer_info(ci, signature_algorithm=sig_alg("sha256_dsa"))),
        "cms-signature-algorithm-ed25519-for-ec-key": put(
            _with_signer_info(ci, signature_algorithm=sig_alg("ed25519"))
        ),
    }


def swa_attacks(data: bytes, sig: _PdfSig) -> dict[str, bytes]:
    """Signature wrapping: the signed bytes kept, moved, with attacker objects in the gap around /Contents."""
    a, b, c, d = sig.byte_range
    _, _, page, content = _page_info(data)
    n = _next_number(data)
    der_hex = data[b + 1 : b + 1 + sig.der_hex_length]
    cases = {}
    # 1. the zero padding of /Contents replaced by an object (the dictionary ends early), referenced by an update
    injected = b">\n>>\nendobj\n%d 0 obj\n%s\nendobj\n%%" % (n, _stream(b"", EVIL_TEXT))
    gap = b"<" + der_hex + injected
    if len(gap) < c - b:
        stuffed = data[:b] + gap.ljust(c - b, b"%") + data[c:]
        object_at = b + len(b"<") + len(der_hex) + len(b">\n>>\nendobj\n")
        page_body = _raw_object(data, page)
        cases["swa-object-in-contents-padding"] = raw_update(
            stuffed,
            {page: _with_entries(page_body, b"/Contents %d 0 R" % n, drop=[rb"/Contents"])},
            entries={n: object_at},
        )
    # 2. the second signed part moved after attacker objects; the signature dictionary redefined with the new range
    attacker = b"\n%d 0 obj\n%s\nendobj\n" % (n, _stream(b"", EVIL_TEXT))
    moved = data[:c] + attacker + data[c:]
    shift = len(attacker)
    original = _raw_object(data, sig.obj)
    redefined = _with_entries(original, b"/ByteRange [%d %d %d %d]" % (a, b, c + shift, d), drop=[rb"/ByteRange"])
    shifted = {
        int(m[1]): m.start() + shift
        for m in re.finditer(rb"(?<![\d])(\d+) 0 obj\b", data[c:], re.S)
        if int(m[1]) != sig.obj
    }
    shifted = {k: v + c for k, v in shifted.items()}
    entries = {**shifted, n: c + 1}
    page_body = _raw_object(data, page)
    cases["swa-second-part-moved"] = raw_update(
        moved,
        {sig.obj: redefined, page: _with_entries(page_body, b"/Contents %d 0 R" % n, drop=[rb"/Contents"])},
        entries=entries,
        prev=_last_startxref(data) + shift if _last_startxref(data) >= c else _last_startxref(data),
        like=data,
    )
    # 3. the same move, the /ByteRange edited in place (inside the signed bytes): no update at all
    start, end = _byte_range_span(data, sig)
    edited = _in_place(data, start, end, b"[%d %d %d %d]" % (a, b, c + shift, d))
    cases["swa-second-part-moved-byterange-in-place"] = edited[:c] + attacker + edited[c:]
    # 4. /Contents swapped with the bytes right after it (the signed second part starts inside the attacker bytes)
    cases["swa-contents-duplicated-in-update"] = raw_update(
        data, {n: b"<< /Type /Sig /Contents <%s> /ByteRange [%d %d %d %d] >>" % (der_hex, a, b, c, d)}
    )
    return cases


@dataclass(frozen=True)
class _Shadow:
    """A shadow document signed as the French signer (B-LT), and where its shadow objects are."""

    signed: bytes
    catalog: int
    page: int
    hidden: int  # content stream with the text the overlay hides
    overlay: int  # form XObject painting a white box and the benign text over it
    font: int
    field: int  # an unsigned text field (its widget merged)
    field_ap: int
    note: int  # a FreeText annotation
    note_ap: int
    shadow_catalog: int
    shadow_pages: int
    shadow_content: int
    dead_body: int  # offset of a second, unreferenced body of the `overlay` object, which paints nothing


BENIGN = b"(Tender 2026/001 - Bid of BTP Dupont SARL: total amount EUR 1,250,000.00)"
MALICIOUS = b"(Tender 2026/001 - Bid of BTP Dupont SARL: total amount EUR 9,999,999.00)"


@functools.cache
def shadow_document() -> _Shadow:
    """Build, then sign, a PDF prepared for the shadow attacks of Mainka, Mladenov and Rohlmann (NDSS 2021)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    g = generic
    w = PdfFileWriter()
    font = w.add_object(
        g.DictionaryObject(
            {
                g.pdf_name("/Type"): g.pdf_name("/Font"),
                g.pdf_name("/Subtype"): g.pdf_name("/Type1"),
                g.pdf_name("/BaseFont"): g.pdf_name("/Helvetica"),
            }
        )
    )
    fonts = g.DictionaryObject({g.pdf_name("/F1"): font})
    hidden = w.add_object(g.StreamObject(stream_data=b"BT /F1 12 Tf 50 750 Td " + MALICIOUS + b" Tj ET"))
    overlay = w.add_object(
        g.StreamObject(
            {
                g.pdf_name("/Type"): g.pdf_name("/XObject"),
                g.pdf_name("/Subtype"): g.pdf_name("/Form"),
                g.pdf_name("/BBox"): g.ArrayObject([g.NumberObject(v) for v in (0, 0, 595, 842)]),
                g.pdf_name("/Resources"): g.DictionaryObject({g.pdf_name("/Font"): fonts}),
            },
            stream_data=b"1 1 1 rg 40 740 540 30 re f 0 0 0 rg BT /F1 12 Tf 50 750 Td " + BENIGN + b" Tj ET",
        )
    )
    resources = g.DictionaryObject(
        {
            g.pdf_name("/Font"): fonts,
            g.pdf_name("/XObject"): g.DictionaryObject({g.pdf_name("/Ov"): overlay}),
        }
    )
    show = w.add_object(g.StreamObject(stream_data=b"q /Ov Do Q"))
    page = PageObject(g.ArrayObject([hidden, show]), [0, 0, 595, 842], resources=resources)
    w.insert_page(page)
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)

    def appearance(text: bytes):
        return w.add_object(
            g.StreamObject(
                {
                    g.pdf_name("/Type"): g.pdf_name("/XObject"),
                    g.pdf_name("/Subtype"): g.pdf_name("/Form"),
                    g.pdf_name("/BBox"): g.ArrayObject([g.NumberObject(v) for v in (0, 0, 300, 20)]),
                    g.pdf_name("/Resources"): g.DictionaryObject({g.pdf_name("/Font"): fonts}),
                },
                stream_data=b"BT /F1 10 Tf 2 5 Td " + text + b" Tj ET",
            )
        )

    field_ap = appearance(b"()")
    rect = g.ArrayObject([g.NumberObject(v) for v in (50, 700, 350, 720)])
    field = w.add_object(
        g.DictionaryObject(
            {
                g.pdf_name("/FT"): g.pdf_name("/Tx"),
                g.pdf_name("/T"): g.TextStringObject("Remarks"),
                g.pdf_name("/Type"): g.pdf_name("/Annot"),
                g.pdf_name("/Subtype"): g.pdf_name("/Widget"),
                g.pdf_name("/Rect"): rect,
                g.pdf_name("/P"): page_ref,
                g.pdf_name("/DA"): g.TextStringObject("/F1 10 Tf 0 g"),
                g.pdf_name("/AP"): g.DictionaryObject({g.pdf_name("/N"): field_ap}),
            }
        )
    )
    note_ap = appearance(b"(Checked by the buyer)")
    note = w.add_object(
        g.DictionaryObject(
            {
                g.pdf_name("/Type"): g.pdf_name("/Annot"),
                g.pdf_name("/Subtype"): g.pdf_name("/FreeText"),
                g.pdf_name("/Rect"): g.ArrayObject([g.NumberObject(v) for v in (50, 650, 350, 670)]),
                g.pdf_name("/Contents"): g.TextStringObject("Checked by the buyer"),
                g.pdf_name("/DA"): g.TextStringObject("/F1 10 Tf 0 g"),
                g.pdf_name("/P"): page_ref,
                g.pdf_name("/AP"): g.DictionaryObject({g.pdf_name("/N"): note_ap}),
            }
        )
    )
    page_obj = page_ref.get_object()
    page_obj[g.pdf_name("/Annots")] = g.ArrayObject([field, note])
    w.root[g.pdf_name("/AcroForm")] = w.add_object(g.DictionaryObject({g.pdf_name("/Fields"): g.ArrayObject([field])}))
    # the shadow objects: signed with the document, used by nothing until an update points at them
    shadow_content = w.add_object(g.StreamObject(stream_data=b"BT /F1 12 Tf 50 750 Td " + MALICIOUS + b" Tj ET"))
    shadow_pages = w.add_object(g.DictionaryObject({g.pdf_name("/Type"): g.pdf_name("/Pages")}))
    shadow_page = w.add_object(
        g.DictionaryObject(
            {
                g.pdf_name("/Type"): g.pdf_name("/Page"),
                g.pdf_name("/MediaBox"): g.ArrayObject([g.NumberObject(v) for v in (0, 0, 595, 842)]),
                g.pdf_name("/Resources"): g.DictionaryObject({g.pdf_name("/Font"): fonts}),
                g.pdf_name("/Contents"): shadow_content,
                g.pdf_name("/Parent"): shadow_pages,
            }
        )
    )
    shadow_pages_obj = shadow_pages.get_object()
    shadow_pages_obj[g.pdf_name("/Kids")] = g.ArrayObject([shadow_page])
    shadow_pages_obj[g.pdf_name("/Count")] = g.NumberObject(1)
    shadow_catalog = w.add_object(
        g.DictionaryObject(
            {
                g.pdf_name("/Type"): g.pdf_name("/Catalog"),
                g.pdf_name("/Pages"): shadow_pages,
                g.pdf_name("/AcroForm"): w.root.raw_get("/AcroForm"),
            }
        )
    )
    out = io.BytesIO()
    w.write(out)
    unsigned = out.getvalue()
    # a second body of the overlay's object number, painting nothing: in the signed bytes but in no xref section
    overlay_dict = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842]"
    dead = b"%d 0 obj\n%s\nendobj\n" % (overlay.idnum, _stream(overlay_dict, b"% nothing"))
    dead_offset = len(unsigned)
    unsigned = raw_update(unsigned + dead, {})
    signed = sign_pdf_lt(unsigned)
    return _Shadow(
        signed=signed,
        catalog=_pdf_reader(signed).trailer.raw_get("/Root").idnum,
        page=page_ref.idnum,
        hidden=hidden.idnum,
        overlay=overlay.idnum,
        font=font.idnum,
        field=field.idnum,
        field_ap=field_ap.idnum,
        note=note.idnum,
        note_ap=note_ap.idnum,
        shadow_catalog=shadow_catalog.idnum,
        shadow_pages=shadow_pages.idnum,
        shadow_content=shadow_content.idnum,
        dead_body=dead_offset,
    )


def shadow_attacks() -> dict[str, tuple[bytes, Expect]]:
    s = shadow_document()
    data = s.signed
    fail = Expect(must_fail=frozenset({"sig-1"}))
    form_fill = Expect(
        partial_pass=True,
        why="filling an unsigned form field is a change the PDF rules allow without DocMDP: TOTAL_PASSED with scope "
        "PARTIAL is acceptable (the shadow 'replace via overlay' variant relies on it)",
    )
    overlay_body = _raw_object(data, s.overlay)
    header, _, _ = overlay_body.partition(b"stream")
    field_body = _raw_object(data, s.field)
    n = _next_number(data)
    page_body = _raw_object(data, s.page)
    catalog_body = _raw_object(data, s.catalog)
    evil_ap = _stream(
        b"/Type /XObject /Subtype /Form /BBox [0 0 300 20] /Resources << /Font << /F1 %d 0 R >> >>" % s.font,
        b"1 1 1 rg 0 0 300 20 re f 0 0 0 rg BT /F1 10 Tf 2 5 Td (Amount: EUR 9,999,999.00) Tj ET",
    )
    return {
        "control-shadow-document": (data, Expect(must_pass=True, why="the shadow document itself is genuine")),
        "shadow-hide-referenced-object-emptied": (
            raw_update(data, {s.overlay: _stream(re.sub(rb"/Length\s+\d+", b"", header[2:].strip()[:-2]), b"")}),
            fail,
        ),
        "shadow-hide-page-contents-array": (
            raw_update(
                data, {s.page: _with_entries(page_body, b"/Contents [%d 0 R]" % s.hidden, drop=[rb"/Contents"])}
            ),
            fail,
        ),
        "shadow-hide-overlay-bbox-emptied": (
            raw_update(
                data,
                {
                    s.overlay: _stream(
                        b"/Type /XObject /Subtype /Form /BBox [0 0 0 0] /Resources << /Font << /F1 %d 0 R >> >>"
                        % s.font,
                        b"1 1 1 rg 40 740 540 30 re f 0 0 0 rg BT /F1 12 Tf 50 750 Td " + BENIGN + b" Tj ET",
                    )
                },
            ),
            fail,
        ),
        "shadow-replace-font-redefined": (
            raw_update(
                data,
                {
                    s.font: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                    b"/Encoding << /Type /Encoding /Differences [49 /nine 50 /nine] >> >>"
                },
            ),
            fail,
        ),
        "shadow-replace-annotation-appearance": (raw_update(data, {s.note_ap: evil_ap}), fail),
        "shadow-replace-annotation-added": (
            raw_update(
                data,
                {
                    n: evil_ap,
                    n + 1: b"<< /Type /Annot /Subtype /FreeText /Rect [40 740 580 770] /Contents (EUR 9,999,999.00) "
                    b"/DA (/F1 10 Tf 0 g) /P %d 0 R /AP << /N %d 0 R >> >>" % (s.page, n),
                    s.page: _with_entries(
                        page_body, b"/Annots [%d 0 R %d 0 R %d 0 R]" % (s.field, s.note, n + 1), drop=[rb"/Annots"]
                    ),
                },
            ),
            Expect(
                partial_pass=True,
                why="adding an annotation is a change pyHanko's diff policy may accept (ANNOTATIONS level): "
                "TOTAL_PASSED only with scope PARTIAL",
            ),
        ),
        "shadow-replace-form-filled": (
            raw_update(
                data,
                {
                    n: evil_ap,
                    s.field: _with_entries(
                        field_body, b"/V (Amount: EUR 9,999,999.00) /AP << /N %d 0 R >>" % n, drop=[rb"/AP"]
                    ),
                },
            ),
            form_fill,
        ),
        "shadow-replace-field-appearance-only": (raw_update(data, {s.field_ap: evil_ap}), form_fill),
        "shadow-hide-and-replace-catalog": (raw_update(data, {}, root=b"%d 0 R" % s.shadow_catalog), fail),
        "shadow-hide-and-replace-page-tree": (
            raw_update(
                data,
                {s.catalog: _with_entries(catalog_body, b"/Pages %d 0 R" % s.shadow_pages, drop=[rb"/Pages"])},
            ),
            fail,
        ),
        "shadow-hide-and-replace-xref-entry": (raw_update(data, {}, entries={s.overlay: s.dead_body}), fail),
        "shadow-hide-and-replace-xref-entry-other-object": (
            raw_update(data, {}, entries={s.overlay: _object_offset(data, s.shadow_content)}),
            fail,
        ),
    }


def _object_offset(data: bytes, number: int) -> int:
    return list(re.finditer(rb"(?<![\d])%d 0 obj\b" % number, data))[-1].start()


PDF_BASES = ("pades/b-lt.pdf", "pades/b-b.pdf", "pades/two-signatures.pdf")


def pdf_cases() -> list[Case]:
    cases: list[Case] = []
    for base in PDF_BASES:
        data = sample(base)
        ids = _sig_ids(data)
        signatures = [s for s in _pdf_signatures(data) if s.kind == "/Sig"]
        last = signatures[-1]
        earlier = frozenset(ids[:-1])
        whole = Expect(must_fail=frozenset(ids))
        # in place, only the last signature's own bytes change: the earlier ones saw a later signature added
        last_only = Expect(must_fail=frozenset({ids[-1]}), may_pass=earlier)
        for variant, attacked in usf_in_place(data, last).items():
            cases.append(_case("pdf", base, variant, attacked, last_only))
        if len(signatures) > 1:  # the first signature's /Contents is inside the second one's byte range
            for variant, attacked in usf_in_place(data, signatures[0]).items():
                cases.append(_case("pdf", base, "first-" + variant, attacked, whole))
        for variant, attacked in usf_updates(data, last).items():
            cases.append(_case("pdf", base, variant, attacked, whole))
        for variant, attacked in isa_attacks(data).items():
            expect = whole
            if variant == "isa-catalog-without-acroform":
                expect = Expect(why="the signature fields are gone: no signature, or none passes")
            cases.append(_case("pdf", base, variant, attacked, expect))
        for variant, attacked in cms_in_pdf(data, last).items():
            cases.append(_case("pdf", base, variant, attacked, last_only))
        for variant, attacked in swa_attacks(data, last).items():
            expect = whole if "moved" in variant or "padding" in variant else Expect(must_fail=frozenset({ids[-1]}))
            if variant == "swa-contents-duplicated-in-update":
                expect = Expect(
                    why="an unreferenced copy of the signature dictionary changes nothing shown: harmless",
                    may_pass=frozenset(ids),
                )
            cases.append(_case("pdf", base, variant, attacked, expect))
    for variant, (attacked, expect) in shadow_attacks().items():
        cases.append(_case("pdf", "shadow.pdf", variant, attacked, expect))
    base = "pades/b-lt.pdf"
    cases.append(
        _case("pdf", base, "signature-fields-20-sharing-one-signature", fields_sharing_a_signature(sample(base), 20))
    )
    cases.append(
        _case(
            "pdf",
            base,
            "dos-signature-fields-600-sharing-one-signature",
            fields_sharing_a_signature(sample(base), 600),
            isolate=True,
        )
    )
    return cases


def fields_sharing_a_signature(data: bytes, count: int) -> bytes:
    """An update adding `count` signature fields whose /V is the existing signature dictionary."""
    sig = _pdf_signatures(data)[0]
    acroform = _pdf_reader(data).root.raw_get("/AcroForm")
    n = _next_number(data)
    page = _page_info(data)[2]
    objects = {
        n + i: b"<< /FT /Sig /T (f%d) /V %d 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P %d 0 R >>"
        % (i, sig.obj, page)
        for i in range(count)
    }
    objects[acroform.idnum] = b"<< /Fields [%s] /SigFlags 3 >>" % b" ".join(b"%d 0 R" % (n + i) for i in range(count))
    return raw_update(data, objects)


# ---------------------------------------------------------------------------------------------------------------
# Family "xml-wrapping": XML signature wrapping on XAdES samples

_NS = {"ds": DS_NS, "xades": XADES_NS}
EVIL_NS = "urn:example:evil"


def _xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    return etree.fromstring(data, parser=parser)


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=_NS)
    assert found, path
    return found[0]


def _signature(root: etree._Element) -> etree._Element:
    return root if root.tag == _ds("Signature") else _one(root, "//ds:Signature")


def _evil_bid() -> etree._Element:
    bid = etree.Element("bid", tender="2026/001")
    etree.SubElement(bid, "bidder", country="FR").text = "EVIL SARL"
    etree.SubElement(bid, "amount", currency="EUR").text = "1.00"
    return bid


def _evil_signed_properties(root: etree._Element, new_id: str | None = None) -> etree._Element:
    """A copy of the signed properties claiming another signing time (and, with `new_id`, another Id)."""
    props = copy.deepcopy(_one(root, "//xades:SignedProperties"))
    _one(props, ".//xades:SigningTime").text = "2020-01-01T00:00:00Z"
    if new_id:
        props.set("Id", new_id)
    return props


def _x509_text(country: str, label: str) -> str:
    return base64.b64encode(cert(country, label).dump()).decode()


def _xml_variants(data: bytes, enveloping: bool) -> dict[str, tuple[bytes, Expect]]:
    """Wrapping variants of one XAdES sample (signature Id 'sig-bid', signed properties 'sig-bid-signedprops')."""
    never = NEVER
    variants: dict[str, Callable[[etree._Element], etree._Element | None]] = {}
    allowed: dict[str, Expect] = {}

    def dup_props_new_object(before: bool):
        def go(root):
            sig = _signature(root)
            qp = copy.deepcopy(_one(sig, "ds:Object/xades:QualifyingProperties"))
            old = _one(qp, "xades:SignedProperties")
            qp.replace(old, _evil_signed_properties(root))
            obj = etree.Element(_ds("Object"))
            obj.append(qp)
            first_object = _one(sig, "ds:Object")
            (first_object.addprevious if before else sig.append)(obj)

        return go

    variants["dup-id-signed-properties-new-object-before"] = dup_props_new_object(True)
    variants["dup-id-signed-properties-new-object-after"] = dup_props_new_object(False)

    def dup_props_sibling(root):
        real = _one(root, "//xades:SignedProperties")
        real.addprevious(_evil_signed_properties(root))

    variants["dup-id-signed-properties-sibling"] = dup_props_sibling

    def unsigned_qualifying_properties(root):
        sig = _signature(root)
        qp = copy.deepcopy(_one(sig, "ds:Object/xades:QualifyingProperties"))
        for child in list(qp):
            qp.remove(child)
        qp.append(_evil_signed_properties(root, "evil-signedprops"))
        obj = etree.Element(_ds("Object"))
        obj.append(qp)
        _one(sig, "ds:Object").addprevious(obj)

    variants["signed-properties-duplicated-unsigned-first"] = unsigned_qualifying_properties

    def second_props_same_qp(root):
        real = _one(root, "//xades:SignedProperties")
        real.addnext(_evil_signed_properties(root, "evil-signedprops"))

    variants["signed-properties-duplicated-in-same-qualifying-properties"] = second_props_same_qp

    def dup_id_in_keyinfo(root):
        key_info = _one(root, "//ds:KeyInfo")
        props = _evil_signed_properties(root)
        key_info.append(props)

    variants["dup-id-signed-properties-in-keyinfo"] = dup_id_in_keyinfo

    def second_signature_copy(root):
        sig = _signature(root)
        clone = copy.deepcopy(sig)
        if enveloping:
            obj = etree.SubElement(sig, _ds("Object"))
            obj.append(clone)
        else:
            root.append(clone)

    variants["second-signature-copy"] = second_signature_copy

    def second_signature_foreign(root):
        sig = _signature(root)
        other = etree.Element(_ds("Signature"), Id="sig-evil")
        info = etree.SubElement(other, _ds("SignedInfo"))
        etree.SubElement(info, _ds("CanonicalizationMethod"), Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        etree.SubElement(info, _ds("SignatureMethod"), Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")
        ref = etree.SubElement(info, _ds("Reference"), URI="#sig-bid-signedprops")
        etree.SubElement(ref, _ds("DigestMethod"), Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        etree.SubElement(ref, _ds("DigestValue")).text = base64.b64encode(bytes(32)).decode()
        etree.SubElement(other, _ds("SignatureValue")).text = base64.b64encode(bytes(64)).decode()
        if enveloping:
            obj = etree.SubElement(sig, _ds("Object"))
            obj.append(other)
        else:
            root.insert(0, other)

    variants["second-signature-injected"] = second_signature_foreign
    if enveloping:
        allowed["second-signature-injected"] = Expect(
            partial_pass=True,
            why="the genuine signature is intact, but its document now holds an unsigned ds:Object: TOTAL_PASSED "
            "only with scope PARTIAL",
        )

    def keyinfo_swapped(root):
        _one(root, "//ds:KeyInfo//ds:X509Certificate").text = _x509_text("it", "signer-qscd")

    variants["keyinfo-signer-certificate-swapped"] = keyinfo_swapped

    def keyinfo_swapped_same_issuer(root):
        _one(root, "//ds:KeyInfo//ds:X509Certificate").text = _x509_text("fr", "signer-qc")

    variants["keyinfo-signer-certificate-swapped-same-issuer"] = keyinfo_swapped_same_issuer

    def keyinfo_signer_removed(root):
        first = _one(root, "//ds:KeyInfo//ds:X509Certificate")
        first.getparent().remove(first)

    variants["keyinfo-signer-certificate-removed"] = keyinfo_signer_removed

    def signature_id_changed(root):
        _signature(root).set("Id", "sig-other")

    variants["signature-id-changed-target-dangling"] = signature_id_changed

    def signed_info_uri_changed(root):
        ref = _one(root, "//ds:SignedInfo/ds:Reference[1]")
        if enveloping:
            sig = _signature(root)
            original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
            same = copy.deepcopy(original)
            same.set("Id", "sig-bid-object-1")
            sig.append(same)
            ref.set("URI", "#sig-bid-object-1")
            bid = _one(original, "*")
            original.replace(bid, _evil_bid())
        else:
            amount = _one(root, "amount")
            amount.set("Id", "amount")
            ref.set("URI", "#amount")
            _one(root, "bidder").text = "EVIL SARL"

    variants["reference-switched-to-element-with-same-content"] = signed_info_uri_changed

    def signature_method(algorithm: str, output_length: str | None = None):
        def go(root):
            method = _one(root, "//ds:SignedInfo/ds:SignatureMethod")
            method.set("Algorithm", algorithm)
            if output_length is not None:
                etree.SubElement(method, _ds("HMACOutputLength")).text = output_length

        return go

    variants["signature-method-hmac-sha256"] = signature_method("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    variants["signature-method-hmac-output-length-8"] = signature_method(
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "8"
    )
    variants["signature-method-rsa-for-ec-key"] = signature_method("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    variants["signature-method-unknown"] = signature_method("urn:example:no-such-method")

    def hostile_reference(uri: str, transform: etree._Element | None = None):
        def go(root):
            info = _one(root, "//ds:SignedInfo")
            reference = etree.SubElement(info, _ds("Reference"), URI=uri)
            if transform is not None:
                etree.SubElement(reference, _ds("Transforms")).append(copy.deepcopy(transform))
            etree.SubElement(reference, _ds("DigestMethod"), Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
            etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(bytes(32)).decode()

        return go

    xslt = etree.Element(_ds("Transform"), Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116")
    stylesheet = etree.SubElement(xslt, "{http://www.w3.org/1999/XSL/Transform}stylesheet", version="1.0")
    template = etree.SubElement(stylesheet, "{http://www.w3.org/1999/XSL/Transform}template", match="/")
    etree.SubElement(template, "{http://www.w3.org/1999/XSL/Transform}copy-of", select="document('/etc/passwd')")
    xpath = etree.Element(_ds("Transform"), Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116")
    etree.SubElement(xpath, _ds("XPath")).text = "count(//. | //@* | //namespace::*) > 0"
    variants["reference-to-local-file"] = hostile_reference("file:///etc/passwd")
    variants["reference-to-network"] = hostile_reference("http://127.0.0.1:9/evil.xml")
    variants["reference-with-xslt-transform"] = hostile_reference("", xslt)
    variants["reference-with-xpath-transform"] = hostile_reference("", xpath)

    def comment_in_signed_text(root):
        amount = root.find(".//amount")
        text = amount.text
        amount.text = text[:1]
        comment = etree.Comment(" 9,999,999 ")
        comment.tail = text[1:]
        amount.append(comment)

    variants["comment-inside-signed-text"] = comment_in_signed_text
    allowed["comment-inside-signed-text"] = Expect(
        may_pass=frozenset({"sig-1"}),
        why="comments are outside every same-document reference (URI='' and #id drop them, exc-c14n without "
        "comments): the signed canonical text is unchanged, so the signature is intact; a reader taking only the "
        "first text node sees '1'",
    )

    def keyinfo_reordered(root):
        data_el = _one(root, "//ds:KeyInfo/ds:X509Data")
        first = _one(data_el, "ds:X509Certificate")
        data_el.remove(first)
        data_el.append(first)

    variants["keyinfo-certificates-reordered"] = keyinfo_reordered
    allowed["keyinfo-certificates-reordered"] = Expect(
        may_pass=frozenset({"sig-1"}), why="KeyInfo is not signed here; the order of its certificates means nothing"
    )

    def keyinfo_decoy_first(root):
        data_el = _one(root, "//ds:KeyInfo/ds:X509Data")
        decoy = etree.Element(_ds("X509Certificate"))
        decoy.text = _x509_text("it", "signer-qscd")
        data_el.insert(0, decoy)

    variants["keyinfo-decoy-certificate-first"] = keyinfo_decoy_first
    allowed["keyinfo-decoy-certificate-first"] = Expect(
        may_pass=frozenset({"sig-1"}),
        why="an extra unsigned certificate; the signed SigningCertificateV2 names the real one, which still verifies",
    )

    if enveloping:

        def dup_object(before: bool, inner: bool = False):
            def go(root):
                sig = _signature(root)
                original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
                evil = etree.Element(_ds("Object"), Id="sig-bid-object-0")
                evil.append(_evil_bid())
                (original.addprevious if before else original.addnext)(evil)

            return go

        variants["dup-id-object-before"] = dup_object(True)
        variants["dup-id-object-after"] = dup_object(False)

        def dup_id_keyinfo_object(root):
            key_info = _one(root, "//ds:KeyInfo")
            evil = etree.SubElement(key_info, "bid", Id="sig-bid-object-0")
            evil.extend(list(_evil_bid()))

        variants["dup-id-in-keyinfo"] = dup_id_keyinfo_object

        def dup_id_wrapper_root(root):
            envelope = etree.Element(f"{{{EVIL_NS}}}Envelope", nsmap={"evil": EVIL_NS})
            evil = _evil_bid()
            evil.set("Id", "sig-bid-object-0")
            envelope.append(evil)
            envelope.append(root)
            return envelope

        variants["dup-id-in-wrapping-root"] = dup_id_wrapper_root

        def moved_into_object(root):
            sig = _signature(root)
            original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
            outer = etree.Element(_ds("Object"))
            outer.append(_evil_bid())
            holder = etree.SubElement(outer, "archive")
            sig.replace(original, outer)
            holder.append(original)

        variants["signed-object-moved-into-object"] = moved_into_object

        def moved_into_foreign_wrapper(root):
            sig = _signature(root)
            original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
            wrapper = etree.Element(f"{{{EVIL_NS}}}Wrapper", nsmap={"evil": EVIL_NS})
            sig.replace(original, wrapper)
            wrapper.append(original)
            outer = etree.Element(_ds("Object"))
            outer.append(_evil_bid())
            wrapper.addprevious(outer)

        variants["signed-object-moved-into-foreign-namespace-wrapper"] = moved_into_foreign_wrapper

        def moved_next_to_comment(root):
            sig = _signature(root)
            original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
            outer = etree.Element(_ds("Object"))
            outer.append(_evil_bid())
            comment = etree.Comment(" the signed bid follows ")
            sig.replace(original, outer)
            outer.append(comment)
            outer.append(original)

        variants["signed-object-moved-next-to-comment"] = moved_next_to_comment

        def unsigned_object_first(root):
            sig = _signature(root)
            original = _one(sig, "ds:Object[@Id='sig-bid-object-0']")
            outer = etree.Element(_ds("Object"))
            outer.append(_evil_bid())
            original.addprevious(etree.Comment(" bid "))
            original.addprevious(outer)

        variants["unsigned-object-before-signed-object"] = unsigned_object_first
        allowed["unsigned-object-before-signed-object"] = Expect(
            partial_pass=True,
            why="an extra unsigned ds:Object: the signed one is intact, so TOTAL_PASSED only with scope PARTIAL",
        )

        def wrapped_in_foreign_root(root):
            envelope = etree.Element(f"{{{EVIL_NS}}}Envelope", nsmap={"evil": EVIL_NS})
            etree.SubElement(envelope, f"{{{EVIL_NS}}}Amount").text = "EUR 1.00"
            envelope.append(root)
            return envelope

        variants["signature-inside-foreign-root"] = wrapped_in_foreign_root
        allowed["signature-inside-foreign-root"] = Expect(
            partial_pass=True,
            why="the enveloping signature is intact inside an unsigned document: TOTAL_PASSED only with scope PARTIAL",
        )
    else:

        def content_moved_to_object(root):
            sig = _signature(root)
            obj = etree.SubElement(sig, _ds("Object"), Id="moved")
            for child in [c for c in root if c is not sig]:
                obj.append(child)
            for child in reversed(list(_evil_bid())):
                root.insert(0, child)

        variants["signed-content-moved-into-object"] = content_moved_to_object

        def root_wrapped(root):
            envelope = etree.Element(f"{{{EVIL_NS}}}Envelope", nsmap={"evil": EVIL_NS})
            envelope.append(_evil_bid())
            envelope.append(root)
            return envelope

        variants["signed-document-wrapped-in-foreign-root"] = root_wrapped

        def signature_moved_out(root):
            sig = _signature(root)
            envelope = etree.Element(f"{{{EVIL_NS}}}Envelope", nsmap={"evil": EVIL_NS})
            root.remove(sig)
            envelope.append(root)
            envelope.append(sig)
            return envelope

        variants["signature-moved-beside-its-document"] = signature_moved_out

        def dup_id_in_content(root):
            evil = etree.Element("amount", Id="sig-bid-signedprops", currency="EUR")
            evil.text = "1.00"
            root.insert(0, evil)

        variants["dup-id-in-signed-content"] = dup_id_in_content

    out: dict[str, tuple[bytes, Expect]] = {"control-round-trip": (_xml_bytes(_xml(data)), Expect(must_pass=True))}
    for name, change in variants.items():
        root = _xml(data)
        new_root = change(root)
        out[name] = (_xml_bytes(new_root if new_root is not None else root), allowed.get(name, never))
    return out


XML_BASES = (
    "xades/enveloped-b-b.xml",
    "xades/enveloping-b-b.xml",
    "xades/enveloped-b-lt.xml",
    "xades/enveloping-b-lt.xml",
)


def xml_wrapping_cases() -> list[Case]:
    cases = []
    for base in XML_BASES:
        passes_offline = "-b-lt" in base
        for variant, (data, expect) in _xml_variants(sample(base), enveloping="enveloping" in base).items():
            if expect.must_pass and not passes_offline:
                expect = Expect(may_pass=frozenset({"sig-1"}), why="control (B-B: INDETERMINATE offline)")
            cases.append(_case("xml-wrapping", base, variant, data, expect))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# Family "cms": structurally hostile CAdES, re-signed with the signer's test key so that only the structure is wrong


def _attr(kind: str, values: list) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": values})


def _present(value: core.Sequence) -> dict:
    return {name: value[name] for name, _, _ in value._fields if not isinstance(value[name], core.Void)}


def _with_signer_info(ci: cms.ContentInfo, **changes) -> cms.ContentInfo:
    """The CMS with the first SignerInfo's fields replaced (None removes a field); nothing re-signed."""
    sd = ci["content"]
    fields = _present(sd["signer_infos"][0])
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return _with_signed_data(ci, signer_infos=[cms.SignerInfo(fields), *list(sd["signer_infos"])[1:]])


def _with_signed_data(ci: cms.ContentInfo, **changes) -> cms.ContentInfo:
    fields = _present(ci["content"])
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(fields)})


def resign(ci: cms.ContentInfo, signed_attrs: list[cms.CMSAttribute], *, timestamp: bool) -> cms.ContentInfo:
    """Sign `signed_attrs` again as the French signer; with `timestamp`, a new signature time-stamp on T_SIGN."""
    attrs = cms.CMSAttributes(signed_attrs)
    signature = _run(fr_signer().async_sign_raw(attrs.dump(), "sha256"))
    si = ci["content"]["signer_infos"][0]
    unsigned = None
    if timestamp:
        token = _run(fr_timestamper().async_timestamp(hashlib.sha256(signature).digest(), "sha256"))
        unsigned = [
            a
            for a in (si["unsigned_attrs"] if not isinstance(si["unsigned_attrs"], core.Void) else [])
            if a["type"].native != "signature_time_stamp_token"
        ] + [_attr("signature_time_stamp_token", [token])]
    return _with_signer_info(ci, signed_attrs=attrs, signature=signature, unsigned_attrs=unsigned)


def _cms_variants(path: str, content: bytes) -> dict[str, tuple[bytes, Expect, bytes | None]]:
    """Variants of one CAdES sample: name -> (DER, expectation, detached content or None for the sample's own)."""
    ci = cms.ContentInfo.load(sample(path))
    sd = ci["content"]
    si = sd["signer_infos"][0]
    timestamped = not isinstance(si["unsigned_attrs"], core.Void) and any(
        a["type"].native == "signature_time_stamp_token" for a in si["unsigned_attrs"]
    )
    attrs = list(si["signed_attrs"])
    by_type = {a["type"].native: a for a in attrs}
    evil_digest = hashlib.sha256(b"<bid>EVIL SARL: EUR 1.00</bid>").digest()
    good_digest = by_type["message_digest"]["values"][0].native
    later = cms.Time({"utc_time": core.UTCTime(T_SIGN + timedelta(days=30))})

    def without(*kinds):
        return [a for a in attrs if a["type"].native not in kinds]

    def replaced(kind, *new):
        out = []
        for a in attrs:
            out.extend(new if a["type"].native == kind else [a])
        return out

    def signing_cert_v2(country: str, label: str) -> cms.CMSAttribute:
        from pyhanko.sign.general import as_signing_certificate_v2

        return _attr("signing_certificate_v2", [as_signing_certificate_v2(cert(country, label))])

    md = by_type["message_digest"]
    evil_md = _attr("message_digest", [evil_digest])
    ct = by_type["content_type"]
    st = by_type["signing_time"]
    resigned: dict[str, tuple[list, Expect]] = {
        "control-resigned": (attrs, Expect(must_pass=True)),
        "message-digest-duplicated": (attrs + [md], NEVER),
        "message-digest-duplicated-evil-first": (replaced("message_digest", evil_md, md), NEVER),
        "message-digest-duplicated-evil-last": (replaced("message_digest", md, evil_md), NEVER),
        "message-digest-two-values-evil-first": (
            replaced("message_digest", _attr("message_digest", [evil_digest, good_digest])),
            NEVER,
        ),
        "message-digest-two-values-evil-last": (
            replaced("message_digest", _attr("message_digest", [good_digest, evil_digest])),
            NEVER,
        ),
        "message-digest-missing": (without("message_digest"), NEVER),
        "message-digest-empty-set": (replaced("message_digest", _attr("message_digest", [])), NEVER),
        "content-type-duplicated": (attrs + [ct], NEVER),
        "content-type-two-values": (replaced("content_type", _attr("content_type", ["data", "signed_data"])), NEVER),
        "content-type-missing": (without("content_type"), NEVER),
        "content-type-mismatch": (replaced("content_type", _attr("content_type", ["signed_data"])), NEVER),
        "signing-time-duplicated": (attrs + [_attr("signing_time", [later])], NEVER),
        "signing-time-two-values": (replaced("signing_time", _attr("signing_time", [st["values"][0], later])), NEVER),
        "signing-certificate-v2-other-signer": (
            replaced("signing_certificate_v2", signing_cert_v2("it", "signer-qscd")),
            NEVER,
        ),
        "signing-certificate-v2-duplicated-other-signer": (attrs + [signing_cert_v2("it", "signer-qscd")], NEVER),
        "signing-certificate-v2-two-certs-other-first": (
            replaced(
                "signing_certificate_v2",
                _attr(
                    "signing_certificate_v2",
                    [
                        {
                            "certs": [
                                signing_cert_v2("fr", "signer-qc")["values"][0]["certs"][0],
                                by_type["signing_certificate_v2"]["values"][0]["certs"][0],
                            ]
                        }
                    ],
                ),
            ),
            NEVER,
        ),
        "unknown-attribute": (
            attrs + [_attr("1.3.6.1.4.1.99999.1", [core.OctetString(b"must-understand")])],
            Expect(
                may_pass=frozenset({"sig-1"}), why="CMS has no critical attributes: an unknown signed one is ignored"
            ),
        ),
        "unknown-attribute-in-ess-arc": (
            attrs + [_attr("1.2.840.113549.1.9.16.2.250", [core.Boolean(True)])],
            Expect(
                may_pass=frozenset({"sig-1"}), why="CMS has no critical attributes: an unknown signed one is ignored"
            ),
        ),
        "signing-certificate-v2-missing": (
            without("signing_certificate_v2"),
            Expect(
                may_pass=frozenset({"sig-1"}),
                why="the genuine key signed without the ESS binding: a weaker (not baseline) but intact signature",
            ),
        ),
    }
    out: dict[str, tuple[bytes, Expect, bytes | None]] = {}
    for name, (new_attrs, expect) in resigned.items():
        out[name] = (resign(ci, new_attrs, timestamp=timestamped).dump(), expect, None)

    def algorithm(name: str) -> cms.DigestAlgorithm:
        return cms.DigestAlgorithm({"algorithm": name})

    certs = list(sd["certificates"])
    signer_cert = cert("fr", "signer-qscd")
    forged = bytearray(signer_cert.dump())
    forged[-40] ^= 0x01  # inside the CA's signature over the certificate: same issuer and serial, not its cert
    forged_choice = cms.CertificateChoices({"certificate": x509.Certificate.load(bytes(forged))})
    signer_index = next(i for i, c in enumerate(certs) if c.chosen.dump() == signer_cert.dump())
    others = [c for i, c in enumerate(certs) if i != signer_index]
    rng = random.Random(SEED)
    shuffled = certs[:]
    rng.shuffle(shuffled)
    allowed = Expect(may_pass=frozenset({"sig-1"}), why="SignedData.certificates is an unsigned bag of certificates")
    plain = {
        "digest-algorithm-sha512": (_with_signer_info(ci, digest_algorithm=algorithm("sha512")), NEVER),
        "digest-algorithm-sha1": (_with_signer_info(ci, digest_algorithm=algorithm("sha1")), NEVER),
        "digest-algorithm-md5": (_with_signer_info(ci, digest_algorithm=algorithm("md5")), NEVER),
        "digest-algorithm-unknown": (
            _with_signer_info(ci, digest_algorithm=algorithm("2.16.840.1.101.3.4.2.99")),
            NEVER,
        ),
        "signature-algorithm-swapped": (
            _with_signer_info(ci, signature_algorithm=cms.SignedDigestAlgorithm({"algorithm": "sha512_ecdsa"})),
            NEVER,
        ),
        "signature-algorithm-rsa": (
            _with_signer_info(ci, signature_algorithm=cms.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})),
            NEVER,
        ),
        "certificates-removed": (
            _with_signed_data(ci, certificates=None),
            Expect(may_pass=frozenset({"sig-1"}), why="the signer certificate may come from elsewhere (LT data)"),
        ),
        "certificates-duplicated": (_with_signed_data(ci, certificates=certs + certs), allowed),
        "certificates-shuffled": (_with_signed_data(ci, certificates=shuffled), allowed),
        "certificates-signer-forged": (_with_signed_data(ci, certificates=[forged_choice, *others]), NEVER),
        "certificates-signer-forged-before-genuine": (
            _with_signed_data(ci, certificates=[forged_choice, *certs]),
            Expect(
                may_pass=frozenset({"sig-1"}),
                why="the genuine certificate is present and the signed ESS digest selects it",
            ),
        ),
        "certificates-signer-replaced-by-other-signer": (
            _with_signed_data(
                ci, certificates=[cms.CertificateChoices({"certificate": cert("fr", "signer-qc")}), *others]
            ),
            NEVER,
        ),
        "signer-identifier-names-the-issuing-ca": (
            _with_signer_info(
                ci,
                sid=cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": cert("fr", "qca").issuer,
                            "serial_number": cert("fr", "qca").serial_number,
                        }
                    }
                ),
            ),
            NEVER,
        ),
        "second-signer-info-tampered-copy": (
            _with_signed_data(
                ci,
                signer_infos=[
                    si,
                    # 0xFF bytes: the copy sorts after the genuine SignerInfo in the DER SET OF
                    cms.SignerInfo({**_present(si), "signature": b"\xff" * len(si["signature"].native)}),
                ],
            ),
            Expect(may_pass=frozenset({"sig-1"}), must_fail=frozenset({"sig-2"})),
        ),
    }
    for name, (new_ci, expect) in plain.items():
        out[name] = (new_ci.dump(), expect, None)
    econtent = sd["encap_content_info"]["content"]
    if not isinstance(econtent, core.Void):
        evil = b"<bid>EVIL SARL: EUR 1.00</bid>"
        out["encapsulated-content-replaced"] = (
            _with_signed_data(ci, encap_content_info={"content_type": "data", "content": evil}).dump(),
            NEVER,
            None,
        )
        out["encapsulated-content-removed"] = (
            _with_signed_data(ci, encap_content_info={"content_type": "data"}).dump(),
            NEVER,
            None,
        )
        out["encapsulated-content-removed-attacker-content"] = (
            _with_signed_data(ci, encap_content_info={"content_type": "data"}).dump(),
            NEVER,
            evil,
        )
    else:
        out["detached-content-replaced"] = (sample(path), NEVER, content.replace(b"BTP Dupont SARL", b"EVIL SARL"))
        out["detached-content-appended"] = (sample(path), NEVER, content + b"<!-- EUR 1.00 -->")
        out["detached-content-empty"] = (sample(path), NEVER, b"")
        out["detached-made-enveloping-evil"] = (
            _with_signed_data(ci, encap_content_info={"content_type": "data", "content": b"EVIL"}).dump(),
            NEVER,
            b"",
        )
    return out


CMS_BASES = ("cades/enveloping-b-lt.p7m", "cades/detached-b-lt.p7s", "cades/enveloping-b-b.p7m")
TOKEN_BASES = ("timestamps/bid.xml.tst", "timestamps/bid.xml.tsr")


def _token_variants(path: str) -> dict[str, bytes]:
    """A time-stamp token (RSA TSA) with its algorithms swapped; a response keeps its status around the token."""
    data = sample(path)
    response = None
    if path.endswith(".tsr"):
        from asn1crypto import tsp

        response = tsp.TimeStampResp.load(data)
        ci = response["time_stamp_token"]
    else:
        ci = cms.ContentInfo.load(data)

    def wrap(token: cms.ContentInfo) -> bytes:
        if response is None:
            return token.dump()
        from asn1crypto import tsp

        return tsp.TimeStampResp({"status": response["status"], "time_stamp_token": token}).dump()

    def sig_alg(name: str) -> cms.SignedDigestAlgorithm:
        return cms.SignedDigestAlgorithm({"algorithm": name})

    return {
        "signature-algorithm-ecdsa-for-rsa-key": wrap(
            _with_signer_info(ci, signature_algorithm=sig_alg("sha256_ecdsa"))
        ),
        "signature-algorithm-dsa-for-rsa-key": wrap(_with_signer_info(ci, signature_algorithm=sig_alg("sha256_dsa"))),
        "signature-algorithm-rsassa-pss-no-parameters": wrap(
            _with_signer_info(ci, signature_algorithm=sig_alg("rsassa_pss"))
        ),
        "signature-algorithm-ed25519-for-rsa-key": wrap(_with_signer_info(ci, signature_algorithm=sig_alg("ed25519"))),
        "digest-algorithm-sha512": wrap(
            _with_signer_info(ci, digest_algorithm=cms.DigestAlgorithm({"algorithm": "sha512"}))
        ),
        "signer-certificates-removed": wrap(_with_signed_data(ci, certificates=None)),
    }


def cms_cases() -> list[Case]:
    cases = []
    for base in CMS_BASES:
        content = contents_for(base)
        bid = content[0][1] if content else b""
        passes_offline = "-b-lt" in base
        for variant, (data, expect, detached) in _cms_variants(base, bid).items():
            if expect.must_pass and not passes_offline:
                expect = Expect(may_pass=frozenset({"sig-1"}), why="control (B-B: INDETERMINATE offline)")
            given = content
            if detached is not None:
                given = ((content[0][0] if content else "bid.xml", detached),) if detached else ()
            cases.append(_case("cms", base, variant, data, expect, contents=given))
    for base in TOKEN_BASES:
        for variant, data in _token_variants(base).items():
            cases.append(_case("cms", base, variant, data, NEVER, contents=contents_for(base)))
    base = "cades/enveloping-b-b.p7m"
    ci = cms.ContentInfo.load(sample(base))
    si = ci["content"]["signer_infos"][0]
    copies = Expect(may_pass=ALL_IDS, why="copies of one genuine SignerInfo: each is the genuine signature")
    cases.append(
        _case("cms", base, "signer-infos-50-copies", _with_signed_data(ci, signer_infos=[si] * 50).dump(), copies)
    )
    cases.append(
        _case(
            "cms",
            base,
            "dos-signer-infos-1000-copies",
            _with_signed_data(ci, signer_infos=[si] * 1000).dump(),
            copies,
            isolate=True,
        )
    )
    return cases


# ---------------------------------------------------------------------------------------------------------------
# Family "asic": hostile ZIP containers

ASIC_E_MIME = b"application/vnd.etsi.asic-e+zip"
ASIC_S_MIME = b"application/vnd.etsi.asic-s+zip"


def zip_of(
    entries: Iterable[tuple[str, bytes]], *, mimetype: bytes | None = ASIC_E_MIME, deflate: bool = True
) -> bytes:
    """A ZIP written by the standard library: `mimetype` first and stored, the rest deflated (or stored)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        if mimetype is not None:
            archive.writestr(zipfile.ZipInfo("mimetype", (2026, 11, 2, 10, 0, 0)), mimetype)
        for name, data in entries:
            info = zipfile.ZipInfo(name, (2026, 11, 2, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _rebuilt(path: str, change: Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]) -> bytes:
    entries = zip_entries(sample(path))
    mimetype = dict(entries)["mimetype"]
    return zip_of(change([e for e in entries if e[0] != "mimetype"]), mimetype=mimetype)


@functools.cache
def _zeros_deflated(size: int) -> bytes:
    """`size` zero bytes as a zlib stream (header and checksum included: not what a ZIP entry holds)."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.compress(bytes(size & ((1 << 20) - 1))) + compressor.flush()


@functools.cache
def _zeros_raw_deflate(size: int) -> bytes:
    """`size` zero bytes as raw deflate data, as a ZIP entry holds them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.compress(bytes(size & ((1 << 20) - 1))) + compressor.flush()


def raw_zip(entries: Sequence[tuple[str, bytes, int, int, int]]) -> bytes:
    """A ZIP from already compressed entries (name, data, method, crc, uncompressed size): fast for bombs."""
    out = bytearray()
    central = bytearray()
    stamp = (0x5042, 0x5B42)  # 10:02:04 on 2026-10-02, whatever: no reader checks it
    for name, data, method, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, *stamp, crc, len(data), size, len(encoded), 0)
        out += encoded + data
        central += struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            20,
            0,
            20,
            0,
            0,
            method,
            *stamp,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def _zeros_entry(name: str, size: int) -> tuple[str, bytes, int, int, int]:
    return name, _zeros_raw_deflate(size), zipfile.ZIP_DEFLATED, _zeros_crc(size), size


@functools.cache
def _zeros_crc(size: int) -> int:
    crc = 0
    chunk = bytes(1 << 20)
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return zlib.crc32(bytes(size & ((1 << 20) - 1)), crc)


def _mimetype_entry(mimetype: bytes = ASIC_E_MIME) -> tuple[str, bytes, int, int, int]:
    return "mimetype", mimetype, zipfile.ZIP_STORED, zlib.crc32(mimetype), len(mimetype)


def _patch_central(data: bytes, name: bytes, **fields: int) -> bytes:
    """Overwrite fields of `name`'s central directory record (crc, compressed, uncompressed, flags, method)."""
    offsets = {"flags": 8, "method": 10, "crc": 16, "compressed": 20, "uncompressed": 24}
    formats = {"flags": "<H", "method": "<H", "crc": "<L", "compressed": "<L", "uncompressed": "<L"}
    out = bytearray(data)
    pos = out.index(b"PK\x01\x02" + b"", out.index(b"PK\x01\x02"))
    while True:
        name_length = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + name_length]) == name:
            break
        extra, comment = struct.unpack_from("<HH", out, pos + 30)
        pos = out.index(b"PK\x01\x02", pos + 46 + name_length + extra + comment)
    for key, value in fields.items():
        struct.pack_into(formats[key], out, pos + offsets[key], value)
    return bytes(out)


def _patch_local(data: bytes, name: bytes, **fields: int) -> bytes:
    """Overwrite fields of `name`'s local header (crc, compressed, uncompressed, flags, method)."""
    offsets = {"flags": 6, "method": 8, "crc": 14, "compressed": 18, "uncompressed": 22}
    formats = {"flags": "<H", "method": "<H", "crc": "<L", "compressed": "<L", "uncompressed": "<L"}
    out = bytearray(data)
    pos = out.index(b"PK\x03\x04" + b"")
    while bytes(out[pos + 30 : pos + 30 + len(name)]) != name:
        pos = out.index(b"PK\x03\x04", pos + 4)
    for key, value in fields.items():
        struct.pack_into(formats[key], out, pos + offsets[key], value)
    return bytes(out)


def _many_entries(count: int) -> bytes:
    return zip_of(((f"f{i}.txt", b"") for i in range(count)), deflate=False)


def _zip64_huge_count() -> bytes:
    """A ZIP64 end record declaring 2**40 entries in front of a small real central directory."""
    base = zip_of([("bid.pdf", b"%PDF-1.7")])
    eocd = base.rindex(b"PK\x05\x06")
    _, _, _, on_disk, total, cd_size, cd_offset, _ = struct.unpack_from("<4s4H2LH", base, eocd)
    zip64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 2**40, 2**40, cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return base[:eocd] + zip64 + locator + end


def asic_cases() -> list[Case]:
    xades_e = "asic/asic-e-xades.asice"
    cades_s = "asic/asic-s-cades.asics"
    bomb = _zeros_deflated(64 << 20)
    inner_bomb = raw_zip([_zeros_entry("zeros.bin", 64 << 20)])
    bid = dict(zip_entries(sample(cades_s)))["bid.pdf"]
    zip_refusal = Expect(refusal=("zip-",))
    cases: list[tuple[str, str, bytes, Expect]] = []

    def add(sample_name: str, variant: str, data: bytes, expect: Expect = zip_refusal) -> None:
        cases.append((sample_name, variant, data, expect))

    # bombs
    raw_bomb = zip_of([("bid.pdf", b"placeholder")])
    add("bomb.asice", "bomb-high-ratio-deflate", raw_zip([_mimetype_entry(), _zeros_entry("bid.pdf", 64 << 20)]))
    add(
        "bomb.asice",
        "bomb-400-entries-of-1mib-zeros",
        raw_zip([_mimetype_entry(), *(_zeros_entry(f"p{i}.bin", 1 << 20) for i in range(400))]),
    )
    add(cades_s, "bomb-nested-zip-as-signed-file", _rebuilt(cades_s, lambda e: [("bid.pdf", inner_bomb), *e[1:]]))
    add(cades_s, "bomb-nested-asic-as-signed-file", _rebuilt(cades_s, lambda e: [("bid.pdf", sample(xades_e)), *e[1:]]))
    lying = raw_zip([_mimetype_entry(), _zeros_entry("bid.pdf", 1 << 20)])
    add(
        "bomb.asice",
        "bomb-lying-uncompressed-size-small",
        _patch_local(_patch_central(lying, b"bid.pdf", uncompressed=1000), b"bid.pdf", uncompressed=1000),
    )
    signed_lying = _rebuilt(cades_s, lambda e: [("bid.pdf", bid + bytes(4 << 20)), *e[1:]])
    add(
        cades_s,
        "bomb-signed-file-holds-more-than-declared",
        _patch_local(
            _patch_central(signed_lying, b"bid.pdf", uncompressed=len(bid)), b"bid.pdf", uncompressed=len(bid)
        ),
    )
    add("bomb.asice", "bomb-declared-4gib", _patch_central(raw_bomb, b"bid.pdf", uncompressed=0xFFFFFFFE))
    add("bomb.asice", "lying-local-size-differs", _patch_local(raw_bomb, b"bid.pdf", uncompressed=12345))
    add("bomb.asice", "lying-local-crc-differs", _patch_local(raw_bomb, b"bid.pdf", crc=0xDEADBEEF))
    add(
        cades_s,
        "lying-crc-of-signed-file",
        _patch_local(_patch_central(sample(cades_s), b"bid.pdf", crc=0xDEADBEEF), b"bid.pdf", crc=0xDEADBEEF),
    )
    add("bomb.asice", "raw-deflate-stream-64mib", _raw_deflate_entry(bomb))
    # names
    for variant, name in (
        ("path-traversal-dotdot", "../evil.txt"),
        ("path-traversal-nested", "META-INF/../../evil.txt"),
        ("path-traversal-absolute", "/etc/passwd"),
        ("path-traversal-drive", "C:/Windows/evil.txt"),
        ("path-traversal-backslash", "..\\..\\evil.txt"),
        ("name-nul-byte", "bid.pdf\x00.txt"),
        ("name-control-character", "bid\x1b[2J.pdf"),
        ("name-very-long", "a" * 5000 + ".txt"),
        ("name-empty", ""),
    ):
        add(xades_e, variant, _rebuilt(xades_e, lambda e, n=name: [*e, (n, b"evil")]))
    for variant, extra in (
        ("duplicate-name-exact", [("bid.pdf", b"%PDF-1.7 evil")]),
        ("duplicate-name-case", [("BID.PDF", b"%PDF-1.7 evil")]),
        ("duplicate-name-unicode-normalisation", [("offre-\u00e9.pdf", b"a"), ("offre-e\u0301.pdf", b"b")]),
        ("duplicate-signature-entry", [("META-INF/signatures001.xml", b"<evil/>")]),
        ("duplicate-mimetype", [("mimetype", ASIC_S_MIME)]),
    ):
        add(xades_e, variant, _rebuilt(xades_e, lambda e, x=extra: [*e, *x]))
    add(xades_e, "duplicate-name-evil-first", _rebuilt(xades_e, lambda e: [("bid.pdf", b"%PDF-1.7 evil"), *e]))
    # counts and layout
    add("many.asice", "entries-1001", _many_entries(1001))
    add("many.asice", "entries-65535-declared", _patch_eocd_count(_many_entries(3), 0xFFFF))
    add("many.asice", "zip64-2pow40-entries", _zip64_huge_count())
    add(xades_e, "bytes-prepended", b"MZ" + bytes(100) + sample(xades_e))
    add(xades_e, "bytes-appended", sample(xades_e) + b"trailing")
    add(xades_e, "bytes-hidden-between-entries", _hidden_between_entries(sample(xades_e)))
    add(
        xades_e,
        "encrypted-flag",
        _patch_local(_patch_central(sample(xades_e), b"bid.pdf", flags=1), b"bid.pdf", flags=1),
    )
    add(
        xades_e,
        "compression-bzip2",
        _patch_local(_patch_central(sample(xades_e), b"bid.pdf", method=12), b"bid.pdf", method=12),
    )
    add(xades_e, "central-directory-truncated", _truncate_central(sample(xades_e)))
    # rebuilt samples: valid ZIPs whose content changed
    never = NEVER
    add(xades_e, "signed-file-replaced", _rebuilt(xades_e, lambda e: [("bid.pdf", b"%PDF-1.7 EVIL"), *e[1:]]), never)
    add(xades_e, "signed-file-renamed", _rebuilt(xades_e, lambda e: [("bid2.pdf", e[0][1]), *e[1:]]), never)
    add(xades_e, "signed-file-removed", _rebuilt(xades_e, lambda e: e[1:]), never)
    add(cades_s, "signed-file-replaced", _rebuilt(cades_s, lambda e: [("bid.pdf", b"%PDF-1.7 EVIL"), *e[1:]]), never)
    add(
        cades_s,
        "second-data-file-in-asic-s",
        _rebuilt(cades_s, lambda e: [*e, ("evil.pdf", b"%PDF-1.7 EVIL")]),
        Expect(
            refusal=("zip-", "asic"),
            partial_pass=True,
            why="an extra file in ASiC-S: refused, or a signature whose scope is PARTIAL",
        ),
    )
    add(
        xades_e,
        "unsigned-file-added",
        _rebuilt(xades_e, lambda e: [*e, ("evil.pdf", b"%PDF-1.7 EVIL")]),
        Expect(partial_pass=True, why="ASiC-E may hold unsigned files: TOTAL_PASSED only with scope PARTIAL"),
    )
    add(
        xades_e,
        "mimetype-asic-s",
        zip_of([e for e in zip_entries(sample(xades_e)) if e[0] != "mimetype"], mimetype=ASIC_S_MIME),
        Expect(may_pass=frozenset({"sig-1"}), refusal=(), why="a wrong mimetype says nothing about what is signed"),
    )
    add(
        xades_e,
        "mimetype-not-first",
        zip_of(
            [*[e for e in zip_entries(sample(xades_e)) if e[0] != "mimetype"], ("mimetype", ASIC_E_MIME)], mimetype=None
        ),
        Expect(may_pass=frozenset({"sig-1"}), refusal=(), why="mimetype out of place: a container-format warning"),
    )
    out = []
    for sample_name, variant, data, expect in cases:
        out.append(_case("asic", sample_name, variant, data, expect))
    return out


def _raw_deflate_entry(deflated: bytes) -> bytes:
    """A single entry whose data is a zlib-wrapped stream (not raw deflate): what inflaters make of it varies."""
    base = zip_of([("bid.pdf", b"x")])
    local = base.index(b"PK\x03\x04", 10)
    head = base[: local + 30 + len(b"bid.pdf")]
    data_start = len(head)
    old_size = struct.unpack_from("<L", base, local + 18)[0]
    rest = base[data_start + old_size :]
    out = head + deflated + rest
    out = _patch_local(out, b"bid.pdf", compressed=len(deflated), uncompressed=64 << 20)
    # the central directory moved by the size difference
    shift = len(deflated) - old_size
    eocd = out.rindex(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<L", out, eocd + 16)[0]
    out = bytearray(out)
    struct.pack_into("<L", out, eocd + 16, cd_offset + shift)
    return _patch_central(bytes(out), b"bid.pdf", compressed=len(deflated), uncompressed=64 << 20)


def _patch_eocd_count(data: bytes, count: int) -> bytes:
    out = bytearray(data)
    eocd = out.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", out, eocd + 8, count, count)
    return bytes(out)


def _hidden_between_entries(data: bytes) -> bytes:
    """64 bytes no central directory record accounts for, between the first two entries (offsets fixed)."""
    second = data.index(b"PK\x03\x04", 4)
    hidden = b"HIDDEN" * 10 + b"PAD!"
    out = bytearray(data[:second] + hidden + data[second:])
    cd = out.index(b"PK\x01\x02")
    pos = cd
    while pos >= 0:
        offset = struct.unpack_from("<L", out, pos + 42)[0]
        if offset >= second:
            struct.pack_into("<L", out, pos + 42, offset + len(hidden))
        pos = out.find(b"PK\x01\x02", pos + 4)
    eocd = out.rindex(b"PK\x05\x06")
    struct.pack_into("<L", out, eocd + 16, struct.unpack_from("<L", out, eocd + 16)[0] + len(hidden))
    return bytes(out)


def _truncate_central(data: bytes) -> bytes:
    cd = data.index(b"PK\x01\x02")
    eocd = data.rindex(b"PK\x05\x06")
    return data[: cd + 20] + data[eocd:]


# ---------------------------------------------------------------------------------------------------------------
# Family "xml-size": deep, huge and wide XML, bare and inside signed documents

MIB = 1 << 20


def _inside(data: bytes, closing: bytes, insert: bytes) -> bytes:
    """`insert` placed just before the last `closing` tag of the document."""
    at = data.rindex(closing)
    return data[:at] + insert + data[at:]


def _before_signature(data: bytes, insert: bytes) -> bytes:
    at = data.index(b"<ds:Signature")
    return data[:at] + insert + data[at:]


def _many_references(data: bytes, count: int) -> bytes:
    """SignedInfo with `count` more copies of its first reference (the signature value no longer matches)."""
    start = data.index(b"<ds:Reference ")
    end = data.index(b"</ds:Reference>", start) + len(b"</ds:Reference>")
    reference = re.sub(rb' Id="[^"]*"', b"", data[start:end])
    return data[:end] + reference * count + data[end:]


def _many_transforms(data: bytes, count: int) -> bytes:
    c14n = b'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    at = data.index(b"</ds:Transforms>")
    return data[:at] + c14n * count + data[at:]


def _signature_copies(data: bytes, count: int) -> bytes:
    start = data.index(b"<ds:Signature")
    end = data.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    signature = data[start:end]
    copies = b"".join(signature.replace(b'"sig-bid', b'"sig-%d' % i) for i in range(count))
    return data[:end] + copies + data[end:]


def xml_size_cases() -> list[Case]:
    enveloped = sample("xades/enveloped-b-lt.xml")
    enveloping = sample("xades/enveloping-b-lt.xml")
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    bare = {
        "deep-1000": head + b"<a>" * 1000 + b"</a>" * 1000,
        "deep-100000": head + b"<a>" * 100_000 + b"</a>" * 100_000,
        "deep-250": head + b"<a>" * 250 + b"</a>" * 250,
        "text-node-20mib": head + b"<bid>" + b"A" * (20 * MIB) + b"</bid>",
        "text-node-9mib": head + b"<bid>" + b"A" * (9 * MIB) + b"</bid>",
        "elements-100k": head + b"<bid>" + b"<i/>" * 100_000 + b"</bid>",
        "elements-1m": head + b"<bid>" + b"<i/>" * 1_000_000 + b"</bid>",
        "attributes-50k-on-one-element": head + b"<bid " + b" ".join(b'a%d="x"' % i for i in range(50_000)) + b"/>",
        "attribute-value-9mib": head + b'<bid a="' + b"x" * (9 * MIB) + b'"/>',
        "attribute-value-20mib": head + b'<bid a="' + b"x" * (20 * MIB) + b'"/>',
        "namespace-declarations-20k": head
        + b"<bid "
        + b" ".join(b'xmlns:p%d="urn:p%d"' % (i, i) for i in range(20_000))
        + b"/>",
        "nested-namespaces-200-deep": head
        + b"".join(b'<p%d:e xmlns:p%d="urn:%d">' % (i, i, i) for i in range(200))
        + b"".join(b"</p%d:e>" % i for i in reversed(range(200))),
        "comments-100k": head + b"<bid>" + b"<!--x-->" * 100_000 + b"</bid>",
        "processing-instructions-100k": head + b"<bid>" + b"<?pi x?>" * 100_000 + b"</bid>",
        "character-references-1m": head + b"<bid>" + b"&#65;" * 1_000_000 + b"</bid>",
        "cdata-9mib": head + b"<bid><![CDATA[" + b"x" * (9 * MIB) + b"]]></bid>",
        "long-element-name-1mib": head + b"<" + b"a" * MIB + b"/>",
        "signature-elements-2k-empty": head
        + b'<bid xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        + b"<ds:Signature/>" * 2_000
        + b"</bid>",
    }
    signed = {
        "signed-deep-1000": _inside(enveloped, b"</bid>", b"<a>" * 1000 + b"</a>" * 1000),
        "signed-deep-250": _before_signature(enveloped, b"<a>" * 250 + b"</a>" * 250),
        "signed-text-node-9mib": _before_signature(enveloped, b"<note>" + b"A" * (9 * MIB) + b"</note>"),
        "signed-elements-100k": _before_signature(enveloped, b"<i/>" * 100_000),
        "signed-unique-ids-100k": _before_signature(enveloped, b"".join(b'<i Id="i%d"/>' % i for i in range(100_000))),
        "signed-duplicate-ids-100k": _before_signature(enveloped, b'<i Id="x"/>' * 100_000),
        "signed-ids-like-signed-properties-10k": _before_signature(
            enveloped, b'<i Id="sig-bid-signedprops"/>' * 10_000
        ),
        "signed-attributes-5k": _before_signature(
            enveloped, b"<i " + b" ".join(b'a%d="x"' % i for i in range(5_000)) + b"/>"
        ),
        "signed-signature-copies-50": _signature_copies(enveloped, 50),
        "signed-references-2000": _many_references(enveloped, 2000),
        "signed-transforms-1000": _many_transforms(enveloped, 1000),
        "signed-signature-value-5mib": re.sub(
            rb"(<ds:SignatureValue[^>]*>)[^<]*", lambda m: m[1] + b"A" * (5 * MIB), enveloped, count=1
        ),
        "signed-keyinfo-certificate-5mib": re.sub(
            rb"(<ds:X509Certificate>)[^<]*", lambda m: m[1] + b"QUFB" * (5 * MIB // 4), enveloped, count=1
        ),
        "enveloping-unsigned-object-9mib": _inside(
            enveloping, b"</ds:Signature>", b"<ds:Object>" + b"A" * (9 * MIB) + b"</ds:Object>"
        ),
        "enveloping-object-100k-children": _inside(
            enveloping, b"</ds:Signature>", b"<ds:Object>" + b"<i/>" * 100_000 + b"</ds:Object>"
        ),
    }
    cases = [_case("xml-size", "bare.xml", name, data, NEVER, filename="bomb.xml") for name, data in bare.items()]
    # amplification: small inputs whose validation cost grows without a cap (run in a process killed at the limit)
    cases.append(
        _case(
            "xml-size",
            "xades/enveloped-b-lt.xml",
            "dos-attributes-50k-in-signed-content",
            _before_signature(enveloped, b"<i " + b" ".join(b'a%d="x"' % i for i in range(50_000)) + b"/>"),
            isolate=True,
        )
    )
    cases.append(
        _case(
            "xml-size",
            "bare.xml",
            "dos-empty-signatures-100k",
            head + b'<bid xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' + b"<ds:Signature/>" * 100_000 + b"</bid>",
            filename="bomb.xml",
            isolate=True,
        )
    )
    for name, data in signed.items():
        expect = NEVER
        if name.startswith(("enveloping-unsigned-object", "enveloping-object-100k")):
            expect = Expect(partial_pass=True, why="an unsigned ds:Object: TOTAL_PASSED only with scope PARTIAL")
        base = "xades/enveloping-b-lt.xml" if name.startswith("enveloping") else "xades/enveloped-b-lt.xml"
        cases.append(_case("xml-size", base, name, data, expect))
    return cases


# ---------------------------------------------------------------------------------------------------------------
# Family "mutation": every sample truncated and bit-flipped inside what its signatures cover


@dataclass(frozen=True)
class Region:
    """Byte spans of a file that some signatures cover: a change there must keep those signatures from passing.

    :param spans: (start, end) byte ranges.
    :param covered_by: ids of the signatures that cover them (None: every signature of the file).
    :param label: what the bytes are (for case names).
    :param in_content: the spans are in the detached content file, not in the document.
    """

    spans: tuple[tuple[int, int], ...]
    covered_by: frozenset[str] | None
    label: str
    in_content: bool = False

    @property
    def size(self) -> int:
        return sum(end - start for start, end in self.spans)

    def offset(self, index: int) -> int:
        for start, end in self.spans:
            if index < end - start:
                return start + index
            index -= end - start
        raise IndexError(index)


def _sample_kind(path: str, data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.lstrip()[:1] == b"<":
        return "xml"
    return "der" if data[:1] == b"\x30" else "other"


def pdf_regions(data: bytes) -> list[Region]:
    """The first signature's byte range (every later signature covers it too), and the DER inside /Contents."""
    try:
        signatures = [s for s in _pdf_signatures(data) if s.kind == "/Sig"]
    except Exception:  # an unsigned or unreadable PDF: nothing is covered
        return []
    if not signatures:
        return []
    a, b, c, d = signatures[0].byte_range
    regions = [Region(((a, a + b), (c, c + d)), None, "signed-bytes")]
    # in the CMS inside /Contents (hex): the signed attributes and the signature value, not the unsigned parts
    der = bytes.fromhex(data[b + 1 : b + 1 + signatures[0].der_hex_length].decode())
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    hex_spans = []
    for part in (signer_info["signed_attrs"].dump(), signer_info["signature"].contents):
        span = _find_span(der, part)
        if span:
            hex_spans.append((b + 1 + 2 * span[0], b + 1 + 2 * span[1]))
    regions.append(Region(tuple(hex_spans), None, "cms-signed-part-hex"))
    return regions


def _find_span(data: bytes, part: bytes, start: int = 0) -> tuple[int, int] | None:
    at = data.find(part, start)
    return (at, at + len(part)) if at >= 0 and part else None


def der_regions(data: bytes) -> list[Region]:
    """Per SignerInfo: its signed attributes and signature value; for all: the encapsulated content."""
    from asn1crypto import tsp

    try:
        if data[:1] == b"\x30" and _first_inner_tag(data) == 0x30:
            ci = tsp.TimeStampResp.load(data)["time_stamp_token"]
        else:
            ci = cms.ContentInfo.load(data)
        sd = ci["content"]
        infos = list(sd["signer_infos"])
    except Exception:
        return []
    regions = []
    for number, si in enumerate(infos, start=1):
        sid = frozenset({f"sig-{number}"})
        attrs = si["signed_attrs"]
        if not isinstance(attrs, core.Void):
            span = _find_span(data, attrs.dump())
            if span:
                regions.append(Region((span,), sid, f"signed-attributes-{number}"))
        span = _find_span(data, si["signature"].contents)
        if span:
            regions.append(Region((span,), sid, f"signature-value-{number}"))
    econtent = sd["encap_content_info"]["content"]
    if not isinstance(econtent, core.Void):
        span = _find_span(data, econtent.contents)
        if span:
            regions.append(Region((span,), None, "encapsulated-content"))
    return regions


def _first_inner_tag(der: bytes) -> int:
    offset = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    return der[offset]


_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTR = re.compile(rb"([^\s=]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


@dataclass
class _XmlElement:
    name: bytes
    start: int
    end: int = -1
    attrs: dict[bytes, bytes] = field(default_factory=dict)
    value_spans: list[tuple[int, int]] = field(default_factory=list)  # attribute values of its start tag
    depth: int = 0


def _xml_elements(data: bytes) -> tuple[list[_XmlElement], list[tuple[int, int]]]:
    """Elements with their byte spans, and every text span, by a regular-expression walk (comments skipped)."""
    elements: list[_XmlElement] = []
    texts: list[tuple[int, int]] = []
    stack: list[_XmlElement] = []
    pos = data.find(b"<", data.find(b"?>") + 2 if data.lstrip().startswith(b"<?xml") else 0)
    while 0 <= pos < len(data):
        if data.startswith(b"<!--", pos):
            pos = data.index(b"-->", pos) + 3
        elif data.startswith(b"<?", pos):
            pos = data.index(b"?>", pos) + 2
        else:
            match = _TAG.match(data, pos)
            if match is None:
                return [], []
            if match[1]:
                stack.pop().end = match.end()
            else:
                element = _XmlElement(match[2], match.start(), depth=len(stack))
                for attr in _ATTR.finditer(match[3]):
                    element.attrs[attr[1]] = attr[2][1:-1]
                    value_start = match.start(3) + attr.start(2) + 1
                    element.value_spans.append((value_start, value_start + len(attr[2]) - 2))
                elements.append(element)
                if match[4]:
                    element.end = match.end()
                else:
                    stack.append(element)
            pos = match.end()
        nxt = data.find(b"<", pos)
        if nxt < 0:
            break
        if nxt > pos and stack:
            texts.append((pos, nxt))
        pos = nxt
    return elements, texts


def _local(name: bytes) -> bytes:
    return name.rsplit(b":", 1)[-1]


def _meaningful(spans: list[tuple[int, int]], lo: int, hi: int, data: bytes) -> list[tuple[int, int]]:
    """The spans inside [lo, hi), trimmed of whitespace-only text (whose changes some parsers normalise)."""
    out = []
    for start, end in spans:
        if start >= lo and end <= hi and data[start:end].strip():
            out.append((start, end))
    return out


def xml_regions(data: bytes) -> list[Region]:
    """What the first top-level signature covers: SignedInfo, SignatureValue, the referenced elements."""
    elements, texts = _xml_elements(data)
    signatures = [e for e in elements if _local(e.name) == b"Signature" and e.end > 0]
    if not signatures:
        return []
    first = signatures[0]
    nested = [s for s in signatures[1:] if first.start < s.start < first.end]
    value_spans = [v for e in elements for v in e.value_spans]
    by_id = {}
    for e in elements:
        for key in (b"Id", b"ID", b"id"):
            if key in e.attrs:
                by_id[e.attrs[key]] = e

    def inside(element: _XmlElement, *, exclude: list[_XmlElement] = ()) -> list[tuple[int, int]]:
        spans = _meaningful(texts, element.start, element.end, data) + _meaningful(
            value_spans, element.start, element.end, data
        )
        return [s for s in spans if not any(x.start <= s[0] < x.end for x in exclude)]

    own = [
        e for e in elements if first.start < e.start < first.end and not any(n.start <= e.start < n.end for n in nested)
    ]
    regions: list[Region] = []
    signed_info = next((e for e in own if _local(e.name) == b"SignedInfo"), None)
    if signed_info is None:
        return []
    regions.append(Region(tuple(inside(signed_info)), None, "signed-info"))
    value = next((e for e in own if _local(e.name) == b"SignatureValue"), None)
    if value is not None:
        regions.append(Region(tuple(_meaningful(texts, value.start, value.end, data)), None, "signature-value"))
    for reference in (
        e for e in own if _local(e.name) == b"Reference" and signed_info.start < e.start < signed_info.end
    ):
        uri = reference.attrs.get(b"URI")
        if uri is None:
            continue
        if uri == b"":
            root = elements[0]
            spans = inside(root, exclude=[first])
            regions.append(Region(tuple(spans), None, "whole-document"))
        elif uri.startswith(b"#") and uri[1:] in by_id:
            target = by_id[uri[1:]]
            regions.append(Region(tuple(inside(target, exclude=nested)), None, "reference-" + uri[1:].decode()))
    return [r for r in regions if r.size]


def zip_regions(data: bytes) -> list[Region]:
    """The stored or deflated data of every entry but mimetype: its CRC (or the signatures) catch any change."""
    spans = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename == "mimetype":
                    continue
                name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
                start = info.header_offset + 30 + name_length + extra_length
                spans.append((start, start + info.compress_size))
    except (zipfile.BadZipFile, struct.error):
        return []
    return [Region(tuple(spans), None, "entry-data")] if spans else []


def regions_of(path: str, data: bytes, contents: Sequence[tuple[str, bytes]]) -> list[Region]:
    kind = _sample_kind(path, data)
    regions = {"pdf": pdf_regions, "der": der_regions, "xml": xml_regions, "zip": zip_regions}.get(kind, lambda _d: [])(
        data
    )
    if regions and contents:
        content = contents[0][1]
        regions.append(Region(((0, len(content)),), None, "detached-content", in_content=True))
    return regions


def _flip(data: bytes, offset: int, bit: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 1 << bit
    return bytes(out)


def _other_hex_digit(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] = ord("1") if out[offset] == ord("0") else ord("0")
    return bytes(out)


def _other_base64_char(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] = ord("B") if out[offset] != ord("B") else ord("C")
    return bytes(out)


def _signature_ids(path: str, data: bytes) -> frozenset[str]:
    """Ids trustsvc gives the signatures of the sample (sig-1, ...; counter-signatures named after their parent)."""
    kind = _sample_kind(path, data)
    if kind == "pdf":
        try:
            return frozenset(_sig_ids(data))
        except Exception:
            return frozenset()
    if kind == "der":
        return frozenset(f"sig-{i}" for i in range(1, 1 + sum(1 for r in der_regions(data) if "value" in r.label)))
    return frozenset()


def _truncation_points(data: bytes) -> list[int]:
    size = len(data)
    return sorted({1, size - 1, *(size * k // 5 for k in range(1, 5))} - {0, size})


def _truncation_expect(kind: str, original: bytes, cut: bytes) -> Expect:
    if kind == "pdf" and cut.rstrip(b"\0\t\n\f\r ").endswith(b"%%EOF"):
        return Expect(may_pass=ALL_IDS, why="the cut ends a revision: an earlier, genuinely signed document")
    if kind == "xml" and cut.strip() == original.strip():
        return Expect(may_pass=ALL_IDS, why="only trailing white space was cut")
    return NEVER


def mutation_cases_for(path: str, *, truncations: bool = True, flips: int = 10) -> list[Case]:
    data = sample(path)
    contents = contents_for(path)
    kind = _sample_kind(path, data)
    ids = _signature_ids(path, data)
    rng = random.Random(f"{SEED}:{path}")
    cases: list[Case] = []
    if truncations:
        points = _truncation_points(data)
        if kind == "pdf":  # and the end of every earlier revision
            points = sorted({*points, *(m.end() + 1 for m in re.finditer(rb"%%EOF", data) if m.end() + 1 < len(data))})
        for cut in points:
            cases.append(
                _case(
                    "mutation",
                    path,
                    f"truncated-at-{cut}",
                    data[:cut],
                    _truncation_expect(kind, data, data[:cut]),
                    contents=contents,
                )
            )
    regions = regions_of(path, data, contents)
    if not regions:  # nothing is signed: flip anywhere
        regions = [Region(((0, len(data)),), frozenset(), "anywhere")]
    total = sum(r.size for r in regions)

    def expect_for(region: Region) -> Expect:
        if region.covered_by is None:
            return NEVER
        others = frozenset(ids - region.covered_by)
        return Expect(may_pass=others | _counter_ids(path, data), why=f"only {sorted(region.covered_by)} cover it")

    def mutated(region: Region, offset: int, change: Callable[[bytes, int], bytes]) -> tuple[bytes, tuple]:
        if region.in_content:
            name, content = contents[0]
            return data, ((name, change(content, offset)),)
        return change(data, offset), contents

    for _ in range(flips):
        pick = rng.randrange(total)
        for region in regions:
            if pick < region.size:
                break
            pick -= region.size
        offset = region.offset(pick)
        bit = rng.randrange(8)
        target = (contents[0][1] if region.in_content else data)[offset]
        if region.label.endswith("hex") and chr(target).isalpha() and bit == 5:
            bit = 6  # bit 5 only changes the case of a hex digit: the same byte
        new_data, new_contents = mutated(region, offset, lambda d, o, b=bit: _flip(d, o, b))
        where = "content" if region.in_content else "document"
        expect = expect_for(region)
        if kind == "xml":
            expect = Expect(may_pass=expect.may_pass | _counter_ids(path, data), why=expect.why)
        cases.append(
            _case(
                "mutation",
                path,
                f"bit-{bit}-flipped-at-{where}-{offset}-{region.label}",
                new_data,
                expect,
                contents=new_contents,
            )
        )
    cases.extend(_explicit_flips(path, data, contents, kind, regions))
    return cases


def _counter_ids(path: str, data: bytes) -> frozenset[str]:
    """Counter-signatures sign only their parent's SignatureValue: a change elsewhere leaves them intact."""
    return frozenset({"sig-1-counter-1", "sig-1-counter-2"}) if b"CounterSignature" in data else frozenset()


def _explicit_flips(path: str, data: bytes, contents, kind: str, regions: list[Region]) -> list[Case]:
    """A change in the signature value and one in the signed content, placed on purpose."""
    cases = []
    counter = _counter_ids(path, data)
    if kind == "pdf":
        try:
            signatures = [s for s in _pdf_signatures(data) if s.kind == "/Sig"]
        except Exception:
            signatures = []
        if signatures:
            sig = signatures[0]
            b = sig.byte_range[1]
            der = bytes.fromhex(data[b + 1 : b + 1 + sig.der_hex_length].decode())
            ci = cms.ContentInfo.load(der)
            value = ci["content"]["signer_infos"][0]["signature"].contents.hex().encode()
            at = data.lower().index(value, b) + len(value) // 2
            cases.append(
                _case("mutation", path, "explicit-signature-value-hex-digit", _other_hex_digit(data, at), NEVER)
            )
            text = data.find(b"total amount EUR")
            if 0 <= text < sig.byte_range[1]:
                cases.append(_case("mutation", path, "explicit-signed-page-text", _flip(data, text + 6, 0), NEVER))
    elif kind == "der":
        for region in regions:
            if region.label.startswith(("signature-value", "signed-attributes", "encapsulated-content")) and (
                region.label.endswith("-1") or region.label == "encapsulated-content"
            ):
                start, end = region.spans[0]
                ids = _signature_ids(path, data)
                expect = NEVER if region.covered_by is None else Expect(may_pass=ids - region.covered_by)
                cases.append(
                    _case(
                        "mutation",
                        path,
                        f"explicit-{region.label}-middle",
                        _flip(data, (start + end) // 2, 0),
                        expect,
                        contents=contents,
                    )
                )
        if contents:
            name, content = contents[0]
            cases.append(
                _case(
                    "mutation",
                    path,
                    "explicit-detached-content",
                    data,
                    NEVER,
                    contents=((name, _flip(content, len(content) // 2, 0)),),
                )
            )
    elif kind == "xml":
        expect = Expect(may_pass=counter) if counter else NEVER
        for region in regions:
            if region.label == "signature-value":
                start, end = region.spans[0]
                cases.append(
                    _case(
                        "mutation",
                        path,
                        "explicit-signature-value-base64",
                        _other_base64_char(data, (start + end) // 2),
                        expect,
                        contents=contents,
                    )
                )
        text = data.find(b"BTP Dupont SARL")
        covered = any(region.offset(0) <= text for region in regions if region.label != "signature-value")
        if (
            text >= 0
            and covered
            and b'URI=""' in data[: data.find(b"</ds:SignedInfo>")]
            or (text >= 0 and b"object-0" in data)
        ):
            cases.append(
                _case("mutation", path, "explicit-signed-text", _flip(data, text + 4, 0), expect, contents=contents)
            )
        if contents:
            name, content = contents[0]
            cases.append(
                _case(
                    "mutation",
                    path,
                    "explicit-detached-content",
                    data,
                    expect,
                    contents=((name, _flip(content, len(content) // 2, 0)),),
                )
            )
    return cases


def mutation_cases() -> list[Case]:
    cases = []
    for path in sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file()):
        unsigned = path.startswith("content/") or path == "pades/no-signature.pdf"
        cases.extend(mutation_cases_for(path, flips=3 if unsigned else 8))
    return cases


FAMILIES: dict[str, Callable[[], list[Case]]] = {
    "pdf": pdf_cases,
    "xml-wrapping": xml_wrapping_cases,
    "cms": cms_cases,
    "asic": asic_cases,
    "xml-size": xml_size_cases,
    "mutation": mutation_cases,
}


@functools.cache
def cases_of(family: str) -> tuple[Case, ...]:
    return tuple(FAMILIES[family]())


def all_cases() -> list[Case]:
    return [case for family in FAMILIES for case in cases_of(family)]
