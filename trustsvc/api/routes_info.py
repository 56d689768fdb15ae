"""What anyone may read (policies, trusted lists, health, metrics) and the administrator's trust refresh."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from .. import __version__
from ..policy.catalogue import PolicyLookupError
from ..policy.explain import explain
from ..service.keys import Client, Role
from .context import get_context
from .problems import Problem
from .security import public, require

__all__ = ["router"]

router = APIRouter()
AdminClient = Annotated[Client, Depends(require(Role.ADMIN))]


@router.get(
    "/v1/policies", tags=["policies"], summary="The pilots' acceptance policies", dependencies=[Depends(public)]
)
async def list_policies(request: Request) -> dict:
    policies = get_context(request).policies
    return {
        "pilots": policies.pilots(),
        "policies": [
            {
                "id": p.id,
                "pilot": p.policy.pilot,
                "version": p.policy.version,
                "title": p.policy.title,
                "jurisdiction": p.policy.jurisdiction,
                "effective": {"from": p.policy.effective.from_.isoformat(), "until": _date(p.policy.effective.until)},
                "rules": [rule_id for rule_id, _ in p.policy.rules.present()],
            }
            for p in sorted(policies.policies.values(), key=lambda p: (p.policy.pilot, p.policy.effective.from_))
        ],
        "invalid": sorted(policies.problems),
    }


@router.get("/v1/policies/{policy_id}", tags=["policies"], summary="One policy, whole", dependencies=[Depends(public)])
async def get_policy(policy_id: str, request: Request) -> dict:
    try:
        loaded = get_context(request).policies.get(policy_id)
    except PolicyLookupError as e:
        raise Problem(404, "unknown-policy", str(e)) from None
    return {"policy": loaded.policy.model_dump(mode="json", by_alias=True), "explanation": explain(loaded)}


@router.get(
    "/v1/trusted-lists",
    tags=["trust"],
    summary="The trusted lists in force (the snapshot validations use)",
    dependencies=[Depends(public)],
)
async def trusted_lists(request: Request) -> dict:
    context = get_context(request)
    view = context.trust.current
    summary = view.summary
    now = datetime.now(timezone.utc)
    versions = []
    if summary.snapshot_id is not None:
        for version in await asyncio.to_thread(context.store.snapshot_versions, summary.snapshot_id):
            versions.append(
                {
                    "label": version.label,
                    "territory": version.territory,
                    "sequence": version.sequence,
                    "issued": _iso(version.issued),
                    "next_update": _iso(version.next_update),
                    "signer": version.signer_subject,
                    "sha256": version.sha256,
                    "stale": version.is_stale(now),
                }
            )
    return {**summary.to_dict(), "loaded_at": _iso(view.loaded_at), "versions": versions}


@router.post("/v1/trusted-lists/refresh", tags=["trust"], summary="Refresh the trusted lists now (administrators)")
async def refresh_now(request: Request, client: AdminClient) -> dict:
    context = get_context(request)
    now = datetime.now(timezone.utc)
    result = await asyncio.to_thread(context.trust.refresh, now)
    context.metrics.observe_trust(context.trust, now)
    return {
        "ran": result.ran,
        "message": result.message,
        "snapshot_id": context.trust.current.summary.snapshot_id,
        "changed": result.changed,
        "refused": list(result.refused),
    }


@router.get("/health", tags=["operations"], summary="Whether the service can validate, and on what trust")
async def health(request: Request) -> JSONResponse:
    context = get_context(request)
    now = datetime.now(timezone.utc)
    state = await asyncio.to_thread(context.trust.health, now)
    database = "ok"
    try:
        await asyncio.to_thread(context.store.latest_snapshot)
    except Exception:  # noqa: BLE001 - reported, not raised
        database = "unreachable"
    status = state.status if database == "ok" else "down"
    body = {"status": status, "version": __version__, "database": database, "trust": state.details}
    return JSONResponse(body, status_code=503 if status == "down" else 200)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics of this worker process")
async def metrics(request: Request) -> Response:
    return PlainTextResponse(get_context(request).metrics.render(), media_type="text/plain; version=0.0.4")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _date(day) -> str | None:
    return day.isoformat() if day else None
