"""Outbound HTTP for revocation data and missing certificates (OCSP, CRL, AIA), with timeouts and limits.

The session honours the standard proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): deployments that reach the
outside through a proxy need nothing else, and the test suite serves its PKI the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import FetchLimits

__all__ = ["revocation_fetcher", "DEFAULT_FETCH_TIMEOUT"]

DEFAULT_FETCH_TIMEOUT = 10.0

#: A real chain needs a handful of requests; a hostile certificate must not make us crawl the web.
FETCH_LIMITS = FetchLimits(max_requests=40, max_cert_requests=10)


@contextlib.asynccontextmanager
async def revocation_fetcher(timeout: float = DEFAULT_FETCH_TIMEOUT) -> AsyncIterator[AIOHttpFetcherBackend]:
    """An aiohttp-backed fetcher for one validation run (or one service lifetime); closed on exit."""
    client_timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
    async with aiohttp.ClientSession(trust_env=True, timeout=client_timeout) as session:
        yield AIOHttpFetcherBackend(session=session, per_request_timeout=timeout, limits=FETCH_LIMITS)
