"""The HTTP service: ``create_app()`` is what ``trustsvc serve`` (uvicorn) runs in each worker process."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from .. import __version__
from ..settings import Settings, get_settings
from ..web import router as web_router
from ..web import static_files
from .context import service_context
from .observability import Metrics, RequestContextMiddleware, configure_logging
from .problems import install_problem_handlers
from .routes_agreement import router as agreement_router
from .routes_info import router as info_router
from .routes_precheck import router as precheck_router
from .routes_validation import router as validation_router

__all__ = ["create_app"]

DESCRIPTION = """
Validation of signed bids for cross-border public e-procurement: every signature per ETSI EN 319 102-1, the
certificate's qualification at signing time from the EU trusted lists (ETSI TS 119 615), and each pilot's
decision under its acceptance policy, with reasons citing the rule and its legal basis.

Authenticate with `Authorization: Bearer KEY` (keys are made with `trustsvc keys create`). Errors are RFC 9457
`application/problem+json` documents whose `type` (`urn:trustsvc:problem:...`) is stable.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async with service_context(settings, metrics) as context:
            app.state.context = context
            yield

    app = FastAPI(
        title="trustsvc",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)
    app.include_router(validation_router)
    app.include_router(info_router)
    app.include_router(web_router)
    app.mount("/static", static_files(), name="static")
    app.include_router(precheck_router)
    app.include_router(agreement_router)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
