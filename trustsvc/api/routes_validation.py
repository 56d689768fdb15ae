"""``POST /v1/validations``, ``POST /v1/bids`` and the evidence they leave (``GET /v1/validations/{id}``...).

A platform sends a signed file (or all the files of a bid) with the policies it wants decided; the service
validates with the trust snapshot in force at that moment, applies the policies, records the evidence and answers
with the report of the contract. The files are deleted when the answer is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ..engine import Submission, validate_submission
from ..errors import InputError
from ..formats import ValidationSettings
from ..policy.apply import PolicyRequest, resolve_requests
from ..policy.apply import apply_policies as apply_policy_requests
from ..policy.catalogue import PolicyLookupError
from ..reports.parse import report_from_dict
from ..service.evidence import Evidence, new_evidence_id
from ..service.keys import Client, Role
from ..trust.agreement_trust import with_agreement
from ..verdict import Decision, Report
from .bids import pair_bid_files
from .context import ServiceContext, get_context
from .problems import Problem
from .security import require
from .uploads import UploadedFile, UploadedForm, read_form

__all__ = ["router"]

logger = logging.getLogger("trustsvc.api")
router = APIRouter(prefix="/v1", tags=["validation"])

#: A tendering platform's key (or an administrator's).
PlatformClient = Annotated[Client, Depends(require(Role.PLATFORM, Role.ADMIN))]

JSON = "application/json"
XML = "application/xml"
SIGNED = "application/pkcs7-mime"
_SEVERITY = {Decision.ACCEPT: 0, Decision.MANUAL_REVIEW: 1, Decision.RETRY: 2, Decision.REJECT: 3}

_MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The signed document."},
                        "content": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "The data a detached signature signs (repeatable).",
                        },
                        "policy": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "A pilot (fr), a policy id (fr-2019) or all; repeatable.",
                            "example": ["all"],
                        },
                        "deposit_time": {
                            "type": "string",
                            "format": "date-time",
                            "description": "When the platform received the bid: a proof of existence.",
                            "example": "2026-11-28T09:59:30Z",
                        },
                    },
                }
            }
        }
    }
}


@router.post(
    "/validations",
    summary="Validate one signed file",
    description="Every signature of the file (PAdES, CAdES, RFC 3161) per ETSI EN 319 102-1, its qualification at "
    "signing time, and the requested pilots' decisions. Answers with the JSON report, or the ETSI TS 119 102-2 XML "
    "report with `Accept: application/xml`.",
    openapi_extra=_MULTIPART_DOC,
    responses={200: {"content": {JSON: {}, XML: {}}, "description": "The validation report."}},
)
async def create_validation(request: Request, client: PlatformClient) -> Response:
    context = get_context(request)
    form = await read_form(request, max_bytes=context.settings.upload_limit, max_files=context.settings.bid_max_files)
    try:
        documents = form.files_named("file")
        if len(documents) != 1:
            raise Problem(400, "missing-file", "Send exactly one signed document in the field 'file'.")
        (document,) = documents
        if document.size == 0:
            raise Problem(400, "empty-upload", f"The file {document.filename!r} is empty.")
        requests = _policy_requests(form, context)
        deposit = _deposit_time(form)
        view = context.trust.current
        now = datetime.now(timezone.utc)
        report = await _validate(context, view, document, form.files_named("content"), requests, deposit, now)
        evidence_id = new_evidence_id()
        body = _report_bytes(report, evidence_id)
        xml = _render_etsi_xml(report) if _wants_xml(request) else None  # else made from the evidence when asked
        await asyncio.to_thread(
            context.evidence.record,
            _evidence(evidence_id, "validation", client, now, _file_digest(document), body, xml, report, context),
        )
        context.metrics.observe_report(report)
        logger.info(
            "validated",
            extra={
                "fields": {
                    "evidence": evidence_id,
                    "format": report.document.format,
                    "signatures": len(report.signatures),
                }
            },
        )
        headers = {"Location": f"/v1/validations/{evidence_id}"}
        if xml is not None:
            return Response(xml, media_type=XML, headers=headers)
        return Response(body, media_type=JSON, headers=headers)
    finally:
        form.cleanup()


@router.post(
    "/bids",
    summary="Validate all the files of one bid",
    description="Send every file of the bid in the field `files` (repeatable). A detached signature is paired with "
    "the file whose name it extends (`offer.pdf` + `offer.pdf.p7s`). One report: each signed document's report and, "
    "per requested pilot, the bid's decision (the worst of its documents).",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["files"],
                        "properties": {
                            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                            "policy": {"type": "array", "items": {"type": "string"}, "example": ["all"]},
                            "deposit_time": {"type": "string", "format": "date-time"},
                        },
                    }
                }
            }
        }
    },
)
async def create_bid_validation(request: Request, client: PlatformClient) -> Response:
    context = get_context(request)
    form = await read_form(request, max_bytes=context.settings.upload_limit, max_files=context.settings.bid_max_files)
    try:
        files = form.files_named("files")
        if not files:
            raise Problem(400, "missing-file", "Send the bid's files in the field 'files'.")
        empty = [f.filename for f in files if f.size == 0]
        if empty:
            raise Problem(400, "empty-upload", f"The file {empty[0]!r} is empty.")
        requests = _policy_requests(form, context)
        deposit = _deposit_time(form)
        view = context.trust.current
        now = datetime.now(timezone.utc)
        items, contents = pair_bid_files([f.filename for f in files])
        documents, unsigned = [], []
        for item in items:
            upload = files[item.index]
            signed_content = [files[i] for i in item.contents]
            try:
                report = await _validate(context, view, upload, signed_content, requests, deposit, now)
            except InputError as e:
                if item.index not in contents:
                    unsigned.append({"file": upload.filename, "reason": e.message, "code": e.code})
                continue
            if not report.signatures:
                if item.index not in contents:
                    reason = "The file carries no signature."
                    unsigned.append({"file": upload.filename, "reason": reason, "code": "no-signature"})
                continue
            documents.append((upload, signed_content, report))
        evidence_id = new_evidence_id()
        body = _bid_bytes(evidence_id, now, view.summary, files, contents, documents, unsigned, requests)
        bid_digest = hashlib.sha256("".join(sorted(_file_digest(f) for f in files)).encode()).hexdigest()
        await asyncio.to_thread(
            context.evidence.record,
            _evidence(evidence_id, "bid", client, now, bid_digest, body, None, None, context, documents=documents),
        )
        for _, _, report in documents:
            context.metrics.observe_report(report)
        return Response(body, media_type=JSON, headers={"Location": f"/v1/validations/{evidence_id}"})
    finally:
        form.cleanup()


@router.get("/validations/{evidence_id}", summary="The report of an earlier validation (its requester only)")
async def get_validation(evidence_id: str, request: Request, client: PlatformClient) -> Response:
    evidence = await _own_evidence(request, evidence_id, client)
    if _wants_xml(request):
        return Response(_etsi_xml(evidence), media_type=XML)
    return Response(evidence.report_json, media_type=JSON)


@router.get("/validations/{evidence_id}/report.xml", summary="The ETSI TS 119 102-2 report of an earlier validation")
async def get_validation_xml(evidence_id: str, request: Request, client: PlatformClient) -> Response:
    evidence = await _own_evidence(request, evidence_id, client)
    return Response(_etsi_xml(evidence), media_type=XML)


@router.get(
    "/validations/{evidence_id}/report.p7m",
    summary="The report signed by the service (CAdES enveloping the JSON report)",
    responses={200: {"content": {SIGNED: {}}}},
)
async def get_signed_report(evidence_id: str, request: Request, client: PlatformClient) -> Response:
    context = get_context(request)
    evidence = await _own_evidence(request, evidence_id, client)
    if context.signer is None:
        raise Problem(503, "report-signing-not-configured", "The operator has not configured a report signing key.")
    signed = await context.signer.sign(evidence.report_json, datetime.now(timezone.utc))
    headers = {"Content-Disposition": f'attachment; filename="trustsvc-{evidence_id}.p7m"'}
    return Response(signed, media_type=f"{SIGNED}; smime-type=signed-data", headers=headers)


# -- helpers -------------------------------------------------------------------------------------------------------


async def _validate(
    context: ServiceContext,
    view,
    document: UploadedFile,
    contents: list[UploadedFile],
    requests: list[PolicyRequest],
    deposit: datetime | None,
    now: datetime,
) -> Report:
    if deposit is not None and deposit > now:
        raise Problem(400, "invalid-deposit-time", "The deposit time is in the future.")
    trust = await asyncio.to_thread(with_agreement, view.resolved.provider, context.engine, now)
    settings = ValidationSettings(
        validation_time=now, trust=trust, fetcher_backend=context.fetcher, deposit_time=deposit
    )
    submission = Submission(
        document=document.path,
        contents=tuple(c.path for c in contents),
        filename=document.filename,
        content_names=tuple(c.filename for c in contents),
    )
    report = await validate_submission(
        submission, settings, max_document_bytes=context.settings.upload_limit, trust_summary=view.summary
    )
    if requests:
        report = apply_policy_requests(report, requests, context.policies)
    return report


def _policy_requests(form: UploadedForm, context: ServiceContext) -> list[PolicyRequest]:
    names = [name.strip() for value in form.values("policy") for name in value.split(",") if name.strip()]
    try:
        return resolve_requests(names, context.policies)
    except PolicyLookupError as e:
        raise Problem(400, "unknown-policy", str(e)) from None


def _deposit_time(form: UploadedForm) -> datetime | None:
    values = form.values("deposit_time")
    if not values:
        return None
    text = values[-1].strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "invalid-deposit-time", f"{text[:40]!r} is not an ISO 8601 date and time.") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise Problem(400, "invalid-deposit-time", f"{text[:40]!r} is outside the range of dates.") from None


def _wants_xml(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/xml" in accept or "text/xml" in accept or request.query_params.get("format") == "xml"


def _report_bytes(report: Report, evidence_id: str) -> bytes:
    return json.dumps({"id": evidence_id, **report.to_dict()}, ensure_ascii=False).encode()


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    with open(upload.path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _bid_bytes(evidence_id, now, summary, files, contents, documents, unsigned, requests) -> bytes:
    listed = []
    for index, upload in enumerate(files):
        role = "signed-content" if index in contents else "document"
        listed.append({"file": upload.filename, "size": upload.size, "role": role})
    reports = [
        {"file": upload.filename, "content": [c.filename for c in signed], "report": report.to_dict()}
        for upload, signed, report in documents
    ]
    body = {
        "id": evidence_id,
        "validation_time": now.isoformat().replace("+00:00", "Z"),
        "bid": {"files": listed},
        "documents": reports,
        "unsigned": unsigned,
        "policies": _bid_decisions(documents, requests),
        "trust": summary.to_dict(),
    }
    return json.dumps(body, ensure_ascii=False).encode()


def _bid_decisions(documents, requests: list[PolicyRequest]) -> list[dict]:
    """Per requested pilot: the bid's decision (the worst of its signed documents) and each document's.

    Every document was judged with the same requests in the same order, so its i-th decision answers request i.
    """
    out = []
    for index, request in enumerate(requests):
        per_document = [(upload.filename, report.policies[index]) for upload, _, report in documents]
        if not per_document:
            reason = {"rule": "OUTCOME", "result": "REJECT", "legal_basis": None, "message": "No signed document."}
            out.append(
                {"pilot": request.pilot, "decision": Decision.REJECT.value, "reasons": [reason], "documents": []}
            )
            continue
        worst_name, worst = max(per_document, key=lambda pair: _SEVERITY[pair[1].decision])
        out.append(
            {
                "pilot": request.pilot,
                "decision": worst.decision.value,
                "reasons": [{**r.to_dict(), "message": f"{worst_name}: {r.message}"} for r in worst.reasons],
                "documents": [{"file": name, "policy": d.id, "decision": d.decision.value} for name, d in per_document],
            }
        )
    return out


def _evidence(evidence_id, kind, client, now, digest, body, xml, report, context, documents=()) -> Evidence:
    reports = [report] if report is not None else [r for _, _, r in documents]
    versions: dict[str, str] = {}
    snapshot = None
    for each in reports:
        for decision in each.policies:
            for signature in decision.signatures:
                if signature.policy_id in context.policies.policies:
                    versions[signature.policy_id] = context.policies.policies[signature.policy_id].policy.version
        if each.trust is not None:
            snapshot = each.trust.snapshot_id
    view = context.trust.current.summary
    return Evidence(
        id=evidence_id,
        kind=kind,
        platform=client.name,
        created_at=now,
        document_sha256=digest,
        report_sha256=hashlib.sha256(body).hexdigest(),
        trust_snapshot_id=snapshot if snapshot is not None else view.snapshot_id,
        trust_source=view.source,
        policies=[{"id": k, "version": v} for k, v in sorted(versions.items())],
        report_json=body,
        report_xml=xml,
    )


def _etsi_xml(evidence: Evidence) -> bytes:
    """The ETSI report of a validation: kept if it was asked for at the time, else made from the JSON report."""
    if evidence.report_xml is not None:
        return evidence.report_xml
    if evidence.kind != "validation":
        raise Problem(404, "not-found", "A bid has no ETSI report of its own: see each document's report.")
    data = json.loads(evidence.report_json)
    data.pop("id", None)
    return _render_etsi_xml(report_from_dict(data))


async def _own_evidence(request: Request, evidence_id: str, client: Client) -> Evidence:
    context = get_context(request)
    evidence = await asyncio.to_thread(context.evidence.get, evidence_id[:64])
    if evidence is None or (client.role is not Role.ADMIN and evidence.platform != client.name):
        # the same answer whether it does not exist or belongs to another platform: ids are not an oracle
        raise Problem(404, "not-found", f"No validation {evidence_id[:64]!r} of yours.")
    return evidence


def _render_etsi_xml(report: Report) -> bytes:
    """The ETSI TS 119 102-2 report; its module (pyHanko's generated ETSI bindings) loads on first use."""
    from ..reports.etsi_xml import render_etsi_xml

    return render_etsi_xml(report)
