"""Rendering a page: the Jinja2 environment (autoescaped), the reader's language and the headers every page sends.

Templates translate with ``_("...")`` (newstyle gettext: ``_("%(n)s lists", n=3)`` escapes what it substitutes)
and the macros of ``_macros.html``. Pages are never cached by the browser or a proxy (they show reports and the
signed-in curator's state), never framed, and load nothing but the service's own stylesheet.
"""

from __future__ import annotations

import gettext as _gettext
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from . import vocabulary
from .i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    choose_language,
    format_day,
    format_moment,
    requested_language,
    translations,
)
from .session import csrf_token, session_key, signed_in

__all__ = ["TEMPLATES_DIR", "STATIC_DIR", "environment", "render_page", "error_page", "PAGE_HEADERS"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
_COMMON_NAME = re.compile(r"(?:^|,)\s*CN=((?:\\,|[^,])+)")


def common_name(subject: str | None) -> str | None:
    """The CN of a subject as the reports write it (``GN=...,CN=Camille Dupont,O=...``), if it has one."""
    found = _COMMON_NAME.search(subject or "")
    return found.group(1).replace("\\,", ",").strip() if found else None


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # the real ones come with each page's context
    env.globals.update(
        DECISIONS=vocabulary.DECISIONS,
        DECISION_MARKS=vocabulary.DECISION_MARKS,
        INDICATIONS=vocabulary.INDICATIONS,
        INDICATION_MARKS=vocabulary.INDICATION_MARKS,
        SUBINDICATIONS=vocabulary.SUBINDICATIONS,
        SIGNATURE_QUALIFICATIONS=vocabulary.SIGNATURE_QUALIFICATIONS,
        CERTIFICATE_QUALIFICATIONS=vocabulary.CERTIFICATE_QUALIFICATIONS,
        PILOTS=vocabulary.PILOTS,
        PILOT_LANGUAGES=vocabulary.PILOT_LANGUAGES,
        RULES=vocabulary.RULES,
        RULE_RESULTS=vocabulary.RULE_RESULTS,
        RULE_RESULT_MARKS=vocabulary.RULE_RESULT_MARKS,
        ENTRY_STATUSES=vocabulary.ENTRY_STATUSES,
        AUDIT_ACTIONS=vocabulary.AUDIT_ACTIONS,
        SERVICE_STATUSES=vocabulary.SERVICE_STATUSES,
        SERVICE_TYPES=vocabulary.SERVICE_TYPES,
        TIMESTAMP_TYPES=vocabulary.TIMESTAMP_TYPES,
        common_name=common_name,
    )
    return env


def _newstyle(translation: _gettext.NullTranslations) -> dict[str, Any]:
    """gettext functions that escape the values they substitute (as Jinja's newstyle gettext does)."""

    @pass_context
    def gettext(context, message: str, **variables: Any) -> str:
        text = translation.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    @pass_context
    def ngettext(context, singular: str, plural: str, count: int, **variables: Any) -> str:
        variables.setdefault("num", count)
        text = translation.ngettext(singular, plural, count)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def pgettext(context, message_context: str, message: str, **variables: Any) -> str:
        text = translation.pgettext(message_context, message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


def _language_url(request: Request, language: str, switch_path: str | None) -> str:
    path = switch_path or request.url.path
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] if switch_path is None else []
    query.append(("lang", language))
    return f"{path}?{urlencode(query)}"


async def render_page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    language: str | None = None,
    switch_path: str | None = None,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render `template` in the reader's language (or `language`, a form's explicit choice) with `values`.

    :param switch_path: where the language switcher leads (a page answering a POST cannot be fetched again).
    """
    lang = choose_language(request, language)
    translation = translations(lang)
    client = await signed_in(request)
    key = session_key(request) if client is not None else None

    def csrf(form: str) -> str:
        return csrf_token(key, form) if key else ""

    context = {
        "lang": lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "language_url": lambda code: _language_url(request, code, switch_path),
        "path": request.url.path,
        "client": client,
        "csrf": csrf,
        "when": lambda moment: format_moment(moment, lang),
        "day": lambda moment: format_day(moment, lang),
        "print_view": request.query_params.get("print") == "1",
        **_newstyle(translation),
        **values,
    }
    body = environment().get_template(template).render(context)
    response = HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
    response.headers["Content-Language"] = lang
    chosen = language if language in LANGUAGES else requested_language(request)
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=_LANGUAGE_COOKIE_SECONDS, samesite="lax", httponly=True, path="/"
        )
    return response


async def error_page(
    request: Request,
    status: int,
    heading: str,
    message: str,
    *,
    detail: str | None = None,
    language: str | None = None,
    headers: dict[str, str] | None = None,
    back: str | None = "/",
    **arguments: Any,
) -> HTMLResponse:
    """A page saying what went wrong: `heading` and `message` are msgids (`arguments` fill their placeholders);
    `detail` is the service's own English sentence, shown as such."""
    return await render_page(
        request,
        "error.html",
        status=status,
        language=language,
        headers=headers,
        heading=heading,
        message=message,
        arguments=arguments,
        detail=detail,
        back=back,
        switch_path="/" if request.method != "GET" else None,
    )
