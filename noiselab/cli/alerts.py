"""``noiselab alerts``: evaluate the alert rules and send their webhooks."""

from __future__ import annotations

from typing import Annotated

import typer

from noiselab.cli.common import fail, on_signals, open_stores
from noiselab.cli.options import (
    DEFAULT_DAY,
    DEFAULT_EVENING,
    DEFAULT_STORE,
    DayOpt,
    EveningOpt,
    LogJsonOpt,
    LogLevelOpt,
    MetaOpt,
    StoreOpt,
    WebhookAllowOpt,
)
from noiselab.config import parse_hours, parse_zone
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["alerts"]


def alerts(
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    interval: Annotated[
        float,
        typer.Option(envvar="NOISELAB_ALERTS_INTERVAL", min=1, help="Seconds between evaluations."),
    ] = 60.0,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            envvar="NOISELAB_ALERTS_ONCE",
            help="Evaluate once, send the due webhooks once, exit.",
        ),
    ] = False,
    zone: Annotated[
        str, typer.Option(envvar="NOISELAB_ZONE", help="Local time zone (IANA) for hours, days.")
    ] = "Europe/Copenhagen",
    day: DayOpt = DEFAULT_DAY,
    evening: EveningOpt = DEFAULT_EVENING,
    webhook_attempts: Annotated[
        int,
        typer.Option(envvar="NOISELAB_WEBHOOK_ATTEMPTS", min=1, max=20, help="Tries per webhook."),
    ] = 8,
    webhook_backoff: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_WEBHOOK_BACKOFF",
            min=0,
            max=3600,
            help="Seconds before the 2nd try; doubled each time (jittered), at most 1 h.",
        ),
    ] = 30.0,
    webhook_timeout: Annotated[
        float,
        typer.Option(envvar="NOISELAB_WEBHOOK_TIMEOUT", min=0.1, help="Seconds per webhook try."),
    ] = 5.0,
    webhook_allow: WebhookAllowOpt = None,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Evaluate the alert rules every INTERVAL seconds: open, keep and resolve alerts."""
    from noiselab.alerts import AlertService, Evaluator, WebhookSender
    from noiselab.alerts.url_policy import AllowList

    configure_logging(log_level, as_json=log_json)
    try:
        tz = parse_zone("--zone", zone)
        allow = AllowList.parse(webhook_allow or ())
        periods = parse_hours("--day", day), parse_hours("--evening", evening)
        reading_store, registry = open_stores(store, meta)
    except NoiselabError as exc:
        raise fail(exc) from exc
    sender = WebhookSender(
        registry,
        allow=allow,
        attempts=webhook_attempts,
        backoff_s=webhook_backoff,
        timeout_s=webhook_timeout,
    )
    evaluator = Evaluator(
        reading_store,
        registry,
        zone=tz,
        day=periods[0],
        evening=periods[1],
        notify=lambda _rule, _alert, _what: sender.wake(),
    )
    service = AlertService(evaluator, interval_s=interval, sender=sender)
    try:
        if once:
            outcome = service.run_once()
            sender.run_once()
            if outcome is None:
                raise typer.Exit(1)
            typer.echo(
                f"opened {len(outcome.opened)}, still open {outcome.held}, "
                f"resolved {len(outcome.resolved)}, failed checks {outcome.failed}"
            )
        else:
            on_signals(service.request_stop)
            service.run()
    finally:
        sender.close()
        reading_store.close()
        registry.close()
