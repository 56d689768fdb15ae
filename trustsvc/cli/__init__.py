"""The ``trustsvc`` command.

Exit codes (the contract in ../shared/DESIGN.md): 0 every signature TOTAL_PASSED (and every requested policy
ACCEPT); 1 some TOTAL_FAILED (or REJECT), or no signature at all; 3 otherwise (INDETERMINATE ...); 2 a usage
error or input that is not a signed document, reported as one line on stderr, never a traceback.
"""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..errors import TrustSvcError

__all__ = ["main"]

EXIT_USAGE = 2


class _Cli(click.Group):
    """Turn every failure into one line on stderr and exit status 2; load a command's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name) if cmd_name in _COMMANDS else None

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
        except Exception as e:  # a bug: still one line for the user, the traceback only at debug level
            logging.getLogger("trustsvc").debug("internal error", exc_info=True)
            click.echo(f"trustsvc: internal error ({type(e).__name__}: {str(e)[:200]}); please report it", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Cli)
@click.version_option(__version__, prog_name="trustsvc")
def main() -> None:
    """Validate signed bids (PAdES, CAdES, RFC 3161) per ETSI EN 319 102-1, against the EU trusted lists."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


# Each command's module imports pyHanko, SQLAlchemy or FastAPI; loading only the one that runs keeps
# ``trustsvc --help`` instant and lets ``trustsvc serve`` start its workers sooner.
_COMMANDS = {
    "validate": "validate:validate",
    "tl": "tl:tl",
    "policy": "policy:policy",
    "serve": "serve:serve",
    "keys": "serve:keys",
    "precheck": "precheck:precheck",
    "agreement": "agreement:agreement",
}


def _load(name: str) -> click.Command:
    import importlib

    module, attr = _COMMANDS[name].split(":")
    return getattr(importlib.import_module(f".{module}", __name__), attr)
