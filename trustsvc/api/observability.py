"""Logs and metrics: one JSON line per event with the request id, and Prometheus counters and histograms.

Logs never carry a bid's content or its file names: a request is logged by method, route, status, duration and
client name; a validation by its evidence id, format and indications.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "RequestContextMiddleware", "configure_logging", "request_id"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trustsvc_request_id", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("trustsvc.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pyhanko", "pyhanko_certvalidator", "uvicorn.access", "aiohttp", "python_multipart"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL if noisy != "uvicorn.access" else logging.WARNING)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trustsvc_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "trustsvc_http_request_duration_seconds",
            "HTTP request duration",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.signatures = Counter(
            "trustsvc_signatures_total", "Signatures validated", ["format", "indication"], registry=self.registry
        )
        self.decisions = Counter(
            "trustsvc_policy_decisions_total", "Policy decisions", ["pilot", "decision"], registry=self.registry
        )
        self.anchors = Gauge("trustsvc_trust_anchors", "Trust anchors in force", registry=self.registry)
        self.snapshot = Gauge("trustsvc_trust_snapshot_id", "Trust snapshot in force", registry=self.registry)
        self.stale = Gauge("trustsvc_trust_stale_lists", "Stale trusted lists in force", registry=self.registry)

    def observe_trust(self, trust, now: datetime) -> None:
        if not trust.loaded:
            return
        summary = trust.current.summary
        registry = getattr(trust.current.resolved.provider, "registry", None)
        self.anchors.set(registry.anchor_count(now) if registry is not None else summary.anchors)
        self.snapshot.set(summary.snapshot_id or 0)
        self.stale.set(len(summary.stale))

    def observe_report(self, report) -> None:
        for signature in report.signatures:
            self.signatures.labels(signature.format, signature.indication.value).inc()
        for decision in report.policies:
            self.decisions.labels(decision.pilot or decision.id, decision.decision.value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestContextMiddleware:
    """Gives every request an id (the client's X-Request-ID if sane), echoes it, times and logs the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(template).observe(elapsed)
            state = scope.get("state") or {}
            client = getattr(state.get("client"), "name", None) if isinstance(state, dict) else None
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                        **({"client": client} if client else {}),
                    }
                },
            )
            request_id.reset(token)
