"""``trustsvc tl``: refresh the trusted lists into the store, and look at what is stored."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..settings import get_settings
from ..trust.anchors import load_certificates
from ..trust.refresh import FolderFetcher, RefreshReport, fetcher_for, refresh
from ..trust.snapshots import official_journal_signers
from ..trust.tsl_parse import parse_trusted_list
from .context import now, open_store, trust_source

__all__ = ["tl"]


@click.group()
def tl() -> None:
    """Trusted lists (ETSI TS 119 612): refresh, list, show, history, diff."""


@tl.command()
@click.option("--source", "source_name", help="A source of trust_lists/sources.yaml (default: the configured one).")
@click.option("--lotl", "lotl", metavar="URL|FILE", help="Take the LOTL from here instead of the source's.")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read the LOTL and the national lists from this folder (offline copies).",
)
@click.option(
    "--lotl-signer",
    "lotl_signers",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pin the LOTL to this signer certificate (repeatable).",
)
def refresh_cmd(source_name: str | None, lotl: str | None, from_dir: Path | None, lotl_signers: tuple[Path, ...]):
    """Fetch, authenticate and store the LOTL and every national list; take a new snapshot."""
    source = trust_source(source_name)
    if lotl_signers:
        signers = tuple(c.dump() for f in lotl_signers for c in load_certificates(f))
    elif (lotl or from_dir) and not source_name:
        signers = official_journal_signers()
    else:
        signers = source.lotl_signers
    if from_dir is not None:
        fetch, location = fetcher_for(str(from_dir))
        if lotl:
            location = lotl
        fetch = FolderFetcher(from_dir) if not isinstance(fetch, FolderFetcher) else fetch
    else:
        fetch, location = fetcher_for(
            lotl or source.lotl, None if lotl else source.base_dir, timeout=get_settings().fetch_timeout
        )
    with click.progressbar(length=1, label="LOTL", file=sys.stderr, show_pos=True) as bar:

        def progress(what: str, done: int, total: int) -> None:
            if total and bar.length != total:
                bar.length = total
            bar.label = what
            bar.update(done - bar.pos)

        report = refresh(location, signers, fetch, now=now(), store=open_store(), progress=progress)
    _print_refresh(report)
    sys.exit(0 if report.lotl.verified and report.snapshot_id is not None else 1)


refresh_cmd.name = "refresh"


def _print_refresh(report: RefreshReport) -> None:
    lotl = report.lotl
    status = "verified" if lotl.verified else f"REFUSED ({lotl.verification.code}: {lotl.verification.reason})"
    path = f" through pivots {', '.join(map(str, lotl.path))}" if lotl.path else ""
    click.echo(f"LOTL {report.source}: {status}{path}")
    for outcome in report.lists:
        record = outcome.record
        if not outcome.verification.verified:
            state = f"refused ({outcome.verification.code}: {outcome.verification.reason})"
        elif record is not None and record.status.value == "refused":
            state = f"refused ({record.code}: {record.reason})"
        elif record is not None and record.status.value == "unchanged":
            state = "unchanged"
        else:
            state = "accepted"
        sequence = f" #{outcome.trusted_list.sequence}" if outcome.trusted_list else ""
        click.echo(f"  {outcome.territory}{sequence}: {state}")
    if report.snapshot_id is not None:
        click.echo(f"snapshot {report.snapshot_id} in force")


@tl.command("list")
def list_cmd() -> None:
    """The lists in force: territory, sequence, issue and next update, signature, staleness."""
    moment = now()
    rows = [("TERRITORY", "SEQUENCE", "ISSUED", "NEXT UPDATE", "SIGNATURE", "STALE")]
    for current in open_store().current_versions(moment):
        v = current.version
        rows.append((
            "EU (LOTL)" if v.is_lotl else v.territory or "?",
            str(v.sequence),
            _day(v.issued),
            _day(v.next_update),
            "verified" if v.verified else v.verification_code or "refused",
            "stale" if current.stale else "",
        ))  # fmt: skip
    _table(rows)


@tl.command()
@click.argument("country")
def show(country: str) -> None:
    """The trust service providers and services of COUNTRY's list in force, with their current status."""
    country = country.upper()
    current = [
        c for c in open_store().current_versions(now()) if c.version.territory == country and not c.version.is_lotl
    ]
    if not current:
        raise click.ClickException(f"no trusted list of {country} is stored (run `trustsvc tl refresh`)")
    version = current[0].version
    tl_ = parse_trusted_list(open_store().load(version.id))
    click.echo(f"{version.label}: {tl_.operator_name}, issued {_day(tl_.issued)}, next update {_day(tl_.next_update)}")
    for provider in tl_.providers:
        click.echo(f"  {provider.name}")
        for service in provider.services:
            state = service.current
            click.echo(f"    {state.type:<20} {state.status.value:<26} since {_day(state.start)}  {state.name}")


@tl.command()
@click.argument("country")
def history(country: str) -> None:
    """Every version of COUNTRY's list received (accepted and refused), newest first, with its id."""
    country = country.upper()
    rows = [("ID", "SEQUENCE", "RECEIVED", "STATUS", "REASON")]
    for v in open_store().history(country):
        rows.append((str(v.id), str(v.sequence), _day(v.received_at), v.status.value, v.refusal_reason or ""))
    _table(rows)


@tl.command()
@click.argument("old", type=int)
@click.argument("new", type=int)
def diff(old: int, new: int) -> None:
    """Services added, withdrawn from the list and changed in status between two versions (ids from `history`)."""
    changes = open_store().diff(old, new)
    for service in changes.added:
        click.echo(f"+ {service.type} {service.name} ({service.status} since {_day(service.start)})")
    for service in changes.removed:
        click.echo(f"- {service.type} {service.name}")
    for change in changes.status_changes:
        before, after = change.before, change.after
        click.echo(f"~ {after.type} {after.name}: {before.status} -> {after.status} since {_day(after.start)}")
    if not (changes.added or changes.removed or changes.status_changes):
        click.echo("no changes")


def _day(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment else "-"


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
