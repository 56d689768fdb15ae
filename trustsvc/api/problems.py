"""RFC 9457 problem details: every error the API returns, with a stable ``type`` a client can switch on.

Nothing else ever reaches a client as an error: unexpected exceptions become a 500 problem that says only that
(the details go to the log, without user data), validation outcomes are never errors, and input problems are
4xx with one sentence saying what is wrong.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConfigurationError, InputError, TrustSvcError, UnsupportedFormatError

__all__ = ["Problem", "problem_response", "install_problem_handlers", "PROBLEM_TYPE_PREFIX", "PROBLEM_JSON"]

logger = logging.getLogger("trustsvc.api")

PROBLEM_TYPE_PREFIX = "urn:trustsvc:problem:"
PROBLEM_JSON = "application/problem+json"

#: Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER = 5


class Problem(Exception):
    """An error to return as problem+json: status, a stable slug (``type`` is the URN of it), one sentence."""

    def __init__(self, status: int, slug: str, detail: str, *, headers: dict[str, str] | None = None, **extra):
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int, slug: str, detail: str, *, instance: str | None = None, headers=None, **extra
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _instance(request: Request) -> str:
    return request.url.path


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(
            exc.status, exc.slug, exc.detail, instance=_instance(request), headers=exc.headers, **exc.extra
        )

    @app.exception_handler(UnsupportedFormatError)
    async def _unsupported(request: Request, exc: UnsupportedFormatError):
        return problem_response(422, "unsupported-format", exc.message, instance=_instance(request), code=exc.code)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return problem_response(422, "invalid-input", exc.message, instance=_instance(request), code=exc.code)

    @app.exception_handler(ConfigurationError)
    async def _configuration(request: Request, exc: ConfigurationError):
        return problem_response(503, "not-configured", exc.message, instance=_instance(request), code=exc.code)

    @app.exception_handler(TrustSvcError)
    async def _other(request: Request, exc: TrustSvcError):
        return problem_response(422, "invalid-input", exc.message, instance=_instance(request), code=exc.code)

    async def _database(request: Request, exc: Exception):
        # The database cannot be reached (refused, restarted, connection terminated, read-only, locked): each write
        # is one transaction, so what the request was storing is not half there; asking again later will do.
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(
            503,
            "database-unavailable",
            "The database is unavailable; try again shortly.",
            instance=_instance(request),
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )

    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(unavailable, _database)

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        detail = f"{where}: {first.get('msg', 'invalid request')}" if where else str(first.get("msg", "invalid"))
        return problem_response(400, "invalid-request", detail, instance=_instance(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(exc.status_code, slug, detail, instance=_instance(request), headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        logger.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        logger.debug("internal error", exc_info=exc)
        return problem_response(
            500, "internal-error", "The service failed on this request.", instance=_instance(request)
        )
