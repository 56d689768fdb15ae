"""Fuzz harness for trustsvc's input parsers and for a whole offline validation.

One target per entry point a hostile upload reaches first:

========  ===================================================================================================
detect    ``trustsvc.formats.detect.detect``: what a file is, from its bytes
pdf       ``trustsvc.formats.pades.open_pdf``: pyHanko's reader under trustsvc's limits
cms       CMS / time-stamp parsing as ``detect`` does it (unarmouring, then asn1crypto ``ContentInfo`` /
          ``TimeStampResp``), for every input, not only those that look like DER
xml       ``trustsvc.trust.xml_safety.parse_xml``: the hardened XML parser
zip       ``trustsvc.formats.asic_container.read_container``, then every entry read through ``SafeZip``
validate  ``trustsvc.engine.validate_submission`` offline, as of the tests' T_VAL, with the test PKI's roots
          (``fixtures/certs/pem/ms-*/root.pem``) as ad-hoc anchors, then the JSON report rendered
========  ===================================================================================================

The contract under test: every input ends in a result (a verdict, a parse tree, ...) or in a
:class:`trustsvc.errors.TrustSvcError`. Anything else is a *finding*: another exception type (recorded with its
traceback, the fuzzing goes on), a hang longer than ``--timeout`` seconds, a native crash or running out of memory
(the process ends; ``fuzz/run.py`` restarts it for the rest of the budget).

Engines: ``atheris`` (coverage-guided libFuzzer, the default when it imports) or ``python``, a pure-Python mutator
over the same entry points for interpreters atheris has no wheel for. The python engine is blind to code coverage;
it keeps a mutant when it produces an outcome not seen before (a new error code, a new set of indications), and
reports that number as ``ft`` in libFuzzer's format, so ``fuzz/run.py`` reads both engines' output the same way.

Usage (``fuzz/run.py`` drives this; see fuzz/README.md)::

    .venv/bin/python fuzz/harness.py TARGET --findings DIR [--seconds N] [--timeout 5] [--engine auto]
    .venv/bin/python fuzz/harness.py TARGET --reproduce FILE...

This module imports trustsvc lazily (after atheris has started instrumenting imports), so importing it for its
seed-corpus helpers costs nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import hashlib
import json
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "fixtures" / "samples"
PEM = ROOT / "fixtures" / "certs" / "pem"
CONTENT = SAMPLES / "content" / "bid.xml"  # given to every validation as detached content (read in place)
T_VAL = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)  # tests/conftest.py's validation time

TARGETS = ("detect", "pdf", "cms", "xml", "zip", "validate")
DEFAULT_TIMEOUT = 5
#: What atheris instruments for coverage: trustsvc and the pure-Python parsers it builds on (lxml, xmlsec and
#: cryptography are native and report no Python coverage).
INSTRUMENTED = ["trustsvc", "asn1crypto", "pyhanko", "pyhanko_certvalidator", "zipfile"]
#: Exit status of a process that stopped on a hang (libFuzzer's default -timeout_exitcode).
TIMEOUT_EXIT = 70

# --- the seed corpus --------------------------------------------------------------------------------------------

#: libFuzzer dictionary tokens: the structural keywords of the formats (one mutation can then insert a whole one).
DICTIONARY = [
    b"%PDF-1.7", b"%%EOF", b"startxref", b"xref", b"trailer", b" obj", b"endobj", b"stream\n", b"endstream",
    b"/ByteRange", b"/Contents", b"/Type /Sig", b"/DocTimeStamp", b"/SubFilter", b"/ETSI.CAdES.detached",
    b"/adbe.pkcs7.detached", b"/Filter /FlateDecode", b"/Length", b"/Prev", b"/Type /XRef", b"/ObjStm", b"/W",
    b"/Encrypt", b"/Root", b"/AcroForm", b"/Fields", b"/DSS", b"/VRI", b"/Perms", b"/DocMDP", b"R",
    b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"mimetype", b"META-INF/",
    b"application/vnd.etsi.asic-e+zip", b"application/vnd.etsi.asic-s+zip", b"META-INF/ASiCManifest.xml",
    b"META-INF/signature.p7s", b"META-INF/signatures.xml", b"META-INF/timestamp.tst", b"../",
    b"<?xml version=\"1.0\"?>", b"<!DOCTYPE", b"<!ENTITY", b"<!--", b"-->", b"<![CDATA[", b"&amp;", b"&#x0;",
    b"xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"", b"ds:Signature", b"ds:SignedInfo", b"ds:Reference",
    b"ds:Transform", b"ds:X509Certificate", b"URI=\"\"", b"URI=\"#", b"Id=\"", b"xades:SignedProperties",
    b"xades:SigningCertificateV2", b"xades:SignatureTimeStamp", b"xades:ArchiveTimeStamp",
    b"http://www.w3.org/2001/10/xml-exc-c14n#", b"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    b"-----BEGIN PKCS7-----", b"-----END PKCS7-----", b"-----BEGIN CMS-----",
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02",  # signedData
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01",  # data
    b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x04",  # id-ct-TSTInfo
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x04",  # messageDigest
    b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01",  # sha256
    b"\x30\x80", b"\x30\x82", b"\x30\x84\xff\xff\xff\xff", b"\xa0\x80", b"\x00\x00", b"\x05\x00",
]  # fmt: skip

_PDF_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f\s]+)>")


def seed_files() -> list[Path]:
    """The seed corpus: every sample of fixtures/samples, read in place."""
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file())


def derived_seeds(target: str) -> Iterator[tuple[str, bytes]]:
    """Inputs cut out of the samples for the parsers that never see a whole sample in real use.

    ``cms``: the CMS blob of every PDF signature field and every .p7s/.tst entry of the ASiC samples;
    ``xml``: every XML entry of the ASiC samples.
    """
    if target not in ("cms", "xml"):
        return
    for path in seed_files():
        data = path.read_bytes()
        if data.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(path) as archive:
                    for info in archive.infolist():
                        entry = archive.read(info)
                        wanted = entry[:1] == b"\x30" if target == "cms" else entry.lstrip()[:1] == b"<"
                        if wanted:
                            yield f"{path.name}.{info.filename.replace('/', '_')}", entry
            except zipfile.BadZipFile:
                continue
        elif target == "cms" and b"%PDF-" in data[:1024]:
            for n, match in enumerate(_PDF_CONTENTS.finditer(data)):
                blob = bytes.fromhex(re.sub(rb"\s", b"", match.group(1)).decode()).rstrip(b"\0")
                if blob[:1] == b"\x30":
                    yield f"{path.stem}.contents{n}.der", blob


def write_seeds(target: str, directory: Path) -> int:
    """Copy the seed corpus of `target` (samples and derived inputs) into `directory`; return how many."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in seed_files():
        shutil.copyfile(path, directory / f"{path.parent.name}-{path.name}")
        count += 1
    for name, data in derived_seeds(target):
        (directory / f"derived-{name}").write_bytes(data)
        count += 1
    return count


def write_dictionary(path: Path) -> None:
    """The DICTIONARY in libFuzzer's -dict format."""
    lines = ['"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in t) + '"'
             for t in DICTIONARY]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


# --- the targets ------------------------------------------------------------------------------------------------


def load_targets(workdir: Path | None = None) -> tuple[dict[str, Callable[[bytes], object]], type[BaseException]]:
    """Import trustsvc and build each target's function (call it where atheris instruments imports).

    :param workdir: where the validate target writes each input (default: a new temporary folder).
    """
    from trustsvc.engine import Submission, validate_submission
    from trustsvc.errors import TrustSvcError
    from trustsvc.formats import ValidationSettings
    from trustsvc.formats.asic_container import read_container
    from trustsvc.formats.detect import _classify_der, _unarmour, detect
    from trustsvc.formats.pades import open_pdf
    from trustsvc.reports.json import render_json
    from trustsvc.trust.anchors import AnchorSet
    from trustsvc.trust.xml_safety import parse_xml

    def cms_target(data: bytes) -> object:
        # detect's own CMS path, whatever the first bytes: unarmour (DER, PEM or Base64), then classify the DER
        der = _unarmour(data)
        return _classify_der(der if der is not None else data)

    def zip_target(data: bytes) -> object:
        container = read_container(data)
        for name in container.zip.names():
            if not name.endswith("/"):
                container.zip.read(name, max_bytes=8 << 20)
        return container

    anchors = AnchorSet.from_files(sorted(PEM.glob("ms-*/root.pem")))
    settings = ValidationSettings(validation_time=T_VAL, trust=anchors, historical=True)  # no fetcher: offline
    workdir = workdir or Path(tempfile.mkdtemp(prefix="trustsvc-fuzz-validate-"))
    document = workdir / "document"

    def validate_target(data: bytes) -> object:
        document.write_bytes(data)
        submission = Submission(document=document, contents=(CONTENT,), filename="document")
        report = asyncio.run(validate_submission(submission, settings))
        render_json(report)
        return report

    targets = {
        "detect": detect,
        "pdf": open_pdf,
        "cms": cms_target,
        "xml": parse_xml,
        "zip": zip_target,
        "validate": validate_target,
    }
    return targets, TrustSvcError


def outcome(result: object) -> str:
    """A short class of a successful result, for the python engine's feedback (new outcome = keep the mutant)."""
    signatures = getattr(result, "signatures", None)
    if signatures is not None:  # a Report
        document = result.document
        marks = sorted({f"{s.indication}/{s.subindication}" for s in signatures})
        return f"report:{document.format}:{','.join(e.code for e in document.errors)}:{'|'.join(marks)}"
    kind = getattr(result, "kind", None)
    if kind is not None:  # Detected, AsicContainer
        return f"{type(result).__name__}:{getattr(kind, 'value', kind)}:{len(getattr(result, 'warnings', ()) or ())}"
    tag = getattr(result, "tag", None)
    if isinstance(tag, str):  # an lxml element
        return f"xml:{tag[:80]}:{len(result)}"
    return type(result).__name__


# --- findings ---------------------------------------------------------------------------------------------------


class Findings:
    """Records inputs that broke the contract in DIR: ``exception-ID.bin`` (the smallest input seen) and ``.txt``."""

    def __init__(self, directory: Path, target: str):
        self.directory = directory
        self.target = target
        directory.mkdir(parents=True, exist_ok=True)
        self.seen: dict[str, int] = {}

    def record(self, data: bytes, error: BaseException) -> str:
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if f"{os.sep}trustsvc{os.sep}" in f.filename]

        def where(frame: traceback.FrameSummary) -> str:
            return f"{_short_path(frame.filename)}:{frame.name}:{frame.lineno}"

        signature = " | ".join(
            [type(error).__qualname__, where(ours[-1]) if ours else "-", where(frames[-1]) if frames else "-"]
        )
        ident = hashlib.sha1(signature.encode()).hexdigest()[:12]
        self.seen[ident] = self.seen.get(ident, 0) + 1
        path = self.directory / f"exception-{ident}.bin"
        if not path.exists() or len(data) < path.stat().st_size:
            path.write_bytes(data)
            text = "".join(traceback.format_exception(error))
            meta = {"target": self.target, "kind": "exception", "id": ident, "signature": signature,
                    "exception": type(error).__qualname__, "message": str(error)[:500], "size": len(data)}  # fmt: skip
            (self.directory / f"exception-{ident}.json").write_text(json.dumps(meta, indent=2) + "\n")
            (self.directory / f"exception-{ident}.txt").write_text(f"{signature}\n\n{text}")
        if self.seen[ident] == 1:
            print(f"FINDING exception-{ident}: {signature}: {str(error)[:200]!r}", file=sys.stderr, flush=True)
        return ident


def _short_path(filename: str) -> str:
    for marker in ("site-packages" + os.sep, str(ROOT) + os.sep):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def make_test_one(
    function: Callable[[bytes], object], expected: type[BaseException], findings: Findings
) -> Callable[[bytes], str]:
    """The per-input check: a result or an `expected` error is fine; anything else is recorded, and fuzzing goes on."""

    def test_one(data: bytes) -> str:
        try:
            return "ok:" + outcome(function(data))
        except expected as e:
            return f"refused:{type(e).__name__}:{getattr(e, 'code', '')}"
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: B036 - SystemExit or GeneratorExit out of a library is a finding too
            findings.record(data, e)
            return "finding"

    return test_one


# --- the atheris engine -----------------------------------------------------------------------------------------


def run_atheris(args: argparse.Namespace, corpus_dirs: list[Path], dictionary: Path) -> None:
    import atheris

    with atheris.instrument_imports(include=INSTRUMENTED):
        targets, expected = load_targets(args.work)
    findings = Findings(args.findings, args.target)
    test_one = make_test_one(targets[args.target], expected, findings)

    def one_input(data: bytes) -> None:
        test_one(data)

    argv = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-artifact_prefix={args.findings}{os.sep}",
        f"-dict={dictionary}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        "-print_final_stats=1",
        *([f"-seed={args.seed}"] if args.seed else []),
        *args.libfuzzer,
        *(str(d) for d in corpus_dirs),
    ]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()  # libFuzzer exits the process


# --- the pure-Python engine -------------------------------------------------------------------------------------


class Watchdog:
    """Ends the process when one input runs longer than `timeout` seconds, as libFuzzer's -timeout does."""

    def __init__(self, timeout: float, findings: Path, on_timeout: Callable[[], None]):
        self.timeout = timeout
        self.findings = findings
        self.on_timeout = on_timeout
        self.current: bytes | None = None
        self.started = 0.0
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True, name="fuzz-watchdog").start()

    def begin(self, data: bytes) -> None:
        with self._lock:
            self.current, self.started = data, time.monotonic()

    def end(self) -> None:
        with self._lock:
            self.current = None

    def _watch(self) -> None:
        while True:
            time.sleep(0.2)
            with self._lock:
                data, started = self.current, self.started
            if data is not None and time.monotonic() - started > self.timeout:
                name = f"timeout-{hashlib.sha1(data).hexdigest()}"
                (self.findings / name).write_bytes(data)
                print(f"ALARM: working on the last Unit for {int(time.monotonic() - started)} seconds", file=sys.stderr)
                print(f"==ERROR: libFuzzer-compatible: timeout after {self.timeout} seconds", file=sys.stderr)
                print(f"artifact_prefix='{self.findings}{os.sep}'; Test unit written to {self.findings / name}",
                      file=sys.stderr)  # fmt: skip
                self.on_timeout()
                sys.stderr.flush()
                os._exit(TIMEOUT_EXIT)


def mutate(data: bytes, corpus: list[bytes], rng: random.Random) -> bytes:
    """One to four byte-level mutations in the manner of libFuzzer's (flip, insert, erase, copy, splice, token)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        n = len(out)
        if n == 0 or op == 0:  # insert random bytes
            pos = rng.randint(0, n)
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 1:  # flip one bit
            pos = rng.randrange(n)
            out[pos] ^= 1 << rng.randrange(8)
        elif op == 2:  # one random byte
            out[rng.randrange(n)] = rng.randrange(256)
        elif op == 3:  # interesting byte values
            out[rng.randrange(n)] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF))
        elif op == 4:  # erase a range
            pos = rng.randrange(n)
            del out[pos : pos + rng.randint(1, max(1, min(256, n - pos)))]
        elif op == 5:  # duplicate a range elsewhere
            pos = rng.randrange(n)
            chunk = out[pos : pos + rng.randint(1, 64)]
            at = rng.randint(0, n)
            out[at:at] = chunk
        elif op == 6:  # dictionary token, inserted or overwriting
            token = rng.choice(DICTIONARY)
            pos = rng.randint(0, n)
            if rng.random() < 0.5:
                out[pos:pos] = token
            else:
                out[pos : pos + len(token)] = token
        elif op == 7:  # splice with another corpus entry
            other = rng.choice(corpus)
            if other:
                cut, at = rng.randint(0, n), rng.randint(0, len(other))
                out = out[:cut] + other[at:]
        elif op == 8:  # truncate
            del out[rng.randint(0, n) :]
        else:  # a DER length: make one of the length bytes after a constructed tag huge, tiny or indefinite
            starts = [m.start() for m in re.finditer(rb"[\x30\x31\xa0-\xa3]", bytes(out[: 1 << 16]))]
            if starts:
                pos = rng.choice(starts) + 1
                if pos < n:
                    out[pos] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0x88, 0xFF))
    return bytes(out)


def run_python(args: argparse.Namespace, corpus_dirs: list[Path]) -> None:
    targets, expected = load_targets(args.work)
    findings = Findings(args.findings, args.target)
    test_one = make_test_one(targets[args.target], expected, findings)
    rng = random.Random(args.seed or int(time.time()))
    corpus = [p.read_bytes() for d in corpus_dirs for p in sorted(d.rglob("*")) if p.is_file()]
    corpus = [c for c in corpus if c] or [b"\x30\x00"]
    max_len = args.max_len or max(len(c) for c in corpus)
    started = time.monotonic()
    executions = 0
    outcomes: set[str] = set()
    new_units = 0

    def stats_line(kind: str) -> str:
        elapsed = max(time.monotonic() - started, 1e-9)
        size = sum(len(c) for c in corpus)
        return (f"#{executions}\t{kind} ft: {len(outcomes)} corp: {len(corpus)}/{size}b "
                f"exec/s: {int(executions / elapsed)} rss: {_rss_mb()}Mb")  # fmt: skip

    def final_stats() -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        print(f"stat::number_of_executed_units: {executions}", file=sys.stderr)
        print(f"stat::average_exec_per_sec:     {int(executions / elapsed)}", file=sys.stderr)
        print(f"stat::new_units_added:          {new_units}", file=sys.stderr)
        print(f"stat::peak_rss_mb:              {_rss_mb()}", file=sys.stderr, flush=True)

    watchdog = Watchdog(args.timeout, args.findings, final_stats)
    # The watchdog thread needs the GIL; native code that hangs holding it is caught by faulthandler instead
    # (traceback and exit, without the input).
    backstop = args.timeout * 2 + 5

    def run(data: bytes) -> str:
        nonlocal executions
        watchdog.begin(data)
        faulthandler.dump_traceback_later(backstop, exit=True)
        result = test_one(data)
        faulthandler.cancel_dump_traceback_later()
        watchdog.end()
        executions += 1
        if executions & (executions - 1) == 0:
            print(stats_line("pulse "), file=sys.stderr, flush=True)
        return result

    for data in list(corpus):
        outcomes.add(run(data))
    print(stats_line("INITED"), file=sys.stderr, flush=True)
    deadline = started + args.seconds
    while time.monotonic() < deadline:
        data = mutate(rng.choice(corpus), corpus, rng)[:max_len]
        result = run(data)
        if result not in outcomes:
            outcomes.add(result)
            corpus.append(data)
            new_units += 1
            if args.corpus_out:
                (args.corpus_out / hashlib.sha1(data).hexdigest()).write_bytes(data)
            print(stats_line("NEW   "), file=sys.stderr, flush=True)
    print(stats_line("DONE  "), file=sys.stderr)
    print(f"Done {executions} runs in {int(time.monotonic() - started)} second(s)", file=sys.stderr)
    final_stats()


def _rss_mb() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


# --- reproducing ------------------------------------------------------------------------------------------------


def reproduce(args: argparse.Namespace) -> int:
    """Run each file once through the target; print its outcome, and the traceback of a finding. Exit 1 on any."""
    with tempfile.TemporaryDirectory(prefix="trustsvc-fuzz-reproduce-") as work:
        return _reproduce(args, Path(work))


def _reproduce(args: argparse.Namespace, work: Path) -> int:
    targets, expected = load_targets(work)
    function = targets[args.target]
    failed = 0
    for path in args.reproduce:
        data = path.read_bytes()
        done = threading.Event()
        result: list[str] = []

        def work(data: bytes = data, result: list[str] = result, done: threading.Event = done) -> None:
            try:
                result.append("ok: " + outcome(function(data)))
            except expected as e:
                result.append(f"refused: {type(e).__name__} ({getattr(e, 'code', '')}): {e}")
            except BaseException as e:  # noqa: B036
                result.append("FINDING:\n" + "".join(traceback.format_exception(e)))
            done.set()

        started = time.monotonic()
        threading.Thread(target=work, daemon=True).start()
        if not done.wait(args.timeout):
            print(f"{path}: FINDING: still running after {args.timeout} s (hang)")
            failed += 1
            continue
        print(f"{path}: {result[0]} [{time.monotonic() - started:.2f} s]")
        failed += result[0].startswith("FINDING")
    return 1 if failed else 0


# --- command line -----------------------------------------------------------------------------------------------


def engine_available() -> str:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "python"
    return "atheris"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--engine", choices=("auto", "atheris", "python"), default="auto")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time (default 60)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds one input may take (5)")
    parser.add_argument("--work", type=Path, help="scratch folder: seeds, corpus, findings (default: a new temp)")
    parser.add_argument("--findings", type=Path, help="where findings go (default: WORK/findings)")
    parser.add_argument("--seeds", type=Path, help="a folder of seeds (default: fixtures/samples + derived)")
    parser.add_argument("--corpus", dest="corpus_out", type=Path, help="where new corpus entries go")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0: from the clock)")
    parser.add_argument("--max-len", type=int, default=0, help="largest input generated (default: largest seed)")
    parser.add_argument("--rss-limit-mb", type=int, default=3072)
    parser.add_argument("--reproduce", nargs="+", type=Path, metavar="FILE", help="run these inputs once")
    parser.add_argument("libfuzzer", nargs="*", help="extra libFuzzer flags, after --")
    args = parser.parse_args(argv)

    logging.disable(logging.CRITICAL)  # pyHanko and trustsvc log every malformed input
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        os.environ[name] = "http://127.0.0.1:9"  # offline: anything that tried the network would fail at once
    if args.reproduce:
        return reproduce(args)

    work = args.work = args.work or Path(tempfile.mkdtemp(prefix=f"trustsvc-fuzz-{args.target}-"))
    work.mkdir(parents=True, exist_ok=True)
    args.findings = (args.findings or work / "findings").resolve()
    args.findings.mkdir(parents=True, exist_ok=True)
    seeds = args.seeds
    if seeds is None:
        seeds = work / "seeds"
        write_seeds(args.target, seeds)
    args.corpus_out = args.corpus_out or work / "corpus"
    args.corpus_out.mkdir(parents=True, exist_ok=True)
    if args.max_len:
        args.libfuzzer.append(f"-max_len={args.max_len}")
    engine = engine_available() if args.engine == "auto" else args.engine
    print(f"ENGINE {engine} target={args.target} findings={args.findings} corpus={args.corpus_out}", file=sys.stderr)
    if engine == "atheris":
        dictionary = work / "formats.dict"
        write_dictionary(dictionary)
        run_atheris(args, [args.corpus_out, seeds], dictionary)  # new units go to the first folder
        return 0
    run_python(args, [args.corpus_out, seeds])
    return 0


if __name__ == "__main__":
    sys.exit(main())
