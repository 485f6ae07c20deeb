"""Webhook notifications: POST a JSON document to a rule's ``webhook_url`` when one of its
alerts opens or resolves itself, retrying with exponential backoff.

Deliveries run on a small thread pool, so a slow or dead receiver never holds up the
evaluation loop. Policy: up to ``attempts`` tries (default 4); a 2xx answer is success; a
connection error, a timeout, 408, 429 or 5xx is retried after ``backoff_s · 2^(n-1)`` seconds
(1, 2, 4 s by default); any other answer is final. The outcome is written to the alert's
history (``notified`` or ``notify_failed``, actor ``evaluator``). Deliveries are at least
once: a receiver may see the same ``delivery`` id twice and should drop repeats.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx

from noiselab import __version__
from noiselab.logs import event
from noiselab.model import rfc3339, utcnow
from noiselab.store.metadata import Alert, AlertRepository, AlertRule

__all__ = ["RETRY_STATUSES", "WebhookNotifier", "payload"]

log = logging.getLogger("noiselab.alerts.webhook")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _iso(when: datetime | None) -> str | None:
    return None if when is None else rfc3339(when)


def payload(rule: AlertRule, alert: Alert, what: str, now: datetime) -> dict[str, Any]:
    """The JSON document POSTed: ``event`` (``alert.opened`` or ``alert.resolved``), a
    ``delivery`` id, the rule and the alert with its evidence. Times RFC 3339 UTC."""
    return {
        "event": f"alert.{what}",
        "delivery": f"{alert.id}-{what}",
        "sent_at": _iso(now),
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind, "metric": rule.metric},
        "alert": {
            "id": alert.id,
            "sensor_id": alert.sensor_id,
            "state": alert.state,
            "opened_at": _iso(alert.opened_at),
            "resolved_at": _iso(alert.resolved_at),
            "value": alert.value,
            "threshold": alert.threshold,
            "unit": alert.unit,
            "evidence": alert.evidence,
        },
    }


class WebhookNotifier:
    """Sends notifications in the background and records their outcome in ``repo``."""

    def __init__(
        self,
        repo: AlertRepository,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        timeout_s: float = 5.0,
        workers: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if attempts < 1 or backoff_s < 0 or timeout_s <= 0:
            raise ValueError("attempts >= 1, backoff_s >= 0 and timeout_s > 0 are needed")
        self._repo, self._attempts, self._backoff_s = repo, attempts, backoff_s
        self._client = httpx.Client(
            timeout=timeout_s,
            transport=transport,
            headers={"User-Agent": f"noiselab/{__version__}"},
            follow_redirects=False,
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._stop = threading.Event()

    def __call__(self, rule: AlertRule, alert: Alert, what: str) -> Future[bool]:
        """Queue a delivery of ``what`` (``opened``/``resolved``) for ``alert``."""
        assert rule.webhook_url is not None
        body = payload(rule, alert, what, utcnow())
        return self._pool.submit(self._deliver, rule.webhook_url, body, alert.id)

    def _deliver(self, url: str, body: dict[str, Any], alert_id: int) -> bool:
        outcome = "not sent"
        for attempt in range(1, self._attempts + 1):
            if attempt > 1 and self._stop.wait(self._backoff_s * 2 ** (attempt - 2)):
                break
            try:
                response = self._client.post(url, json=body)
            except httpx.HTTPError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
                continue
            outcome = f"HTTP {response.status_code}"
            if response.is_success:
                self._record(alert_id, "notified", f"POST {url}: {outcome}, attempt {attempt}")
                return True
            if response.status_code not in RETRY_STATUSES:
                break
        note = f"POST {url}: {outcome} after {attempt} attempt(s)"
        event(log, "webhook failed", level=logging.WARNING, alert=alert_id, url=url, error=note)
        self._record(alert_id, "notify_failed", note)
        return False

    def _record(self, alert_id: int, action: str, note: str) -> None:
        try:
            self._repo.record(alert_id, action=action, note=note, now=utcnow())
        except Exception as exc:  # a history line must not kill the worker
            event(log, "cannot record webhook outcome", level=logging.WARNING, error=str(exc))

    def close(self, *, wait: bool = True) -> None:
        """Stop: with ``wait`` finish queued deliveries (retries included), else cut the
        backoff waits short and drop what is queued."""
        if not wait:
            self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=not wait)
        self._client.close()
