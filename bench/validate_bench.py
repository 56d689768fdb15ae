"""Validation benchmark: trustsvc side by side with its peers, in the same run, so that every result is a ratio.

    .venv/bin/python bench/validate_bench.py                      # everything (PAdES 1 MiB, CAdES 1 MiB/100 MiB/1 GiB)
    .venv/bin/python bench/validate_bench.py --sizes 1M,100M --runs 10
    .venv/bin/python bench/validate_bench.py --skip-cades --profile 20

This is a benchmark, not a test: it prints a table, writes bench/results/validate_bench.json, and exits non-zero
only when some tool did not confirm that the signature is valid (a ratio over a failing run means nothing).

Cases (inputs are generated once and cached under bench/results/inputs/; ``--regenerate`` rebuilds them):

* ``pades-b-lt``: a bid PDF of several pages padded to about 1 MiB with uncompressed image XObjects, signed
  PAdES B-LT by fr/signer-qscd at a fixed time exactly as fixtures/certs/regenerate.py does (the test PKI is
  served on loopback as an HTTP proxy while signing). trustsvc's full in-process validation
  (``trustsvc.engine.validate_submission``, offline, historical) against raw pyHanko
  ``async_validate_pdf_signature`` with a ValidationContext built from the DSS (fresh reader every run).
* ``cades-detached-<size>``: random-looking content (1 MiB of random bytes repeated with a block counter), signed
  CAdES B-LT detached (pyHanko streams the file object; CRLs and OCSP go into SignedData.crls as regenerate.py
  does). trustsvc in-process and as a CLI subprocess (peak RSS of the whole process, from wait4), raw pyHanko
  ``async_validate_detached_cms`` over the file object, ``openssl cms -verify``, and pure hashing floors
  (``sha256sum``, ``openssl dgst -sha256``, Python hashlib).

Every tool validates as of signing time + 1 hour, inside the validity of the embedded revocation data, so all of
them succeed; each run's verdict is checked and reported. Runs are interleaved (A B C A B C ...) after a warm-up
so that page cache and CPU frequency drift hit every tool alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import gc
import hashlib
import importlib
import importlib.metadata
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import cms, pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from trustsvc.engine import Submission, validate_submission
from trustsvc.formats import ValidationSettings
from trustsvc.trust.anchors import AnchorSet
from trustsvc.verdict import Indication

REPO = Path(__file__).resolve().parents[1]
CERTS = REPO / "fixtures" / "certs"
PEM = CERTS / "pem" / "ms-fr"
ROOT_PEM = PEM / "root.pem"
INTERMEDIATE_PEMS = (PEM / "qca.pem",)
RESULTS = REPO / "bench" / "results"

#: The fixed signing time (regenerate.py's T_SIGN) and the validation time: one hour later, inside the validity
#: of the OCSP responses and CRLs embedded at signing, so that raw pyHanko and openssl succeed as well.
SIGN_TIME = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
VALIDATION_TIME = SIGN_TIME + dt.timedelta(hours=1)

#: Bump when the way inputs are generated changes, so that cached inputs are rebuilt.
GENERATOR_VERSION = 1
MIB = 1 << 20
GIB = 1 << 30
MIN_FREE_FOR_LARGE = 5 * GIB
LARGE_SIZE = GIB  # content of this size or more uses --runs-large
PDF_PAGES = 8
PROFILE_MAX_CONTENT = 16 * MIB  # --profile covers PAdES and the CAdES cases up to this content size

TARGET_PADES_RATIO = 1.5
TARGET_CADES_1G_RATIO = 1.3
TARGET_RSS_MIB = 150.0
TOP_PRINTED = 25


# ---------------------------------------------------------------- measurement


@dataclass
class Outcome:
    """What one run of a tool said about the signature."""

    ok: bool
    detail: str
    rss_kib: int | None = None


@dataclass
class Tool:
    name: str
    kind: str  # "in-process" or "subprocess"
    run: Callable[[], Outcome]  # returns after the work is done; timed from the outside
    description: str
    samples: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.ok for o in self.outcomes)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def summary(self, content_bytes: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tool": self.name,
            "kind": self.kind,
            "description": self.description,
            "runs": len(self.samples),
            "median_s": self.median,
            "min_s": min(self.samples),
            "max_s": max(self.samples),
            "samples_s": self.samples,
            "peak_rss_mib": max(self.rss_kib) / 1024 if self.rss_kib else None,
            "all_ok": self.ok,
            "verdict": self.outcomes[-1].detail if self.outcomes else None,
            "failures": [o.detail for o in self.outcomes if not o.ok][:3],
        }
        if content_bytes:
            out["throughput_mib_s"] = content_bytes / MIB / self.median
        return out


def measure(tools: list[Tool], runs: int, warmup: int, label: str) -> None:
    """Interleave the tools run by run; the warm-up runs are checked but not timed."""
    gc.collect()  # start every case from the same heap, whatever the previous case left behind
    for i in range(warmup + runs):
        for tool in tools:
            start = time.perf_counter()
            outcome = tool.run()
            elapsed = time.perf_counter() - start
            tool.outcomes.append(outcome)
            if i >= warmup:
                tool.samples.append(elapsed)
                if outcome.rss_kib is not None:
                    tool.rss_kib.append(outcome.rss_kib)
        print(f"  {label}: run {i + 1}/{warmup + runs}{' (warm-up)' if i < warmup else ''}", file=sys.stderr)


#: GNU time reports the peak RSS of its own child, which it forks while small. Forking straight from this
#: process (a Python holding pyHanko, ~100 MiB) would not do: Linux carries the parent's high-water RSS over
#: into the child's ru_maxrss across fork (and vfork/posix_spawn) + exec.
GNU_TIME = Path("/usr/bin/time")


def rss_method() -> str:
    if GNU_TIME.exists():
        return "GNU time %M of the tool process (its own peak RSS)"
    return "wait4 ru_maxrss (an upper bound: includes this benchmark's RSS at fork)"


def run_process(cmd: list[str]) -> tuple[int, int | None, bytes, bytes]:
    """Run a command; return (exit status, peak RSS in KiB of the command's process, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else cmd
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=_child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak: int | None = usage.ru_maxrss
        if GNU_TIME.exists():
            lines = Path(rss.name).read_text().split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else None
        out.seek(0)
        err.seek(0)
        return proc.returncode, peak, out.read(), err.read()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.pop(key, None)
    return env


# ---------------------------------------------------------------- inputs


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _cached(path: Path, expected: dict[str, Any], *extra: Path) -> bool:
    meta = _meta_path(path)
    if not path.exists() or not meta.exists() or not all(p.exists() for p in extra):
        return False
    try:
        return json.loads(meta.read_text()) == expected
    except ValueError:
        return False


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    _meta_path(path).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


@contextlib.contextmanager
def served_pki() -> Iterator[Any]:
    """The test PKI on loopback, reached as this process's HTTP proxy (as regenerate.py does); returns regenerate."""
    sys.path.insert(0, str(CERTS))
    testpki = importlib.import_module("testpki")
    regenerate = importlib.import_module("regenerate")
    keys = ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")
    saved = {k: os.environ.get(k) for k in keys}
    with testpki.serve_pki() as served:
        for key in keys:
            os.environ.pop(key, None)
        os.environ["HTTP_PROXY"] = served.proxy_url
        try:
            yield regenerate
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def padded_bid_pdf(target_bytes: int, pages: int = PDF_PAGES) -> bytes:
    """regenerate.bid_pdf's one-page bid grown to `pages` pages, each with an uncompressed RGB image (scanned
    annexes), so that the file is about `target_bytes` before signing."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    name = generic.pdf_name
    w = PdfFileWriter()
    font = w.add_object(
        generic.DictionaryObject(
            {name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"), name("/BaseFont"): name("/Helvetica")}
        )
    )
    rng = random.Random(2026)
    side = max(16, int(math.sqrt(target_bytes / pages / 3)))
    for page_no in range(1, pages + 1):
        image = w.add_object(
            generic.StreamObject(
                {
                    name("/Type"): name("/XObject"),
                    name("/Subtype"): name("/Image"),
                    name("/Width"): generic.NumberObject(side),
                    name("/Height"): generic.NumberObject(side),
                    name("/ColorSpace"): name("/DeviceRGB"),
                    name("/BitsPerComponent"): generic.NumberObject(8),
                },
                stream_data=rng.randbytes(side * side * 3),
            )
        )
        resources = generic.DictionaryObject(
            {
                name("/Font"): generic.DictionaryObject({name("/F1"): font}),
                name("/XObject"): generic.DictionaryObject({name("/Im1"): image}),
            }
        )
        text = f"Tender 2026/001 - Bid of BTP Dupont SARL: total amount EUR 1,250,000.00 - page {page_no}/{pages}"
        content = b"q 400 0 0 400 97 250 cm /Im1 Do Q BT /F1 12 Tf 50 750 Td (" + text.encode("latin-1") + b") Tj ET"
        w.insert_page(PageObject(w.add_object(generic.StreamObject(stream_data=content)), [0, 0, 595, 842], resources))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def ensure_pades_input(loop: asyncio.AbstractEventLoop, target_bytes: int, regenerate_inputs: bool) -> Path:
    path = RESULTS / "inputs" / f"pades-b-lt-{_size_label(target_bytes)}.pdf"
    expected = {"generator": GENERATOR_VERSION, "target_bytes": target_bytes, "pages": PDF_PAGES, "level": "LT"}
    if not regenerate_inputs and _cached(path, expected):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.relative_to(REPO)} (PAdES B-LT, fr/signer-qscd, signed {SIGN_TIME:%Y-%m-%dT%H:%MZ})")
    unsigned = padded_bid_pdf(target_bytes)
    with served_pki() as regenerate:
        signed = loop.run_until_complete(regenerate.sign_pdf(unsigned, "fr", "signer-qscd", SIGN_TIME, level="LT"))
    path.write_bytes(signed)
    _write_meta(path, expected)
    return path


def write_content(path: Path, size: int) -> None:
    """Random-looking but cheap bytes: 1 MiB of random data, repeated, each block stamped with its number."""
    block = random.Random(size).randbytes(MIB)
    tail = block[8:]
    with open(path, "wb") as f:
        full, rest = divmod(size, MIB)
        for i in range(full):
            f.write(i.to_bytes(8, "big"))
            f.write(tail)
        if rest:
            f.write(block[:rest])


def ensure_cades_input(loop: asyncio.AbstractEventLoop, size: int, regenerate_inputs: bool) -> tuple[Path, Path] | str:
    """(content, signature), or the reason the case is skipped."""
    label = _size_label(size)
    content = RESULTS / "inputs" / f"content-{label}.bin"
    signature = RESULTS / "inputs" / f"content-{label}.p7s"
    expected_content = {"generator": GENERATOR_VERSION, "size": size}
    content_ok = not regenerate_inputs and _cached(content, expected_content) and content.stat().st_size == size
    if content_ok and _cached(signature, _signature_meta(content)):
        return content, signature
    content.parent.mkdir(parents=True, exist_ok=True)
    if not content_ok:
        free = shutil.disk_usage(content.parent).free
        if size >= LARGE_SIZE and free < MIN_FREE_FOR_LARGE:
            return (
                f"only {free / GIB:.1f} GiB free under {content.parent}; the {label} case needs "
                f"{MIN_FREE_FOR_LARGE / GIB:.0f} GiB"
            )
        print(f"generating {content.relative_to(REPO)} ({size} bytes)")
        write_content(content, size)
        _write_meta(content, expected_content)
    print(f"signing {content.name} (CAdES B-LT detached, fr/signer-qscd, streamed)")
    with served_pki() as regenerate, open(content, "rb") as f:
        b_t = loop.run_until_complete(
            regenerate.sign_cms(f, "fr", "signer-qscd", SIGN_TIME, detached=True, timestamp=True)
        )
        b_lt = regenerate.add_long_term_data(b_t, "fr", "signer-qscd", SIGN_TIME)
    signature.write_bytes(b_lt.dump())
    _write_meta(signature, _signature_meta(content))
    return content, signature


def _signature_meta(content: Path) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "content_mtime_ns": content.stat().st_mtime_ns, "level": "LT"}


def _size_label(size: int) -> str:
    if size % GIB == 0:
        return f"{size // GIB}GiB"
    if size % MIB == 0:
        return f"{size // MIB}MiB"
    return f"{size}B"


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)(i?b)?\s*", text, re.I)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1M, 100M or 1G")
    return int(match.group(1)) * {"": 1, "k": 1 << 10, "m": MIB, "g": GIB}[match.group(2).lower()]


# ---------------------------------------------------------------- tools


def load_root() -> x509.Certificate:
    return x509.Certificate.load(pem.unarmor(ROOT_PEM.read_bytes())[2])


def trustsvc_settings() -> ValidationSettings:
    return ValidationSettings(validation_time=VALIDATION_TIME, trust=AnchorSet.from_files([ROOT_PEM]), historical=True)


def trustsvc_outcome(report) -> Outcome:
    sigs = report.signatures
    ok = bool(sigs) and all(s.indication is Indication.TOTAL_PASSED for s in sigs)
    detail = "; ".join(
        f"{s.indication.value}{'/' + s.subindication.value if s.subindication else ''} {s.level}" for s in sigs
    )
    return Outcome(ok, detail or "no signature")


def in_loop(loop: asyncio.AbstractEventLoop, factory: Callable[[], Awaitable[Outcome]]) -> Callable[[], Outcome]:
    return lambda: loop.run_until_complete(factory())


def trustsvc_tool(loop, settings: ValidationSettings, document: Path, contents: tuple[Path, ...] = ()) -> Tool:
    async def run() -> Outcome:
        report = await validate_submission(Submission(document=document, contents=contents), settings)
        return trustsvc_outcome(report)

    return Tool(
        "trustsvc",
        "in-process",
        in_loop(loop, run),
        "trustsvc.engine.validate_submission, offline, historical, validation_time = signing + 1 h",
    )


def trustsvc_cli_tool(document: Path, contents: tuple[Path, ...] = ()) -> Tool:
    exe = Path(sys.executable).with_name("trustsvc")
    base = [str(exe)] if exe.exists() else [sys.executable, "-c", "from trustsvc.cli import main; main()"]
    cmd = [*base, "validate", str(document)]
    for content in contents:
        cmd += ["--content", str(content)]
    cmd += ["--offline", "--trust-anchor", str(ROOT_PEM), "--at", VALIDATION_TIME.isoformat(), "--output", "json"]

    def run() -> Outcome:
        rc, rss, out, err = run_process(cmd)
        try:
            sigs = json.loads(out)["signatures"]
            detail = "; ".join(f"{s['indication']} {s['level']}" for s in sigs)
        except (ValueError, KeyError, TypeError):
            detail = err.decode(errors="replace").strip()[:200] or f"exit {rc}"
        return Outcome(rc == 0, f"exit {rc}: {detail}", rss)

    return Tool("trustsvc CLI", "subprocess", run, shlex.join(_display(cmd)))


def pyhanko_pdf_tool(loop, document: Path, root: x509.Certificate) -> Tool:
    async def run() -> Outcome:
        reader = PdfFileReader(io.BytesIO(document.read_bytes()))
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {
                "trust_roots": [root],
                "allow_fetching": False,
                "revocation_mode": "require",
                "moment": VALIDATION_TIME,
            }
        )
        statuses = [await async_validate_pdf_signature(s, context) for s in reader.embedded_regular_signatures]
        ok = bool(statuses) and all(s.bottom_line for s in statuses)
        return Outcome(ok, "; ".join(f"bottom_line={s.bottom_line} {s.summary()}" for s in statuses))

    return Tool(
        "pyHanko",
        "in-process",
        in_loop(loop, run),
        "pyhanko async_validate_pdf_signature; ValidationContext from DocumentSecurityStore.read_dss "
        "(trust_roots=[root], allow_fetching=False, revocation_mode='require', moment=signing + 1 h); "
        "fresh PdfFileReader per run",
    )


def pyhanko_cms_tool(loop, signature: Path, content: Path, root: x509.Certificate) -> Tool:
    async def run() -> Outcome:
        signed_data = cms.ContentInfo.load(signature.read_bytes())["content"]
        # pyHanko does not read SignedData.crls by itself: hand the embedded revocation data over explicitly
        crls = [c.chosen for c in signed_data["crls"] or () if c.name == "crl"]
        ocsps = [
            c.chosen["other_rev_info"]
            for c in signed_data["crls"] or ()
            if c.name == "other" and c.chosen["other_rev_info_format"].native == "ocsp_response"
        ]
        certs = [c.chosen for c in signed_data["certificates"] or () if c.name == "certificate"]
        context = ValidationContext(
            trust_roots=[root],
            other_certs=certs,
            crls=crls,
            ocsps=ocsps,
            allow_fetching=False,
            revocation_mode="require",
            moment=VALIDATION_TIME,
        )
        with open(content, "rb") as f:
            status = await async_validate_detached_cms(f, signed_data, signer_validation_context=context)
        return Outcome(status.bottom_line, f"bottom_line={status.bottom_line} {status.summary()}")

    return Tool(
        "pyHanko",
        "in-process",
        in_loop(loop, run),
        "pyhanko async_validate_detached_cms(file object, default chunk size 4 KiB); ValidationContext with the "
        "SignedData's certificates, CRLs and OCSP responses (revocation_mode='require', moment=signing + 1 h)",
    )


def openssl_cms_tool(signature: Path, content: Path, certfile: Path) -> Tool:
    cmd = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(content),
        "-CAfile", str(ROOT_PEM), "-certfile", str(certfile), "-purpose", "any",
        "-attime", str(int(VALIDATION_TIME.timestamp())), "-crl_check_all", "-out", os.devnull,
    ]  # fmt: skip

    def run() -> Outcome:
        rc, rss, _, err = run_process(cmd)
        text = err.decode(errors="replace").strip().splitlines()
        return Outcome(rc == 0, f"exit {rc}: {text[0] if text else ''}", rss)

    return Tool(
        "openssl cms -verify",
        "subprocess",
        run,
        shlex.join(_display(cmd)) + "  -- checks: the signer's signature over the signed attributes, the "
        "messageDigest against the streamed content, the ESS signing-certificate(-v2) attribute (OpenSSL 3), the "
        "chain to root.pem at -attime (any purpose), and the CRLs embedded in SignedData.crls for every certificate "
        "of the chain (-crl_check_all); not checked: the signature time-stamp, the OCSP response, key usage, "
        "algorithm policy",
    )


def command_tool(name: str, cmd: list[str], description: str) -> Tool:
    def run() -> Outcome:
        rc, rss, out, err = run_process(cmd)
        text = (out or err).decode(errors="replace").strip()
        return Outcome(rc == 0, f"exit {rc}: {text[:80]}", rss)

    return Tool(name, "subprocess", run, f"{shlex.join(_display(cmd))}  -- {description}")


def hashlib_tool(content: Path) -> Tool:
    def run() -> Outcome:
        h = hashlib.sha256()
        buffer = bytearray(MIB)
        view = memoryview(buffer)
        with open(content, "rb", buffering=0) as f:
            while n := f.readinto(buffer):
                h.update(view[:n])
        return Outcome(True, h.hexdigest()[:16])

    return Tool("hashlib sha256", "in-process", run, "Python hashlib.sha256 over 1 MiB readinto chunks (the floor)")


def _display(cmd: list[str]) -> list[str]:
    out = []
    for part in cmd:
        with contextlib.suppress(ValueError):
            part = str(Path(part).relative_to(REPO)) if part.startswith("/") else part
        out.append(part)
    return out


# ---------------------------------------------------------------- cases


def ratio(tools: dict[str, Tool], numerator: str, denominator: str) -> float | None:
    a, b = tools.get(numerator), tools.get(denominator)
    if a is None or b is None or not a.samples or not b.samples:
        return None
    return a.median / b.median


def pades_case(loop, args, root: x509.Certificate, settings: ValidationSettings) -> dict[str, Any]:
    document = ensure_pades_input(loop, args.pdf_size, args.regenerate)
    tools = [
        trustsvc_tool(loop, settings, document),
        pyhanko_pdf_tool(loop, document, root),
    ]
    if not args.no_cli:
        tools.append(trustsvc_cli_tool(document))
    measure(tools, args.runs, args.warmup, "pades-b-lt")
    by_name = {t.name: t for t in tools}
    main_ratio = ratio(by_name, "trustsvc", "pyHanko")
    profile = None
    if args.profile > 0:
        profile = profile_tools("pades-b-lt", [tools[0], tools[1]], args.profile)
    return {
        "case": "pades-b-lt",
        "input": str(document.relative_to(REPO)),
        "input_bytes": document.stat().st_size,
        "tools": [t.summary() for t in tools],
        "ratios": {
            "trustsvc/pyHanko": main_ratio,
            "trustsvc CLI/pyHanko": ratio(by_name, "trustsvc CLI", "pyHanko"),
        },
        "targets": [_target("trustsvc/pyHanko", main_ratio, TARGET_PADES_RATIO, "x")],
        "all_ok": all(t.ok for t in tools),
        "profile": profile,
    }


def cades_case(loop, args, size: int, root: x509.Certificate, settings: ValidationSettings) -> dict[str, Any]:
    label = f"cades-detached-{_size_label(size)}"
    prepared = ensure_cades_input(loop, size, args.regenerate)
    if isinstance(prepared, str):
        print(f"skipping {label}: {prepared}")
        return {"case": label, "skipped": prepared}
    content, signature = prepared
    certfile = RESULTS / "inputs" / "fr-intermediates.pem"
    certfile.write_bytes(b"".join(p.read_bytes() for p in INTERMEDIATE_PEMS))
    tools = [
        trustsvc_tool(loop, settings, signature, (content,)),
        pyhanko_cms_tool(loop, signature, content, root),
        openssl_cms_tool(signature, content, certfile),
        command_tool("sha256sum", ["sha256sum", str(content)], "coreutils, the target's yardstick"),
        command_tool(
            "openssl dgst -sha256",
            ["openssl", "dgst", "-sha256", str(content)],
            "libcrypto SHA-256 (uses SHA extensions when the CPU has them)",
        ),
        hashlib_tool(content),
    ]
    if not args.no_cli:
        tools.insert(1, trustsvc_cli_tool(signature, (content,)))
    runs = args.runs_large if size >= LARGE_SIZE else args.runs
    measure(tools, runs, args.warmup, label)
    by_name = {t.name: t for t in tools}
    ratios = {
        "trustsvc/sha256sum": ratio(by_name, "trustsvc", "sha256sum"),
        "trustsvc CLI/sha256sum": ratio(by_name, "trustsvc CLI", "sha256sum"),
        "trustsvc/pyHanko": ratio(by_name, "trustsvc", "pyHanko"),
        "trustsvc CLI/openssl cms -verify": ratio(by_name, "trustsvc CLI", "openssl cms -verify"),
        "trustsvc/hashlib sha256": ratio(by_name, "trustsvc", "hashlib sha256"),
        "trustsvc CLI/openssl dgst -sha256": ratio(by_name, "trustsvc CLI", "openssl dgst -sha256"),
    }
    targets = []
    if size >= GIB:
        targets.append(_target("trustsvc/sha256sum", ratios["trustsvc/sha256sum"], TARGET_CADES_1G_RATIO, "x"))
        targets.append(_target("trustsvc CLI/sha256sum", ratios["trustsvc CLI/sha256sum"], TARGET_CADES_1G_RATIO, "x"))
    profile = None
    if args.profile > 0 and size <= PROFILE_MAX_CONTENT:
        profile = profile_tools(label, [by_name["trustsvc"], by_name["pyHanko"]], args.profile)
    cli = by_name.get("trustsvc CLI")
    if cli is not None and cli.rss_kib:
        targets.append(_target("trustsvc CLI peak RSS", max(cli.rss_kib) / 1024, TARGET_RSS_MIB, " MiB"))
    return {
        "case": label,
        "input": str(signature.relative_to(REPO)),
        "content": str(content.relative_to(REPO)),
        "content_bytes": size,
        "input_bytes": signature.stat().st_size,
        "runs": runs,
        "tools": [t.summary(size) for t in tools],
        "ratios": ratios,
        "targets": targets,
        "all_ok": all(t.ok for t in tools),
        "profile": profile,
    }


def _target(name: str, value: float | None, limit: float, unit: str) -> dict[str, Any]:
    return {"name": name, "value": value, "limit": limit, "unit": unit, "met": value is not None and value <= limit}


# ---------------------------------------------------------------- profile


def _counted() -> dict[tuple[str, str, int | None], str]:
    """Functions whose call count per validation shows repeated work: (module, function, line or None) -> label."""
    import inspect

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    def line(fn) -> int:
        return inspect.getsourcelines(fn)[1]

    names = [
        "trustsvc.engine:validate_submission",
        "trustsvc.formats.pades:open_pdf",
        "trustsvc.formats.pades:_collect_fields",
        "trustsvc.formats.pades:_dss_material",
        "trustsvc.formats.pades:_dss_revision",
        "trustsvc.formats.pades:_modification_check",
        "trustsvc.formats.material:material_from_signed_data",
        "trustsvc.formats.cms_process:validate_cms_signature",
        "trustsvc.formats.certpath:build_context",
        "trustsvc.formats.certpath:validate_certificate_path",
        "trustsvc.formats.tst:parse_token",
        "trustsvc.formats.tst:check_token_integrity",
        "trustsvc.formats.digests:digest_file",
        "pyhanko.sign.validation.pdf_embedded:compute_digest",
        "pyhanko.sign.validation.pdf_embedded:evaluate_modifications",
        "pyhanko.sign.validation.pdf_embedded:evaluate_signature_coverage",
        "pyhanko.sign.validation.pdf_embedded:compute_integrity_info",
        "pyhanko.sign.validation.generic_cms:validate_sig_integrity",
        "pyhanko.sign.validation.generic_cms:collect_timing_info",
        "pyhanko.sign.validation.generic_cms:cms_basic_validation",
        "pyhanko.sign.validation.dss:read_dss",
        "pyhanko.sign.validation.dss:as_validation_context",
        "pyhanko.sign.diff_analysis.policies:apply",
        "pyhanko.pdf_utils.reader:get_historical_root",
        "pyhanko.pdf_utils.generic:read_hex_string_from_stream",
        "pyhanko_certvalidator.__init__:async_validate_path",
    ]
    counted: dict[tuple[str, str, int | None], str] = {tuple(n.split(":")) + (None,): n for n in names}
    counted[("pyhanko.pdf_utils.reader", "__init__", line(PdfFileReader.__init__))] = "PdfFileReader.__init__"
    counted[("pyhanko_certvalidator.context", "__init__", line(ValidationContext.__init__))] = (
        "ValidationContext.__init__"
    )
    counted[("pyhanko.sign.validation.pdf_embedded", "__init__", line(EmbeddedPdfSignature.__init__))] = (
        "EmbeddedPdfSignature.__init__"
    )
    return counted


def profile_tools(label: str, tools: list[Tool], n: int) -> dict:
    """cProfile `n` runs of each tool; top cumulative and self-time cost centres, and call counts per run."""
    counted = _counted()
    result = {}
    for tool in tools:
        tool.run()  # warm caches and imports outside the profile
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            tool.run()
        profiler.disable()
        dump = RESULTS / f"profile-{label}-{tool.name.lower().replace(' ', '-')}.prof"
        profiler.dump_stats(dump)
        stats = pstats.Stats(profiler)
        total = stats.total_tt
        rows = []
        counts: dict[str, float] = {}
        for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
            module = _module_of(filename)
            key = counted.get((module, func, None)) or counted.get((module, func, line))
            if key is not None:
                counts[key] = counts.get(key, 0.0) + ncalls / n
            if not module.startswith(("trustsvc", "pyhanko")):
                continue
            rows.append(
                {
                    "function": f"{module}:{func}",
                    "line": line,
                    "ncalls_per_run": ncalls / n,
                    "tottime_ms_per_run": tottime / n * 1000,
                    "cumtime_ms_per_run": cumtime / n * 1000,
                    "cum_share": cumtime / total if total else None,
                }
            )
        rows.sort(key=lambda r: -r["cumtime_ms_per_run"])
        result[tool.name] = {
            "case": label,
            "runs": n,
            "ms_per_run_under_profiler": total / n * 1000,
            "prof_file": str(dump.relative_to(REPO)),
            "top_cumulative": rows[:40],
            "top_tottime": sorted(rows, key=lambda r: -r["tottime_ms_per_run"])[:20],
            "calls_per_run": dict(sorted(counts.items())),
        }
    return result


def _module_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", str(REPO) + "/"):
        if marker in path:
            rel = path.split(marker, 1)[1]
            return rel.removesuffix(".py").replace("/", ".")
    return path


# ---------------------------------------------------------------- environment and report


def environment(args_line: str) -> dict[str, Any]:
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    versions = {}
    for dist in ("trustsvc", "pyHanko", "pyhanko-certvalidator", "asn1crypto", "cryptography", "certomancer"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    tools = {}
    for name, cmd in (("openssl", ["openssl", "version"]), ("sha256sum", ["sha256sum", "--version"])):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            tools[name] = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.splitlines()[0]
    git = None
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True)
        git = head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    flags = ""
    with contextlib.suppress(OSError):
        flags = Path("/proc/cpuinfo").read_text()
    return {
        "command": args_line,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "cpu_sha_extensions": " sha_ni" in flags,
        "memory_bytes": mem_total,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "libraries": versions,
        "tools": tools,
        "git": git,
        "signing_time": SIGN_TIME.isoformat(),
        "validation_time": VALIDATION_TIME.isoformat(),
        "peak_rss_method": rss_method(),
    }


def print_report(env: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    print()
    print("trustsvc validation benchmark")
    print(f"  command : {env['command']}")
    print(f"  date    : {env['date']}   git {env['git']}")
    mem = f"{env['memory_bytes'] / GIB:.1f} GiB RAM" if env["memory_bytes"] else ""
    sha = "SHA extensions" if env["cpu_sha_extensions"] else "no SHA extensions"
    print(f"  machine : {env['cpu_count']} CPUs, {env['cpu_model']} ({sha}), {mem}, {env['platform']}")
    libs = ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
    print(f"  software: Python {env['python']}, {libs}")
    print(f"            {'; '.join(env['tools'].values())}")
    print(f"  times   : signed {env['signing_time']}, validated as of {env['validation_time']} (offline)")
    print(f"  peak RSS: {env['peak_rss_method']}; latency = wall clock around each run, median of the timed runs")
    for case in cases:
        print()
        if "skipped" in case:
            print(f"{case['case']}: SKIPPED ({case['skipped']})")
            continue
        size = f"{case['input_bytes']:,} bytes"
        if "content_bytes" in case:
            size = f"content {case['content_bytes']:,} bytes, signature {case['input_bytes']:,} bytes"
        print(f"{case['case']}  ({case['input']}; {size})")
        header = f"  {'tool':<22} {'runs':>4} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'MiB/s':>7} {'RSS MiB':>8}"
        print(header + "  verdict")
        for t in case["tools"]:
            thr = f"{t['throughput_mib_s']:7.0f}" if t.get("throughput_mib_s") else f"{'':>7}"
            rss = f"{t['peak_rss_mib']:8.1f}" if t["peak_rss_mib"] is not None else f"{'-':>8}"
            verdict = ("OK  " if t["all_ok"] else "FAIL") + " " + (t["verdict"] or "")[:70]
            print(
                f"  {t['tool']:<22} {t['runs']:>4} {t['median_s'] * 1000:10.1f} {t['min_s'] * 1000:9.1f} "
                f"{t['max_s'] * 1000:9.1f} {thr} {rss}  {verdict}"
            )
        ratios = ", ".join(f"{k} = {v:.2f}" for k, v in case["ratios"].items() if v is not None)
        print(f"  ratios (of medians): {ratios}")
        for target in case["targets"]:
            value = "n/a" if target["value"] is None else f"{target['value']:.2f}{target['unit']}"
            state = "MET" if target["met"] else "MISSED"
            print(f"  target {target['name']} <= {target['limit']}{target['unit']}: {value} -> {state}")
        print(f"  every run of every tool reported the signature valid: {'yes' if case['all_ok'] else 'NO'}")
    for case in cases:
        for name, prof in (case.get("profile") or {}).items():
            print()
            print(
                f"cProfile, {case['case']}, {name}: {prof['runs']} validations, "
                f"{prof['ms_per_run_under_profiler']:.1f} ms each under the profiler ({prof['prof_file']})"
            )
            print(f"  {'cum ms/run':>10} {'self ms/run':>11} {'calls/run':>9}  function")
            for row in prof["top_cumulative"][:TOP_PRINTED]:
                print(
                    f"  {row['cumtime_ms_per_run']:10.2f} {row['tottime_ms_per_run']:11.2f} "
                    f"{row['ncalls_per_run']:9.1f}  {row['function']}:{row['line']}"
                )
            calls = ", ".join(f"{k} {v:g}" for k, v in prof["calls_per_run"].items())
            print(f"  calls per validation: {calls}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per tool (default 20)")
    parser.add_argument("--runs-large", type=int, default=3, help="timed runs for content of 1 GiB or more")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per tool first (default 1)")
    parser.add_argument(
        "--sizes",
        default="1M,100M,1G",
        help="CAdES detached content sizes, binary units (default 1M,100M,1G; empty for none)",
    )
    parser.add_argument("--pdf-size", type=parse_size, default=MIB, help="PAdES input size before signing (1M)")
    parser.add_argument("--skip-pades", action="store_true")
    parser.add_argument("--skip-cades", action="store_true")
    parser.add_argument("--no-cli", action="store_true", help="do not time the trustsvc CLI subprocess")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also cProfile N validations (PAdES, small CAdES)"
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached inputs")
    parser.add_argument("--json", type=Path, default=RESULTS / "validate_bench.json", help="where to write results")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()] if not args.skip_cades else []

    argv_used = sys.argv if argv is None else [sys.argv[0], *argv]
    exe = Path(sys.executable)
    with contextlib.suppress(ValueError):
        exe = exe.relative_to(REPO)
    env = environment(shlex.join([str(exe), *_display(argv_used)]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    root = load_root()
    settings = trustsvc_settings()
    loop = asyncio.new_event_loop()
    cases: list[dict[str, Any]] = []
    try:
        if not args.skip_pades:
            cases.append(pades_case(loop, args, root, settings))
        for size in sizes:
            cases.append(cades_case(loop, args, size, root, settings))
    finally:
        loop.close()

    results = {"environment": env, "cases": cases}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print_report(env, cases)
    print(f"\nresults written to {_display([str(args.json)])[0]}")
    return 0 if all(c.get("all_ok", True) for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
