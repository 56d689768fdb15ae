"""The legal teams' pages: the cross-pilot agreement (propose, approve, withdraw), its audit trail, and the state
of the trusted lists (versions in force, stale or refused lists, the history of a list, the diff of two versions).

A curator acts for the pilot its key is bound to, and for no other: the pilot comes from the key, never from the
form (a ``pilot`` field sent with a form is ignored). Every form that changes something carries the CSRF token of
its name. Administrators may read these pages; only a curator bound to a pilot may act.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..service.keys import Client, Role
from ..trust.store import NotStoredError
from . import adapters
from .access import csrf_refused, require_role, see_other
from .forms import PAGE_UPLOAD_LIMIT, BadForm, FormTooLarge, PageForm, read_page_form
from .i18n import N_
from .render import error_page, render_page
from .session import CSRF_FIELD
from .vocabulary import AGREEMENT_ERRORS

__all__ = [
    "agreement_page",
    "propose",
    "approve",
    "withdraw",
    "audit_page",
    "trust_page",
    "list_history_page",
    "diff_page",
]

#: What the page says after a change went through (``?done=``), with the entry's number.
DONE = {
    "proposed": N_("Entry %(entry)s was proposed; your pilot's approval is recorded."),
    "approved": N_("Your pilot's approval of entry %(entry)s is recorded."),
    "in-force": N_("Entry %(entry)s is now in force: every pilot has approved it."),
    "withdrawal-proposed": N_("The withdrawal of entry %(entry)s was proposed; your pilot's approval is recorded."),
    "withdrawal-approved": N_("Your pilot's approval of the withdrawal of entry %(entry)s is recorded."),
    "withdrawn": N_("Entry %(entry)s is withdrawn: every pilot has approved its withdrawal."),
}
_CONFLICTS = {
    "already-in-agreement",
    "already-approved",
    "nothing-pending",
    "withdrawal-pending",
    "not-in-force",
    "withdrawal-too-soon",
}
_FIELDS = ("name", "country", "justification", "quality_level", "valid_from", "valid_to", "source_document", "reason")


@dataclass(frozen=True)
class Acting:
    """The pilot a signed-in curator acts for (None: may read, may not act)."""

    client: Client
    pilot: str | None


def _acting(client: Client) -> Acting:
    pilot = client.pilot if client.role is Role.CURATOR and client.pilot in adapters.PILOTS else None
    return Acting(client, pilot)


async def _reader(request: Request) -> Acting | Response:
    client = await require_role(request, Role.CURATOR, Role.ADMIN)
    return _acting(client) if isinstance(client, Client) else client


async def _actor(request: Request, form_name: str) -> tuple[Acting, PageForm] | Response:
    """The curator acting, and the form it sent (CSRF-checked); else the page to answer."""
    acting = await _reader(request)
    if not isinstance(acting, Acting):
        return acting
    try:
        form = await read_page_form(request, max_bytes=PAGE_UPLOAD_LIMIT)
    except FormTooLarge:
        return await error_page(
            request,
            413,
            N_("File too large"),
            N_("The form is larger than %(size)s MB. A CA certificate is a few kilobytes: send it alone."),
            back="/curator/",
            size=PAGE_UPLOAD_LIMIT // (1024 * 1024),
        )
    except BadForm:
        return await error_page(request, 400, N_("Form not understood"), N_("Send the form from the page."))
    refused = await csrf_refused(request, form_name, form.value(CSRF_FIELD))
    if refused is not None:
        return refused
    if acting.pilot is None:
        return await error_page(
            request,
            403,
            N_("Not allowed"),
            N_("Only a curator whose key is bound to a pilot of the agreement can change it."),
            back="/curator/",
        )
    return acting, form


# -- the agreement -------------------------------------------------------------------------------------------------


async def agreement_page(request: Request) -> Response:
    return await _agreement_page(request)


async def _agreement_page(
    request: Request,
    acting: Acting | None = None,
    *,
    status: int = 200,
    error: str | None = None,
    detail: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    if acting is None:
        reader = await _reader(request)
        if not isinstance(reader, Acting):
            return reader
        acting = reader
    agreement = adapters.agreement(request.app.state.context)
    entries = await asyncio.to_thread(agreement.entries)
    done = request.query_params.get("done")
    entry = request.query_params.get("entry", "")
    return await render_page(
        request,
        "curator/agreement.html",
        status=status,
        acting=acting,
        pilots=adapters.PILOTS,
        entries=list(reversed(entries)),
        done=DONE.get(done or "") if status == 200 else None,
        done_entry=entry if entry.isdigit() else "",
        error=error,
        detail=detail,
        values=values or {},
        today=datetime.now(timezone.utc).date().isoformat(),
    )


def _parse_day(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc)


async def propose(request: Request) -> Response:
    checked = await _actor(request, "propose")
    if not isinstance(checked, tuple):
        return checked
    acting, form = checked
    values = {name: form.value(name).strip() for name in _FIELDS}
    upload = form.file("certificate")
    certificate = upload.data if upload is not None else b""
    form.forget_files()

    async def refuse(error: str, detail: str | None = None, status: int = 422) -> Response:
        return await _agreement_page(request, acting, status=status, error=error, detail=detail, values=values)

    if not certificate:
        return await refuse(N_("Choose the CA certificate file (.pem, .cer, .crt or .der)."))
    try:
        valid_from = _parse_day(values["valid_from"])
        valid_to = _parse_day(values["valid_to"])
    except ValueError:
        return await refuse(N_("Give the validity dates as dates (year, month, day)."))
    if valid_from is None:
        return await refuse(N_("Give the date from which the assessment holds."))
    try:
        quality = int(values["quality_level"])
    except ValueError:
        return await refuse(AGREEMENT_ERRORS["bad-quality-level"])
    draft = adapters.EntryDraft(
        ca_certificate=certificate,
        name=values["name"],
        country=values["country"].upper(),
        justification=values["justification"],
        quality_level=quality,
        valid_from=valid_from,
        valid_to=valid_to,
        source_document=values["source_document"],
    )
    agreement = adapters.agreement(request.app.state.context)
    try:
        entry = await asyncio.to_thread(
            agreement.propose, draft, curator=acting.client.name, pilot=acting.pilot, reason=values["reason"]
        )
    except adapters.AgreementError as e:
        status = 409 if e.code in _CONFLICTS else 422
        return await refuse(AGREEMENT_ERRORS.get(e.code, N_("The agreement refused this change.")), e.message, status)
    done = "in-force" if entry.status == "in_force" else "proposed"
    return see_other(f"/curator/?done={done}&entry={entry.id}#entry-{entry.id}")


def _entry_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


async def approve(request: Request, entry_id: str) -> Response:
    checked = await _actor(request, "approve")
    if not isinstance(checked, tuple):
        return checked
    acting, form = checked
    number = _entry_id(entry_id)
    agreement = adapters.agreement(request.app.state.context)
    try:
        if number is None:
            raise adapters.AgreementError("unknown-entry", f"no entry {entry_id[:20]!r}")
        entry = await asyncio.to_thread(
            agreement.approve, number, curator=acting.client.name, pilot=acting.pilot, reason=form.value("reason")
        )
    except adapters.AgreementError as e:
        return await _refused_change(request, acting, e)
    done = "in-force" if entry.status == "in_force" else "approved"
    return see_other(f"/curator/?done={done}&entry={entry.id}#entry-{entry.id}")


async def withdraw(request: Request, entry_id: str) -> Response:
    """Propose the withdrawal of an entry in force, or approve the withdrawal proposed (whichever the page showed)."""
    checked = await _actor(request, "withdraw")
    if not isinstance(checked, tuple):
        return checked
    acting, form = checked
    number = _entry_id(entry_id)
    agreement = adapters.agreement(request.app.state.context)
    reason = form.value("reason").strip()
    try:
        if number is None:
            raise adapters.AgreementError("unknown-entry", f"no entry {entry_id[:20]!r}")
        if form.value("step") == "approve":
            entry = await asyncio.to_thread(
                agreement.approve_withdrawal, number, curator=acting.client.name, pilot=acting.pilot, reason=reason
            )
        else:
            entry = await asyncio.to_thread(
                agreement.propose_withdrawal, number, curator=acting.client.name, pilot=acting.pilot, reason=reason
            )
    except adapters.AgreementError as e:
        if e.code == "withdrawal-too-soon":  # effective times are whole seconds: not in the second it came in force
            message = N_("This entry came in force only a moment ago: try again in a second.")
            return await _agreement_page(request, acting, status=409, error=message, detail=e.message)
        return await _refused_change(request, acting, e)
    if entry.status == "withdrawn":
        done = "withdrawn"
    elif form.value("step") == "approve":
        done = "withdrawal-approved"
    else:
        done = "withdrawal-proposed"
    return see_other(f"/curator/?done={done}&entry={entry.id}#entry-{entry.id}")


async def _refused_change(request: Request, acting: Acting, error: Any) -> Response:
    status = 404 if error.code == "unknown-entry" else 409 if error.code in _CONFLICTS else 422
    message = AGREEMENT_ERRORS.get(error.code, N_("The agreement refused this change."))
    return await _agreement_page(request, acting, status=status, error=message, detail=error.message)


# -- the audit trail -----------------------------------------------------------------------------------------------


async def audit_page(request: Request) -> Response:
    acting = await _reader(request)
    if not isinstance(acting, Acting):
        return acting
    agreement = adapters.agreement(request.app.state.context)
    records = await asyncio.to_thread(agreement.audit_trail)
    check = await asyncio.to_thread(agreement.verify_audit)
    return await render_page(request, "curator/audit.html", acting=acting, records=records, check=check)


# -- the trusted lists ---------------------------------------------------------------------------------------------


async def trust_page(request: Request) -> Response:
    acting = await _reader(request)
    if not isinstance(acting, Acting):
        return acting
    context = request.app.state.context
    now = datetime.now(timezone.utc)
    view = context.trust.current
    summary = view.summary

    def gather() -> dict[str, Any]:
        versions = context.store.snapshot_versions(summary.snapshot_id) if summary.snapshot_id is not None else ()
        refused = ()
        if summary.snapshot_id is not None:
            refused = context.store.recent_refusals(context.store.snapshot(summary.snapshot_id).created_at)
        return {
            "latest": context.store.latest_snapshot(),
            "versions": versions,
            "refused": refused,
            "health": context.trust.health(now),
        }

    found = await asyncio.to_thread(gather)
    return await render_page(request, "curator/trust.html", acting=acting, summary=summary, view=view, now=now, **found)


async def list_history_page(request: Request, territory: str) -> Response:
    acting = await _reader(request)
    if not isinstance(acting, Acting):
        return acting
    territory = territory.upper()[:8]
    history = await asyncio.to_thread(request.app.state.context.store.history, territory)
    if not history:
        return await error_page(
            request,
            404,
            N_("List not found"),
            N_("No version of a trusted list of %(territory)s was ever received."),
            back="/curator/trust",
            territory=territory,
        )
    accepted = [v for v in history if v.status == "accepted"]
    return await render_page(
        request,
        "curator/history.html",
        acting=acting,
        territory=territory,
        history=history,
        accepted=accepted,
        now=datetime.now(timezone.utc),
    )


async def diff_page(request: Request) -> Response:
    acting = await _reader(request)
    if not isinstance(acting, Acting):
        return acting
    store = request.app.state.context.store
    old, new = request.query_params.get("old", ""), request.query_params.get("new", "")
    if not (old.isdigit() and new.isdigit() and len(old) < 12 and len(new) < 12):
        return await error_page(
            request, 400, N_("Choose two versions"), N_("Choose the two versions of the list to compare."),
            back="/curator/trust",
        )  # fmt: skip

    def gather() -> tuple[Any, Any, Any]:
        return store.version(int(old)), store.version(int(new)), store.diff(int(old), int(new))

    try:
        before, after, diff = await asyncio.to_thread(gather)
    except NotStoredError:
        return await error_page(
            request, 404, N_("Version not found"), N_("One of these versions is not stored."), back="/curator/trust"
        )
    except ValueError:
        return await error_page(
            request,
            422,
            N_("Version refused"),
            N_("A refused version has no services to compare: choose two accepted versions."),
            back="/curator/trust",
        )
    return await render_page(request, "curator/diff.html", acting=acting, before=before, after=after, diff=diff)
