"""Signing in to the pages with an API key, and the CSRF tokens of their forms.

The session cookie holds the API key itself (HttpOnly, SameSite=Strict, Secure over HTTPS) and is authenticated
on every request through the service's key cache, exactly as an ``Authorization`` header is: a revoked key signs
its holder out within ``TRUSTSVC_KEY_CACHE_SECONDS``, and no server-side session has to be kept or shared between
workers. A form that changes something carries a token, HMAC-SHA256 of the form's name under the session key, so
another site cannot make a signed-in browser post it (and every worker can check it without shared state).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from ..service.keys import Client

__all__ = [
    "SESSION_COOKIE",
    "CSRF_FIELD",
    "signed_in",
    "session_key",
    "csrf_token",
    "csrf_valid",
    "start_session",
    "end_session",
]

SESSION_COOKIE = "trustsvc_session"
CSRF_FIELD = "csrf_token"
_MAX_KEY = 200
_UNSET = object()


def session_key(request: Request) -> str | None:
    key = request.cookies.get(SESSION_COOKIE, "").strip()
    return key if key and len(key) <= _MAX_KEY else None


async def signed_in(request: Request) -> Client | None:
    """Who the session cookie's key belongs to (None: no cookie, or an unknown or revoked key); once a request."""
    cached = getattr(request.state, "web_client", _UNSET)
    if cached is not _UNSET:
        return cached
    key = session_key(request)
    client = await request.app.state.context.keys.authenticate(key) if key else None
    request.state.web_client = client
    return client


def csrf_token(key: str, form: str) -> str:
    return hmac.new(key.encode(), f"trustsvc-form:{form}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, form: str, submitted: str | None) -> bool:
    key = session_key(request)
    if not key or not submitted:
        return False
    return hmac.compare_digest(csrf_token(key, form), submitted.strip())


def start_session(response: Response, request: Request, key: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )
