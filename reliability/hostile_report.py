"""Run the hostile-input suite (tests/hostile.py) outside pytest and report what trustsvc did with each family.

    .venv/bin/python reliability/hostile_report.py [--family NAME]... [--no-trace] [--allow-known]
                                                   [--output bench/results/hostile.json]

Every case is validated offline as of T_VAL with the test roots as anchors, in a thread of its own (a forked
process for those known to run long), with the limits of tests/test_hostile.py. For each family a table row gives
the inputs tried, the outcomes (TOTAL_FAILED, INDETERMINATE, no signature, clean refusals by code, TOTAL_PASSED
where the case allows it), the forbidden outcomes (a TOTAL_PASSED the case forbids, a traceback, a hang, a time or
memory limit exceeded, a refusal with the wrong code), and the maximum and median seconds and the largest Python
heap peak (tracemalloc; timings are taken under it, which slows validation several times over). Then every
forbidden outcome is listed, with the bug it is known as, if any (tests/test_hostile.py KNOWN_BUGS).

Writes the results as JSON (default bench/results/hostile.json). Exit status 1 if any outcome is forbidden (with
--allow-known: only if one is not a known bug), else 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import hostile  # noqa: E402
from test_hostile import MEMORY_LIMIT, TIME_LIMIT, _known_bug  # noqa: E402

COLUMNS = ("tried", "TOTAL_FAILED", "INDETERMINATE", "no-sig", "refused", "PASSED ok", "FORBIDDEN", "known")


def run(families: list[str], *, trace: bool) -> dict:
    results: dict = {"families": {}, "forbidden": [], "cases": []}
    anchors = hostile.test_anchors()
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        for family in families:
            started = time.monotonic()
            cases = hostile.cases_of(family)
            generated = time.monotonic() - started
            outcomes: collections.Counter[str] = collections.Counter()
            refusals: collections.Counter[str] = collections.Counter()
            seconds: list[float] = []
            peaks: list[int] = []
            forbidden = known = allowed = 0
            for number, case in enumerate(cases):
                outcome = hostile.run_case(
                    case, Path(scratch) / family / str(number), time_limit=TIME_LIMIT, anchors=anchors, trace=trace
                )
                judgement = hostile.judge(case, outcome, time_limit=TIME_LIMIT, memory_limit=MEMORY_LIMIT)
                seconds.append(outcome.seconds)
                peaks.append(outcome.peak)
                # one column per case: forbidden first, then a clean refusal, an allowed pass, the worst verdict
                label = judgement.outcome
                if label.startswith("refused:"):
                    refusals[label.removeprefix("refused:")] += 1
                if not judgement.ok:
                    label = "FORBIDDEN"
                elif label.startswith("refused:"):
                    label = "refused"
                elif judgement.allowed_pass:
                    label = "PASSED ok"
                outcomes[label] += 1
                bug = _known_bug(case.name)
                if not judgement.ok:
                    forbidden += 1
                    known += bug is not None
                    results["forbidden"].append(
                        {
                            "name": case.name,
                            "outcome": judgement.outcome,
                            "problems": judgement.problems,
                            "known_bug": bug,
                            "summary": hostile.summary(outcome)[:300],
                        }
                    )
                elif judgement.allowed_pass:
                    allowed += 1
                results["cases"].append(
                    {
                        "name": case.name,
                        "outcome": judgement.outcome,
                        "ok": judgement.ok,
                        "seconds": round(outcome.seconds, 4),
                        "heap_mib": round(outcome.peak / 2**20, 2),
                    }
                )
            results["families"][family] = {
                "tried": len(cases),
                "outcomes": dict(outcomes),
                "refusals": dict(refusals.most_common()),
                "allowed_pass": allowed,
                "forbidden": forbidden,
                "known_bugs": known,
                "max_seconds": round(max(seconds, default=0.0), 3),
                "median_seconds": round(statistics.median(seconds) if seconds else 0.0, 4),
                "max_heap_mib": round(max(peaks, default=0) / 2**20, 1),
                "generation_seconds": round(generated, 2),
                "run_seconds": round(time.monotonic() - started - generated, 2),
            }
            print(f"  {family}: {len(cases)} cases in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return results


def table(results: dict) -> str:
    header = (
        f"{'family':<13} {'tried':>5} {'FAILED':>6} {'INDET':>5} {'no-sig':>6} {'refused':>7} {'PASS ok':>7} "
        f"{'FORBID':>6} {'known':>5} {'max s':>6} {'med s':>6} {'max MiB':>7}"
    )
    lines = [header, "-" * len(header)]
    totals: collections.Counter[str] = collections.Counter()
    for family, row in results["families"].items():
        o = row["outcomes"]
        values = {
            "tried": row["tried"],
            "TOTAL_FAILED": o.get("TOTAL_FAILED", 0),
            "INDETERMINATE": o.get("INDETERMINATE", 0),
            "no-sig": o.get("no-signature", 0),
            "refused": o.get("refused", 0),
            "PASSED ok": o.get("PASSED ok", 0),
            "FORBIDDEN": row["forbidden"],
            "known": row["known_bugs"],
        }
        totals.update(values)
        lines.append(
            f"{family:<13} {values['tried']:>5} {values['TOTAL_FAILED']:>6} {values['INDETERMINATE']:>5} "
            f"{values['no-sig']:>6} {values['refused']:>7} {values['PASSED ok']:>7} {values['FORBIDDEN']:>6} "
            f"{values['known']:>5} {row['max_seconds']:>6.2f} {row['median_seconds']:>6.3f} {row['max_heap_mib']:>7.1f}"
        )
    lines.append("-" * len(header))
    lines.append(
        f"{'all':<13} {totals['tried']:>5} {totals['TOTAL_FAILED']:>6} {totals['INDETERMINATE']:>5} "
        f"{totals['no-sig']:>6} {totals['refused']:>7} {totals['PASSED ok']:>7} {totals['FORBIDDEN']:>6} "
        f"{totals['known']:>5}"
    )
    lines.append("")
    lines.append("Refusals by code:")
    for family, row in results["families"].items():
        if row["refusals"]:
            codes = ", ".join(f"{code} {n}" for code, n in row["refusals"].items())
            lines.append(f"  {family:<13} {codes}")
    if results["forbidden"]:
        lines.append("")
        lines.append("Forbidden outcomes:")
        for item in results["forbidden"]:
            tag = "known bug" if item["known_bug"] else "NEW"
            lines.append(f"  [{tag}] {item['name']}: {item['outcome']} - {item['problems'][0][:160]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", choices=sorted(hostile.FAMILIES), help="only these families")
    parser.add_argument("--no-trace", action="store_true", help="no tracemalloc: faster, no heap figures")
    parser.add_argument("--allow-known", action="store_true", help="exit 0 when every forbidden outcome is a known bug")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "hostile.json")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # pyHanko logs every suspicious revision it sees, with its traceback
    families = args.family or list(hostile.FAMILIES)
    started = time.monotonic()
    results = run(families, trace=not args.no_trace)
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    results["meta"] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "validation_time": hostile.T_VAL.isoformat(),
        "seconds": round(time.monotonic() - started, 1),
        "time_limit": TIME_LIMIT,
        "memory_limit_mib": MEMORY_LIMIT >> 20,
        "heap_traced": not args.no_trace,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    print(table(results))
    print(f"\n{sum(r['tried'] for r in results['families'].values())} inputs in {results['meta']['seconds']} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.output}")
    unknown = [f for f in results["forbidden"] if not f["known_bug"]]
    if unknown or (results["forbidden"] and not args.allow_known):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
