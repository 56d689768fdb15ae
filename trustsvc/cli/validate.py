"""``trustsvc validate``: every signature of a file, against the trusted lists, as JSON or one line each."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ..engine import Submission, validate_submission
from ..fetch import DEFAULT_FETCH_TIMEOUT, revocation_fetcher
from ..formats import ValidationSettings
from ..policy.apply import ALL, PolicyRequest, apply_policies, resolve_requests
from ..policy.catalogue import PolicyLookupError, PolicySet
from ..reports.json import render_json
from ..reports.text import render_text
from ..trust.agreement_trust import with_agreement
from ..trust.setup import ResolvedTrust, trust_from_location, trust_from_store, with_anchors
from ..verdict import exit_code
from .context import now, open_store, policy_set, trust_source

__all__ = ["validate"]


def _parse_time(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or time (e.g. 2026-11-28T10:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--content", "contents", multiple=True, type=_FILE, help="The signed data of a detached signature.")
@click.option("--at", "at", callback=_parse_time, help="Validate as of this time (ISO 8601), e.g. for old samples.")
@click.option(
    "--trusted-lists",
    "trusted_lists",
    metavar="DIR|URL",
    help="Build trust from the lists there (a folder, a LOTL file or URL) instead of the stored snapshot.",
)
@click.option(
    "--lotl-signer",
    "lotl_signers",
    multiple=True,
    type=_FILE,
    help="Pin the LOTL of --trusted-lists to this signer (default: the Official Journal certificates).",
)
@click.option(
    "--trust-source",
    "source_name",
    help="The configured trust source (trust_lists/sources.yaml), or 'none' for --trust-anchor roots only.",
)
@click.option("--trust-anchor", "anchors", multiple=True, type=_FILE, help="Also trust this root (PEM or DER).")
@click.option("--offline", is_flag=True, help="Use only data embedded in the document: no OCSP/CRL/AIA fetching.")
@click.option(
    "--fetch-timeout",
    type=click.FloatRange(0.1, 120),
    default=DEFAULT_FETCH_TIMEOUT,
    show_default=True,
    help="Seconds allowed for each OCSP/CRL/certificate download.",
)
@click.option(
    "--policy",
    "policy_names",
    multiple=True,
    metavar="PILOT|ID",
    help="Decide under this pilot's policy (chosen by the signature's time, e.g. 'fr') or this exact policy "
    "(e.g. 'fr-2019'); repeatable.",
)
@click.option("--all-policies", is_flag=True, help="Decide under every pilot's policy (the decision matrix).")
@click.option(
    "--deposit-time",
    callback=_parse_time,
    help="When the platform received the file (its deposit receipt): a proof of existence of the signatures.",
)
@click.option("--output", "output", type=click.Choice(["json", "text", "etsi-xml"]), default="json", show_default=True)
def validate(
    file: Path, contents: tuple[Path, ...], at: datetime | None, trusted_lists: str | None,
    lotl_signers: tuple[Path, ...], source_name: str | None, anchors: tuple[Path, ...], offline: bool,
    fetch_timeout: float, policy_names: tuple[str, ...], all_policies: bool, deposit_time: datetime | None,
    output: str,
) -> None:  # fmt: skip
    """Validate every signature of FILE and print the verdicts (and the requested policies' decisions)."""
    policies = policy_set()
    requests = _policy_requests(policy_names, all_policies, policies)
    validation_time = at or now()
    if deposit_time is not None and deposit_time > validation_time:
        raise click.BadParameter("the deposit time is after the validation time", param_hint="--deposit-time")
    trust = _resolve_trust(trusted_lists, lotl_signers, source_name, anchors, validation_time)
    report = asyncio.run(
        _validate(file, contents, validation_time, at is not None, trust, offline, fetch_timeout, deposit_time)
    )
    if requests:
        report = apply_policies(report, requests, policies)
    if output == "etsi-xml":
        from ..reports.etsi_xml import render_etsi_xml  # pyHanko's generated ETSI bindings: loaded only when asked

        click.echo(render_etsi_xml(report), nl=False)
    else:
        click.echo(render_json(report) if output == "json" else render_text(report), nl=output == "json")
    sys.exit(exit_code(report))


def _policy_requests(names: tuple[str, ...], all_policies: bool, policies: PolicySet) -> list[PolicyRequest]:
    wanted = [*names, ALL] if all_policies else list(names)
    try:
        requests = resolve_requests(wanted, policies)
    except PolicyLookupError as e:
        raise click.BadParameter(str(e), param_hint="--policy") from None
    if all_policies:
        for name, problems in sorted(policies.problems.items()):
            click.echo(f"trustsvc: warning: policy {name} skipped: {problems[0]}", err=True)
    return requests


def _resolve_trust(
    trusted_lists: str | None,
    lotl_signers: tuple[Path, ...],
    source_name: str | None,
    anchors: tuple[Path, ...],
    validation_time: datetime,
) -> ResolvedTrust:
    if trusted_lists:
        return with_anchors(trust_from_location(trusted_lists, now(), lotl_signers), anchors)
    if source_name == "none":
        return with_anchors(None, anchors)
    store = open_store()
    resolved = with_anchors(trust_from_store(store, trust_source(source_name), now()), anchors)
    # the curated agreement as it stood at the validation time
    return dataclasses.replace(resolved, provider=with_agreement(resolved.provider, store.engine, validation_time))


async def _validate(file, contents, validation_time, historical, trust: ResolvedTrust, offline, fetch_timeout, deposit):
    submission = Submission(document=file, contents=tuple(contents))
    async with contextlib.AsyncExitStack() as stack:
        fetcher = None if offline else await stack.enter_async_context(revocation_fetcher(fetch_timeout))
        settings = ValidationSettings(
            validation_time=validation_time,
            trust=trust.provider,
            historical=historical,
            fetcher_backend=fetcher,
            deposit_time=deposit,
        )
        return await validate_submission(submission, settings, trust_summary=trust.summary)
