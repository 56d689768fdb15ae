"""The validation report a buyer prints for the tender file: per signature and per pilot, from the evidence.

Only the platform that asked for the validation (or an administrator) sees it; to anyone else a report that
exists and one that does not look the same (404), as in the API. ``?print=1`` shows the print layout on screen;
printing any report page uses it anyway (the print stylesheet).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from ..reports.parse import report_from_dict
from ..service.keys import Client, Role
from ..verdict import Report
from .access import require_role, see_other
from .i18n import N_
from .render import error_page, render_page

__all__ = ["reports_home", "report_page", "ReportedDocument"]


@dataclass(frozen=True)
class ReportedDocument:
    file: str
    report: Report
    content: tuple[str, ...] = ()


@dataclass(frozen=True)
class BidSummary:
    decisions: tuple[dict[str, Any], ...]
    unsigned: tuple[dict[str, Any], ...] = ()
    files: tuple[dict[str, Any], ...] = field(default=())


async def reports_home(request: Request) -> Response:
    client = await require_role(request, Role.PLATFORM, Role.ADMIN)
    if not isinstance(client, Client):
        return client
    wanted = request.query_params.get("id", "").strip()
    if wanted:
        return see_other(f"/reports/{quote(wanted[:64], safe='')}")
    return await render_page(request, "reports.html")


async def report_page(request: Request, evidence_id: str) -> Response:
    client = await require_role(request, Role.PLATFORM, Role.ADMIN)
    if not isinstance(client, Client):
        return client
    context = request.app.state.context
    evidence_id = evidence_id[:64]
    evidence = await asyncio.to_thread(context.evidence.get, evidence_id)
    if evidence is None or (client.role is not Role.ADMIN and evidence.platform != client.name):
        return await error_page(
            request,
            404,
            N_("Report not found"),
            N_("No validation %(id)s of yours is on record."),
            back="/reports",
            id=evidence_id,
        )
    data = json.loads(evidence.report_json)
    bid = None
    if evidence.kind == "bid":
        documents = tuple(
            ReportedDocument(item["file"], report_from_dict(item["report"]), tuple(item.get("content", ())))
            for item in data.get("documents", [])
        )
        bid = BidSummary(
            tuple(data.get("policies", [])),
            tuple(data.get("unsigned", [])),
            tuple(data.get("bid", {}).get("files", [])),
        )
    else:
        data.pop("id", None)
        report = report_from_dict(data)
        documents = (ReportedDocument(report.document.filename, report),)
    return await render_page(
        request,
        "report.html",
        evidence=evidence,
        documents=documents,
        bid=bid,
        trust=data.get("trust"),
        validation_time=documents[0].report.validation_time if documents else evidence.created_at,
    )
