"""``noiselab report``: the monthly or annual report of the network or one sensor, as HTML
(default), CSV or PDF, read straight from the stores (the API serves the same report at
``GET /api/v1/reports/{period}``).

``--month 2026-11`` or ``--year 2026`` (one of them). ``--out FILE`` writes the report there
(the format follows its suffix unless ``--format`` is given); without it HTML and CSV go to
standard output. A PDF needs ``--out`` and headless Chromium (``chromium`` on ``PATH``, or
``NOISELAB_CHROMIUM``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from noiselab.cli.common import fail, open_stores
from noiselab.cli.options import (
    DEFAULT_DAY,
    DEFAULT_EVENING,
    DEFAULT_STORE,
    DayOpt,
    EveningOpt,
    MetaOpt,
    StoreOpt,
)
from noiselab.config import parse_hours, parse_zone
from noiselab.errors import ConfigError, NoiselabError

__all__ = ["report"]

Format = Literal["html", "csv", "pdf"]


def _format(chosen: str | None, out: Path | None) -> Format:
    """``--format``, else the suffix of ``--out``, else HTML."""
    name = chosen or (out.suffix.lstrip(".").lower() if out is not None else "") or "html"
    if name not in ("html", "csv", "pdf"):
        raise ConfigError(f"--format {name!r}: must be html, csv or pdf")
    return name  # type: ignore[return-value]  # checked above


def _period_text(month: str | None, year: str | None) -> str:
    if (month is None) == (year is None):
        raise ConfigError("give one of --month YYYY-MM or --year YYYY")
    if month is not None and len(month.strip()) != len("YYYY-MM"):
        raise ConfigError(f"--month {month!r}: expected YYYY-MM, e.g. 2026-11")
    if year is not None and len(year.strip()) != len("YYYY"):
        raise ConfigError(f"--year {year!r}: expected YYYY, e.g. 2026")
    return month or year or ""


def report(
    month: Annotated[str | None, typer.Option(help="A month, YYYY-MM.")] = None,
    year: Annotated[str | None, typer.Option(help="A year, YYYY.")] = None,
    sensor: Annotated[
        str | None, typer.Option(help="One sensor's report; default the whole network.")
    ] = None,
    format: Annotated[
        str | None, typer.Option(help="html, csv or pdf; default from --out, else html.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file; default standard output.")
    ] = None,
    weather: Annotated[
        str, typer.Option(help="exclude (default, ISO 1996-2) or include wind and rain.")
    ] = "exclude",
    zone: Annotated[
        str, typer.Option(envvar="NOISELAB_ZONE", help="Local time zone (IANA) for dates.")
    ] = "Europe/Copenhagen",
    day: DayOpt = DEFAULT_DAY,
    evening: EveningOpt = DEFAULT_EVENING,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Write the monthly or annual report: Lden, Lday, Levening, Lnight, LAeq,24h, days and
    hours above the guideline value, coverage and what was left out, the year before, the
    alerts and the citizens' reports."""
    from noiselab.reports import (
        build_report,
        html_to_pdf,
        parse_period,
        render_csv,
        render_html,
    )
    from noiselab.validity.daily import DailyPlan
    from noiselab.validity.deployment import deployment_validity

    try:
        form = _format(format, out)
        if form == "pdf" and out is None:
            raise ConfigError("--format pdf: give --out FILE.pdf")
        if weather not in ("exclude", "include"):
            raise ConfigError(f"--weather {weather!r}: must be exclude or include")
        try:
            period = parse_period(_period_text(month, year))
        except ValueError as exc:
            raise ConfigError(f"--month/--year: {exc}") from exc
        plan = DailyPlan(
            parse_zone("--zone", zone), parse_hours("--day", day), parse_hours("--evening", evening)
        )
        readings, metadata = open_stores(store, meta)
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        built = build_report(
            readings,
            metadata,
            deployment_validity(metadata, plan.zone, keep=True),
            period,
            plan,
            sensor_id=sensor,
            weather=weather,  # type: ignore[arg-type]  # checked above
        )
        if form == "csv":
            data = render_csv(built).encode("utf-8")
        else:
            page = render_html(built)
            data = html_to_pdf(page) if form == "pdf" else page.encode("utf-8")
    except LookupError as exc:
        raise fail(ConfigError(f"--sensor: {exc.args[0]}")) from exc
    except NoiselabError as exc:
        raise fail(exc) from exc
    finally:
        readings.close()
        metadata.close()
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.write_bytes(data)
    typer.echo(f"wrote {out} ({len(data):,} bytes, {period.label}, {form})", err=True)
