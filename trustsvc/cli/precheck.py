"""``trustsvc precheck FILE``: a bidder's certificate (or signed test document) against every pilot's policy."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path

import click

from ..errors import InputError
from ..fetch import revocation_fetcher
from ..formats import ValidationSettings
from ..precheck import PILOT_NAMES, PrecheckResult, precheck_bytes, result_to_dict
from ..settings import get_settings
from ..trust.setup import trust_from_store
from .context import now, open_store, policy_set, trust_source

__all__ = ["precheck"]


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--offline/--online",
    default=None,
    help="Fetch revocation data or not (default: as TRUSTSVC_OFFLINE says; offline with the demo trust).",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fetch-timeout", type=float, default=10.0, show_default=True)
def precheck(file: Path, offline: bool | None, output: str, fetch_timeout: float) -> None:
    """Will a bid signed with this certificate be accepted by each pilot? Exit 0 when every pilot accepts it."""
    data = file.read_bytes()
    if not data:
        raise InputError(f"{file.name} is empty", code="empty-file")
    source = trust_source(None)
    trust = trust_from_store(open_store(), source, now())
    if offline is None:
        configured = get_settings().offline
        offline = configured if configured is not None else source.name == "demo"
    result = asyncio.run(_run(data, file.name, trust.provider, offline, fetch_timeout))
    if output == "json":
        click.echo(json.dumps(result_to_dict(result), ensure_ascii=False, indent=2))
    else:
        click.echo(_text(result), nl=False)
    raise SystemExit(0 if all(a.decision.value == "ACCEPT" for a in result.pilots) else 1)


async def _run(data: bytes, name: str, provider, offline: bool, fetch_timeout: float) -> PrecheckResult:
    now = datetime.now(timezone.utc)
    if offline:
        return await precheck_bytes(data, name, ValidationSettings(validation_time=now, trust=provider), policy_set())
    async with revocation_fetcher(fetch_timeout) as fetcher:
        settings = ValidationSettings(validation_time=now, trust=provider, fetcher_backend=fetcher)
        return await precheck_bytes(data, name, settings, policy_set())


def _text(result: PrecheckResult) -> str:
    lines = [
        f"{result.subject}",
        f"  issued by {result.issuer}; valid {result.not_before:%Y-%m-%d} to {result.not_after:%Y-%m-%d}",
        f"  {result.qualification or 'not qualified'}; trusted by {result.trusted_by or 'no trust source'}",
    ]
    if not result.revocation_checked:
        lines.append("  revocation not checked (offline): the decisions assume the certificate is not revoked")
    for advice in result.pilots:
        lines.append(f"  {PILOT_NAMES.get(advice.pilot, advice.pilot):24} {advice.decision.value}")
        if advice.decision.value != "ACCEPT":
            lines.append(f"      why:  {advice.reason}")
            if advice.next_step:
                lines.append(f"      next: {advice.next_step}")
    return "\n".join(lines) + "\n"
