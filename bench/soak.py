"""Soak: the HTTP service held at 80% of its measured capacity for ten minutes, with a mix of bid formats.

    .venv/bin/python bench/soak.py                        # capacity probe (30 s), then 600 s at 80%
    .venv/bin/python bench/soak.py --duration 60 --load 0.8

A real ``trustsvc serve --workers 2`` on 127.0.0.1 with the embedded default (SQLite, demo lists, offline), one
platform key. Requests cycle through four kinds of bid, each with ``policy=all`` and recorded as evidence:
PAdES B-LT, CAdES detached B-LT with its content, XAdES enveloped B-LT, ASiC-E with XAdES. First a closed-loop
probe (8 requests in flight) measures capacity on this mix; then requests are sent open-loop at ``--load`` times
that rate (a fixed arrival schedule, so a slow server builds a queue instead of being waited for). Every response
must be 200 with the expected verdict; the resident memory of the server's processes is sampled every 5 s.
Pass: zero errors, and memory growth under 10% (median of the last two minutes against the median of the two
minutes after a one-minute warm-up). Results: bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_bench import REPO, TRUSTSVC, start_server, stop  # noqa: E402

SAMPLES = REPO / "fixtures" / "samples"
MIX = [
    ("pades/b-lt.pdf", None),
    ("cades/detached-b-lt.p7s", "content/bid.xml"),
    ("xades/enveloped-b-lt.xml", None),
    ("asic/asic-e-xades.asice", None),
]
MAX_GROWTH = 0.10


def payloads() -> list[tuple[str, list[tuple[str, tuple[str, bytes]]]]]:
    out = []
    for document, content in MIX:
        files = [("file", (Path(document).name, (SAMPLES / document).read_bytes()))]
        if content:
            files.append(("content", (Path(content).name, (SAMPLES / content).read_bytes())))
        out.append((document, files))
    return out


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its children (uvicorn's master and workers)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.by_kind: dict[str, int] = {}

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


async def one(client: httpx.AsyncClient, kind: str, files, tally: Tally) -> None:
    started = time.monotonic()
    try:
        response = await client.post("/v1/validations", files=files, data={"policy": "all"})
        if response.status_code != 200:
            tally.errors.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
            return
        report = response.json()
        if not report["signatures"] or report["signatures"][0]["indication"] != "TOTAL_PASSED":
            tally.errors.append(f"{kind}: unexpected verdict {report['signatures'][:1]}")
            return
        tally.ok(kind, time.monotonic() - started)
    except (httpx.HTTPError, ValueError, KeyError) as e:
        tally.errors.append(f"{kind}: {type(e).__name__}: {e}")


async def probe(url: str, key: str, seconds: float, in_flight: int = 8) -> float:
    """Closed loop: the throughput the server sustains on the mix."""
    mix = payloads()
    tally = Tally()
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, trust_env=False) as client:

        async def worker(start: int) -> None:
            i = start
            while time.monotonic() < deadline:
                kind, files = mix[i % len(mix)]
                await one(client, kind, files, tally)
                i += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(in_flight)))
        elapsed = time.monotonic() - started
    if tally.errors:
        raise RuntimeError(f"errors during the probe: {tally.errors[:3]}")
    return len(tally.latencies) / elapsed


async def soak(url: str, key: str, rate: float, seconds: float, pid: int) -> tuple[Tally, list[tuple[float, int]]]:
    """Open loop at `rate` requests/s for `seconds`; memory sampled every 5 s."""
    mix = payloads()
    tally = Tally()
    memory: list[tuple[float, int]] = []
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, trust_env=False, limits=limits) as client:
        started = time.monotonic()
        tasks: set[asyncio.Task] = set()
        sent = 0
        next_sample = started
        while (now := time.monotonic()) - started < seconds:
            if now >= next_sample:
                memory.append((now - started, rss_bytes(pid)))
                next_sample += 5
            due = int((now - started) * rate) + 1
            while sent < due:
                kind, files = mix[sent % len(mix)]
                task = asyncio.create_task(one(client, kind, files, tally))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(min(1 / rate, 0.02))
        await asyncio.gather(*tasks)
        memory.append((time.monotonic() - started, rss_bytes(pid)))
    return tally, memory


def growth(memory: list[tuple[float, int]], seconds: float) -> tuple[float, float, float]:
    warm = [m for t, m in memory if 60 <= t < 180] or [m for _, m in memory[: len(memory) // 3]]
    last = [m for t, m in memory if t >= seconds - 120] or [m for _, m in memory[-len(memory) // 3 :]]
    first, final = statistics.median(warm), statistics.median(last)
    return first, final, (final - first) / first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--load", type=float, default=0.8)
    parser.add_argument("--probe-seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trustsvc-soak-") as tmp:
        env = dict(os.environ)
        for name in ("TRUSTSVC_TRUST_SOURCE", "TRUSTSVC_OFFLINE", "HTTP_PROXY", "http_proxy"):
            env.pop(name, None)
        env.update(TRUSTSVC_DATABASE_URL=f"sqlite:///{Path(tmp) / 'soak.db'}", TRUSTSVC_LOG_LEVEL="WARNING")
        key = subprocess.run(
            [TRUSTSVC, "keys", "create", "soak", "--role", "platform"], env=env, capture_output=True, text=True
        ).stdout.strip()
        process, url, _ = start_server(env, args.workers)
        try:
            capacity = asyncio.run(probe(url, key, args.probe_seconds))
            rate = capacity * args.load
            print(
                f"capacity on the mix: {capacity:.1f} validations/s; soaking at {rate:.1f}/s for {args.duration:.0f} s"
            )
            tally, memory = asyncio.run(soak(url, key, rate, args.duration, process.pid))
        finally:
            stop(process)
    first, final, grown = growth(memory, args.duration)
    latencies = sorted(tally.latencies)
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
    passed = not tally.errors and grown < MAX_GROWTH
    print(
        f"requests {len(latencies) + len(tally.errors)}, errors {len(tally.errors)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    print(f"by kind: {tally.by_kind}")
    print(f"server RSS {first / 2**20:.1f} MiB after warm-up -> {final / 2**20:.1f} MiB at the end ({grown:+.1%})")
    print(f"{'PASS' if passed else 'FAIL'}: zero errors and memory growth under {MAX_GROWTH:.0%}")
    for error in tally.errors[:10]:
        print("  error:", error)
    out = REPO / "bench" / "results" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "capacity_rps": capacity,
                "rate_rps": rate,
                "duration_s": args.duration,
                "requests": len(latencies) + len(tally.errors),
                "errors": tally.errors,
                "by_kind": tally.by_kind,
                "p50_ms": p50,
                "p99_ms": p99,
                "memory": memory,
                "rss_warm": first,
                "rss_final": final,
                "growth": grown,
                "passed": passed,
            },
            indent=2,
        )
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
