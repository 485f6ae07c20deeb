"""``noiselab calibrations``: log a sensor's field calibrations and read its calibration
history.

A field calibration plays a calibrator's reference level (``--reference``, dB) into the
microphone and notes what the sensor read before adjusting it (``--before``) and, when it was
adjusted, after (``--after``). The log is append-only. Logging runs the drift check: a drift
over 0.5 dB from the calibration before (or after) it opens a staff alert. ``--by`` names who
calibrated. ``list`` prints the history with each entry's deviation and drift, then the
calibration-uncertain spans.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import NoiselabError

if TYPE_CHECKING:
    from noiselab.calibration import HistoryEntry
    from noiselab.store.metadata import MetadataStore

__all__ = ["calibrations_app"]

calibrations_app = typer.Typer(
    help="A sensor's calibration log: field calibrations and tone checks, and their drift.",
    no_args_is_help=True,
)

_TIME = "an RFC 3339 time, e.g. 2026-11-02T10:00Z (UTC without an offset)"
SensorArg = Annotated[str, typer.Argument(help="The sensor's id.")]


def _open(store: str, meta: str | None) -> MetadataStore:
    from noiselab.store.metadata import MetadataStore

    try:
        return MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc


def _db(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _line(entry: HistoryEntry) -> str:
    """One entry as a tab-separated line: id, time (UTC), kind, reference, before, after,
    deviation, drift (``!`` when over 0.5 dB), by, state, note."""
    from noiselab.analysis.calibration import exceeds_tolerance

    c = entry.calibration
    drift = "-" if entry.drift_db is None else f"{entry.drift_db:+.2f}"
    if entry.drift_db is not None and exceeds_tolerance(entry.drift_db):
        drift += " !"
    state = "active"
    if c.withdrawn_at is not None:
        state = (
            f"withdrawn {c.withdrawn_at:%Y-%m-%dT%H:%MZ} by {c.withdrawn_by}: {c.withdraw_reason}"
        )
    levels = "\t".join(_db(v) for v in (c.reference_db, c.before_db, c.after_db))
    return (
        f"{c.id}\t{c.ts:%Y-%m-%dT%H:%MZ}\t{c.kind}\t{levels}\t{entry.deviation_db:+.2f}\t{drift}"
        f"\t{c.by}\t{state}\t{c.note}"
    )


@calibrations_app.command("add")
def calibrations_add(
    sensor_id: SensorArg,
    reference: Annotated[float, typer.Option(help="The calibrator's level, dB (e.g. 94.0).")],
    before: Annotated[float, typer.Option(help="Level the sensor read before adjustment, dB.")],
    by: Annotated[str, typer.Option("--by", help="Who calibrated (at most 100 characters).")],
    after: Annotated[
        float | None, typer.Option(help="Level read after adjustment, dB (omit: not adjusted).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=f"When, {_TIME}; default now.")] = None,
    note: Annotated[str, typer.Option(help="A note (at most 500 characters).")] = "",
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Log a field calibration, print its line (with its drift) and any drift alert opened."""
    from noiselab.calibration import CalibrationLog, with_drift
    from noiselab.config import parse_utc_time
    from noiselab.model import utcnow
    from noiselab.store.metadata import Calibration

    try:
        when = (
            utcnow()
            if at is None
            else datetime.fromtimestamp(parse_utc_time("--at", at, _TIME), UTC)
        )
        calibration = Calibration(
            sensor_id=sensor_id,
            ts=when,
            kind="field",
            reference_db=reference,
            before_db=before,
            after_db=after,
            by=by.strip(),
            note=note.strip(),
        )
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    registry = _open(store, meta)
    try:
        logged = CalibrationLog(registry).add(calibration)
        history = with_drift(registry.calibrations.history(sensor_id))
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    stored = logged.calibration
    entry = next(h for h in history if stored is not None and h.calibration.id == stored.id)
    typer.echo(_line(entry))
    for alert in logged.alerts:
        typer.echo(
            f"drift alert {alert.id} opened ({alert.rule_name}): {alert.value:+.2f} dB", err=True
        )


@calibrations_app.command("list")
def calibrations_list(
    sensor_id: SensorArg,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """The history in the order done: id, time (UTC), kind, reference, before, after,
    deviation, drift since the previous active entry (``!`` over 0.5 dB), by, state, note;
    then one ``uncertain`` line per calibration-uncertain span."""
    from noiselab.calibration import drift_spans, span_reason, with_drift
    from noiselab.calibration.spans import COPENHAGEN

    registry = _open(store, meta)
    try:
        if registry.sensors.get(sensor_id) is None:
            raise fail(NoiselabError(f"unknown sensor {sensor_id!r}"))
        entries = registry.calibrations.history(sensor_id)
    except NoiselabError as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    for entry in with_drift(entries):
        typer.echo(_line(entry))
    for first, second, span in drift_spans(entries):
        typer.echo(
            f"uncertain\t{first.ts:%Y-%m-%dT%H:%MZ}\t{second.ts:%Y-%m-%dT%H:%MZ}\t"
            f"{span_reason(first, second, span.drift_db, COPENHAGEN)}"
        )
