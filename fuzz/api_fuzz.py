"""Schemathesis against a running ``trustsvc serve``: every operation of its OpenAPI, bounded, counting 5xx.

Used by ``tests/test_api_fuzz.py`` (small, derandomized budget) and ``fuzz/run.py --api`` (longer, seeded).

For each operation of ``/openapi.json``, three kinds of requests, each checked with schemathesis'
``not_a_server_error`` (any 5xx is a failure):

* ``coverage``: schemathesis' deterministic edge cases (missing required parts, boundary values, wrong types,
  unexpected methods), positive and negative, at most ``coverage_cases`` per operation;
* ``positive`` and ``negative``: Hypothesis-generated requests, ``max_examples`` each; for the routes that take
  a document (``/v1/validations``, ``/v1/bids``, ``/v1/certificates/check``) one request in two carries a real
  file from ``fixtures/samples`` or a certificate of the test PKI instead of random bytes, so that the validator,
  the policies and the evidence store are exercised behind the request parsing.

Every request carries its own ``X-Forwarded-For`` address: ``trustsvc serve`` (uvicorn) trusts that header from
127.0.0.1 as it would from a reverse proxy there, so the per-address rate limit of the public routes (429) does
not turn the run into a rate-limit test. Failures are not shrunk: each 5xx is recorded with its curl command and
the run goes on, so the counts cover the whole budget.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "fixtures" / "samples"
PEM = ROOT / "fixtures" / "certs" / "pem"
#: Operations whose multipart field takes a signed document: (field name, whether it is a list, has `policy`).
DOCUMENT_FIELDS = {
    "POST /v1/validations": ("file", False, True),
    "POST /v1/bids": ("files", True, True),
    "POST /v1/certificates/check": ("file", False, False),
}
MAX_RECORDED = 5  # failing requests kept per operation


@dataclass
class OperationStats:
    label: str
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    transport_errors: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    generation_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.label,
            "requests": self.requests,
            "server_errors": self.server_errors,
            "transport_errors": self.transport_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures,
            "generation_errors": self.generation_errors,
            "notes": self.notes,
        }


@dataclass
class ApiFuzzResult:
    auth: str
    operations: dict[str, OperationStats]
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.operations.values())

    @property
    def server_errors(self) -> int:
        return sum(s.server_errors for s in self.operations.values())

    @property
    def transport_errors(self) -> int:
        return sum(s.transport_errors for s in self.operations.values())

    def statuses(self) -> Counter:
        total: Counter = Counter()
        for stats in self.operations.values():
            total.update(stats.statuses)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "auth": self.auth,
            "operations": len(self.operations),
            "requests": self.requests,
            "server_errors": self.server_errors,
            "transport_errors": self.transport_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses().items())},
            "seconds": round(self.seconds, 1),
            "per_operation": [s.to_dict() for s in self.operations.values()],
        }

    def failure_report(self) -> str:
        lines = []
        for stats in self.operations.values():
            if stats.server_errors or stats.transport_errors:
                lines.append(
                    f"{stats.label}: {stats.server_errors} 5xx, {stats.transport_errors} transport errors "
                    f"in {stats.requests} requests"
                )
                for failure in stats.failures:
                    lines.append(f"    {failure['status']} {failure['phase']}: {failure['curl']}")
                    lines.append(f"        -> {failure['body']}")
        return "\n".join(lines)


def sample_documents() -> list[bytes]:
    """Real signed documents (every sample) and certificates of the test PKI, to send where a document goes."""
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file())
    files += sorted(PEM.glob("ms-fr/*.pem"))
    return [p.read_bytes() for p in files]


def _fuzz_api(
    base_url: str,
    *,
    auth_key: str | None,
    auth_name: str,
    max_examples: int = 10,
    coverage_cases: int = 40,
    seed: int | None = None,
    deadline: float | None = None,
    request_timeout: float = 60.0,
    operations: Iterable[str] | None = None,
) -> ApiFuzzResult:
    """Fuzz every operation of the service at `base_url`; derandomized when `seed` is None, else seeded.

    :param auth_key: sent as ``Authorization: Bearer KEY`` on every request (None: no credentials at all).
    :param deadline: a ``time.monotonic()`` by which the run ends; the time left is shared evenly by the operations
        still to do, and an operation that used its share stops generating requests (``OperationStats.notes``).
    """
    import hypothesis
    import hypothesis.errors
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.transport.serialization import Binary

    started = time.monotonic()
    schema = schemathesis.openapi.from_url(base_url.rstrip("/") + "/openapi.json")
    documents = sample_documents()
    addresses = (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" for n in itertools.count(1))
    wanted = set(operations) if operations is not None else None
    result = ApiFuzzResult(auth=auth_name, operations={})
    operation_deadline: float | None = None

    def out_of_time() -> bool:
        return operation_deadline is not None and time.monotonic() > operation_deadline

    def send(case, stats: OperationStats, phase: str) -> None:
        if out_of_time():
            raise _OutOfTime
        headers = {"X-Forwarded-For": next(addresses)}
        if auth_key is not None:
            headers["Authorization"] = f"Bearer {auth_key}"
        stats.requests += 1
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=request_timeout)
        except Exception as e:  # the server hung up or did not answer in time: as bad as a 5xx
            stats.transport_errors += 1
            _keep(stats, {"status": type(e).__name__, "phase": phase, "curl": _curl(case, headers), "body": str(e)})
            return
        stats.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except (Failure, FailureGroup):
            stats.server_errors += 1
            body = response.text[:300].replace("\n", " ")
            _keep(stats, {"status": response.status_code, "phase": phase, "curl": _curl(case, headers), "body": body})

    def make_test(operation, mode, stats: OperationStats, document_field: tuple[str, bool, bool] | None):
        @settings(
            max_examples=max_examples,
            derandomize=seed is None,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
        )
        @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(-len(documents), len(documents) - 1))
        def generated(case, pick: int) -> None:
            if document_field and pick >= 0 and isinstance(case.body, dict):
                name, many, has_policy = document_field
                data = Binary(documents[pick])
                case.body[name] = [data] if many else data
                if has_policy and pick % 2 == 0:  # half of them decided under every pilot's policy
                    case.body["policy"] = ["all"]
            send(case, stats, mode.value)

        return generated

    selected = [item.ok() for item in schema.get_all_operations()]
    selected = [op for op in selected if wanted is None or op.label in wanted]
    for index, operation in enumerate(selected):
        if deadline is not None:
            operation_deadline = time.monotonic() + max(0.0, deadline - time.monotonic()) / (len(selected) - index)
        stats = result.operations.setdefault(operation.label, OperationStats(operation.label))
        # 1. schemathesis' deterministic coverage cases
        try:
            config = schema.config.generation_for(operation=operation, phase="coverage")
            cases = schema.iter_coverage_cases(
                operation,
                generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                generation_config=config,
            )
            for case in itertools.islice(cases, coverage_cases):
                send(case, stats, "coverage")
        except _OutOfTime:
            stats.notes.append("coverage: stopped at the operation's share of the deadline")
        except Exception as e:  # a generation problem is not a server error; say it and go on
            stats.generation_errors.append(f"coverage: {type(e).__name__}: {e}"[:300])
        # 2. generated requests, positive and negative, with real documents mixed in
        document_field = DOCUMENT_FIELDS.get(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if out_of_time():
                break
            generated = make_test(operation, mode, stats, document_field)
            if seed is not None:
                generated = hypothesis.seed(seed)(generated)
            try:
                generated()
            except _OutOfTime:
                stats.notes.append(f"{mode.value}: stopped at the operation's share of the deadline")
            except hypothesis.errors.Unsatisfiable:
                stats.notes.append(f"{mode.value}: no such request can be generated")  # nothing to negate
            except Exception as e:  # a generation problem is not a server error; say it and go on
                stats.generation_errors.append(f"{mode.value}: {type(e).__name__}: {e}"[:300])
    result.seconds = time.monotonic() - started
    return result


class _OutOfTime(Exception):
    """Raised inside a Hypothesis test to end it when the operation's time is up (generate-only: no shrinking)."""


def _keep(stats: OperationStats, failure: dict[str, Any]) -> None:
    if len(stats.failures) < MAX_RECORDED:
        stats.failures.append(failure)


def _curl(case, headers: dict[str, str]) -> str:
    try:
        command = case.as_curl_command(headers=headers)
    except Exception:  # curl generation can fail on what made the request odd; the label still helps
        return case.operation.label
    return command if len(command) < 2000 else command[:2000] + "... (truncated)"


def fuzz_api(*args, **kwargs):
    """:func:`_fuzz_api` with loopback kept off any HTTP proxy of the environment (the tests route the test PKI's
    host names through one; schemathesis' requests session would send the service's own URL there too)."""
    names = ("NO_PROXY", "no_proxy")
    saved = {name: os.environ.get(name) for name in names}
    loopback = ",".join(filter(None, [saved["NO_PROXY"] or saved["no_proxy"], "127.0.0.1", "localhost"]))
    for name in names:
        os.environ[name] = loopback
    try:
        return _fuzz_api(*args, **kwargs)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
