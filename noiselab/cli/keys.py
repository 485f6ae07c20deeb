"""``noiselab keys``: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import NoiselabError

__all__ = ["keys_app"]

keys_app = typer.Typer(help="API keys (sent as Authorization: Bearer KEY).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="vendor, staff, admin or sensor.")],
    name: Annotated[str, typer.Option(help="Who holds the key, e.g. the vendor's name.")],
    sensors: Annotated[
        str,
        typer.Option(
            help="Vendor keys: the vendor's sensor ids; sensor keys: the sensors they may push "
            "readings for (comma-separated)."
        ),
    ] = "",
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from noiselab.api.auth import create_key
    from noiselab.errors import ConfigError
    from noiselab.model import ROLES, Role
    from noiselab.store.metadata import MetadataStore

    try:
        if role not in ROLES:
            raise ConfigError(f"--role {role!r}: must be one of admin, staff, vendor, sensor")
        ids = tuple(dict.fromkeys(part.strip() for part in sensors.split(",") if part.strip()))
        registry = MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        key, text = create_key(registry, role=cast("Role", role), name=name, sensors=ids)
    except ValueError as exc:
        raise fail(ConfigError(str(exc))) from exc
    finally:
        registry.close()
    typer.echo(text)
    typer.echo(f"created {key.role} key {key.id} ({key.name}); it is shown only now", err=True)


@keys_app.command("list")
def keys_list(store: StoreOpt = DEFAULT_STORE, meta: MetaOpt = None) -> None:
    """List API keys (never their secrets): id, role, state, last use, sensors, name."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(metadata_url(store, meta))
    try:
        for key in registry.keys.all():
            revoked, used = key.revoked_at, key.last_used
            state = "active" if revoked is None else f"revoked {revoked:%Y-%m-%dT%H:%MZ}"
            used_at = "-" if used is None else f"{used:%Y-%m-%dT%H:%MZ}"
            owned = ",".join(key.sensors) or "-"
            typer.echo(f"{key.id}\t{key.role}\t{state}\t{used_at}\t{owned}\t{key.name}")
    finally:
        registry.close()


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after nl_).")],
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Revoke an API key; a running API stops accepting it within its auth cache window."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(metadata_url(store, meta))
    try:
        found = registry.keys.revoke(key_id)
    finally:
        registry.close()
    if not found:
        typer.echo(f"noiselab: no API key {key_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked {key_id}")
