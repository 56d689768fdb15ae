"""The cross-pilot agreement over HTTP: anyone may read it (bidders want to know which CAs count); curators change
it for their own pilot only (the pilot comes from the curator's key, never from the request)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..errors import ConfigurationError
from ..service.keys import Client, Role
from ..trust.agreement import Agreement, AgreementError, Entry, EntryDraft
from ..trust.agreement_list import export_list, load_signer, operator_signer_files
from .context import ServiceContext, get_context
from .problems import Problem
from .security import public, require
from .uploads import read_form

__all__ = ["router"]

router = APIRouter(tags=["agreement"])
CuratorClient = Annotated[Client, Depends(require(Role.CURATOR))]
AuditReader = Annotated[Client, Depends(require(Role.CURATOR, Role.ADMIN))]

#: How an agreement refusal reads over HTTP: a conflict with the agreement's state, a missing entry, bad input.
_STATUS = {
    "unknown-entry": 404,
    "already-in-agreement": 409,
    "already-approved": 409,
    "nothing-pending": 409,
    "not-in-force": 409,
    "withdrawal-pending": 409,
    "withdrawal-too-soon": 409,
}


def _entry_dict(entry: Entry) -> dict[str, Any]:
    draft = entry.draft
    return {
        "id": entry.id,
        "name": draft.name,
        "country": draft.country,
        "certificate_sha256": entry.certificate_sha256,
        "quality_level": draft.quality_level,
        "justification": draft.justification,
        "valid_from": _stamp(draft.valid_from),
        "valid_to": _stamp(draft.valid_to),
        "source_document": draft.source_document,
        "status": entry.status,
        "pending": entry.pending.value if entry.pending else None,
        "approvals": entry.approvals,
        "missing_pilots": list(entry.missing_pilots),
        "effective_from": _stamp(entry.effective_from),
        "effective_to": _stamp(entry.effective_to),
    }


def _stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


async def _change(work) -> JSONResponse:
    try:
        entry = await asyncio.to_thread(work)
    except AgreementError as e:
        raise Problem(_STATUS.get(e.code, 422), e.code, e.message) from None
    return JSONResponse(_entry_dict(entry))


def _curator_pilot(client: Client) -> str:
    if not client.pilot:
        raise Problem(403, "forbidden", "This curator key is bound to no pilot; ask an administrator for one that is.")
    return client.pilot


@router.get(
    "/v1/agreement", summary="The agreement's entries (as it stands now, or at ?at=)", dependencies=[Depends(public)]
)
async def list_entries(request: Request, at: datetime | None = None) -> JSONResponse:
    agreement = Agreement(get_context(request).engine)
    if at is not None:
        if at.tzinfo is None:
            raise Problem(400, "invalid-time", "Give the time with its zone, e.g. 2026-11-28T12:00:00Z.")
        try:
            at = at.astimezone(timezone.utc)
        except OverflowError:
            raise Problem(400, "invalid-time", "The time is outside the range of dates.") from None
        entries = await asyncio.to_thread(agreement.in_force, at)
    else:
        entries = await asyncio.to_thread(agreement.entries)
    return JSONResponse({"entries": [_entry_dict(e) for e in entries]})


@router.get(
    "/v1/agreement/list.xml",
    summary="The agreement as an ETSI TS 119 612 list signed by the operator (for EU DSS, pyHanko, other trustsvc)",
    dependencies=[Depends(public)],
    responses={200: {"content": {"application/xml": {}}}},
)
async def export(request: Request) -> Response:
    context = get_context(request)
    key_file, cert_file, password = _list_signer(context)
    key, cert_der = await asyncio.to_thread(load_signer, key_file, cert_file, password)
    data = await asyncio.to_thread(export_list, Agreement(context.engine), key, cert_der, at=datetime.now(timezone.utc))
    return Response(data, media_type="application/xml")


def _list_signer(context: ServiceContext) -> tuple[Path, Path, str | None]:
    try:
        return operator_signer_files(context.settings, context.source.name)
    except ConfigurationError:
        raise Problem(503, "list-signing-not-configured", "The operator has not configured a signing key.") from None


@router.post("/v1/agreement/entries", summary="Propose a CA (multipart: certificate file and the assessment)")
async def propose(request: Request, client: CuratorClient) -> JSONResponse:
    pilot = _curator_pilot(client)
    form = await read_form(request, max_bytes=256 * 1024, max_files=1)
    try:
        files = form.files_named("certificate")
        if len(files) != 1:
            raise Problem(400, "missing-file", "Send the CA certificate in the field 'certificate'.")
        certificate = await asyncio.to_thread(files[0].path.read_bytes)
        draft = EntryDraft(
            ca_certificate=certificate,
            name=_field(form, "name"),
            country=_field(form, "country"),
            justification=_field(form, "justification"),
            quality_level=_int(form, "quality_level"),
            valid_from=_time(form, "valid_from") or datetime.now(timezone.utc),
            valid_to=_time(form, "valid_to"),
            source_document=_field(form, "source_document"),
        )
        reason = form.value("reason") or draft.justification
        agreement = Agreement(get_context(request).engine)
        return await _change(lambda: agreement.propose(draft, curator=client.name, pilot=pilot, reason=reason))
    finally:
        form.cleanup()


@router.post("/v1/agreement/entries/{entry_id}/approve", summary="Approve a pending addition for your pilot")
async def approve(request: Request, entry_id: int, client: CuratorClient) -> JSONResponse:
    pilot = _curator_pilot(client)
    reason = await _reason(request)
    agreement = Agreement(get_context(request).engine)
    return await _change(lambda: agreement.approve(entry_id, curator=client.name, pilot=pilot, reason=reason))


@router.post(
    "/v1/agreement/entries/{entry_id}/withdraw", summary="Propose the withdrawal of an entry, or approve one pending"
)
async def withdraw(request: Request, entry_id: int, client: CuratorClient) -> JSONResponse:
    pilot = _curator_pilot(client)
    reason = await _reason(request)
    agreement = Agreement(get_context(request).engine)
    return await _change(lambda: agreement.withdraw(entry_id, curator=client.name, pilot=pilot, reason=reason))


@router.get("/v1/agreement/audit", summary="The audit trail and whether its hash chain is intact")
async def audit(request: Request, client: AuditReader) -> JSONResponse:
    agreement = Agreement(get_context(request).engine)
    records, check = await asyncio.gather(
        asyncio.to_thread(agreement.audit_trail), asyncio.to_thread(agreement.verify_audit)
    )
    return JSONResponse(
        {
            "intact": check.ok,
            "rows": check.rows,
            "message": check.message,
            "records": [
                {
                    "id": r.id,
                    "at": _stamp(r.at),
                    "curator": r.curator,
                    "pilot": r.pilot,
                    "action": r.action,
                    "entry_id": r.entry_id,
                    "reason": r.reason,
                    "hash": r.hash,
                }
                for r in records
            ],
        }
    )


async def _reason(request: Request) -> str:
    """The curator's note, from a JSON body {"reason": ...} or none."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise Problem(400, "malformed-body", "The body is not JSON.") from None
        if isinstance(body, dict) and isinstance(body.get("reason"), str):
            return body["reason"]
    return ""


def _field(form, name: str) -> str:
    value = form.value(name)
    if value is None:
        raise Problem(400, "missing-field", f"The field {name!r} is required.")
    return value


def _int(form, name: str) -> int:
    try:
        return int(_field(form, name))
    except ValueError:
        raise Problem(400, "invalid-field", f"The field {name!r} must be a whole number.") from None


def _time(form, name: str) -> datetime | None:
    value = form.value(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "invalid-field", f"{value!r} is not an ISO 8601 date and time.") from None
    if moment.tzinfo is None:
        raise Problem(400, "invalid-field", f"Give {name} with its time zone, e.g. 2026-11-28T12:00:00Z.")
    return moment
