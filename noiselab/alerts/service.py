"""The evaluator loop behind ``noiselab alerts``: one pass every ``interval_s`` seconds.

Passes are aligned to whole intervals of the clock (with 60 s: just after each minute, when
the minute roll-ups are complete). A pass that fails on the store or the database is logged
and retried at the next tick; :meth:`AlertService.request_stop` (SIGTERM, SIGINT) ends the
loop between passes. Beside it a :class:`~noiselab.alerts.webhook.WebhookSender` empties the
webhook outbox on its own thread; what it has not sent when the service stops stays queued in
the database for the next start.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from noiselab.alerts.evaluate import Evaluator, Outcome
from noiselab.alerts.webhook import WebhookSender
from noiselab.errors import NoiselabError
from noiselab.logs import event

__all__ = ["AlertService"]

log = logging.getLogger("noiselab.alerts")

SETTLE_S = 5.0
"""Seconds after each tick before evaluating, so the ingest has written the last minute."""


class AlertService:
    """Runs ``evaluator`` every ``interval_s`` seconds of ``clock`` (Unix s)."""

    def __init__(
        self,
        evaluator: Evaluator,
        *,
        interval_s: float = 60.0,
        sender: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval {interval_s} s must be positive")
        self._evaluator, self._interval_s = evaluator, interval_s
        self._sender, self._clock = sender, clock
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """End the loop after the current pass (signal-handler safe)."""
        self._stop.set()

    def run_once(self) -> Outcome | None:
        """One pass now; ``None`` when the store or database failed, or the pass crashed
        (logged, with the traceback for anything unexpected)."""
        now = self._clock()
        started = time.monotonic()
        try:
            outcome = self._evaluator.run(now)
        except NoiselabError as exc:
            retry = getattr(exc, "retryable", False)
            event(
                log,
                "alert evaluation failed; retrying at the next tick",
                level=logging.WARNING,
                error=str(exc),
                retryable=retry,
            )
            return None
        except Exception:  # a bug in one pass must not end the service; the next may pass
            log.exception("alert evaluation crashed; retrying at the next tick")
            return None
        event(
            log,
            "alerts evaluated",
            opened=len(outcome.opened),
            held=outcome.held,
            resolved=len(outcome.resolved),
            failed=outcome.failed,
            seconds=round(time.monotonic() - started, 3),
        )
        return outcome

    def run(self) -> None:
        """Evaluate at every tick until stopped, sending webhooks meanwhile."""
        event(log, "alert evaluator started", interval_s=self._interval_s)
        thread = None
        if self._sender is not None:
            thread = threading.Thread(
                target=self._sender.run, args=(self._stop,), name="webhooks", daemon=True
            )
            thread.start()
        try:
            while not self._stop.is_set():
                self.run_once()
                now = self._clock()
                tick = math.floor(now / self._interval_s + 1) * self._interval_s
                settle = min(SETTLE_S, self._interval_s / 10)
                self._stop.wait(max(0.0, tick + settle - now))
        finally:
            self._stop.set()
            if thread is not None and self._sender is not None:
                self._sender.wake()
                thread.join()
            event(log, "alert evaluator stopped")
