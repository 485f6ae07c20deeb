"""``noiselab annotations``: add, list and withdraw staff annotations of periods and places.

An annotation marks a period (whole minutes, at most 366 days) of some sensors (``--sensor``,
repeated), of the registered sensors within ``--radius`` metres of a place (``--near
LAT,LON``, resolved now and kept as the annotation's sensor list), or of every sensor
(neither), with a category and a reason; ``--exclude`` leaves the period out of the indicators
and trials. Annotations are never edited or deleted, only withdrawn with a reason. ``--by``
names the person acting (default: the login name; the API records its key's name instead).
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import ConfigError, NoiselabError

if TYPE_CHECKING:
    from noiselab.store.metadata import Annotation, MetadataStore, Place

__all__ = ["annotations_app"]

annotations_app = typer.Typer(
    help="Staff annotations of periods and places (roadworks, events, faulty equipment).",
    no_args_is_help=True,
)

_TIME = "an RFC 3339 time on a whole minute, e.g. 2026-03-04T08:00Z (UTC without an offset)"
ByOpt = Annotated[str | None, typer.Option("--by", help="Who is acting (default: the login name).")]


def _when(name: str, text: str) -> datetime:
    from noiselab.config import parse_utc_time

    return datetime.fromtimestamp(parse_utc_time(name, text, _TIME), UTC)


def _who(by: str | None) -> str:
    return (by if by is not None else getpass.getuser()).strip()


def _open(store: str, meta: str | None) -> MetadataStore:
    from noiselab.store.metadata import MetadataStore

    try:
        return MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc


def _place(near: str | None, radius: float | None) -> Place | None:
    """The place of ``--near LAT,LON`` and ``--radius M``, which go together."""
    from noiselab.store.metadata import Place

    if near is None and radius is None:
        return None
    if near is None or radius is None:
        raise ConfigError("--near and --radius: give both, or neither")
    parts = near.split(",")
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError as exc:
        raise ConfigError(f"--near {near!r}: expected LAT,LON in decimal degrees") from exc
    return Place(lat=lat, lon=lon, radius_m=radius)


def _line(a: Annotation) -> str:
    """One annotation as a tab-separated line: id, start, end (UTC), sensors, category,
    excluded or marked, state, made by and when, reason."""
    state = "active"
    if a.withdrawn_at is not None:
        state = (
            f"withdrawn {a.withdrawn_at:%Y-%m-%dT%H:%MZ} by {a.withdrawn_by}: {a.withdraw_reason}"
        )
    sensors = ",".join(a.sensor_ids) or "all"
    effect = "excluded" if a.exclude else "marked"
    made = f"{a.created_by} {a.created_at:%Y-%m-%dT%H:%MZ}"
    span = f"{a.start:%Y-%m-%dT%H:%MZ}\t{a.end:%Y-%m-%dT%H:%MZ}"
    return f"{a.id}\t{span}\t{sensors}\t{a.category}\t{effect}\t{state}\t{made}\t{a.text}"


@annotations_app.command("add")
def annotations_add(
    start: Annotated[str, typer.Option(help="First instant (whole minute).")],
    end: Annotated[str, typer.Option(help="First instant after the period (whole minute).")],
    category: Annotated[str, typer.Option(help="roadworks, event, equipment or other.")],
    text: Annotated[str, typer.Option(help="The reason (at most 500 characters).")],
    sensor: Annotated[
        list[str] | None, typer.Option("--sensor", help="A sensor it concerns (repeat).")
    ] = None,
    near: Annotated[
        str | None, typer.Option(help="LAT,LON of a place: the sensors within --radius.")
    ] = None,
    radius: Annotated[float | None, typer.Option(help="Radius around --near, m.")] = None,
    exclude: Annotated[
        bool, typer.Option("--exclude", help="Leave the period out of indicators and trials.")
    ] = False,
    by: ByOpt = None,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Add an annotation and print its line. Neither --sensor nor --near: every sensor."""
    from noiselab.model import utcnow
    from noiselab.store.metadata import ANNOTATION_CATEGORIES, Annotation

    try:
        if category not in ANNOTATION_CATEGORIES:
            raise ConfigError(
                f"--category {category!r}: must be one of {', '.join(ANNOTATION_CATEGORIES)}"
            )
        place = _place(near, radius)
        if place is not None and sensor:
            raise ConfigError("--sensor and --near: give sensors or a place, not both")
        annotation = Annotation(
            start=_when("--start", start),
            end=_when("--end", end),
            category=category,  # checked above
            text=text.strip(),
            exclude=exclude,
            sensor_ids=tuple(sorted(set(sensor or ()))),
            place=place,
            created_by=_who(by),
            created_at=utcnow(),
        )
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    registry = _open(store, meta)
    try:
        stored = registry.annotations.add(annotation)
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    typer.echo(_line(stored))


@annotations_app.command("list")
def annotations_list(
    sensor: Annotated[
        str | None, typer.Option(help="Only those concerning this sensor (and every sensor).")
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="Only those not withdrawn.")] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Every annotation, oldest first: id, start, end (UTC), sensors (all: every sensor),
    category, excluded or marked, state, made by and when, reason."""
    registry = _open(store, meta)
    try:
        after: int | None = None
        while True:
            page = registry.annotations.find(
                sensor_id=sensor, include_withdrawn=not active, after_id=after, limit=1000
            )
            for annotation in page:
                typer.echo(_line(annotation))
            if len(page) < 1000:
                break
            after = page[-1].id
    finally:
        registry.close()


@annotations_app.command("withdraw")
def annotations_withdraw(
    annotation_id: Annotated[int, typer.Argument(help="The annotation's id.")],
    reason: Annotated[str, typer.Option(help="Why it is withdrawn.")],
    by: ByOpt = None,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Withdraw an annotation (it stops applying; its row stays, with both reasons)."""
    if not 1 <= annotation_id < 2**63:
        raise fail(ConfigError(f"no annotation {annotation_id}"))
    registry = _open(store, meta)
    try:
        found = registry.annotations.withdraw(annotation_id, by=_who(by), reason=reason.strip())
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    if found is None:
        raise fail(ConfigError(f"no annotation {annotation_id}"))
    typer.echo(_line(found))
