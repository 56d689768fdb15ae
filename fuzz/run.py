"""Run the fuzz harness for a fixed budget per target, or schemathesis against a live service; report findings.

    .venv/bin/python fuzz/run.py                                   # every target, 60 s each
    .venv/bin/python fuzz/run.py --seconds 300 --targets pdf,validate --seed 7
    .venv/bin/python fuzz/run.py --api --seconds 600               # schemathesis, longer than the test does

Each target runs in a subprocess of its own (``fuzz/harness.py``), so a native crash, an out-of-memory or a hang
(one input over ``--timeout`` seconds) ends only that process: the input is saved, and the target is started again
for the rest of its budget with a fresh seed. Seeds are ``fixtures/samples/**`` (plus CMS and XML cut out of
them), copied into a temporary folder removed at the end; the corpus grown during the run is kept only with
``--keep-corpus`` (under OUT/corpus/TARGET).

Output: a table (target, executions, executions/s, coverage and corpus at start and end, findings), every
finding's input, traceback or log under ``OUT/findings/TARGET/`` (OUT defaults to bench/results/fuzz/, git-ignored,
and each target's folder is emptied when it starts), and ``bench/results/fuzz.json`` (``--json``). Exit status 1
when there is any finding (or, with ``--api``, any 5xx or transport error).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results" / "fuzz"
DEFAULT_JSON = ROOT / "bench" / "results" / "fuzz.json"
STARTUP_GRACE = 120  # seconds a harness process may take beyond its budget (instrumenting imports, seed runs)
MAX_RESTARTS = 50


@dataclass
class Finding:
    kind: str  # exception, timeout, crash, oom, harness-hang, harness-error
    id: str
    summary: str
    input: str | None  # path of the saved input
    size: int | None = None
    details: str | None = None  # path of the traceback / log


@dataclass
class TargetResult:
    target: str
    engine: str
    seconds: float = 0.0
    executions: int = 0
    cov_start: int | None = None
    cov_end: int | None = None
    features_end: int | None = None
    corpus_start: int | None = None
    corpus_end: int | None = None
    new_units: int = 0
    runs: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def exec_per_s(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0


# --- one libFuzzer-style log ----------------------------------------------------------------------------------

_STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+(?:cov: (\d+) )?ft: (\d+) corp: (\d+)/")
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)")
_DONE = re.compile(r"^Done (\d+) runs in (\d+) second")


def parse_log(text: str) -> dict:
    """The numbers of one harness process: first (INITED) and last status lines, final stats."""
    parsed: dict = {"inited": None, "last": None, "stats": {}, "done": None}
    for line in text.splitlines():
        match = _STATUS.match(line)
        if match:
            numbers = {
                "execs": int(match.group(1)),
                "cov": int(match.group(3)) if match.group(3) else None,
                "ft": int(match.group(4)),
                "corp": int(match.group(5)),
            }
            if match.group(2) == "INITED":
                parsed["inited"] = numbers
            parsed["last"] = numbers
            continue
        match = _STAT.match(line)
        if match:
            parsed["stats"][match.group(1)] = int(match.group(2))
            continue
        match = _DONE.match(line)
        if match:
            parsed["done"] = int(match.group(1))
    return parsed


# --- one target -------------------------------------------------------------------------------------------------


def run_target(target: str, args: argparse.Namespace, engine: str) -> TargetResult:
    findings_dir = args.out / "findings" / target
    shutil.rmtree(findings_dir, ignore_errors=True)
    findings_dir.mkdir(parents=True)
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    result = TargetResult(target, engine)
    with tempfile.TemporaryDirectory(prefix=f"trustsvc-fuzz-{target}-") as scratch:
        work = Path(scratch)
        seeds = work / "seeds"
        harness.write_seeds(target, seeds)
        corpus = args.out / "corpus" / target if args.keep_corpus else work / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        seen_artifacts: set[str] = set()
        while result.runs <= MAX_RESTARTS:
            remaining = args.seconds - (time.monotonic() - started)
            if remaining < 1 or (result.runs and remaining < 3):
                break
            result.runs += 1
            log_path = logs / f"{target}.{result.runs}.log"
            command = [
                sys.executable, str(HERE / "harness.py"), target,
                "--engine", engine,
                "--seconds", str(max(1, int(remaining))),
                "--timeout", str(args.timeout),
                "--work", str(work),
                "--seeds", str(seeds),
                "--corpus", str(corpus),
                "--findings", str(findings_dir),
                "--seed", str(args.seed + result.runs - 1),
                "--rss-limit-mb", str(args.rss_limit_mb),
            ]  # fmt: skip
            if args.max_len:
                command += ["--max-len", str(args.max_len)]
            with log_path.open("wb") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work)
                try:
                    status = process.wait(timeout=remaining + STARTUP_GRACE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    status = None
            text = log_path.read_text(errors="replace")
            parsed = parse_log(text)
            _accumulate(result, parsed)
            new = _artifacts(findings_dir, seen_artifacts, log_path)
            result.findings += new
            if status is None:
                result.findings.append(
                    Finding(
                        "harness-hang",
                        f"{target}-run{result.runs}",
                        "the harness outlived its budget",
                        None,
                        details=str(log_path),
                    )
                )
            elif status != 0 and not new:
                tail = text.strip().splitlines()[-1:] or ["(no output)"]
                result.findings.append(
                    Finding(
                        "harness-error",
                        f"{target}-run{result.runs}",
                        f"exit status {status}: {tail[0][:200]}",
                        None,
                        details=str(log_path),
                    )
                )
                break  # a harness that cannot start will not start on the next try either
            if status == 0:
                break
        result.seconds = time.monotonic() - started
    result.findings += _exceptions(findings_dir)
    return result


def _accumulate(result: TargetResult, parsed: dict) -> None:
    stats = parsed["stats"]
    last = parsed["last"] or {}
    result.executions += stats.get("number_of_executed_units") or parsed["done"] or last.get("execs", 0)
    result.new_units += stats.get("new_units_added", 0)
    if parsed["inited"] and result.cov_start is None and result.corpus_start is None:
        result.cov_start = parsed["inited"]["cov"]
        result.corpus_start = parsed["inited"]["corp"]
    if last:
        result.cov_end = last["cov"] if last["cov"] is not None else result.cov_end
        result.features_end = last["ft"]
        result.corpus_end = last["corp"]


_ARTIFACT = re.compile(r"^(crash|timeout|oom|leak|slow-unit)-[0-9a-f]+$")


def _artifacts(directory: Path, seen: set[str], log_path: Path) -> list[Finding]:
    """libFuzzer's artifacts (crash-*, timeout-*, oom-*) that this process left, each with its log."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.name in seen or not _ARTIFACT.match(path.name):
            continue
        seen.add(path.name)
        kind = path.name.split("-", 1)[0]
        log_copy = path.with_name(path.name + ".log")
        shutil.copyfile(log_path, log_copy)
        summary = _error_line(log_path.read_text(errors="replace")) or kind
        found.append(Finding(kind, path.name, summary, str(path), path.stat().st_size, str(log_copy)))
    return found


def _error_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(("ALARM:", "Fatal Python error", "Timeout (")) or (
            line.startswith("==") and "ERROR" in line
        ):
            return line.strip()[:200]
    return None


def _exceptions(directory: Path) -> list[Finding]:
    """The harness' records of inputs that raised something other than a TrustSvcError."""
    found = []
    for meta_path in sorted(directory.glob("exception-*.json")):
        meta = json.loads(meta_path.read_text())
        message = " ".join(meta["message"].split())
        summary = f"{meta['signature']}: {message[:160]}"
        found.append(
            Finding(
                "exception",
                meta["id"],
                summary,
                str(meta_path.with_suffix(".bin")),
                meta["size"],
                str(meta_path.with_suffix(".txt")),
            )
        )
    return found


# --- the report -------------------------------------------------------------------------------------------------


def _number(value) -> str:
    return "-" if value is None else str(value)


def print_table(results: list[TargetResult]) -> None:
    header = ("target", "engine", "execs", "execs/s", "cov start→end", "corpus start→end", "runs", "findings")
    rows = [
        (
            r.target,
            r.engine,
            str(r.executions),
            f"{r.exec_per_s:.0f}",
            f"{_number(r.cov_start)}→{_number(r.cov_end)}",
            f"{_number(r.corpus_start)}→{_number(r.corpus_end)}",
            str(r.runs),
            str(len(r.findings)),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    for r in results:
        for f in r.findings:
            where = f" input {f.input} ({f.size} bytes)" if f.input else ""
            print(f"  {r.target}: {f.kind} {f.id}: {f.summary}{where}")


def environment(engine: str) -> dict:
    versions = {}
    for name in ("atheris", "pyhanko", "asn1crypto", "lxml", "schemathesis", "hypothesis"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # not installed
            versions[name] = None
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "engine": engine,
        "versions": versions,
    }


# --- --api ------------------------------------------------------------------------------------------------------


def run_api(args: argparse.Namespace) -> int:
    """Start ``trustsvc serve`` with tests/test_api.py's start_server and fuzz it under each --api-auth."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "fixtures" / "certs")]
    import api_fuzz
    from test_api import start_server, stop_server

    import testpki

    auths = [a for a in args.api_auth.split(",") if a]
    budget = args.seconds if args.seconds_given else 600
    results = []
    with tempfile.TemporaryDirectory(prefix="trustsvc-api-fuzz-") as scratch, testpki.serve_pki(None) as pki:
        tmp = Path(scratch)
        proxy = {"HTTP_PROXY": pki.proxy_url, "http_proxy": pki.proxy_url}
        server = start_server(tmp, f"sqlite:///{tmp / 'service.db'}", proxy)
        try:
            started = time.monotonic()
            for n, auth in enumerate(auths):
                share = (budget - (time.monotonic() - started)) / (len(auths) - n)
                key = None if auth == "none" else server.keys[auth]
                result = api_fuzz.fuzz_api(
                    server.url,
                    auth_key=key,
                    auth_name=auth,
                    max_examples=args.api_examples,
                    coverage_cases=args.api_coverage_cases,
                    seed=args.seed,
                    deadline=time.monotonic() + share,
                )
                results.append(result)
                statuses = dict(sorted(result.statuses().items()))
                print(
                    f"{auth}: {len(result.operations)} operations, {result.requests} requests, "
                    f"{result.server_errors} 5xx, {result.transport_errors} transport errors, "
                    f"{result.seconds:.0f} s, statuses {statuses}",
                    flush=True,
                )
        finally:
            stop_server(server)
            server_log = args.out / "api-server.log"
            server_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.log, server_log)
    bad = sum(r.server_errors + r.transport_errors for r in results)
    header = ("auth", "operations", "requests", "5xx", "transport errors", "seconds")
    rows = [(r.auth, str(len(r.operations)), str(r.requests), str(r.server_errors), str(r.transport_errors),
             f"{r.seconds:.0f}") for r in results]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    for r in results:
        if r.server_errors or r.transport_errors:
            print(f"\n{r.auth}:\n{r.failure_report()}")
    document = {**environment("schemathesis"), "budget_seconds": budget, "max_examples": args.api_examples,
                "seed": args.seed, "results": [r.to_dict() for r in results]}  # fmt: skip
    path = args.json.with_name("fuzz-api.json") if args.json == DEFAULT_JSON else args.json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwritten: {path}; server log: {args.out / 'api-server.log'}")
    return 1 if bad else 0


# --- command line -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, help="budget per target (default 60; with --api: in all, 600)")
    parser.add_argument("--targets", default=",".join(harness.TARGETS), help="comma-separated, of: %(default)s")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="findings, logs (default: %(default)s)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file (default: %(default)s)")
    parser.add_argument("--engine", choices=("auto", "atheris", "python"), default="auto")
    parser.add_argument("--timeout", type=int, default=harness.DEFAULT_TIMEOUT, help="seconds per input (5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--max-len", type=int, default=0, help="largest generated input (default: largest seed)")
    parser.add_argument("--rss-limit-mb", type=int, default=3072)
    parser.add_argument("--keep-corpus", action="store_true", help="keep the grown corpus in OUT/corpus/TARGET")
    parser.add_argument("--api", action="store_true", help="schemathesis against a live trustsvc serve instead")
    parser.add_argument("--api-auth", default="platform,none,curator,admin", help="keys to fuzz with (--api)")
    parser.add_argument("--api-examples", type=int, default=500, help="generated requests per operation and mode")
    parser.add_argument("--api-coverage-cases", type=int, default=200, help="coverage cases per operation")
    args = parser.parse_args(argv)
    args.seconds_given = args.seconds is not None
    args.seconds = args.seconds if args.seconds is not None else 60
    args.out = args.out.resolve()
    if args.api:
        return run_api(args)

    targets = [t for t in args.targets.split(",") if t]
    unknown = sorted(set(targets) - set(harness.TARGETS))
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)} (known: {', '.join(harness.TARGETS)})")
    engine = harness.engine_available() if args.engine == "auto" else args.engine
    if engine == "python":
        print("atheris is not installed for this Python: using the pure-Python mutator (no coverage feedback)")
    results = []
    for target in targets:
        print(f"fuzzing {target} for {args.seconds} s ({engine})...", flush=True)
        results.append(run_target(target, args, engine))
    print_table(results)
    total = sum(len(r.findings) for r in results)
    document = {
        **environment(engine),
        "seconds_per_target": args.seconds,
        "timeout_per_input": args.timeout,
        "seed": args.seed,
        "out": str(args.out),
        "findings": total,
        "targets": [{**asdict(r), "exec_per_s": round(r.exec_per_s, 1)} for r in results],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n{total} finding(s); written: {args.json}; inputs and tracebacks under {args.out / 'findings'}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
