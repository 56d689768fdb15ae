"""Policy evaluation benchmark: the cost of judging one signature under one pilot policy, next to what validating
that signature costs with raw pyHanko.

    .venv/bin/python bench/policy_bench.py                  # 2,000 evaluations per (sample, policy), 5 rounds
    .venv/bin/python bench/policy_bench.py --calls 500 --rounds 3

Samples of the test PKI are validated once, online against the test PKI served on loopback (as of 2026-11-28
12:00Z, trust from the demo trusted lists), so that their verdicts carry every fact the policies look at. Then:

* ``evaluate``: :func:`trustsvc.policy.evaluate.evaluate_signature` for every (sample, policy) pair, ``--calls``
  times in a row, ``--rounds`` times; the per-call time is the median over rounds of (round time / calls);
* ``matrix``: :func:`trustsvc.policy.apply.apply_policies` with ``all`` on a whole report (7 policies, pilot
  selection by time window included), per report;
* ``load``: reading and checking every policy file and suite (:func:`load_policy_set`), once per round;
* the peer, ``pyHanko``: ``async_validate_pdf_signature`` on ``b-lt.pdf`` (the DSS's revocation data as its
  ValidationContext, root as trust anchor, no fetching, as of signing + 1 hour), as bench/validate_bench.py does.

Target (issue 4): at most 1 ms per policy per signature. The ratio printed is the whole matrix (7 policies) for
one signature over one pyHanko validation of it. Results go to ``bench/results/policy_bench.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "fixtures" / "certs"), str(REPO / "tests")]

from asn1crypto import pem, x509  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import async_validate_pdf_signature  # noqa: E402
from pyhanko.sign.validation.dss import DocumentSecurityStore  # noqa: E402

import testpki  # noqa: E402
from demo_lists import pilot_lists  # noqa: E402
from trustsvc.engine import Submission, validate_submission  # noqa: E402
from trustsvc.fetch import revocation_fetcher  # noqa: E402
from trustsvc.formats import ValidationSettings  # noqa: E402
from trustsvc.policy.apply import apply_policies, resolve_requests  # noqa: E402
from trustsvc.policy.catalogue import load_policy_set  # noqa: E402
from trustsvc.policy.evaluate import evaluate_signature  # noqa: E402
from trustsvc.trust.provider import TrustedListTrust  # noqa: E402
from trustsvc.trust.registry import TrustRegistry  # noqa: E402

SAMPLES = REPO / "fixtures" / "samples"
VALIDATION_TIME = dt.datetime(2026, 11, 28, 12, tzinfo=dt.timezone.utc)
CASES = (
    "pades/b-lt.pdf",
    "pades/b-lt-es.pdf",
    "pades/b-lt-fr-seal.pdf",
    "pades/revoked-b-b.pdf",
    "pades/two-signatures.pdf",
    "cades/es-epes-age.p7s",
    "cades/detached-sha1.p7s",
)
TARGET_MS = 1.0
#: pyHanko validates b-lt.pdf as of signing + 1 hour, inside the embedded revocation data (as validate_bench does).
PEER_MOMENT = dt.datetime(2026, 11, 2, 11, tzinfo=dt.timezone.utc)


async def validate_all() -> dict[str, object]:
    trust = TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))
    reports = {}
    with testpki.serve_pki(VALIDATION_TIME) as served:
        os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = served.proxy_url
        async with revocation_fetcher(5.0) as fetcher:
            settings = ValidationSettings(validation_time=VALIDATION_TIME, trust=trust, fetcher_backend=fetcher)
            for case in CASES:
                path = SAMPLES / case
                contents = (SAMPLES / "content" / "bid.xml",) if path.suffix == ".p7s" else ()
                reports[case] = await validate_submission(Submission(path, contents), settings)
    return reports


def per_call(fn, calls: int, rounds: int) -> list[float]:
    """Seconds per call, one figure per round."""
    fn()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - start) / calls)
    return out


def pyhanko_peer(rounds: int) -> list[float]:
    root = x509.Certificate.load(pem.unarmor((REPO / "fixtures/certs/pem/ms-fr/root.pem").read_bytes())[2])
    data = (SAMPLES / "pades" / "b-lt.pdf").read_bytes()

    async def run() -> None:
        reader = PdfFileReader(io.BytesIO(data))
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "require", "moment": PEER_MOMENT}
        )
        for signature in reader.embedded_regular_signatures:
            status = await async_validate_pdf_signature(signature, context)
            assert status.bottom_line, status.summary()

    loop = asyncio.new_event_loop()
    try:
        return per_call(lambda: loop.run_until_complete(run()), 10, rounds)
    finally:
        loop.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # pyHanko logs the tampered samples' diff analysis as errors

    reports = asyncio.run(validate_all())
    policies = load_policy_set()
    load_times = per_call(load_policy_set, 1, args.rounds)
    requests = resolve_requests(["all"], policies)
    rows = []
    for case, report in reports.items():
        for signature in report.signatures:
            for policy_id, loaded in sorted(policies.policies.items()):
                times = per_call(
                    lambda s=signature, p=loaded: evaluate_signature(s, p, VALIDATION_TIME), args.calls, args.rounds
                )
                decision = evaluate_signature(signature, loaded, VALIDATION_TIME).decision.value
                rows.append((case, signature.id, policy_id, decision, statistics.median(times)))
    matrix = {
        case: statistics.median(per_call(lambda r=report: apply_policies(r, requests, policies), 200, args.rounds))
        for case, report in reports.items()
    }
    peer = statistics.median(pyhanko_peer(args.rounds))

    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"# policy_bench {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} (git {git.stdout.strip()})")
    print(f"# {' '.join(sys.argv)}; Python {sys.version.split()[0]}; {args.calls} calls x {args.rounds} rounds")
    print()
    print(f"{'sample':34} {'sig':6} {'policy':18} {'decision':14} {'us/call':>8}")
    for case, sig, policy_id, decision, seconds in rows:
        print(f"{case:34} {sig:6} {policy_id:18} {decision:14} {seconds * 1e6:8.1f}")
    worst = max(r[4] for r in rows)
    median = statistics.median(r[4] for r in rows)
    print()
    print(f"per policy per signature: median {median * 1e6:.1f} us, worst {worst * 1e6:.1f} us "
          f"(target <= {TARGET_MS * 1000:.0f} us: {'met' if worst * 1000 <= TARGET_MS else 'MISSED'})")  # fmt: skip
    print("whole matrix (apply_policies, all 7 pilots) per document:")
    for case, seconds in matrix.items():
        print(f"  {case:34} {seconds * 1e3:7.3f} ms")
    one = matrix["pades/b-lt.pdf"]
    print(f"peer: pyHanko async_validate_pdf_signature of b-lt.pdf {peer * 1e3:.2f} ms; "
          f"matrix / pyHanko validation = {one / peer:.3f}x")  # fmt: skip
    print(f"loading and checking every policy file: {statistics.median(load_times) * 1e3:.1f} ms")

    out = REPO / "bench" / "results" / "policy_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "git": git.stdout.strip(),
                "calls": args.calls,
                "rounds": args.rounds,
                "evaluate_seconds": [
                    {"sample": c, "signature": s, "policy": p, "decision": d, "seconds": t} for c, s, p, d, t in rows
                ],
                "matrix_seconds": matrix,
                "pyhanko_validation_seconds": peer,
                "load_seconds": load_times,
                "target_ms": TARGET_MS,
                "worst_ms": worst * 1000,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
