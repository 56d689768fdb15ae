"""``trustsvc agreement``: the legal teams' cross-pilot CA agreement, from the command line.

The commands mirror what the curators' pages will offer: propose a CA, approve it, withdraw it (propose or approve,
whichever is due), list the entries (as they stand, or as they stood at a moment), export the agreement as a signed
TS 119 612 list, import such a list, and check the audit trail. A change the agreement's rules refuse is one line on
stderr and exit status 2; ``verify-audit`` exits 1 when the trail is broken.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ..settings import get_settings
from ..trust.agreement import PILOTS, Agreement, Entry, EntryDraft
from ..trust.agreement_list import export_list, import_list, load_signer, operator_signer_files
from ..trust.anchors import load_certificates
from ..trust.tsl_parse import parse_trusted_list
from .context import now, open_store, trust_source

__all__ = ["agreement"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def agreement() -> None:
    """The cross-pilot CA agreement: CAs every pilot's legal team accepts (propose, approve, withdraw, publish)."""


def _agreement() -> Agreement:
    return Agreement(open_store().engine)


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date and time; without a zone it is UTC (a date alone: its midnight UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or date and time", param_hint=option) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _progress(entry: Entry) -> str:
    waiting = entry.missing_pilots
    return f"{len(entry.approvals)}/{len(PILOTS)}" + (f"; waiting for {', '.join(waiting)}" if waiting else "")


@agreement.command()
@click.argument("cert", type=_FILE)
@click.option("--name", required=True, help="The CA's name, as the legal teams call it.")
@click.option("--country", required=True, help="ISO 3166 alpha-2 code of the CA's member state.")
@click.option("--quality", "quality", type=int, required=True, help="Assessed quality level, 1 to 5.")
@click.option("--justification", required=True, help="Why the CA meets the agreement's requirements.")
@click.option("--valid-from", "valid_from", metavar="ISO-8601", help="The assessment holds from (default: now).")
@click.option("--valid-to", "valid_to", metavar="ISO-8601", help="The assessment holds until (default: open).")
@click.option("--source", required=True, help="URL or reference of the assessment document.")
@click.option("--curator", required=True, help="Your name.")
@click.option("--pilot", required=True, help=f"Your pilot: {', '.join(PILOTS)}.")
@click.option("--reason", default="", help="A note for the audit trail (default: the justification).")
def propose(
    cert: Path,
    name: str,
    country: str,
    quality: int,
    justification: str,
    valid_from: str | None,
    valid_to: str | None,
    source: str,
    curator: str,
    pilot: str,
    reason: str,
) -> None:
    """Propose the CA certificate CERT (PEM or DER); your pilot's approval counts from now."""
    moment = now()
    draft = EntryDraft(
        ca_certificate=cert.read_bytes(),
        name=name,
        country=country,
        justification=justification,
        quality_level=quality,
        valid_from=_moment(valid_from, "'--valid-from'") or moment,
        valid_to=_moment(valid_to, "'--valid-to'"),
        source_document=source,
    )
    entry = _agreement().propose(draft, curator=curator, pilot=pilot, reason=reason or justification, now=moment)
    click.echo(f"entry {entry.id} proposed: {entry.draft.name} ({entry.draft.country}), approvals {_progress(entry)}")


@agreement.command()
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--curator", required=True, help="Your name.")
@click.option("--pilot", required=True, help=f"Your pilot: {', '.join(PILOTS)}.")
@click.option("--reason", default="", help="A note for the audit trail.")
def approve(entry_id: int, curator: str, pilot: str, reason: str) -> None:
    """Approve the proposed addition of entry ID for your pilot."""
    entry = _agreement().approve(entry_id, curator=curator, pilot=pilot, reason=reason, now=now())
    if entry.status == "in_force":
        since = _when(entry.effective_from)
        click.echo(f"entry {entry.id} in force from {since}: approved by all {len(PILOTS)} pilots")
    else:
        click.echo(f"entry {entry.id} approved by {pilot.strip().lower()}, approvals {_progress(entry)}")


@agreement.command()
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--curator", required=True, help="Your name.")
@click.option("--pilot", required=True, help=f"Your pilot: {', '.join(PILOTS)}.")
@click.option("--reason", required=True, help="Why the CA should leave the agreement.")
def withdraw(entry_id: int, curator: str, pilot: str, reason: str) -> None:
    """Propose the withdrawal of entry ID, or approve the withdrawal already proposed."""
    entry = _agreement().withdraw(entry_id, curator=curator, pilot=pilot, reason=reason, now=now())
    if entry.status == "withdrawn":
        since = _when(entry.effective_to)
        click.echo(f"entry {entry.id} withdrawn from {since}: approved by all {len(PILOTS)} pilots")
    else:
        who = pilot.strip().lower()
        verb = "proposed" if set(entry.approvals) == {who} else "approved"
        click.echo(f"entry {entry.id} withdrawal {verb} by {who}, approvals {_progress(entry)}")


@agreement.command("list")
@click.option("--at", "at", metavar="ISO-8601", help="Only the entries in force at that moment.")
def list_cmd(at: str | None) -> None:
    """The entries: id, status, country, name, approvals of the current change, and when in force."""
    moment = _moment(at, "'--at'")
    entries = _agreement().entries() if moment is None else _agreement().in_force(moment)
    rows = [("ID", "STATUS", "COUNTRY", "NAME", "APPROVALS", "EFFECTIVE")]
    for entry in entries:
        if entry.effective_from is None:
            effective = "-"
        else:
            effective = f"{_when(entry.effective_from)} -> {_when(entry.effective_to) if entry.effective_to else ''}"
        approvals = f"{len(entry.approvals)}/{len(PILOTS)}"
        if entry.pending is not None:
            approvals += f" {entry.pending.value}"
        rows.append((str(entry.id), entry.status, entry.draft.country, entry.draft.name, approvals, effective.rstrip()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@agreement.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--key", "key_file", type=_FILE, help="The operator's private key (PEM or DER).")
@click.option("--cert", "cert_file", type=_FILE, help="Its certificate (PEM, the signer's first).")
@click.option("--key-password", envvar="TRUSTSVC_REPORT_KEY_PASSWORD", help="The key's password, if any.")
@click.option("--at", "at", metavar="ISO-8601", help="The agreement as it stood then (default: now).")
@click.option("--sequence", type=click.IntRange(min=1), help="TSLSequenceNumber (default: the number of changes).")
def export(
    file: Path, key_file: Path | None, cert_file: Path | None, key_password: str | None, at: str | None, sequence
) -> None:
    """Write the agreement as a TS 119 612 list signed by the operator (default key: TRUSTSVC_REPORT_KEY/_CERT)."""
    if (key_file is None) != (cert_file is None):
        raise click.UsageError("give both --key and --cert, or neither")
    if key_file is None or cert_file is None:
        key_file, cert_file, configured_password = operator_signer_files(get_settings(), trust_source().name)
        key_password = key_password or configured_password
    key, cert_der = load_signer(key_file, cert_file, key_password)
    moment = _moment(at, "'--at'") or now()
    data = export_list(_agreement(), key, cert_der, at=moment, sequence=sequence)
    file.write_bytes(data)
    listed = parse_trusted_list(data)
    count = sum(len(provider.services) for provider in listed.providers)
    click.echo(f"wrote {file}: {count} entries, sequence {listed.sequence}, as of {_when(moment)}")


@agreement.command("import")
@click.argument("file", type=_FILE)
@click.option("--signer", "signers", type=_FILE, multiple=True, required=True, help="A certificate allowed to sign.")
@click.option("--curator", required=True, help="Your name, for the audit trail.")
@click.option("--pilot", help=f"Your pilot ({', '.join(PILOTS)}), for the audit trail.")
def import_cmd(file: Path, signers: tuple[Path, ...], curator: str, pilot: str | None) -> None:
    """Bring in the entries of a signed agreement list, once its signature verifies against a --signer."""
    allowed = [certificate.dump() for path in signers for certificate in load_certificates(path)]
    entries = import_list(_agreement(), file.read_bytes(), allowed, curator=curator, pilot=pilot, now=now())
    click.echo(f"imported {len(entries)} entries from {file}")
    for entry in entries:
        until = f" until {_when(entry.effective_to)}" if entry.effective_to else ""
        click.echo(f"  entry {entry.id}: {entry.draft.name} ({entry.draft.country}) {entry.status}{until}")


@agreement.command("verify-audit")
def verify_audit() -> None:
    """Recompute the audit trail's hash chain and replay it against the entries; exit 1 if anything is wrong."""
    check = _agreement().verify_audit()
    click.echo(check.message)
    sys.exit(0 if check.ok else 1)
