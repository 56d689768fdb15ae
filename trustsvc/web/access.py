"""Who may see a page: the public rate limit for bidders, the signed-in roles for platforms and curators.

Each guard returns either the client (or None for a public page) or the page to answer instead: a redirect to the
sign-in page, 403, 429. Pages answer with HTML, never with the API's problem+json.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..api.problems import Problem
from ..api.security import public
from ..service.keys import Client, Role
from .i18n import N_
from .render import error_page
from .session import csrf_valid, signed_in

__all__ = ["rate_limited", "require_role", "csrf_refused", "see_other"]


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


async def rate_limited(request: Request) -> Response | None:
    """The 429 page when this address made too many requests to the public pages, else None."""
    try:
        await public(request)
    except Problem as problem:
        return await error_page(
            request,
            429,
            N_("Too many requests"),
            N_("Too many requests came from your address. Wait a moment and try again."),
            headers=problem.headers,
        )
    return None


async def require_role(request: Request, *roles: Role) -> Client | Response:
    """The signed-in client if it has one of `roles`; else the sign-in page (not signed in) or a 403 page."""
    client = await signed_in(request)
    if client is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return see_other(f"/login?next={quote(target, safe='')}")
    if client.role not in roles:
        message = (
            N_("This page is for the legal teams' curators. Sign in with a curator key.")
            if Role.CURATOR in roles
            else N_("This page is for tendering platforms. Sign in with a platform key.")
        )
        return await error_page(request, 403, N_("Not allowed"), message)
    return client


async def csrf_refused(request: Request, form_name: str, submitted: str | None) -> Response | None:
    """The 403 page when the form's token is missing or wrong (a form from another site, or an old one)."""
    if csrf_valid(request, form_name, submitted):
        return None
    return await error_page(
        request,
        403,
        N_("Form refused"),
        N_("This form was not sent from this site's current page. Reload the page and try again."),
    )
