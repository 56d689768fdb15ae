"""Who may call what: API keys with roles, and a rate limit on the endpoints anyone can reach.

Keys are looked up in the database and remembered for a short while (a revoked key stops working within
``KEY_CACHE_SECONDS``); the role decides the endpoints. Public endpoints (policies, trusted lists, health) are
limited per client address with a token bucket, in each worker process.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

from fastapi import Request

from ..service.keys import ApiKeys, Client, Role
from .problems import Problem

__all__ = ["KeyCache", "RateLimiter", "require", "public", "KEY_CACHE_SECONDS"]

KEY_CACHE_SECONDS = 30.0
_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="trustsvc"'}


class KeyCache:
    def __init__(self, keys: ApiKeys, ttl: float = KEY_CACHE_SECONDS):
        self.keys = keys
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Client | None]] = {}

    async def authenticate(self, key: str) -> Client | None:
        digest = hashlib.sha256(key.encode()).hexdigest()
        hit = self._cache.get(digest)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        client = await asyncio.to_thread(self.keys.authenticate, key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.ttl, client)
        return client


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client address: `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def check(self, who: str) -> float | None:
        """None if the request may go; else the seconds to wait."""
        now = time.monotonic()
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) > 50_000:
                self._buckets.clear()
            bucket = self._buckets[who] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self.rate


def require(*roles: Role):
    """A dependency admitting only callers whose key has one of `roles`; the client is in ``request.state``."""

    async def dependency(request: Request) -> Client:
        context = request.app.state.context
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "unauthenticated", "Send an API key: Authorization: Bearer KEY.", headers=_AUTHENTICATE)
        client = await context.keys.authenticate(token.strip())
        if client is None:
            raise Problem(401, "unauthenticated", "The API key is unknown or revoked.", headers=_AUTHENTICATE)
        if client.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise Problem(403, "forbidden", f"This needs a {wanted} key; {client.name} is a {client.role.value} key.")
        request.state.client = client
        return client

    return dependency


async def public(request: Request) -> None:
    """Rate-limit an endpoint anyone may call."""
    context = request.app.state.context
    who = request.client.host if request.client else "unknown"
    wait = context.limiter.check(who)
    if wait is not None:
        seconds = max(1, int(wait + 0.999))
        raise Problem(
            429,
            "rate-limited",
            "Too many requests from this address; slow down.",
            headers={"Retry-After": str(seconds)},
        )
