"""The bidders' pages: the landing page with the pre-check form, and the per-pilot acceptance matrix.

An upload is read into memory (2 MB at most: 413 beyond), checked, and dropped when the answer is rendered; its
name and content are never logged or stored. A private key sent by mistake is refused and said to be so.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InputError
from . import adapters
from .access import rate_limited, see_other
from .forms import PAGE_UPLOAD_LIMIT, BadForm, FormTooLarge, read_page_form
from .i18n import LANGUAGES, N_
from .render import error_page, render_page
from .vocabulary import INPUT_ERRORS

__all__ = ["landing", "precheck_form", "precheck_result", "PILOT_ORDER"]

#: The order of the matrix's rows: the five pilots, then the cross-pilot agreement.
PILOT_ORDER = ("fr", "it", "cz", "se", "es", "procure")
#: Room for the form around the file (boundaries, headers, the language field): a 2 MB file still gets in.
_FORM_OVERHEAD = 16 * 1024


async def landing(request: Request) -> Response:
    limited = await rate_limited(request)
    if limited is not None:
        return limited
    return await render_page(request, "index.html", error=None, error_detail=None)


async def precheck_form(request: Request) -> Response:
    """A result page cannot be fetched again (nothing was kept): back to the form, in the language asked."""
    lang = request.query_params.get("lang")
    return see_other(f"/?lang={lang}" if lang in LANGUAGES else "/")


async def precheck_result(request: Request) -> Response:
    limited = await rate_limited(request)
    if limited is not None:
        return limited
    context = request.app.state.context
    limit = min(PAGE_UPLOAD_LIMIT, context.settings.upload_limit)
    try:
        form = await read_page_form(request, max_bytes=limit + _FORM_OVERHEAD)
    except FormTooLarge:
        return await error_page(
            request,
            413,
            N_("File too large"),
            N_(
                "The file is larger than %(size)s MB, the most the pre-check reads. Upload your certificate, or a "
                "smaller signed test document."
            ),
            size=limit // (1024 * 1024) or 1,
        )
    except BadForm:
        return await error_page(request, 400, N_("Form not understood"), N_("Send the form from the page."))
    language = form.value("lang") or None
    upload = form.file("file")
    if upload is None or not upload.data:
        return await render_page(
            request,
            "index.html",
            status=400,
            language=language,
            switch_path="/",
            error=N_("Choose a certificate or a signed test document to check."),
            error_detail=None,
        )
    try:
        result = await adapters.precheck(upload.data, upload.filename, context)
    except InputError as e:
        if e.code == "private-key":
            return await error_page(
                request,
                422,
                N_("Private key refused"),
                INPUT_ERRORS["private-key"],
                language=language,
            )
        return await render_page(
            request,
            "index.html",
            status=422,
            language=language,
            switch_path="/",
            error=INPUT_ERRORS.get(e.code, N_("The file could not be checked.")),
            error_detail=e.message,
        )
    finally:
        form.forget_files()
        upload = None
    return await render_page(
        request,
        "precheck.html",
        language=language,
        switch_path="/",
        result=result,
        pilots=sorted(result.pilots, key=_pilot_rank),
        advice=adapters.advice_texts(),
    )


def _pilot_rank(advice) -> tuple[int, str]:
    return (PILOT_ORDER.index(advice.pilot) if advice.pilot in PILOT_ORDER else len(PILOT_ORDER), advice.pilot)
