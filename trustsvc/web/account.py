"""Signing in with an API key (platforms and curators) and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..service.keys import Role
from .access import csrf_refused, see_other
from .forms import BadForm, FormTooLarge, read_page_form
from .i18n import N_
from .render import error_page, render_page
from .session import CSRF_FIELD, end_session, signed_in, start_session

__all__ = ["login_form", "login", "logout_form", "logout", "safe_next"]

_HOME = {Role.CURATOR: "/curator/", Role.PLATFORM: "/reports", Role.ADMIN: "/curator/"}
_LOGIN_FORM_LIMIT = 16 * 1024


def safe_next(target: str | None) -> str | None:
    """A place on this site to go back to after signing in (never another site: no ``//host`` nor a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 for c in target) or len(target) > 512:
        return None
    return target


async def login_form(request: Request) -> Response:
    return await render_page(request, "login.html", next=safe_next(request.query_params.get("next")) or "", error=None)


async def login(request: Request) -> Response:
    try:
        form = await read_page_form(request, max_bytes=_LOGIN_FORM_LIMIT)
    except (BadForm, FormTooLarge):
        return await error_page(request, 400, N_("Form not understood"), N_("Send the form from the page."))
    key = form.value("key").strip()
    target = safe_next(form.value("next"))
    context = request.app.state.context
    client = await context.keys.authenticate(key) if key else None
    if client is None:
        return await render_page(
            request,
            "login.html",
            status=401,
            next=target or "",
            error=N_("This key is unknown or has been revoked."),
        )
    response = see_other(target or _HOME.get(client.role, "/"))
    start_session(response, request, key)
    return response


async def logout_form(request: Request) -> Response:
    if await signed_in(request) is None:
        return see_other("/")
    return await render_page(request, "logout.html")


async def logout(request: Request) -> Response:
    try:
        form = await read_page_form(request, max_bytes=_LOGIN_FORM_LIMIT)
    except (BadForm, FormTooLarge):
        return await error_page(request, 400, N_("Form not understood"), N_("Send the form from the page."))
    refused = await csrf_refused(request, "logout", form.value(CSRF_FIELD))
    if refused is not None:
        return refused
    response = see_other("/")
    end_session(response, request)
    return response
