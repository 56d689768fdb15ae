"""``trustsvc validate``: every signature of a file, against the trusted lists, as JSON or one line each."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ..engine import Submission, validate_submission
from ..fetch import DEFAULT_FETCH_TIMEOUT, revocation_fetcher
from ..formats import ValidationSettings
from ..reports.json import render_json
from ..reports.text import render_text
from ..trust.setup import ResolvedTrust, trust_from_location, trust_from_store, with_anchors
from ..verdict import exit_code
from .context import now, open_store, trust_source

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
@click.option("--output", "output", type=click.Choice(["json", "text"]), default="json", show_default=True)
def validate(
    file: Path, contents: tuple[Path, ...], at: datetime | None, trusted_lists: str | None,
    lotl_signers: tuple[Path, ...], source_name: str | None, anchors: tuple[Path, ...], offline: bool,
    fetch_timeout: float, output: str,
) -> None:  # fmt: skip
    """Validate every signature of FILE and print the verdicts."""
    trust = _resolve_trust(trusted_lists, lotl_signers, source_name, anchors)
    report = asyncio.run(_validate(file, contents, at, trust, offline, fetch_timeout))
    click.echo(render_json(report) if output == "json" else render_text(report), nl=output == "json")
    sys.exit(exit_code(report))


def _resolve_trust(
    trusted_lists: str | None, lotl_signers: tuple[Path, ...], source_name: str | None, anchors: tuple[Path, ...]
) -> ResolvedTrust:
    if trusted_lists:
        return with_anchors(trust_from_location(trusted_lists, now(), lotl_signers), anchors)
    if source_name == "none":
        return with_anchors(None, anchors)
    return with_anchors(trust_from_store(open_store(), trust_source(source_name), now()), anchors)


async def _validate(file, contents, at, trust: ResolvedTrust, offline, fetch_timeout):
    submission = Submission(document=file, contents=tuple(contents))
    async with contextlib.AsyncExitStack() as stack:
        fetcher = None if offline else await stack.enter_async_context(revocation_fetcher(fetch_timeout))
        settings = ValidationSettings(
            validation_time=at or datetime.now(timezone.utc),
            trust=trust.provider,
            historical=at is not None,
            fetcher_backend=fetcher,
        )
        return await validate_submission(submission, settings, trust_summary=trust.summary)
