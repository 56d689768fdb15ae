"""The pages' routes (none of them in the OpenAPI document: they are for people, the API is under ``/v1``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from . import account, bidder, curator, reports
from .i18n import load_catalogs

__all__ = ["router"]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    load_catalogs()  # a broken catalog stops the start, not a reader's page later
    yield


router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse, lifespan=_lifespan)

router.add_api_route("/", bidder.landing, methods=["GET"])
router.add_api_route("/precheck", bidder.precheck_result, methods=["POST"])
router.add_api_route("/precheck", bidder.precheck_form, methods=["GET"])

router.add_api_route("/login", account.login_form, methods=["GET"])
router.add_api_route("/login", account.login, methods=["POST"])
router.add_api_route("/logout", account.logout_form, methods=["GET"])
router.add_api_route("/logout", account.logout, methods=["POST"])

router.add_api_route("/reports", reports.reports_home, methods=["GET"])
router.add_api_route("/reports/{evidence_id}", reports.report_page, methods=["GET"])

router.add_api_route("/curator/", curator.agreement_page, methods=["GET"])
router.add_api_route("/curator/propose", curator.propose, methods=["POST"])
router.add_api_route("/curator/entries/{entry_id}/approve", curator.approve, methods=["POST"])
router.add_api_route("/curator/entries/{entry_id}/withdraw", curator.withdraw, methods=["POST"])
router.add_api_route("/curator/audit", curator.audit_page, methods=["GET"])
router.add_api_route("/curator/trust", curator.trust_page, methods=["GET"])
router.add_api_route("/curator/trust/diff", curator.diff_page, methods=["GET"])
router.add_api_route("/curator/trust/lists/{territory}", curator.list_history_page, methods=["GET"])
