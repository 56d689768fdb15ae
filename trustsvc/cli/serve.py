"""``trustsvc serve``: the HTTP service (uvicorn), and ``trustsvc keys``: its clients' API keys."""

from __future__ import annotations

import click

from ..errors import ConfigurationError

ROLES = ("platform", "curator", "admin")  # trustsvc.service.keys.Role, spelled out so --help imports no database code

__all__ = ["serve", "keys"]


def _api_keys():
    """The store's API keys (imported here: the database code is not needed to start the server)."""
    from ..service.keys import ApiKeys
    from .context import open_store

    return ApiKeys(open_store().engine)


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
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--pilot", help="The pilot the client belongs to (platforms and curators).")
def create_key(name: str, role: str, pilot: str | None) -> None:
    """Create a key for NAME and print it (it is shown only this once)."""
    from ..service.keys import Role

    key = _api_keys().create(name, Role(role), pilot)
    click.echo(key)


@keys.command("list")
def list_keys() -> None:
    """Every client: name, role, pilot, created, revoked."""
    for client, created, revoked in _api_keys().list():
        status = f"revoked {revoked:%Y-%m-%d %H:%M}Z" if revoked else "active"
        click.echo(f"{client.name}\t{client.role.value}\t{client.pilot or '-'}\t{created:%Y-%m-%d %H:%M}Z\t{status}")


@keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke NAME's key (effective within 30 seconds on running workers)."""
    if not _api_keys().revoke(name):
        raise ConfigurationError(f"no active key named {name!r}", code="unknown-key")
    click.echo(f"revoked {name}")
