"""``noiselab weather``: the weather stations and which station each sensor takes its weather
from.

``stations add`` registers a station (id like a sensor id, name, position, anemometer height in
m, 10 by default), ``stations list`` prints them with their sensors, and ``assign SENSOR
STATION`` makes a sensor take its weather from a station (``assign SENSOR --clear`` from
none). Observations arrive over MQTT on ``{prefix}/{station_id}/weather`` or over HTTP; the
ingest marks the noise seconds their weather makes invalid (docs/analysis.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import NoiselabError

if TYPE_CHECKING:
    from noiselab.store.metadata import MetadataStore

__all__ = ["weather_app"]

weather_app = typer.Typer(
    help="Weather stations, whose wind and rain mark noise data invalid (ISO 1996-2).",
    no_args_is_help=True,
)
stations_app = typer.Typer(help="Register and list weather stations.", no_args_is_help=True)
weather_app.add_typer(stations_app, name="stations")


def _open(store: str, meta: str | None) -> MetadataStore:
    from noiselab.store.metadata import MetadataStore

    try:
        return MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc


@stations_app.command("add")
def stations_add(
    station_id: Annotated[str, typer.Argument(help="The station id, e.g. vb-weather.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")],
    lat: Annotated[float | None, typer.Option(help="Latitude, WGS 84 degrees.")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude, WGS 84 degrees.")] = None,
    height_m: Annotated[
        float, typer.Option("--height-m", help="Anemometer height above ground, m.")
    ] = 10.0,
    replace: Annotated[
        bool, typer.Option("--replace", help="Update a registered station of that id.")
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Register a weather station and print it."""
    from noiselab.store.metadata import WeatherStation

    try:
        station = WeatherStation(id=station_id, name=name, lat=lat, lon=lon, height_m=height_m)
    except ValueError as exc:
        raise fail(exc) from exc
    with _open(store, meta) as registry:
        try:
            added = registry.weather.add(station, replace=replace)
        except NoiselabError as exc:
            raise fail(exc) from exc
    typer.echo(f"{added.id}\t{added.name}\t{added.height_m:g} m")


@stations_app.command("list")
def stations_list(store: StoreOpt = DEFAULT_STORE, meta: MetaOpt = None) -> None:
    """One tab-separated line per station: id, name, lat, lon, anemometer height, sensors."""
    with _open(store, meta) as registry:
        try:
            stations = registry.weather.all()
            assigned = registry.weather.assignments()
        except NoiselabError as exc:
            raise fail(exc) from exc
    for s in stations:
        sensors = ",".join(sid for sid, station in assigned.items() if station == s.id) or "-"
        where = "-\t-" if s.lat is None else f"{s.lat:.6f}\t{s.lon:.6f}"
        typer.echo(f"{s.id}\t{s.name}\t{where}\t{s.height_m:g} m\t{sensors}")


@weather_app.command("assign")
def assign(
    sensor_id: Annotated[str, typer.Argument(help="The sensor.")],
    station_id: Annotated[
        str | None, typer.Argument(help="The station it takes its weather from.")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Take the weather from no station.")
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Make SENSOR take its weather from STATION (or, with --clear, from none)."""
    from noiselab.errors import ConfigError
    from noiselab.store.metadata import UnknownStation

    if (station_id is None) != clear:
        raise fail(ConfigError("give a STATION, or --clear (not both)"))
    with _open(store, meta) as registry:
        try:
            registry.weather.assign(sensor_id, station_id)
        except (UnknownStation, NoiselabError) as exc:
            raise fail(exc) from exc
    typer.echo(f"{sensor_id}\t{station_id or '-'}")
