"""Outbound HTTP for revocation data and missing certificates (OCSP, CRL, AIA), with timeouts and limits.

The session honours the standard proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): deployments that reach the
outside through a proxy need nothing else, and the test suite serves its PKI the same way.

A server that does not answer in time costs one timeout: the fetch fails (the signature is INDETERMINATE, to try
later), and for :data:`TIMEOUT_MEMORY` seconds the same URL fails at once, so that a document with several
signatures and time-stamps, a bid of many documents, or the next requests of the service do not each wait again
for the same silent server.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import FetchLimits

__all__ = ["revocation_fetcher", "DEFAULT_FETCH_TIMEOUT", "TIMEOUT_MEMORY"]

DEFAULT_FETCH_TIMEOUT = 10.0

#: Seconds a URL that timed out fails at once, without being asked again.
TIMEOUT_MEMORY = 30.0

#: A real chain needs a handful of requests; a hostile certificate must not make us crawl the web.
FETCH_LIMITS = FetchLimits(max_requests=40, max_cert_requests=10)


@contextlib.asynccontextmanager
async def revocation_fetcher(timeout: float = DEFAULT_FETCH_TIMEOUT) -> AsyncIterator[AIOHttpFetcherBackend]:
    """An aiohttp-backed fetcher for one validation run (or one service lifetime); closed on exit."""
    client_timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
    async with aiohttp.ClientSession(trust_env=True, timeout=client_timeout) as session:
        yield AIOHttpFetcherBackend(
            session=_TimeoutIsAFetchFailure(session),  # type: ignore[arg-type]
            per_request_timeout=timeout,
            limits=FETCH_LIMITS,
        )


class _TimeoutIsAFetchFailure:
    """The session as pyHanko's fetchers use it (``get``/``post`` as context managers, then ``read()``), where running
    out of time raises :class:`aiohttp.ServerTimeoutError` instead of a bare :class:`asyncio.TimeoutError`, and a
    URL that timed out fails at once for :data:`TIMEOUT_MEMORY` seconds.

    pyhanko-certvalidator 0.33 turns an :class:`aiohttp.ClientError` into "no revocation data from there" (the
    signature is then INDETERMINATE) but lets a timeout through: a CRL or OCSP server slower than the timeout
    aborted the whole validation instead.
    """

    def __init__(self, session: aiohttp.ClientSession):
        self._session = session
        self._silent_until: dict[str, float] = {}

    def get(self, *args, **kwargs):
        return self._request("get", args, kwargs)

    def post(self, *args, **kwargs):
        return self._request("post", args, kwargs)

    def __getattr__(self, name: str):
        return getattr(self._session, name)

    def _request(self, method: str, args, kwargs):
        url = str(kwargs.get("url") or (args[0] if args else "?"))
        until = self._silent_until.get(url)
        if until is not None and time.monotonic() < until:
            return _Refused(url)
        return _Request(getattr(self._session, method)(*args, **kwargs), url, self)

    def timed_out(self, url: str) -> aiohttp.ServerTimeoutError:
        now = time.monotonic()
        if len(self._silent_until) > 1000:  # URLs come from documents: keep the memory bounded
            self._silent_until = {u: t for u, t in self._silent_until.items() if t > now}
        self._silent_until[url] = now + TIMEOUT_MEMORY
        return aiohttp.ServerTimeoutError(f"no complete answer from {url} in time")


class _Request:
    def __init__(self, manager, url: str, session: _TimeoutIsAFetchFailure):
        self._manager = manager
        self._url = url
        self._session = session

    async def __aenter__(self) -> _Response:
        try:
            response = await self._manager.__aenter__()
        except TimeoutError as e:
            raise self._session.timed_out(self._url) from e
        return _Response(response, self)

    async def __aexit__(self, *exc_info):
        return await self._manager.__aexit__(*exc_info)


class _Response:
    def __init__(self, response: aiohttp.ClientResponse, request: _Request):
        self._response = response
        self._request = request

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except TimeoutError as e:
            raise self._request._session.timed_out(self._request._url) from e

    def __getattr__(self, name: str):
        return getattr(self._response, name)


class _Refused:
    """A request to a URL that timed out a moment ago: fails as it would, without the wait."""

    def __init__(self, url: str):
        self._url = url

    async def __aenter__(self):
        raise aiohttp.ServerTimeoutError(f"{self._url} did not answer in time a moment ago; not asked again yet")

    async def __aexit__(self, *exc_info):
        return None
