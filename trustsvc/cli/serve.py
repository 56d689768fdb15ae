"""``trustsvc serve``: the HTTP service (uvicorn), and ``trustsvc keys``: its clients' API keys."""

from __future__ import annotations

import click

from ..errors import ConfigurationError
from ..service.keys import ApiKeys, Role
from .context import open_store

__all__ = ["serve", "keys"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP service (settings from TRUSTSVC_* environment variables)."""
    import uvicorn

    uvicorn.run(
        "trustsvc.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


@click.group()
def keys() -> None:
    """API keys of the service's clients."""


@keys.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--pilot", help="The pilot the client belongs to (platforms and curators).")
def create_key(name: str, role: str, pilot: str | None) -> None:
    """Create a key for NAME and print it (it is shown only this once)."""
    key = ApiKeys(open_store().engine).create(name, Role(role), pilot)
    click.echo(key)


@keys.command("list")
def list_keys() -> None:
    """Every client: name, role, pilot, created, revoked."""
    for client, created, revoked in ApiKeys(open_store().engine).list():
        status = f"revoked {revoked:%Y-%m-%d %H:%M}Z" if revoked else "active"
        click.echo(f"{client.name}\t{client.role.value}\t{client.pilot or '-'}\t{created:%Y-%m-%d %H:%M}Z\t{status}")


@keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke NAME's key (effective within 30 seconds on running workers)."""
    if not ApiKeys(open_store().engine).revoke(name):
        raise ConfigurationError(f"no active key named {name!r}", code="unknown-key")
    click.echo(f"revoked {name}")
