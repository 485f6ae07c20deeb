"""``noiselab citizen-reports``: list citizens' noise reports and mark them handled.

Citizens file reports from the public map (``POST /api/v1/citizen-reports``); staff review
them here, through the API or in Grafana. ``list`` prints one tab-separated line per report
in arrival order: id, when it was loud (UTC), category, status, latitude, longitude, the
handling (who, when, note) and the text, with line breaks and tabs of the text shown as
``\\n`` and ``\\t`` so each report stays on one line. ``handle`` marks a report handled once;
``--by`` names the person acting (the API records its key's name instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import DEFAULT_STORE, MetaOpt, StoreOpt
from noiselab.errors import ConfigError, NoiselabError

if TYPE_CHECKING:
    from noiselab.store.metadata import CitizenReport, MetadataStore

__all__ = ["citizen_reports_app"]

citizen_reports_app = typer.Typer(
    help="Citizens' noise reports from the public map: list them, mark them handled.",
    no_args_is_help=True,
)


def _open(store: str, meta: str | None) -> MetadataStore:
    from noiselab.store.metadata import MetadataStore

    try:
        return MetadataStore(metadata_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc


def _flat(text: str | None) -> str:
    """``text`` on one line: backslashes, line breaks and tabs escaped."""
    if text is None:
        return ""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def _line(r: CitizenReport) -> str:
    """One report as a tab-separated line."""
    handled = ""
    if r.handled_at is not None:
        handled = f"{r.handled_by} {r.handled_at:%Y-%m-%dT%H:%MZ}: {_flat(r.handling_note)}"
    return (
        f"{r.id}\t{r.ts:%Y-%m-%dT%H:%M:%SZ}\t{r.category}\t{r.status}\t{r.lat:.5f}\t{r.lon:.5f}"
        f"\t{handled}\t{_flat(r.text)}"
    )


@citizen_reports_app.command("list")
def citizen_reports_list(
    status: Annotated[
        str | None, typer.Option(help="Only reports of this status: new or handled.")
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """The reports in arrival order: id, time (UTC), category, status, lat, lon, handling,
    text."""
    if status not in (None, "new", "handled"):
        raise fail(ConfigError(f"--status {status!r}: must be new or handled"))
    registry = _open(store, meta)
    try:
        after: int | None = None
        while True:
            page = registry.citizen_reports.find(
                status=status,  # type: ignore[arg-type]  # checked above
                after_id=after,
                limit=1000,
            )
            for report in page:
                typer.echo(_line(report))
            if len(page) < 1000:
                break
            after = page[-1].id
    finally:
        registry.close()


@citizen_reports_app.command("handle")
def citizen_reports_handle(
    report_id: Annotated[int, typer.Argument(help="The report's id.")],
    note: Annotated[str, typer.Option(help="What was done (at most 500 characters).")],
    by: Annotated[str, typer.Option("--by", help="Who is acting.")],
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Mark a report handled (once) and print its line."""
    if not 1 <= report_id < 2**63:
        raise fail(ConfigError(f"no report {report_id}"))
    registry = _open(store, meta)
    try:
        found = registry.citizen_reports.handle(report_id, by=by.strip(), note=note.strip())
    except (NoiselabError, ValueError) as exc:
        raise fail(exc) from exc
    finally:
        registry.close()
    if found is None:
        raise fail(ConfigError(f"no report {report_id}"))
    typer.echo(_line(found))
