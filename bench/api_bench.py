"""HTTP service benchmark: throughput and latency of ``POST /v1/validations`` for a small PAdES B-LT bid.

    .venv/bin/python bench/api_bench.py                     # 2 workers; wrk at 4, 8 and 16 connections, 20 s each
    .venv/bin/python bench/api_bench.py --connections 8 --duration 10

A real ``trustsvc serve --workers 2`` on 127.0.0.1 with the embedded default (SQLite, the demo trusted lists,
offline), one platform key; every request uploads ``fixtures/samples/pades/b-lt.pdf`` (27 KB, PAdES B-LT, one
signature) with ``policy=all``, so each answer is a full report with the decision matrix of the six pilots, and
each validation is recorded as evidence. Load comes from ``wrk`` (apt-get install wrk) on the same 2-core
machine, so the load generator competes with the server for the CPU. Latency percentiles are wrk's, over every
request of the run (after a 5 s warm-up run that is not counted).

Peers, in the same run, on the same file and the same 2 cores (one process per core, each validating in a loop):

* raw pyHanko: ``async_validate_pdf_signature`` with the DSS as its ValidationContext (no HTTP, no policies, no
  evidence) — the ceiling of a pyHanko-based validator;
* trustsvc in-process: ``validate_submission`` + ``apply_policies`` without HTTP — what the service adds on top.

Also measured: how long ``trustsvc serve`` takes from launch to a healthy ``/health``, into an empty database (it
ingests the demo lists) and into a database that has them. Results go to ``bench/results/api_bench.json``.
Targets (issue 5): at least 60 validations/s with p99 under 250 ms; start-up under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "fixtures" / "samples" / "pades" / "b-lt.pdf"
TRUSTSVC = str(Path(sys.executable).parent / "trustsvc")
TARGET_RPS = 60
TARGET_P99_MS = 250
TARGET_START_S = 3.0
BOUNDARY = "----trustsvcbench"

WRK_SCRIPT = """
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"
wrk.headers["Authorization"] = "Bearer {key}"
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout
  io.write(string.format(
    'JSON {{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "mean_us": %d}}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> float:
    import urllib.request

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the server did not become healthy")


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    launched = time.monotonic()
    process = subprocess.Popen(
        [TRUSTSVC, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    return process, url, time.monotonic() - launched


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def run_wrk(url: str, script: Path, connections: int, duration: int) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script)]
    output = subprocess.run([*command, url + "/v1/validations"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^JSON (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError("wrk printed no summary:\n" + output)
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["connections"] = connections
    return result


# -- peers ---------------------------------------------------------------------------------------------------------


def _pyhanko_loop(seconds: float) -> int:
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    root = x509.Certificate.load(pem.unarmor((REPO / "fixtures/certs/pem/ms-fr/root.pem").read_bytes())[2])
    data = SAMPLE.read_bytes()
    moment = dt.datetime(2026, 11, 2, 11, tzinfo=dt.timezone.utc)

    async def one():
        reader = PdfFileReader(io.BytesIO(data))
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "require", "moment": moment}
        )
        for signature in reader.embedded_regular_signatures:
            status = await async_validate_pdf_signature(signature, context)
            assert status.bottom_line

    return asyncio.run(_count(one, seconds))


def _trustsvc_loop(seconds: float) -> int:
    sys.path[:0] = [str(REPO / "fixtures" / "certs"), str(REPO / "tests")]
    from demo_lists import pilot_lists
    from trustsvc.engine import Submission, validate_submission
    from trustsvc.formats import ValidationSettings
    from trustsvc.policy.apply import apply_policies, resolve_requests
    from trustsvc.policy.catalogue import load_policy_set
    from trustsvc.trust.provider import TrustedListTrust
    from trustsvc.trust.registry import TrustRegistry

    trust = TrustedListTrust(TrustRegistry(pilot_lists(), snapshot_id=1))
    policies = load_policy_set()
    requests = resolve_requests(["all"], policies)

    async def one():
        settings = ValidationSettings(validation_time=dt.datetime.now(dt.timezone.utc), trust=trust)
        report = await validate_submission(Submission(SAMPLE), settings)
        assert report.signatures[0].indication.value == "TOTAL_PASSED"
        json.dumps(apply_policies(report, requests, policies).to_dict())

    return asyncio.run(_count(one, seconds))


async def _count(one, seconds: float) -> int:
    await one()
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await one()
        done += 1
    return done


def peer_rps(loop, processes: int, seconds: float) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        counts = pool.map(loop, [seconds] * processes)
    return sum(counts) / seconds


# -- main ----------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", default="4,8,16")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--peer-seconds", type=float, default=10)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed for the load: apt-get install wrk", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="trustsvc-bench-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ)
        for name in ("TRUSTSVC_TRUST_SOURCE", "TRUSTSVC_OFFLINE", "HTTP_PROXY", "http_proxy"):
            env.pop(name, None)
        env.update(TRUSTSVC_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}", TRUSTSVC_LOG_LEVEL="WARNING")
        key = subprocess.run(  # this also creates and migrates the database, with no trusted list in it yet
            [TRUSTSVC, "keys", "create", "bench", "--role", "platform"], env=env, capture_output=True, text=True
        ).stdout.strip()
        body = folder / "body.bin"
        body.write_bytes(
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="policy"\r\n\r\nall\r\n'
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bid.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + SAMPLE.read_bytes()
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        script = folder / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=body, boundary=BOUNDARY, key=key))

        process, url, cold_start = start_server(env, args.workers)  # empty store: ingests the demo lists
        stop(process)
        process, url, warm_start = start_server(env, args.workers)
        try:
            run_wrk(url, script, 4, 5)  # warm-up, not counted
            runs = [run_wrk(url, script, int(c), args.duration) for c in args.connections.split(",")]
        finally:
            stop(process)

    pyhanko = peer_rps(_pyhanko_loop, args.workers, args.peer_seconds)
    in_process = peer_rps(_trustsvc_loop, args.workers, args.peer_seconds)

    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"# api_bench {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} (git {git.stdout.strip()})")
    print(f"# {' '.join(sys.argv)}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; {args.workers} workers")
    print()
    print(f"{'connections':>11} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for r in runs:
        print(
            f"{r['connections']:>11} {r['rps']:8.1f} {r['p50_us'] / 1000:8.1f} {r['p90_us'] / 1000:8.1f} "
            f"{r['p99_us'] / 1000:8.1f} {r['max_us'] / 1000:8.1f} {r['errors']:>7}"
        )
    best = max(runs, key=lambda r: r["rps"] if r["p99_us"] / 1000 <= TARGET_P99_MS else 0)
    met = best["rps"] >= TARGET_RPS and best["p99_us"] / 1000 <= TARGET_P99_MS and best["errors"] == 0
    print()
    print(f"best within p99 <= {TARGET_P99_MS} ms: {best['rps']:.1f} req/s at {best['connections']} connections "
          f"(target >= {TARGET_RPS}: {'met' if met else 'MISSED'})")  # fmt: skip
    print(f"peers on {args.workers} processes, no HTTP: raw pyHanko {pyhanko:.1f} validations/s; "
          f"trustsvc in-process (validation + 6 policies + JSON) {in_process:.1f}/s")  # fmt: skip
    print(
        f"service / raw pyHanko = {best['rps'] / pyhanko:.2f}x; service / in-process = {best['rps'] / in_process:.2f}x"
    )
    print(f"start-up to healthy: {cold_start:.2f} s into an empty database (ingests the demo lists), "
          f"{warm_start:.2f} s afterwards (target < {TARGET_START_S} s)")  # fmt: skip

    out = REPO / "bench" / "results" / "api_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "git": git.stdout.strip(),
                "workers": args.workers,
                "runs": runs,
                "pyhanko_rps": pyhanko,
                "in_process_rps": in_process,
                "start_cold_s": cold_start,
                "start_warm_s": warm_start,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(REPO)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
