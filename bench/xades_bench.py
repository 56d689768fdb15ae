"""XAdES benchmark: trustsvc's XML-DSig core and full validation next to python-xmlsec, signxml and xmlsec1.

    .venv/bin/python bench/xades_bench.py                           # 10 KiB and 5 MiB bids + xades-900 (~1 min)
    .venv/bin/python bench/xades_bench.py --sizes 10K,1M,5M --runs 50 --runs-large 10
    .venv/bin/python bench/xades_bench.py --profile 10              # plus cProfile of trustsvc and python-xmlsec

This is a benchmark, not a test: it prints a table, writes bench/results/xades_bench.json, and exits non-zero only
when some tool did not confirm that the signature is valid (a ratio over a failing run means nothing). Missed
targets are reported, not fatal.

Inputs (generated once with fixtures/certs/regenerate_xades.py's functions, cached under bench/results/inputs/;
``--regenerate`` rebuilds them): regenerate.bid_xml's bid grown with ``<item>`` lines to about the requested size,
signed XAdES B-B enveloped by fr/signer-qscd (EC P-256, ecdsa-sha256) at T_SIGN exactly as
``regenerate_xades.enveloped`` does (references: the whole document with enveloped-signature + exc-c14n, and the
SignedProperties with exc-c14n; KeyInfo carries signer, CA and root). Signing B-B needs no network.

Tools, interleaved run by run after a warm-up, each reading the file from the page cache in every run:

* ``trustsvc core+B-B``: what a B-B verification costs in trustsvc before the certificate path: the steps of
  ``trustsvc.formats.xades`` (hardened ``parse_xml``, the Id index with its duplicate check and
  ``xmlsec.tree.add_ids``, ``read_references``, ``find_qualifying_properties`` + ``read_signed_properties``, the
  structural wrapping checks, ``validation_material``, signer identification through SigningCertificateV2 and
  ``verify_core``), called in the same order with the module's own functions;
* ``trustsvc full``: ``trustsvc.engine.validate_submission`` in-process, offline, historical, the five test roots as
  anchors, as of T_SIGN + 1 h (tests/conftest.py ``validate()``). A B-B carries no revocation data, so offline the
  process ends INDETERMINATE/TRY_LATER after integrity and the path (tests/cases/samples.yaml says the same for
  xades/enveloped-b-b.xml); that verdict is the expected one;
* ``python-xmlsec``: the core only (../shared/reference/xades.md section 2): lxml parse, ``xmlsec.tree.add_ids``,
  SignatureContext keyed with the signer's certificate, that section's reference-transform whitelist, ``ctx.verify``.
  Note: importing trustsvc removes xmlsec's default file/network handlers process-wide (no effect on same-document
  references);
* ``signxml``: ``XAdESVerifier().verify(data, x509_cert=signer PEM, expect_config=XAdESSignatureConfiguration(
  expect_references=2, verification_time=T_SIGN + 1 h))``: core, SigningCertificateV2 digests, XAdES schema;
  a failure is reported in the table and the JSON, not raised;
* ``xmlsec1``: ``xmlsec1 --verify --pubkey-cert-pem signer.pem --id-attr:Id <xades ns>:SignedProperties FILE`` as a
  subprocess (process start included).

Also: the full in-process validation of ../shared/corpus/dss/xades/xades-900-references.xml (DSS's "900 references"
DoS bound test; detached, its files are not in the corpus, so no reference is digested: the time is parsing, the
references, the properties and the path), offline as of 2020-01-01 like tests/test_corpus.py.

Targets (issue 6): trustsvc core+B-B / python-xmlsec <= 1.5 at every size; xades-900 < 2 s. The ratio of the full
validation to python-xmlsec is printed for information.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmlsec
from lxml import etree

from trustsvc.engine import Submission, validate_submission
from trustsvc.formats import ValidationSettings
from trustsvc.formats.material import der_of
from trustsvc.formats.xades import (
    _SIGNATURE,
    MAX_XML_BYTES,
    XadesCore,
    _Document,
    _is_counter_signature,
    _key_info_ders,
    _structural_problem,
)
from trustsvc.formats.xades_properties import find_qualifying_properties, read_signed_properties, validation_material
from trustsvc.formats.xml_dsig import read_references
from trustsvc.trust.anchors import AnchorSet
from trustsvc.trust.xml_safety import parse_xml
from trustsvc.verdict import Indication, SubIndication

REPO = Path(__file__).resolve().parents[1]
CERTS = REPO / "fixtures" / "certs"
PEM = CERTS / "pem"
ROOT_PEMS = tuple(PEM / f"ms-{c}" / "root.pem" for c in ("fr", "it", "es", "cz", "se"))
RESULTS = REPO / "bench" / "results"
INPUTS = RESULTS / "inputs"
XADES_900 = REPO.parent / "shared" / "corpus" / "dss" / "xades" / "xades-900-references.xml"

#: regenerate.T_SIGN, and the validation time: one hour later (as bench/validate_bench.py).
SIGN_TIME = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
VALIDATION_TIME = SIGN_TIME + dt.timedelta(hours=1)
#: tests/test_corpus.py's time for corpus files whose manifest states no signing time.
CORPUS_TIME = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)

#: Bump when the way inputs are generated changes, so that cached inputs are rebuilt.
GENERATOR_VERSION = 1
KIB = 1 << 10
MIB = 1 << 20
LARGE_SIZE = MIB  # inputs of this size or more use --runs-large

XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
EXPECTED_FULL = (Indication.INDETERMINATE, SubIndication.TRY_LATER)  # offline B-B: no revocation data
TARGET_CORE_RATIO = 1.5
TARGET_900_S = 2.0
TOP_PRINTED = 12
TOP_CUMULATIVE_PRINTED = 10

#: The reference transforms python-xmlsec is allowed to run (reference xades.md section 2); trustsvc's list is longer.
XMLSEC_WHITELIST = (
    xmlsec.constants.TransformEnveloped,
    xmlsec.constants.TransformExclC14N,
    xmlsec.constants.TransformInclC14N,
    xmlsec.constants.TransformInclC14N11,
    xmlsec.constants.TransformSha256,
    xmlsec.constants.TransformSha384,
    xmlsec.constants.TransformSha512,
)


# ---------------------------------------------------------------- measurement


@dataclass
class Outcome:
    """What one run of a tool said about the signature."""

    ok: bool
    detail: str


@dataclass
class Tool:
    name: str
    kind: str  # "in-process" or "subprocess"
    run: Callable[[], Outcome]  # returns after the work is done; timed from the outside
    description: str
    confirms: bool = True  # a failed run makes the exit status 1
    samples: list[float] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.ok for o in self.outcomes)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def summary(self, input_bytes: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tool": self.name,
            "kind": self.kind,
            "description": self.description,
            "runs": len(self.samples),
            "median_s": self.median if self.samples else None,
            "min_s": min(self.samples) if self.samples else None,
            "max_s": max(self.samples) if self.samples else None,
            "samples_s": self.samples,
            "all_ok": self.ok,
            "verdict": self.outcomes[-1].detail if self.outcomes else None,
            "failures": [o.detail for o in self.outcomes if not o.ok][:3],
        }
        if input_bytes and self.samples:
            out["throughput_mib_s"] = input_bytes / MIB / self.median
        return out


def guarded(run: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """A tool that raises reports a failed run instead of stopping the benchmark."""

    def wrapped() -> Outcome:
        try:
            return run()
        except Exception as e:  # noqa: BLE001 - reported in the table and the JSON
            return Outcome(False, f"{type(e).__name__}: {str(e)[:160]}")

    return wrapped


def measure(tools: list[Tool], runs: int, warmup: int, label: str) -> None:
    """Interleave the tools run by run; the warm-up runs are checked but not timed."""
    gc.collect()
    for i in range(warmup + runs):
        for tool in tools:
            start = time.perf_counter()
            outcome = tool.run()
            elapsed = time.perf_counter() - start
            tool.outcomes.append(outcome)
            if i >= warmup:
                tool.samples.append(elapsed)
        if (i + 1) % 10 == 0 or i + 1 == warmup + runs or i < warmup:
            print(f"  {label}: run {i + 1}/{warmup + runs}{' (warm-up)' if i < warmup else ''}", file=sys.stderr)


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


def _item(i: int) -> tuple[dict[str, str], list[tuple[str, dict[str, str], str]]]:
    return (
        {"line": str(i), "cpv": f"45{(i * 7) % 1000000:06d}"},
        [
            ("description", {}, f"Lot {i % 12 + 1}, line {i}: supply and installation of reinforced concrete works"),
            ("quantity", {"unit": "m3"}, str((i * 37) % 500 + 1)),
            ("unitPrice", {"currency": "EUR"}, f"{(i * 7919) % 100000 / 100:.2f}"),
        ],
    )


def bid_of_size(regenerate_xades, target_bytes: int) -> etree._Element:
    """regenerate's bid with an <items> list appended, so that the unsigned bid serialises to about target_bytes."""
    root = regenerate_xades.bid_element()
    base = len(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))
    items = etree.SubElement(root, "items")
    items.text = "\n"
    size, i = base + len(b"<items>\n</items>"), 0
    while size < target_bytes:
        i += 1
        attributes, children = _item(i)
        item = etree.SubElement(items, "item", attributes)
        for tag, attrs, text in children:
            etree.SubElement(item, tag, attrs).text = text
        item.tail = "\n"
        size += len(etree.tostring(item))
    items.tail = "\n"
    return root


def _regenerate_xades():
    if str(CERTS) not in sys.path:
        sys.path.insert(0, str(CERTS))
    return importlib.import_module("regenerate_xades")


def ensure_input(target_bytes: int, regenerate: bool) -> tuple[Path, Path]:
    """(the signed bid, the signer's certificate as PEM), generated on first use."""
    label = size_label(target_bytes)
    path = INPUTS / f"xades-b-b-{label}.xml"
    signer_pem = INPUTS / "xades-signer-fr-signer-qscd.pem"
    expected = {
        "generator": GENERATOR_VERSION,
        "target_bytes": target_bytes,
        "level": "B-B",
        "form": "enveloped",
        "signer": "fr/signer-qscd",
        "signing_time": SIGN_TIME.isoformat(),
    }
    if not regenerate and _cached(path, expected, signer_pem):
        return path, signer_pem
    INPUTS.mkdir(parents=True, exist_ok=True)
    print(
        f"generating {path.relative_to(REPO)} (a bid of {target_bytes:,} bytes, XAdES B-B enveloped by fr/signer-qscd)"
    )
    rx = _regenerate_xades()
    root = bid_of_size(rx, target_bytes)
    refs = [rx.DataRef("", "text/xml", (rx.ENVELOPED, rx.EXC_C14N))]  # as regenerate_xades.enveloped
    signature = rx.build_signature("sig-bid", rx.FR, refs, rx.Options(signing_time=SIGN_TIME))
    root.append(signature)
    rx.finish_signature(signature, rx.FR, rx.external_documents(refs))
    path.write_bytes(rx.serialize(signature))
    from asn1crypto import pem

    signer_pem.write_bytes(pem.armor("CERTIFICATE", rx.FR.cert.dump()))
    _meta_path(path).write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return path, signer_pem


def size_label(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB}MiB"
    if size % KIB == 0:
        return f"{size // KIB}KiB"
    return f"{size}B"


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)(i?b)?\s*", text, re.I)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 10K or 5M")
    return int(match.group(1)) * {"": 1, "k": KIB, "m": MIB, "g": 1 << 30}[match.group(2).lower()]


# ---------------------------------------------------------------- tools


def trustsvc_core(data: bytes) -> Outcome:
    """The B-B part of trustsvc.formats.xades._validate_signature, before the certificate path: the module's own
    functions, in its order (the core runs inline here, where xades.py hands it to a worker thread)."""
    root = parse_xml(data, max_bytes=MAX_XML_BYTES)
    signatures = [s for s in root.iter(_SIGNATURE) if not _is_counter_signature(s)]
    if len(signatures) != 1:
        return Outcome(False, f"{len(signatures)} signatures")
    signature = signatures[0]
    document = _Document(root, {})  # Id index, duplicate Ids, xmlsec.tree.add_ids
    references, reference_problem = read_references(signature, document.ids)
    qualifying = find_qualifying_properties(signature)
    signed_properties, properties_problem = read_signed_properties(references, qualifying)
    structural = _structural_problem(document, signature, references, qualifying, signed_properties, None)
    problem = reference_problem or structural
    if document.duplicates or problem is not None or properties_problem is not None:
        return Outcome(False, f"duplicates={document.duplicates} {problem} {properties_problem}")
    material = validation_material(signature, qualifying)
    key_info = _key_info_ders(signature)
    key_info_certs = [c for c in material.certs if der_of(c) in key_info]
    core = XadesCore(document, signature, references, None, signed_properties, None, key_info_certs)
    cert = core.find_signer_certificate(material.certs)
    if cert is None:
        return Outcome(False, "no signer certificate")
    reference = core.signing_certificate_reference(cert)
    result = core.verify(cert)  # trustsvc.formats.xml_dsig.verify_core
    ok = reference == "match" and result.problem is None
    detail = f"core {'OK' if result.problem is None else result.problem.code}, SigningCertificateV2 {reference}, "
    detail += f"{len(references)} refs, signing time {signed_properties.signing_time:%Y-%m-%dT%H:%MZ}"
    return Outcome(ok, detail)


def trustsvc_core_tool(path: Path) -> Tool:
    return Tool(
        "trustsvc core+B-B",
        "in-process",
        guarded(lambda: trustsvc_core(path.read_bytes())),
        "trustsvc.formats.xades steps before the path: parse_xml, Id index + add_ids, read_references, "
        "find_qualifying_properties + read_signed_properties, structural checks, validation_material, signer "
        "identification (SigningCertificateV2), xml_dsig.verify_core",
    )


def report_detail(report) -> tuple[bool, str]:
    sigs = report.signatures
    detail = "; ".join(
        f"{s.indication.value}{'/' + s.subindication.value if s.subindication else ''} {s.level}" for s in sigs
    )
    return bool(sigs), detail or "no signature"


def trustsvc_full_tool(loop: asyncio.AbstractEventLoop, path: Path, settings: ValidationSettings) -> Tool:
    async def run() -> Outcome:
        report = await validate_submission(Submission(document=path), settings)
        sigs = report.signatures
        ok = len(sigs) == 1 and (sigs[0].indication, sigs[0].subindication) == EXPECTED_FULL
        return Outcome(ok, report_detail(report)[1])

    return Tool(
        "trustsvc full",
        "in-process",
        guarded(lambda: loop.run_until_complete(run())),
        "trustsvc.engine.validate_submission, offline, historical, the five test roots, validation_time = signing "
        "+ 1 h; expected INDETERMINATE/TRY_LATER (B-B offline: no revocation data)",
    )


def python_xmlsec_tool(path: Path, signer_pem: Path) -> Tool:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    key_pem = signer_pem.read_bytes()

    def run() -> Outcome:
        root = etree.fromstring(path.read_bytes(), parser)
        xmlsec.tree.add_ids(root, ["Id"])
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatCertPem)
        for transform in XMLSEC_WHITELIST:
            ctx.enable_reference_transform(transform)
        try:
            ctx.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))
        except xmlsec.Error as e:
            return Outcome(False, f"{type(e).__name__}: {e}")
        return Outcome(True, "core OK")

    return Tool(
        "python-xmlsec",
        "in-process",
        guarded(run),
        f"python-xmlsec {xmlsec.__version__}: lxml parse, add_ids(['Id']), SignatureContext keyed with the signer "
        "certificate (PEM), reference-transform whitelist, ctx.verify (core only)",
    )


def signxml_tool(path: Path, signer_pem: Path) -> Tool:
    from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier, XAdESVerifyResult

    cert = signer_pem.read_bytes()
    config = XAdESSignatureConfiguration(expect_references=2, verification_time=VALIDATION_TIME)

    def run() -> Outcome:
        results = XAdESVerifier().verify(path.read_bytes(), x509_cert=cert, expect_config=config)
        props = [r for r in results if isinstance(r, XAdESVerifyResult)]
        return Outcome(len(results) == 2 and len(props) == 1, f"{len(results)} references verified, XAdES props")

    return Tool(
        "signxml",
        "in-process",
        guarded(run),
        "signxml XAdESVerifier().verify(data, x509_cert=signer PEM, expect_config=XAdESSignatureConfiguration("
        "expect_references=2, verification_time=signing + 1 h)): core, SigningCertificateV2 digests, schema",
    )


def xmlsec1_tool(path: Path, signer_pem: Path) -> Tool:
    cmd = ["xmlsec1", "--verify", "--pubkey-cert-pem", str(signer_pem)]
    cmd += ["--id-attr:Id", f"{XADES_NS}:SignedProperties", str(path)]

    def run() -> Outcome:
        proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, env=_child_env(), check=False)
        text = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        lines = [line for line in text.splitlines() if line.startswith(("OK", "FAIL", "SignedInfo References"))]
        return Outcome(proc.returncode == 0, f"exit {proc.returncode}: {'; '.join(lines)[:100]}")

    return Tool("xmlsec1", "subprocess", guarded(run), shlex.join(_display(cmd)) + "  (process start included)")


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
    if a is None or b is None or not a.samples or not b.samples or not a.ok or not b.ok:
        return None
    return a.median / b.median


def _target(name: str, value: float | None, limit: float, unit: str, strict: bool = False) -> dict[str, Any]:
    met = value is not None and (value < limit if strict else value <= limit)
    return {"name": name, "value": value, "limit": limit, "unit": unit, "strict": strict, "met": met}


def size_case(loop, args, size: int, settings: ValidationSettings) -> dict[str, Any]:
    path, signer_pem = ensure_input(size, args.regenerate)
    label = f"xades-b-b-{size_label(size)}"
    tools = [
        trustsvc_core_tool(path),
        trustsvc_full_tool(loop, path, settings),
        python_xmlsec_tool(path, signer_pem),
        signxml_tool(path, signer_pem),
    ]
    if shutil.which("xmlsec1"):
        tools.append(xmlsec1_tool(path, signer_pem))
    else:
        print("xmlsec1 is not installed (apt-get install xmlsec1): its column is left out")
    runs = args.runs_large if size >= LARGE_SIZE else args.runs
    measure(tools, runs, args.warmup, label)
    by_name = {t.name: t for t in tools}
    core_ratio = ratio(by_name, "trustsvc core+B-B", "python-xmlsec")
    ratios = {
        "trustsvc core+B-B/python-xmlsec": core_ratio,
        "trustsvc full/python-xmlsec": ratio(by_name, "trustsvc full", "python-xmlsec"),
        "trustsvc full/trustsvc core+B-B": ratio(by_name, "trustsvc full", "trustsvc core+B-B"),
        "signxml/python-xmlsec": ratio(by_name, "signxml", "python-xmlsec"),
        "xmlsec1/python-xmlsec": ratio(by_name, "xmlsec1", "python-xmlsec"),
    }
    profile = None
    if args.profile > 0:
        profile = profile_tools(
            label, [by_name["trustsvc core+B-B"], by_name["trustsvc full"], by_name["python-xmlsec"]], args.profile
        )
    input_bytes = path.stat().st_size
    return {
        "case": label,
        "input": str(path.relative_to(REPO)),
        "target_bytes": size,
        "input_bytes": input_bytes,
        "runs": runs,
        "tools": [t.summary(input_bytes) for t in tools],
        "ratios": ratios,
        "targets": [_target("trustsvc core+B-B/python-xmlsec", core_ratio, TARGET_CORE_RATIO, "x")],
        "all_ok": all(t.ok for t in tools if t.confirms),
        "profile": profile,
    }


def xades_900_case(loop, args) -> dict[str, Any]:
    label = "xades-900-references"
    if not XADES_900.exists():
        print(f"skipping {label}: {XADES_900} is absent (the shared corpus is not there)")
        return {"case": label, "skipped": f"{XADES_900} is absent"}
    settings = ValidationSettings(validation_time=CORPUS_TIME, trust=AnchorSet.from_files(ROOT_PEMS), historical=True)

    async def run() -> Outcome:
        report = await validate_submission(Submission(document=XADES_900), settings)
        return Outcome(*report_detail(report))

    tool = Tool(
        "trustsvc full",
        "in-process",
        guarded(lambda: loop.run_until_complete(run())),
        "trustsvc.engine.validate_submission, offline, historical, as of 2020-01-01 (tests/test_corpus.py); the 900 "
        "detached files are not supplied, so the verdict is not TOTAL_PASSED",
        confirms=False,
    )
    measure([tool], args.runs_900, args.warmup, label)
    profile = profile_tools(label, [tool], args.profile) if args.profile > 0 else None
    return {
        "case": label,
        "input": str(XADES_900),
        "input_bytes": XADES_900.stat().st_size,
        "runs": args.runs_900,
        "tools": [tool.summary(XADES_900.stat().st_size)],
        "ratios": {},
        "targets": [_target("trustsvc full", tool.median if tool.samples else None, TARGET_900_S, " s", strict=True)],
        "all_ok": True,
        "produced_verdict": tool.ok,
        "profile": profile,
    }


# ---------------------------------------------------------------- profile


def profile_tools(label: str, tools: list[Tool], n: int) -> dict[str, Any]:
    """cProfile `n` runs of each tool: top cumulative (trustsvc and xmlsec/lxml calls) and top self time."""
    result = {}
    for tool in tools:
        tool.run()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            tool.run()
        profiler.disable()
        dump = RESULTS / f"profile-{label}-{tool.name.lower().replace(' ', '-').replace('+', '')}.prof"
        profiler.dump_stats(dump)
        stats = pstats.Stats(profiler)
        total = stats.total_tt
        rows = []
        for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
            rows.append(
                {
                    "function": f"{_module_of(filename)}:{func}",
                    "line": line,
                    "ncalls_per_run": ncalls / n,
                    "tottime_ms_per_run": tottime / n * 1000,
                    "cumtime_ms_per_run": cumtime / n * 1000,
                    "cum_share": cumtime / total if total else None,
                }
            )
        ours = [r for r in rows if r["function"].startswith(("trustsvc", "pyhanko", "asn1crypto", "__main__"))]
        result[tool.name] = {
            "case": label,
            "runs": n,
            "ms_per_run_under_profiler": total / n * 1000,
            "prof_file": str(dump.relative_to(REPO)),
            "top_cumulative": sorted(ours, key=lambda r: -r["cumtime_ms_per_run"])[:40],
            "top_tottime": sorted(rows, key=lambda r: -r["tottime_ms_per_run"])[:20],
        }
    return result


def _module_of(filename: str) -> str:
    path = filename.replace("\\", "/")
    if path == "~":
        return "builtins"
    for marker in ("/site-packages/", str(REPO) + "/"):
        if marker in path:
            rel = path.split(marker, 1)[1]
            return rel.removesuffix(".py").replace("/", ".")
    if path.endswith("xades_bench.py"):
        return "__main__"
    return path


# ---------------------------------------------------------------- environment and report


def environment(args_line: str) -> dict[str, Any]:
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in ("trustsvc", "xmlsec", "signxml", "lxml", "cryptography", "asn1crypto", "pyHanko"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    native = {
        "libxml2 (lxml)": ".".join(map(str, etree.LIBXML_VERSION)),
        "libxmlsec1 (python-xmlsec)": ".".join(map(str, xmlsec.get_libxmlsec_version())),
    }
    tools = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        tools["xmlsec1"] = subprocess.run(["xmlsec1", "--version"], capture_output=True, text=True).stdout.strip()
    git = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True)
        git = head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    return {
        "command": args_line,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "libraries": versions,
        "native": native,
        "tools": tools,
        "git": git,
        "signing_time": SIGN_TIME.isoformat(),
        "validation_time": VALIDATION_TIME.isoformat(),
    }


def print_report(env: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    print()
    print("trustsvc XAdES benchmark")
    print(f"  command : {env['command']}")
    print(f"  date    : {env['date']}   git {env['git']}")
    load = ", ".join(f"{x:.2f}" for x in env["load_average"])
    print(f"  machine : {env['cpu_count']} CPUs, {env['cpu_model']}, {env['platform']} (load average at start {load})")
    libs = ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
    print(f"  software: Python {env['python']}, {libs}")
    print(f"            {', '.join(f'{k} {v}' for k, v in env['native'].items())}; {'; '.join(env['tools'].values())}")
    print(f"  times   : signed {env['signing_time']}, validated as of {env['validation_time']} (offline)")
    print("  latency : wall clock around each run (file read included), median of the timed runs, tools interleaved")
    for case in cases:
        print()
        if "skipped" in case:
            print(f"{case['case']}: SKIPPED ({case['skipped']})")
            continue
        print(f"{case['case']}  ({case['input']}; {case['input_bytes']:,} bytes)")
        print(f"  {'tool':<18} {'runs':>4} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'MiB/s':>7}  verdict")
        for t in case["tools"]:
            if t["median_s"] is None:
                print(f"  {t['tool']:<18} {t['runs']:>4} {'-':>10} {'-':>9} {'-':>9} {'-':>7}  {t['verdict']}")
                continue
            thr = f"{t['throughput_mib_s']:7.1f}" if t.get("throughput_mib_s") else f"{'':>7}"
            verdict = ("OK  " if t["all_ok"] else "FAIL") + " " + (t["verdict"] or "")[:90]
            print(
                f"  {t['tool']:<18} {t['runs']:>4} {t['median_s'] * 1000:10.2f} {t['min_s'] * 1000:9.2f} "
                f"{t['max_s'] * 1000:9.2f} {thr}  {verdict}"
            )
        ratios = ", ".join(f"{k} = {v:.2f}" for k, v in case["ratios"].items() if v is not None)
        if ratios:
            print(f"  ratios (of medians): {ratios}")
        for target in case["targets"]:
            value = "n/a" if target["value"] is None else f"{target['value']:.2f}{target['unit']}"
            state = "met" if target["met"] else "MISSED"
            print(f"  target {target['name']} {'<' if target['strict'] else '<='} {target['limit']}{target['unit']}: "
                  f"{value} -> {state}")  # fmt: skip
        if case["case"] != "xades-900-references":
            print(f"  every run of every tool confirmed the signature: {'yes' if case['all_ok'] else 'NO'}")
    for case in cases:
        for name, prof in (case.get("profile") or {}).items():
            print()
            print(
                f"cProfile, {case['case']}, {name}: {prof['runs']} runs, "
                f"{prof['ms_per_run_under_profiler']:.1f} ms each under the profiler ({prof['prof_file']})"
            )
            print(f"  {'self ms/run':>11} {'cum ms/run':>10} {'calls/run':>9}  function (top self time)")
            for row in prof["top_tottime"][:TOP_PRINTED]:
                print(
                    f"  {row['tottime_ms_per_run']:11.2f} {row['cumtime_ms_per_run']:10.2f} "
                    f"{row['ncalls_per_run']:9.1f}  {row['function']}:{row['line']}"
                )
            print(f"  {'':>11} {'cum ms/run':>10} {'calls/run':>9}  trustsvc function (top cumulative)")
            trustsvc_rows = [r for r in prof["top_cumulative"] if r["function"].startswith("trustsvc")]
            for row in trustsvc_rows[:TOP_CUMULATIVE_PRINTED]:
                print(
                    f"  {'':>11} {row['cumtime_ms_per_run']:10.2f} "
                    f"{row['ncalls_per_run']:9.1f}  {row['function']}:{row['line']}"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10K,5M", help="bid sizes, binary units (default 10K,5M)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per tool below 1 MiB (default 100)")
    parser.add_argument("--runs-large", type=int, default=20, help="timed runs per tool from 1 MiB (default 20)")
    parser.add_argument("--runs-900", type=int, default=10, help="timed runs of xades-900-references (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per tool first (default 1)")
    parser.add_argument("--skip-900", action="store_true", help="do not time xades-900-references.xml")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also cProfile N runs of each trustsvc tool"
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached inputs")
    parser.add_argument("--json", type=Path, default=RESULTS / "xades_bench.json", help="where to write results")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]

    argv_used = sys.argv if argv is None else [sys.argv[0], *argv]
    exe = Path(sys.executable)
    with contextlib.suppress(ValueError):
        exe = exe.relative_to(REPO)
    env = environment(shlex.join([str(exe), *_display(argv_used)]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = ValidationSettings(
        validation_time=VALIDATION_TIME, trust=AnchorSet.from_files(ROOT_PEMS), historical=True
    )
    loop = asyncio.new_event_loop()
    cases: list[dict[str, Any]] = []
    try:
        for size in sizes:
            cases.append(size_case(loop, args, size, settings))
        if not args.skip_900:
            cases.append(xades_900_case(loop, args))
    finally:
        loop.close()

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"environment": env, "cases": cases}, indent=1, default=str) + "\n")
    print_report(env, cases)
    print(f"\nresults written to {_display([str(args.json)])[0]}")
    return 0 if all(c.get("all_ok", True) for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
