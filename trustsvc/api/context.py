"""Everything a request handler needs, built once per worker process when the service starts.

Start-up migrates the database, loads the trust snapshot (ingesting the configured source into an empty store:
the demo lists by default), the policies and the report signer, opens the outbound HTTP session for revocation
data, and starts two background tasks: a poller that picks up snapshots other processes stored, and (if
configured) the scheduled refresh of the trusted lists, which never pauses validations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from sqlalchemy import Engine

from ..db import make_engine, migrate
from ..errors import ConfigurationError
from ..fetch import revocation_fetcher
from ..policy.catalogue import PolicySet, default_policies_dir, load_policy_set
from ..reports.signed import ReportSigner
from ..service.evidence import EvidenceStore
from ..service.keys import ApiKeys
from ..service.trust_state import TrustState
from ..settings import Settings
from ..trust.sources import TrustSource, default_trust_lists_dir, load_sources
from ..trust.store import TrustStore
from .observability import Metrics
from .security import KeyCache, RateLimiter

__all__ = ["ServiceContext", "service_context", "get_context"]

logger = logging.getLogger("trustsvc.api")


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    store: TrustStore
    keys: KeyCache
    evidence: EvidenceStore
    trust: TrustState
    source: TrustSource
    policies: PolicySet
    signer: ReportSigner | None
    fetcher: FetcherBackend | None
    limiter: RateLimiter
    metrics: Metrics
    started_at: datetime
    tasks: list[asyncio.Task] = field(default_factory=list)


def get_context(request: Request) -> ServiceContext:
    return request.app.state.context


@contextlib.asynccontextmanager
async def service_context(settings: Settings, metrics: Metrics) -> AsyncIterator[ServiceContext]:
    now = datetime.now(timezone.utc)
    engine = make_engine(settings.database_url, echo=settings.database_echo)
    await asyncio.to_thread(migrate, engine)
    store = TrustStore(engine)
    source = _trust_source(settings)
    trust = TrustState(store, source, holder=f"{socket.gethostname()}:{os.getpid()}")
    await asyncio.to_thread(trust.load, now)
    policies = load_policy_set(settings.policies_dir or default_policies_dir())
    for name, problems in sorted(policies.problems.items()):
        logger.warning("policy %s skipped: %s", name, problems[0])
    async with contextlib.AsyncExitStack() as stack:
        fetcher = None
        offline = settings.offline if settings.offline is not None else source.name == "demo"
        if not offline:
            fetcher = await stack.enter_async_context(revocation_fetcher(settings.fetch_timeout))
        context = ServiceContext(
            settings=settings,
            engine=engine,
            store=store,
            keys=KeyCache(ApiKeys(engine), settings.key_cache_seconds),
            evidence=EvidenceStore(engine),
            trust=trust,
            source=source,
            policies=policies,
            signer=_report_signer(settings, source),
            fetcher=fetcher,
            limiter=RateLimiter(settings.public_rate, settings.public_burst),
            metrics=metrics,
            started_at=now,
        )
        metrics.observe_trust(trust, now)
        context.tasks.append(asyncio.create_task(_poll_snapshots(context), name="trustsvc-snapshot-poll"))
        if settings.refresh_interval > 0:
            context.tasks.append(asyncio.create_task(_refresh_periodically(context), name="trustsvc-refresh"))
        try:
            yield context
        finally:
            for task in context.tasks:
                task.cancel()
            for task in context.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            engine.dispose()


def _trust_source(settings: Settings) -> TrustSource:
    sources, default = load_sources(settings.trust_lists_dir)
    name = settings.trust_source or default
    if name not in sources:
        raise ConfigurationError(f"unknown trust source {name!r} (configured: {', '.join(sorted(sources))})")
    return sources[name]


def _report_signer(settings: Settings, source: TrustSource) -> ReportSigner | None:
    """The operator's key, else (for the demo trust only) the demo operator's published test key."""
    if settings.report_key and settings.report_cert:
        return ReportSigner.from_files(settings.report_key, settings.report_cert, password=settings.report_key_password)
    if settings.report_key or settings.report_cert:
        raise ConfigurationError("set both TRUSTSVC_REPORT_KEY and TRUSTSVC_REPORT_CERT to sign reports")
    demo = Path(settings.trust_lists_dir or default_trust_lists_dir()) / "demo"
    if source.name == "demo" and (demo / "report-signer.key.pem").is_file():
        return ReportSigner.from_files(demo / "report-signer.key.pem", demo / "report-signer.pem", demo=True)
    logger.warning("reports will not be signed: configure TRUSTSVC_REPORT_KEY and TRUSTSVC_REPORT_CERT")
    return None


async def _poll_snapshots(context: ServiceContext) -> None:
    while True:
        await asyncio.sleep(context.settings.snapshot_poll_interval)
        try:
            now = datetime.now(timezone.utc)
            if await asyncio.to_thread(context.trust.reload_if_newer, now):
                logger.info("trust snapshot %s loaded", context.trust.current.summary.snapshot_id)
            context.metrics.observe_trust(context.trust, now)
        except Exception as e:  # noqa: BLE001 - keep serving on the trust in force
            logger.warning("snapshot poll failed: %s", type(e).__name__)


async def _refresh_periodically(context: ServiceContext) -> None:
    while True:
        await asyncio.sleep(context.settings.refresh_interval)
        try:
            now = datetime.now(timezone.utc)
            result = await asyncio.to_thread(context.trust.refresh, now)
            logger.info("trust refresh: %s (snapshot %s)", result.message, result.snapshot_id)
            context.metrics.observe_trust(context.trust, now)
        except Exception as e:  # noqa: BLE001 - a failed refresh leaves the last good snapshot in force
            logger.warning("trust refresh failed: %s", type(e).__name__)
