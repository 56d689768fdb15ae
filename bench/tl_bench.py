"""Trusted-list benchmark: parse + verify the EU lists, the full ingest into the store, and registry lookups.

    .venv/bin/python bench/tl_bench.py                    # 5 timed runs per mode, after 1 warm-up
    .venv/bin/python bench/tl_bench.py --runs 9 --rounds 3
    .venv/bin/python bench/tl_bench.py --modes ingest-sqlite,pyhanko,lookup

The set is ../shared/trusted-lists/eu-2026-08: LOTL seq 390 and 29 national lists (~22 MB; DE is not in it).
Each mode runs in its own process (so that its peak RSS is its own, measured with GNU ``time -f %M``); the
process times its runs itself, so interpreter start-up and imports are not in the latency. Every mode also runs
once more in a fresh process doing a single run with no warm-up: that process's peak RSS and wall time (start-up
and imports included) are "the whole thing" as a command would do it. ``--rounds`` repeats the modes one after
the other (A B C A B C ...) so that load from other processes hits every mode alike.

Parse + verify modes:

* ``trustsvc``: :func:`authenticate_lotl` from the OJ certificates (``latest.cert.pem``, anchored on OJ
  C/2026/1944), then :func:`verify_national_lists` with the signers the LOTL announces: full XAdES verification
  (signxml) with the anti-wrapping checks, and a parse of every provider, service, history entry and extension.
  ``-threads2`` does the national lists in 2 threads; ``-processes2`` in a 2-process pool (results pickled back;
  its peak RSS is that of the largest single process, the pool's total is about three times that).
* ``trustsvc-parse-only``: the same lists parsed without any signature check (what the XML walk costs).
* ``pyhanko``: ``eutl_parse.validate_and_parse_lotl`` with the same OJ certificates, then
  ``trust_list_to_registry`` for each list with the TLSO certificates the LOTL announces (signxml too, but it
  reads only CA/QC and TSA/QTST services and validates the TLSO certificate at the current time). This is also
  the peer of the full ingest: pyHanko's own pipeline from the files to a registry it can validate with.

Full ingest modes (issue 3's acceptance), exactly what ``trustsvc tl refresh --from DIR`` does, then what a
validation service does at start:

* ``ingest-sqlite``: a fresh SQLite file per run, migrated (untimed, reported apart), then
  :func:`trustsvc.trust.refresh.refresh` with the folder's fetcher and every Official Journal signer
  (:func:`official_journal_signers`): LOTL authentication, every national list's XAdES signature checked
  (2 threads, the default), every list recorded with its services and certificate index, a snapshot taken; then
  :func:`load_registry` of that snapshot. The time is refresh + registry load; both are also given apart.
  Warm runs in one process reuse the store's certificate-key cache (same certificates every run), so they are a
  little optimistic; the cold 1-run process (reported with its phases) is what one ``tl refresh`` costs.
* ``ingest-postgresql``: the same on PostgreSQL (``--pg-url``, default ``TRUSTSVC_TEST_POSTGRES_URL`` or
  ``postgresql://postgres@127.0.0.1:5432/test``), in a throwaway schema per run (created and migrated before the
  clock starts, dropped after it stops); skipped with a message when the server cannot be reached.
* ``cli-refresh``: ``trustsvc tl refresh --from DIR`` itself, one process per run against a fresh SQLite file
  (wall time and peak RSS of the whole process; no registry load, the command does not build one).

Lookups (``lookup``): the registry of one SQLite ingest, then per call, in microseconds (median, p99, max):
:meth:`TrustRegistry.services_for_key` over every certificate of every listed CA service (hits) and over
``--misses`` generated certificates that no list names (EC P-256 keys, and RSA-2048 keys from a small pool);
:func:`qualification_at` of the signer of SiVa's ``hellopades-pades-lt-sha256-sign.pdf`` at its best signature
time (2015-07-09T07:00:55Z) with the certificate of the EE list's ESTEID-SK 2011 service as issuer; and the
certvalidator trust manager's ``find_potential_issuers`` for that signer. pyHanko's registry answers the same
questions next to it (``applicable_service_definitions`` and ``TSPTrustManager.find_potential_issuers``).

Targets: full ingest <= 3 s on 2 cores and peak RSS < 300 MB (the single-run process), lookup < 50 us. Exit
status 1 when a mode fails to authenticate the LOTL or a lookup gives a wrong answer; missed targets are
reported, not fatal.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TL_DIR = ROOT.parent / "shared" / "trusted-lists"
SET_DIR = TL_DIR / "eu-2026-08"
OJ_PEM = TL_DIR / "oj-signers" / "latest.cert.pem"
OJ_URL = "https://eur-lex.europa.eu/eli/C/2026/1944/oj"
ESTEID_PDF = ROOT.parent / "shared" / "corpus" / "siva" / "generic" / "hellopades-pades-lt-sha256-sign.pdf"
ESTEID_BEST_SIGNATURE_TIME = dt.datetime(2015, 7, 9, 7, 0, 55, tzinfo=dt.timezone.utc)
RESULTS = ROOT / "bench" / "results" / "tl_bench.json"
GNU_TIME = Path("/usr/bin/time")
PARSE_MODES = ("trustsvc", "trustsvc-threads2", "trustsvc-processes2", "trustsvc-parse-only", "pyhanko")
INGEST_MODES = ("ingest-sqlite", "ingest-postgresql", "cli-refresh")
MODES = (*PARSE_MODES, *INGEST_MODES, "lookup")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA_PREFIX = "tl_bench_"
TARGET_SECONDS = 3.0
TARGET_RSS_MIB = 300
TARGET_LOOKUP_US = 50.0


# ---------------------------------------------------------------- parse + verify


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


def _pyhanko_registry(lotl: bytes, lists: dict[str, bytes]) -> tuple[Any, dict[str, str], int]:
    """pyHanko's pipeline: (TSPRegistry, territory -> why refused, parse problems)."""
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
    return registry, refused, errors


def _run_pyhanko(lotl: bytes, lists: dict[str, bytes]) -> dict[str, Any]:
    registry, refused, errors = _pyhanko_registry(lotl, lists)
    services = 0 if registry is None else len(list(registry.known_certificate_authorities))
    return {
        "lotl_verified": True,
        "verified": len(lists) - len(refused),
        "refused": refused,
        "parse_errors": errors,
        "cas": services,
    }


# ---------------------------------------------------------------- the full ingest


def _pg_url() -> str:
    return os.environ.get("TL_BENCH_PG_URL") or os.environ.get("TRUSTSVC_TEST_POSTGRES_URL") or DEFAULT_PG_URL


def _pg_admin():
    from sqlalchemy import make_url

    from trustsvc.db import make_engine

    return make_engine(make_url(_pg_url()).update_query_dict({"connect_timeout": "3"}))


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); drops the schemas of earlier runs that were killed."""
    from sqlalchemy import make_url, text

    try:
        engine = _pg_admin()
        with engine.begin() as connection:
            names = connection.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"), {"prefix": PG_SCHEMA_PREFIX + "%"}
            ).scalars()
            for name in list(names):
                pid = name.removeprefix(PG_SCHEMA_PREFIX).split("_", 1)[0]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: no PostgreSQL here
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return f"PostgreSQL at {make_url(_pg_url()).render_as_string(hide_password=True)} is not reachable: {reason}"
    return None


@contextlib.contextmanager
def _fresh_database(backend: str) -> Iterator[str]:
    """The URL of an empty database of `backend` (a temporary SQLite file, or a throwaway PostgreSQL schema)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tl_bench_") as folder:
            yield f"sqlite:///{folder}/trustsvc.db"
        return
    from sqlalchemy import make_url, text

    admin = _pg_admin()
    schema = f"{PG_SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(_pg_url()).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest(backend: str, keep_registry: bool = False) -> tuple[float, dict[str, float], dict[str, Any], Any]:
    """One full ingest into a fresh store: (seconds of refresh + registry load, phases, outcome, registry)."""
    from trustsvc.db import make_engine, migrate
    from trustsvc.trust.refresh import fetcher_for, refresh
    from trustsvc.trust.snapshots import load_registry, official_journal_signers
    from trustsvc.trust.store import TrustStore

    signers = official_journal_signers()
    now = dt.datetime.now(dt.timezone.utc)
    rss: dict[str, float] = {"before": _maxrss_mib()}
    with _fresh_database(backend) as url:
        start = time.perf_counter()
        engine = make_engine(url)
        migrate(engine)
        migrated = time.perf_counter()
        store = TrustStore(engine)
        fetch, location = fetcher_for(str(SET_DIR))  # what `tl refresh --from DIR` does
        report = refresh(location, signers, fetch, now=now, store=store)
        refreshed = time.perf_counter()
        rss["after_refresh"] = _maxrss_mib()
        registry = None
        if report.snapshot_id is not None:
            registry = load_registry(store, store.snapshot(report.snapshot_id))
        loaded = time.perf_counter()
        rss["after_registry"] = _maxrss_mib()
        engine.dispose()
    phases = {"migrate_s": migrated - start, "refresh_s": refreshed - migrated, "load_registry_s": loaded - refreshed}
    refused = {
        o.territory: o.verification.code if not o.verification.verified else (o.record.code if o.record else None)
        for o in report.lists
        if not o.accepted
    }
    outcome = {
        "lotl_verified": report.lotl.verified,
        "snapshot": report.snapshot_id is not None,
        "accepted": sum(1 for o in report.lists if o.accepted),
        "refused": refused,
        "services": len(registry.services) if registry else 0,
        "anchors_now": registry.anchor_count(now) if registry else 0,
        "maxrss_mib": rss,
    }
    return loaded - migrated, phases, outcome, registry if keep_registry else None


# ---------------------------------------------------------------- one measured process


def _timed(mode: str) -> tuple[float, dict[str, float], dict[str, Any]]:
    if mode in ("ingest-sqlite", "ingest-postgresql"):
        seconds, phases, outcome, _ = _ingest(mode.removeprefix("ingest-"))
        return seconds, phases, outcome
    lotl, lists = _inputs()
    start = time.perf_counter()
    if mode == "trustsvc":
        outcome = _run_trustsvc(lotl, lists, 1, False)
    elif mode == "trustsvc-threads2":
        outcome = _run_trustsvc(lotl, lists, 2, False)
    elif mode == "trustsvc-processes2":
        outcome = _run_trustsvc(lotl, lists, 2, True)
    elif mode == "trustsvc-parse-only":
        outcome = _run_parse_only(lotl, lists)
    elif mode == "pyhanko":
        outcome = _run_pyhanko(lotl, lists)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return time.perf_counter() - start, {}, outcome


def child(mode: str, runs: int, warmup: int) -> None:
    """Inside the measured process: warm up, time `runs` runs, print one JSON line."""
    if mode == "lookup":
        print(json.dumps({"mode": mode, "lookup": lookup_child(runs)}))
        return
    outcome: dict[str, Any] = {}
    for _ in range(warmup):
        _, _, outcome = _timed(mode)
    samples: list[float] = []
    phases: dict[str, list[float]] = {}
    for _ in range(runs):
        seconds, run_phases, outcome = _timed(mode)
        samples.append(seconds)
        for name, value in run_phases.items():
            phases.setdefault(name, []).append(value)
    print(json.dumps({"mode": mode, "samples": samples, "phases": phases, "outcome": outcome}))


# ---------------------------------------------------------------- lookups


def _stats_us(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return {
        "n": len(ordered),
        "median_us": at(0.5),
        "p99_us": at(0.99),
        "max_us": ordered[-1] / 1000,
        "mean_us": sum(ordered) / len(ordered) / 1000,
    }


def _time_calls(function, arguments: list, passes: int) -> tuple[list[int], list]:
    """Per-call wall time in ns of function(arg) for each argument, `passes` times over; and the last results."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    results: list = []
    for index in range(passes):
        results = []
        for argument in arguments:
            start = clock()
            result = function(argument)
            samples.append(clock() - start)
            if index == passes - 1:
                results.append(result)
    return samples, results


def _miss_certificates(count: int) -> list:
    """`count` certificates no list names: EC P-256 keys (one each) and RSA-2048 keys (from a pool of 4)."""
    from asn1crypto import x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    issuer_key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tl_bench miss CA")])
    rsa_pool = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    certificates = []
    for index in range(count):
        key = (
            rsa_pool[index % 4].public_key() if index % 3 == 0 else ec.generate_private_key(ec.SECP256R1()).public_key()
        )
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EU"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Bench {index // 100}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"not listed {index} {uuid.uuid4().hex[:8]}"),
        ])  # fmt: skip
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=730))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .sign(issuer_key, hashes.SHA256())
        )
        certificates.append(ax509.Certificate.load(cert.public_bytes(Encoding.DER)))
    return certificates


def _hashable_authorities(authority_class, certificates: list) -> list:
    """pyHanko's authorities for `certificates`, hashed once; those whose subject asn1crypto cannot normalise (a
    UTF8String countryName, as some listed CAs have) are left out: pyHanko cannot register or look them up."""
    authorities = []
    for cert in certificates:
        authority = authority_class(cert)
        try:
            hash(authority)
        except ValueError:
            continue
        authorities.append(authority)
    return authorities


def _esteid_signer():
    from pyhanko.pdf_utils.reader import PdfFileReader

    with ESTEID_PDF.open("rb") as f:
        return PdfFileReader(f).embedded_signatures[0].signer_cert


def lookup_child(passes: int) -> dict[str, Any]:
    """Build the registry of one SQLite ingest, then time lookups in it (and in pyHanko's registry)."""
    from pyhanko.sign.validation.qualified.tsp import TSPTrustManager
    from pyhanko_certvalidator.authority import AuthorityWithCert

    from trustsvc.trust.qualification import qualification_at
    from trustsvc.trust.registry import ski_of, spki_key
    from trustsvc.trust.tsl_model import CA_PKC, CA_QC, NATIONAL_ROOT_CA_QC

    misses_wanted = int(os.environ.get("TL_BENCH_MISSES", "3000"))
    build = time.perf_counter()
    _, _, outcome, registry = _ingest("sqlite", keep_registry=True)
    build = time.perf_counter() - build
    ca_types = {CA_QC, CA_PKC, NATIONAL_ROOT_CA_QC}
    listed: dict[bytes, Any] = {}
    for service in registry.services:
        if service.service.current.type in ca_types:
            for cert in service.certificates:
                listed.setdefault(cert.dump(), cert)
    hits = list(listed.values())
    generated = time.perf_counter()
    misses = _miss_certificates(misses_wanted)
    generated = time.perf_counter() - generated
    for cert in hits + misses:  # parse what a validation has parsed already (the key, the SKI)
        spki_key(cert.public_key)
        ski_of(cert)

    report: dict[str, Any] = {
        "registry": {k: outcome[k] for k in ("services", "accepted", "refused")},
        "build_s": build,
        "miss_generation_s": generated,
        "passes": passes,
    }
    overhead, _ = _time_calls(lambda _x: None, [None] * 10000, 1)
    report["timer_overhead_us"] = statistics.median(overhead) / 1000
    wrong: list[str] = []

    samples, results = _time_calls(registry.services_for_key, hits, passes)
    report["services_for_key_hit"] = _stats_us(samples) | {"certificates": len(hits)}
    if not all(results):
        wrong.append(f"{sum(1 for r in results if not r)} listed CA certificates not found")
    samples, results = _time_calls(registry.services_for_key, misses, passes)
    report["services_for_key_miss"] = _stats_us(samples) | {"certificates": len(misses)}
    if any(results):
        wrong.append(f"{sum(1 for r in results if r)} generated certificates found in the lists")

    signer = _esteid_signer()
    esteid = [s for s in registry.services if s.territory == "EE" and "ESTEID-SK 2011" in s.service.current.name]
    issuers = [c for s in esteid for c in s.certificates]
    moment = ESTEID_BEST_SIGNATURE_TIME
    repeat = [signer] * 2000
    samples, results = _time_calls(lambda cert: qualification_at(registry, cert, issuers, moment), repeat, passes)
    label = results[-1].label.value
    report["qualification_at"] = _stats_us(samples) | {
        "signer": signer.subject.human_friendly,
        "issuer_service": esteid[0].service.current.name if esteid else None,
        "moment": moment.isoformat(),
        "label": label,
    }
    if label != "QC_FOR_ESIG_QSCD":
        wrong.append(f"qualification_at gave {label}, not QC_FOR_ESIG_QSCD")
    manager = registry.trust_manager(moment)
    samples, results = _time_calls(lambda cert: list(manager.find_potential_issuers(cert)), repeat, passes)
    anchors = results[-1]
    report["find_potential_issuers"] = _stats_us(samples) | {
        "anchors": [a.authority.name.human_friendly for a in anchors]
    }
    if not anchors:
        wrong.append("find_potential_issuers found no anchor for the ESTEID signer")

    # the same questions to pyHanko's registry (built from the same files)
    lotl, lists = _inputs()
    peer_build = time.perf_counter()
    peer, _, _ = _pyhanko_registry(lotl, lists)
    report["pyhanko_build_s"] = time.perf_counter() - peer_build
    hit_authorities = _hashable_authorities(AuthorityWithCert, hits)
    miss_authorities = _hashable_authorities(AuthorityWithCert, misses)

    def peer_lookup(authority):
        return list(peer.applicable_service_definitions(authority, None))

    samples, results = _time_calls(peer_lookup, hit_authorities, passes)
    report["pyhanko_lookup_hit"] = _stats_us(samples) | {
        "certificates": len(hit_authorities),
        "unhashable": len(hits) - len(hit_authorities),
        "found": sum(1 for r in results if r),
        "note": "pyHanko keeps CA/QC and TSA/QTST services only",
    }
    samples, results = _time_calls(peer_lookup, miss_authorities, passes)
    report["pyhanko_lookup_miss"] = _stats_us(samples) | {"certificates": len(misses)}
    peer_manager = TSPTrustManager(peer)
    samples, results = _time_calls(lambda cert: list(peer_manager.find_potential_issuers(cert)), repeat[:200], 1)
    report["pyhanko_find_potential_issuers"] = _stats_us(samples) | {
        "anchors": [a.authority.name.human_friendly for a in results[-1]]
    }
    report["wrong"] = wrong
    report["maxrss_mib"] = _maxrss_mib()
    return report


# ---------------------------------------------------------------- the parent


def _measure(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float, int | None]:
    """Run `cmd`; return it, its wall time and its peak RSS in KiB (GNU time)."""
    with tempfile.NamedTemporaryFile() as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else cmd
        start = time.perf_counter()
        proc = subprocess.run(wrapped, capture_output=True, check=False, cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        peak = None
        if GNU_TIME.exists():
            lines = Path(rss.name).read_text().split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else None
    return proc, wall, peak


def run_mode(mode: str, runs: int, warmup: int) -> tuple[dict[str, Any], int | None, float]:
    """Run one mode in a child process; return its report, its peak RSS in KiB and its wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--runs", str(runs), "--warmup", str(warmup)]
    proc, wall, peak = _measure(cmd)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1]), peak, wall


def run_cli(runs: int) -> tuple[list[float], list[int], dict[str, Any]]:
    """``trustsvc tl refresh --from DIR`` into a fresh SQLite file, one process per run."""
    executable = Path(sys.executable).with_name("trustsvc")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "trustsvc.cli"]
    walls: list[float] = []
    peaks: list[int] = []
    outcome: dict[str, Any] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="tl_bench_cli_") as folder:
            env = dict(os.environ, TRUSTSVC_DATABASE_URL=f"sqlite:///{folder}/trustsvc.db")
            proc, wall, peak = _measure([*command, "tl", "refresh", "--from", str(SET_DIR)], env)
        out = proc.stdout.decode(errors="replace")
        outcome = {
            "exit": proc.returncode,
            "lotl_verified": "LOTL" in out and ": verified" in out.splitlines()[0],
            "accepted": out.count(": accepted"),
            "refused": [line.strip().split(":")[0] for line in out.splitlines() if "refused" in line],
        }
        walls.append(wall)
        if peak is not None:
            peaks.append(peak)
    return walls, peaks, outcome


def environment() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        None,
    )
    names = ("lxml", "signxml", "cryptography", "pyHanko", "pyhanko-certvalidator", "asn1crypto", "SQLAlchemy")
    versions = {name: importlib.metadata.version(name) for name in names}
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
        ).stdout.strip()
    except OSError:
        revision = ""
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "git": revision or None,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "versions": versions,
        "sqlite": __import__("sqlite3").sqlite_version,
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
    parser.add_argument("--misses", type=int, default=3000, help="unlisted certificates to look up")
    parser.add_argument("--lookup-passes", type=int, default=5, help="passes over the lookup sets")
    parser.add_argument("--pg-url", help=f"PostgreSQL for ingest-postgresql (default {DEFAULT_PG_URL})")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.warmup)
        return 0
    if not SET_DIR.exists():
        raise SystemExit(f"{SET_DIR} is not there: the benchmark needs the shared trusted lists")
    if args.pg_url:
        os.environ["TL_BENCH_PG_URL"] = args.pg_url
    os.environ["TL_BENCH_MISSES"] = str(args.misses)
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES)}")
    skipped: dict[str, str] = {}
    if "ingest-postgresql" in modes:
        reason = postgres_unreachable()
        if reason:
            skipped["ingest-postgresql"] = reason
            print(f"# ingest-postgresql skipped: {reason}", file=sys.stderr)
    timed = [m for m in modes if m not in skipped and m not in ("lookup", "cli-refresh")]
    samples: dict[str, list[float]] = {m: [] for m in modes}
    phases: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    peaks: dict[str, list[int]] = {m: [] for m in modes}
    single: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, Any] = {}
    for _ in range(args.rounds):
        for mode in timed:
            print(f"# {mode} ...", file=sys.stderr, flush=True)
            report, peak, _ = run_mode(mode, args.runs, args.warmup)
            samples[mode].extend(report["samples"])
            for name, values in report["phases"].items():
                phases[mode].setdefault(name, []).extend(values)
            outcomes[mode] = report["outcome"]
            if peak is not None:
                peaks[mode].append(peak)
        if "cli-refresh" in modes:
            print("# cli-refresh ...", file=sys.stderr, flush=True)
            walls, cli_peaks, outcomes["cli-refresh"] = run_cli(args.runs)
            samples["cli-refresh"].extend(walls)
            peaks["cli-refresh"].extend(cli_peaks)
    for mode in timed:  # the whole thing, once, in a fresh process: start-up, imports, one run
        print(f"# {mode} (single run) ...", file=sys.stderr, flush=True)
        report, peak, wall = run_mode(mode, 1, 0)
        single[mode] = {
            "wall_s": wall,
            "run_s": report["samples"][0],
            "phases_s": {name: values[0] for name, values in report["phases"].items()},
            "peak_rss_mib": peak / 1024 if peak else None,
            "maxrss_by_phase_mib": report["outcome"].get("maxrss_mib"),
        }
    lookup = None
    if "lookup" in modes:
        print("# lookup ...", file=sys.stderr, flush=True)
        report, peak, _ = run_mode("lookup", args.lookup_passes, 0)
        lookup = report["lookup"] | {"process_peak_rss_mib": peak / 1024 if peak else None}
    env = environment()
    rows = [
        _row(mode, samples[mode], phases[mode], peaks[mode], single.get(mode), outcomes[mode])
        for mode in modes
        if mode in outcomes
    ]
    rows += [{"mode": mode, "skipped": reason} for mode, reason in skipped.items()]
    _print_table(env, rows, lookup)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"environment": env, "results": rows, "lookup": lookup}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    failed = any(row.get("outcome", {}).get("lotl_verified") is False for row in rows)
    return 1 if failed or (lookup is not None and lookup["wrong"]) else 0


def _row(
    mode: str,
    samples: list[float],
    phases: dict[str, list[float]],
    peaks: list[int],
    single: dict[str, Any] | None,
    outcome: dict[str, Any],
) -> dict[str, Any]:
    peak_mib = max(peaks) / 1024 if peaks else None
    median = statistics.median(samples)
    whole_rss = single["peak_rss_mib"] if single else peak_mib
    row = {
        "mode": mode,
        "median_s": median,
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": samples,
        "phases_median_s": {name: statistics.median(values) for name, values in phases.items()},
        "peak_rss_mib": peak_mib,
        "single_run": single,
        "meets_time_target": median <= TARGET_SECONDS,
        "meets_rss_target": None if whole_rss is None else whole_rss < TARGET_RSS_MIB,
        "outcome": outcome,
    }
    return row


def _print_table(env: dict[str, Any], rows: list[dict[str, Any]], lookup: dict[str, Any] | None) -> None:
    print(
        f"# tl_bench {env['date']} (git {env['git']})  {env['cpu_model']} x{env['cpu_count']}  Python {env['python']}"
    )
    print(f"# {env['versions']}, SQLite {env['sqlite']}")
    print(f"# input: {env['input_files']} files, {env['input_bytes'] / 1e6:.1f} MB (eu-2026-08)")
    sections = (
        ("parse + verify (no store)", PARSE_MODES),
        ("full ingest: refresh into a fresh store + registry load (pyhanko: its LOTL + TL -> registry)", None),
    )
    header = (
        f"{'mode':20} {'median s':>9} {'min':>7} {'max':>7} {'RSS MiB':>8} "
        f"{'1-run proc s':>12} {'1-run RSS MiB':>13}  detail"
    )
    for title, members in sections:
        wanted = members if members is not None else (*INGEST_MODES, "pyhanko")
        chosen = [r for r in rows if r["mode"] in wanted]
        if members is None:
            chosen.sort(key=lambda r: wanted.index(r["mode"]))
        if not chosen:
            continue
        print(f"\n## {title}")
        print(header)
        for row in chosen:
            if "skipped" in row:
                print(f"{row['mode']:20} skipped: {row['skipped']}")
                continue
            rss = f"{row['peak_rss_mib']:.0f}" if row["peak_rss_mib"] is not None else "-"
            single = row["single_run"] or {}
            one_s = f"{single['wall_s']:.2f}" if single else "-"
            one_rss = f"{single['peak_rss_mib']:.0f}" if single.get("peak_rss_mib") else "-"
            timing = f"{row['median_s']:9.3f} {row['min_s']:7.3f} {row['max_s']:7.3f}"
            print(f"{row['mode']:20} {timing} {rss:>8} {one_s:>12} {one_rss:>13}  {_detail(row)[:110]}")
    for row in rows:
        single = row.get("single_run") or {}
        if row["mode"] in INGEST_MODES and single.get("phases_s"):
            phases = " ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in single["phases_s"].items())
            rss = single.get("maxrss_by_phase_mib") or {}
            marks = ", ".join(f"{k} {v:.0f}" for k, v in rss.items())
            print(
                f"# {row['mode']}, cold 1-run process: run {single['run_s']:.2f} s ({phases}); high-water MiB: {marks}"
            )
    print(
        f"# targets for the full ingest: <= {TARGET_SECONDS} s on 2 cores, peak RSS < {TARGET_RSS_MIB} MiB "
        "(the 1-run process); cli-refresh times are whole processes"
    )
    if lookup is None:
        return
    print(
        f"\n## lookups (registry of {lookup['registry']['services']} services; timer overhead "
        f"{lookup['timer_overhead_us']:.2f} us, included)"
    )
    print(f"{'case':34} {'calls':>7} {'median us':>10} {'p99 us':>8} {'max us':>9}  detail")
    cases = (
        ("services_for_key_hit", "services_for_key, listed CA", "certificates"),
        ("services_for_key_miss", "services_for_key, not listed", "certificates"),
        ("qualification_at", "qualification_at, ESTEID signer", "label"),
        ("find_potential_issuers", "find_potential_issuers, ESTEID", "anchors"),
        ("pyhanko_lookup_hit", "pyhanko applicable_service_defs hit", "found"),
        ("pyhanko_lookup_miss", "pyhanko applicable_service_defs miss", "certificates"),
        ("pyhanko_find_potential_issuers", "pyhanko find_potential_issuers", "anchors"),
    )
    for key, label, detail in cases:
        stats = lookup[key]
        print(
            f"{label[:34]:34} {stats['n']:7d} {stats['median_us']:10.1f} {stats['p99_us']:8.1f} "
            f"{stats['max_us']:9.1f}  {detail}={stats[detail]}"
        )
    print(f"# target: < {TARGET_LOOKUP_US:.0f} us per lookup; wrong answers: {lookup['wrong'] or 'none'}")


def _detail(row: dict[str, Any]) -> str:
    outcome = dict(row["outcome"])
    outcome.pop("lotl_verified", None)
    outcome.pop("maxrss_mib", None)
    parts = [f"{k}={v}" for k, v in outcome.items()]
    if row["phases_median_s"]:
        parts.insert(0, " ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in row["phases_median_s"].items()))
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
