"""The ``trustsvc`` command.

Exit codes (the contract in ../shared/DESIGN.md): 0 every signature TOTAL_PASSED (and every requested policy
ACCEPT); 1 some TOTAL_FAILED (or REJECT), or no signature at all; 3 otherwise (INDETERMINATE ...); 2 a usage
error or input that is not a signed document, reported as one line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from . import __version__
from .engine import Submission, validate_submission
from .errors import TrustSvcError
from .fetch import DEFAULT_FETCH_TIMEOUT, revocation_fetcher
from .formats import ValidationSettings
from .reports.json import render_json
from .reports.text import render_text
from .trust.anchors import AnchorSet
from .verdict import exit_code

__all__ = ["main"]

EXIT_USAGE = 2


class _Cli(click.Group):
    """Turn every failure into one line on stderr and exit status 2."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", False)
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"trustsvc: {e.format_message()}", err=True)
            sys.exit(EXIT_USAGE)
        except click.Abort:
            click.echo("trustsvc: aborted", err=True)
            sys.exit(EXIT_USAGE)
        except TrustSvcError as e:
            click.echo(f"trustsvc: {e.message}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as e:  # a bug: still one line for the user, the traceback only with TRUSTSVC_DEBUG
            logging.getLogger("trustsvc").debug("internal error", exc_info=True)
            click.echo(f"trustsvc: internal error ({type(e).__name__}: {str(e)[:200]}); please report it", err=True)
            sys.exit(EXIT_USAGE)


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


@click.group(cls=_Cli)
@click.version_option(__version__, prog_name="trustsvc")
def main() -> None:
    """Validate signed bids (PAdES, CAdES, RFC 3161) per ETSI EN 319 102-1."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--content",
    "contents",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signed data of a detached signature (repeatable).",
)
@click.option("--at", "at", callback=_parse_time, help="Validate as of this time (ISO 8601), e.g. for old samples.")
@click.option(
    "--trust-anchor",
    "anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A root certificate (PEM or DER) to trust (repeatable).",
)
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
    file: Path,
    contents: tuple[Path, ...],
    at: datetime | None,
    anchors: tuple[Path, ...],
    offline: bool,
    fetch_timeout: float,
    output: str,
) -> None:
    """Validate every signature of FILE and print the verdicts."""
    trust = AnchorSet.from_files(anchors)
    report = asyncio.run(_validate(file, contents, at, trust, offline, fetch_timeout))
    click.echo(render_json(report) if output == "json" else render_text(report), nl=output == "json")
    sys.exit(exit_code(report))


async def _validate(file, contents, at, trust, offline, fetch_timeout):
    submission = Submission(document=file, contents=tuple(contents))
    async with contextlib.AsyncExitStack() as stack:
        fetcher = None if offline else await stack.enter_async_context(revocation_fetcher(fetch_timeout))
        settings = ValidationSettings(
            validation_time=at or datetime.now(timezone.utc),
            trust=trust,
            historical=at is not None,
            fetcher_backend=fetcher,
        )
        return await validate_submission(submission, settings)
