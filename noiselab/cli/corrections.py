"""``noiselab corrections``: add, list and withdraw staff corrections of stored history.

A correction leaves a sensor's range out of the indicators and trial evaluations, or adds an
offset (dB) to its levels there; the stored readings are never changed. Corrections are kept
in the metadata database as an audit log: never edited or deleted, only withdrawn with a
reason. ``--by`` names the person acting (the API records its key's name instead).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import ConfigError, NoiselabError

if TYPE_CHECKING:
    from noiselab.store.metadata import Correction, MetadataStore

__all__ = ["corrections_app"]

corrections_app = typer.Typer(
    help="Staff corrections of stored data (an audit log; readings are never rewritten).",
    no_args_is_help=True,
)

_TIME = "an RFC 3339 time on a whole minute, e.g. 2026-03-04T08:00Z (UTC without an offset)"
ByOpt = Annotated[str, typer.Option("--by", help="Who is acting (recorded in the audit log).")]
ReasonOpt = Annotated[str, typer.Option(help="Why (cited in trial reports).")]


def _when(name: str, text: str) -> datetime:
    from noiselab.config import parse_utc_time

    return datetime.fromtimestamp(parse_utc_time(name, text, _TIME), UTC)


def _open(store: str, meta: str | None) -> MetadataStore:
    from noiselab.store.metadata import MetadataStore

    try:
        return MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc


def _line(c: Correction) -> str:
    """One correction as a tab-separated line of the audit log."""
    kind = "exclude" if c.kind == "exclude" else f"offset {c.offset_db:+g} dB"
    state = "active"
    if c.withdrawn_at is not None:
        state = (
            f"withdrawn {c.withdrawn_at:%Y-%m-%dT%H:%MZ} by {c.withdrawn_by}: {c.withdraw_reason}"
        )
    made = f"{c.created_by} {c.created_at:%Y-%m-%dT%H:%MZ}"
    span = f"{c.start:%Y-%m-%dT%H:%MZ}\t{c.end:%Y-%m-%dT%H:%MZ}"
    return f"{c.id}\t{c.sensor_id}\t{span}\t{kind}\t{state}\t{made}\t{c.reason}"


@corrections_app.command("add")
def corrections_add(
    sensor_id: Annotated[str, typer.Argument(help="The sensor whose data is corrected.")],
    start: Annotated[str, typer.Option(help="First instant corrected (whole minute).")],
    end: Annotated[str, typer.Option(help="First instant after the range (whole minute).")],
    reason: ReasonOpt,
    by: ByOpt,
    kind: Annotated[str, typer.Option(help="exclude (leave out) or offset (add --offset-db).")],
    offset_db: Annotated[
        float | None, typer.Option("--offset-db", help="dB added to every level (offset only).")
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Add a correction and print its line of the audit log."""
    from noiselab.model import utcnow
    from noiselab.store.metadata import Correction

    try:
        if kind not in ("exclude", "offset"):
            raise ConfigError(f"--kind {kind!r}: must be exclude or offset")
        correction = Correction(
            sensor_id=sensor_id,
            start=_when("--start", start),
            end=_when("--end", end),
            kind=kind,  # type: ignore[arg-type]  # checked above
            offset_db=offset_db,
            reason=reason.strip(),
            created_by=by.strip(),
            created_at=utcnow(),
        )
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    registry = _open(store, meta)
    try:
        stored = registry.corrections.add(correction)
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    typer.echo(_line(stored))


@corrections_app.command("list")
def corrections_list(
    sensor: Annotated[str | None, typer.Option(help="Only this sensor's corrections.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only those not withdrawn.")] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """The audit log, oldest first: id, sensor, start, end (UTC), correction, state, made by
    and when, reason."""
    registry = _open(store, meta)
    try:
        after: int | None = None
        while True:
            page = registry.corrections.find(
                sensor_ids=None if sensor is None else [sensor],
                include_withdrawn=not active,
                after_id=after,
                limit=1000,
            )
            for correction in page:
                typer.echo(_line(correction))
            if len(page) < 1000:
                break
            after = page[-1].id
    finally:
        registry.close()


@corrections_app.command("withdraw")
def corrections_withdraw(
    correction_id: Annotated[int, typer.Argument(help="The correction's id.")],
    reason: ReasonOpt,
    by: ByOpt,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Withdraw a correction (it stops applying; its row stays, with both reasons)."""
    if not 1 <= correction_id < 2**63:
        raise fail(ConfigError(f"no correction {correction_id}"))
    registry = _open(store, meta)
    try:
        found = registry.corrections.withdraw(correction_id, by=by.strip(), reason=reason.strip())
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    if found is None:
        raise fail(ConfigError(f"no correction {correction_id}"))
    typer.echo(_line(found))
