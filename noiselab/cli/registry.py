"""``noiselab sensors``: the sensor registry (list, add, import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import NoiselabError

__all__ = ["sensors_app"]

sensors_app = typer.Typer(help="The sensor registry.", no_args_is_help=True)


@sensors_app.command("list")
def sensors_list(store: StoreOpt = DEFAULT_STORE, meta: MetaOpt = None) -> None:
    """List registered sensors."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(metadata_url(store, meta))
    try:
        for s in registry.sensors.all():
            where = f"{s.lat:.5f},{s.lon:.5f}" if s.lat is not None and s.lon is not None else "-"
            visibility = "public" if s.public else "private"
            typer.echo(f"{s.id}\t{s.source or '-'}\t{where}\t{visibility}\t{s.name}")
    finally:
        registry.close()


@sensors_app.command("add")
def sensors_add(
    sensor_id: Annotated[str, typer.Argument(help="Sensor id, [a-z0-9][a-z0-9-]{1,63}.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    lat: Annotated[float | None, typer.Option(help="Latitude, degrees north.")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude, degrees east.")] = None,
    source: Annotated[str | None, typer.Option(help="road, rail or background.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    public: Annotated[bool, typer.Option("--public/--private", help="On the map.")] = True,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Register (or update) one sensor."""
    from noiselab.store.metadata import MetadataStore, sensor_from_fields

    try:
        sensor = sensor_from_fields(
            {
                "id": sensor_id,
                "name": name or sensor_id,
                "lat": lat,
                "lon": lon,
                "source": source,
                "description": description,
                "public": public,
            }
        )
        registry = MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        registry.sensors.add([sensor], replace=True)
    finally:
        registry.close()
    typer.echo(f"registered {sensor.id}")


@sensors_app.command("import")
def sensors_import(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="JSON or CSV: id,name,lat,lon,source,...; or a simulator site file "
            '({"sites": [...]}, like vallensbaek.json).'
        ),
    ] = None,
    default_sites: Annotated[
        bool,
        typer.Option(
            "--default-sites", help="Import the simulator's 12 Vallensbæk sites (no PATH)."
        ),
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Register (or update) the sensors listed in a JSON or CSV file."""
    from noiselab.errors import ConfigError
    from noiselab.sensors_sim.sites import (
        is_site_file,
        load_site_file,
        registry_sensors,
        sensors_from_spec,
    )
    from noiselab.store.metadata import MetadataStore, load_sensors_file

    try:
        if default_sites == (path is not None):
            raise ConfigError("give a PATH or --default-sites (one of them)")
        if path is None:
            sensors = registry_sensors(sensors_from_spec("default"))
            source = "the default Vallensbæk sites"
        else:
            site_file = is_site_file(path)
            sensors = (
                registry_sensors(load_site_file(path)) if site_file else load_sensors_file(path)
            )
            source = str(path)
        registry = MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        count = registry.sensors.add(sensors, replace=True)
    finally:
        registry.close()
    typer.echo(f"imported {count} sensors from {source}")
