"""Trusted-list benchmark: authenticate the EU LOTL and parse + verify every national list of eu-2026-08.

    .venv/bin/python bench/tl_bench.py                    # 5 timed runs per mode, after 1 warm-up
    .venv/bin/python bench/tl_bench.py --runs 9 --rounds 3

The set is ../shared/trusted-lists/eu-2026-08: LOTL seq 390 and 29 national lists (~22 MB; DE is not in it).
Each mode runs in its own process (so that its peak RSS is its own, measured with GNU ``time -f %M``); the
process times its runs itself, so interpreter start-up and imports are not in the latency. ``--rounds`` repeats
the modes one after the other (A B C A B C ...) so that load from other processes hits every mode alike.

Modes:

* ``trustsvc``: :func:`authenticate_lotl` from the OJ certificates (``latest.cert.pem``, anchored on OJ
  C/2026/1944), then :func:`verify_national_lists` with the signers the LOTL announces: full XAdES verification
  (signxml) with the anti-wrapping checks, and a parse of every provider, service, history entry and extension.
  ``-threads2`` does the national lists in 2 threads; ``-processes2`` in a 2-process pool (results pickled back;
  its peak RSS is that of the largest single process, the pool's total is about three times that).
* ``trustsvc-parse-only``: the same lists parsed without any signature check (what the XML walk costs).
* ``pyhanko``: ``eutl_parse.validate_and_parse_lotl`` with the same OJ certificates, then
  ``trust_list_to_registry`` for each list with the TLSO certificates the LOTL announces (signxml too, but it
  reads only CA/QC and TSA/QTST services and validates the TLSO certificate at the current time).

Target for the later full ingest: <= 3 s on 2 cores and peak RSS < 300 MB. Exit status 1 when a mode fails
to authenticate the LOTL; missed targets are reported, not fatal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TL_DIR = ROOT.parent / "shared" / "trusted-lists"
SET_DIR = TL_DIR / "eu-2026-08"
OJ_PEM = TL_DIR / "oj-signers" / "latest.cert.pem"
OJ_URL = "https://eur-lex.europa.eu/eli/C/2026/1944/oj"
RESULTS = ROOT / "bench" / "results" / "tl_bench.json"
GNU_TIME = Path("/usr/bin/time")
MODES = ("trustsvc", "trustsvc-threads2", "trustsvc-processes2", "trustsvc-parse-only", "pyhanko")
TARGET_SECONDS = 3.0
TARGET_RSS_MIB = 300


# ---------------------------------------------------------------- the work each mode times


def _inputs() -> tuple[bytes, dict[str, bytes]]:
    lotl = (SET_DIR / "eu-lotl.xml").read_bytes()
    lists = {p.stem.removeprefix("TSL_"): p.read_bytes() for p in sorted(SET_DIR.glob("TSL_*.xml"))}
    return lotl, lists


def _oj_certificates() -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(OJ_PEM.read_bytes())]


def _run_trustsvc(lotl: bytes, lists: dict[str, bytes], workers: int, processes: bool) -> dict[str, Any]:
    from trustsvc.trust.lotl import authenticate_lotl, parse_and_verify, verify_national_lists

    result = authenticate_lotl(lotl, _oj_certificates(), lambda url: None, oj_url=OJ_URL)
    if not result.verified:
        return {"lotl_verified": False, "reason": result.verification.reason}
    if processes:
        territories = list(lists)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            signers = [result.signers_by_territory.get(t, ()) for t in territories]
            outcomes = dict(zip(territories, pool.map(parse_and_verify, lists.values(), signers), strict=True))
    else:
        outcomes = verify_national_lists(result, lists, workers=workers)
    refused = {t: o.verification.code for t, o in outcomes.items() if not o.verification.verified}
    services = sum(len(tsp.services) for o in outcomes.values() if o.trusted_list for tsp in o.trusted_list.providers)
    return {"lotl_verified": True, "verified": len(outcomes) - len(refused), "refused": refused, "services": services}


def _run_parse_only(lotl: bytes, lists: dict[str, bytes]) -> dict[str, Any]:
    from trustsvc.trust.tsl_parse import parse_trusted_list

    parse_trusted_list(lotl)
    parsed = [parse_trusted_list(data) for data in lists.values()]
    return {"lotl_verified": None, "services": sum(len(tsp.services) for tl in parsed for tsp in tl.providers)}


def _run_pyhanko(lotl: bytes, lists: dict[str, bytes]) -> dict[str, Any]:
    from asn1crypto import x509 as ax509
    from pyhanko.sign.validation.qualified import eutl_parse

    oj = [ax509.Certificate.load(der) for der in _oj_certificates()]
    parsed = eutl_parse.validate_and_parse_lotl(lotl.decode("utf-8"), lotl_tlso_certs=oj)
    certs = {ref.territory: ref.tlso_certs for ref in parsed.references}
    registry = None
    refused: dict[str, str] = {}
    errors = 0
    for territory, data in lists.items():
        try:
            registry, problems = eutl_parse.trust_list_to_registry(
                data.decode("utf-8"), certs.get(territory, []), registry
            )
            errors += len(problems)
        except Exception as e:  # noqa: BLE001 - any failure of the peer is a result to report, not a crash
            refused[territory] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    services = 0 if registry is None else len(list(registry.known_certificate_authorities))
    return {
        "lotl_verified": True,
        "verified": len(lists) - len(refused),
        "refused": refused,
        "parse_errors": errors,
        "cas": services,
    }


def _work(mode: str) -> dict[str, Any]:
    lotl, lists = _inputs()
    if mode == "trustsvc":
        return _run_trustsvc(lotl, lists, 1, False)
    if mode == "trustsvc-threads2":
        return _run_trustsvc(lotl, lists, 2, False)
    if mode == "trustsvc-processes2":
        return _run_trustsvc(lotl, lists, 2, True)
    if mode == "trustsvc-parse-only":
        return _run_parse_only(lotl, lists)
    return _run_pyhanko(lotl, lists)


def child(mode: str, runs: int, warmup: int) -> None:
    """Inside the measured process: warm up, time `runs` runs, print one JSON line."""
    outcome: dict[str, Any] = {}
    for _ in range(warmup):
        outcome = _work(mode)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        outcome = _work(mode)
        samples.append(time.perf_counter() - start)
    print(json.dumps({"mode": mode, "samples": samples, "outcome": outcome}))


# ---------------------------------------------------------------- the parent


def run_mode(mode: str, runs: int, warmup: int) -> tuple[dict[str, Any], int | None]:
    """Run one mode in a child process; return its report and its peak RSS in KiB."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--runs", str(runs), "--warmup", str(warmup)]
    with tempfile.NamedTemporaryFile() as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else cmd
        proc = subprocess.run(wrapped, capture_output=True, check=False, cwd=ROOT)
        peak = None
        if GNU_TIME.exists():
            lines = Path(rss.name).read_text().split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else None
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1]), peak


def environment() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        None,
    )
    versions = {name: importlib.metadata.version(name) for name in ("lxml", "signxml", "cryptography", "pyHanko")}
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "versions": versions,
        "rss_method": "GNU time %M of the mode's process" if GNU_TIME.exists() else "not measured",
        "input_bytes": sum(p.stat().st_size for p in SET_DIR.glob("*.xml")),
        "input_files": len(list(SET_DIR.glob("*.xml"))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per mode and round")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the modes in turn this many times")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.warmup)
        return 0
    if not SET_DIR.exists():
        raise SystemExit(f"{SET_DIR} is not there: the benchmark needs the shared trusted lists")
    modes = [m for m in args.modes.split(",") if m]
    samples: dict[str, list[float]] = {m: [] for m in modes}
    peaks: dict[str, list[int]] = {m: [] for m in modes}
    outcomes: dict[str, Any] = {}
    for _ in range(args.rounds):
        for mode in modes:
            report, peak = run_mode(mode, args.runs, args.warmup)
            samples[mode].extend(report["samples"])
            outcomes[mode] = report["outcome"]
            if peak is not None:
                peaks[mode].append(peak)
    env = environment()
    rows = [_row(mode, samples[mode], peaks[mode], outcomes[mode]) for mode in modes]
    _print_table(env, rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"environment": env, "results": rows}, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0 if all(row["outcome"].get("lotl_verified") is not False for row in rows) else 1


def _row(mode: str, samples: list[float], peaks: list[int], outcome: dict[str, Any]) -> dict[str, Any]:
    peak_mib = max(peaks) / 1024 if peaks else None
    median = statistics.median(samples)
    return {
        "mode": mode,
        "median_s": median,
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": samples,
        "peak_rss_mib": peak_mib,
        "meets_time_target": median <= TARGET_SECONDS,
        "meets_rss_target": None if peak_mib is None else peak_mib < TARGET_RSS_MIB,
        "outcome": outcome,
    }


def _print_table(env: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    print(
        f"# tl_bench {env['date']}  {env['cpu_model']} x{env['cpu_count']}  Python {env['python']}  {env['versions']}"
    )
    print(f"# input: {env['input_files']} files, {env['input_bytes'] / 1e6:.1f} MB (eu-2026-08)")
    print(f"{'mode':22} {'median s':>9} {'min':>7} {'max':>7} {'peak RSS MiB':>13}  outcome")
    for row in rows:
        outcome = row["outcome"]
        summary = ", ".join(f"{k}={v}" for k, v in outcome.items() if k != "lotl_verified")
        rss = f"{row['peak_rss_mib']:.0f}" if row["peak_rss_mib"] is not None else "-"
        timing = f"{row['median_s']:9.3f} {row['min_s']:7.3f} {row['max_s']:7.3f}"
        print(f"{row['mode']:22} {timing} {rss:>13}  {summary[:150]}")
    print(f"# target for the full ingest: <= {TARGET_SECONDS} s on 2 cores, peak RSS < {TARGET_RSS_MIB} MiB")


if __name__ == "__main__":
    sys.exit(main())
