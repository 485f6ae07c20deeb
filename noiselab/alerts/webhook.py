"""Webhook notifications: the sender that empties the outbox (``webhook_deliveries``).

The evaluator queues a delivery in the same transaction as the alert it tells of (see
:mod:`noiselab.store.metadata.deliveries`); :class:`WebhookSender` claims due deliveries,
POSTs each one's stored JSON body, signed (:mod:`.signing`), to its rule's current
``webhook_url``, and records the outcome. Several senders may run at once (each claim is
exclusive for a lease), and a sender that stops or dies leaves its deliveries queued: they are
sent after a restart.

Policy per delivery:

- the URL must pass :mod:`.url_policy` again, and the connection goes only to an address
  vetted after resolving the host (:class:`~noiselab.alerts.transport.VettedTransport`);
  a refusal is final (``dead``) with the reason;
- a 2xx answer: ``delivered`` (history ``notified``);
- a connection error, a timeout, 408, 429 or 5xx: tried again after
  ``min(max_backoff_s, backoff_s · 2^(n-1))`` seconds, scaled by a random factor in
  [0.5, 1) so that receivers coming back are not hit by every sender at once; after
  ``attempts`` tries: ``dead`` (history ``notify_failed``);
- any other answer, a redirect (3xx: redirects are not followed) included: ``dead`` at once.

The answer's body is never read; logs and history name the receiver by its origin
(``scheme://host:port``), never its path, query or the secret. Deliveries are at least once: a
receiver may see a ``delivery`` id twice and should drop repeats.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from noiselab import __version__
from noiselab.alerts.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from noiselab.alerts.transport import VettedTransport
from noiselab.alerts.url_policy import AllowList, Resolver, UrlRefused, check_url, system_resolver
from noiselab.errors import NoiselabError
from noiselab.logs import event
from noiselab.store.closing import ClosesOnExit
from noiselab.store.metadata import Claimed, MetadataStore

__all__ = ["RETRY_STATUSES", "Outcome", "WebhookSender"]

log = logging.getLogger("noiselab.alerts.webhook")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

Outcome = tuple[str, str]
"""``(status, note)``: ``delivered``, ``retry`` or ``dead``, and what happened."""


class WebhookSender(ClosesOnExit):
    """Sends the due deliveries of ``meta``'s outbox.

    ``attempts`` tries per delivery (1..20), ``backoff_s`` the first wait and
    ``max_backoff_s`` the longest, ``timeout_s`` for each of connecting, sending and waiting
    for the answer; ``allow`` the operator's allow-list, ``resolver`` the name lookup (a seam
    for tests), ``clock`` Unix seconds, ``jitter`` a number in [0, 1)."""

    def __init__(
        self,
        meta: MetadataStore,
        *,
        allow: AllowList = AllowList(),  # noqa: B008 - frozen, empty
        resolver: Resolver = system_resolver,
        attempts: int = 8,
        backoff_s: float = 30.0,
        max_backoff_s: float = 3600.0,
        timeout_s: float = 5.0,
        batch: int = 10,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not 1 <= attempts <= 20 or backoff_s < 0 or max_backoff_s < backoff_s:
            raise ValueError("need 1 <= attempts <= 20 and 0 <= backoff_s <= max_backoff_s")
        if timeout_s <= 0 or batch < 1:
            raise ValueError("need timeout_s > 0 and batch >= 1")
        self._meta, self._allow = meta, allow
        self._attempts, self._backoff_s, self._max_backoff_s = attempts, backoff_s, max_backoff_s
        self._batch, self._clock, self._jitter = batch, clock, jitter
        # each send may take up to 4 timeouts (pool, connect, write, read); claim for the batch
        self.lease_s = batch * 4 * timeout_s + 30.0
        self._client = httpx.Client(
            transport=VettedTransport(allow, resolver=resolver),
            timeout=timeout_s,
            headers={"User-Agent": f"noiselab/{__version__}"},
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: it would bypass the vetting
        )
        self._wake = threading.Event()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (thread-safe)."""
        self._wake.set()

    def run_once(self) -> int:
        """Claim and send the deliveries due now, batch by batch; how many were handled."""
        handled = 0
        while True:
            now = self._now()
            claimed = self._meta.deliveries.claim(now, lease_s=self.lease_s, limit=self._batch)
            for one in claimed:
                self._handle(one)
            handled += len(claimed)
            if len(claimed) < self._batch:
                return handled

    def run(self, stop: threading.Event, *, poll_s: float = 1.0) -> None:
        """Send due deliveries until ``stop`` is set, looking every ``poll_s`` seconds (or
        when woken). Database errors are logged and retried at the next poll."""
        while not stop.is_set():
            try:
                self.run_once()
            except NoiselabError as exc:
                event(log, "webhook outbox unavailable", level=logging.WARNING, error=str(exc))
            except Exception:  # one bad pass must not end the sender
                log.exception("webhook sender crashed; retrying at the next poll")
            self._wake.wait(poll_s)
            self._wake.clear()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _handle(self, claimed: Claimed) -> None:
        delivery = claimed.delivery
        attempt = delivery.attempts + 1
        status, note = self._send(claimed)
        if status == "retry" and attempt >= self._attempts:
            status, note = "dead", f"{note}; gave up after {attempt} attempt(s)"
        now = self._now()
        deliveries = self._meta.deliveries
        if status == "delivered":
            kept = deliveries.delivered(claimed, now)
        elif status == "dead":
            kept = deliveries.dead(claimed, now, note)
        else:
            kept = deliveries.retry_later(claimed, now, now + self._backoff(attempt), note)
        if not kept:
            event(log, "webhook claim lost", level=logging.WARNING, delivery=delivery.id)
            return
        fields = {"delivery": delivery.id, "alert": delivery.alert_id, "attempt": attempt}
        if status == "delivered":
            event(log, "webhook delivered", **fields)
            self._record(delivery.alert_id, "notified", f"{note}, attempt {attempt}")
        elif status == "dead":
            event(log, "webhook failed", level=logging.WARNING, **fields, error=note)
            self._record(delivery.alert_id, "notify_failed", note)
        else:
            event(log, "webhook will be retried", level=logging.INFO, **fields, error=note)

    def _send(self, claimed: Claimed) -> Outcome:  # noqa: PLR0911 - one return per outcome
        if claimed.url is None:
            return "dead", "the rule has no webhook_url any more"
        try:
            origin = check_url(claimed.url, self._allow).origin
        except UrlRefused as exc:
            return "dead", f"refused: {exc}"
        delivery = claimed.delivery
        sent_at = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(sent_at),
            SIGNATURE_HEADER: sign(claimed.secret, sent_at, claimed.payload),
            DELIVERY_HEADER: f"{delivery.alert_id}-{delivery.event}",
            EVENT_HEADER: f"alert.{delivery.event}",
        }
        try:
            # streamed and closed unread: the answer's body never counts
            with self._client.stream(
                "POST", claimed.url, content=claimed.payload, headers=headers
            ) as response:
                code = response.status_code
        except UrlRefused as exc:
            return "dead", f"POST {origin}: refused: {exc}"
        except httpx.HTTPError as exc:
            return "retry", f"POST {origin}: {type(exc).__name__}: {exc}"
        note = f"POST {origin}: HTTP {code}"
        if 200 <= code < 300:
            return "delivered", note
        if 300 <= code < 400:
            return "dead", f"{note}: redirects are not followed"
        return ("retry" if code in RETRY_STATUSES else "dead"), note

    def _backoff(self, attempt: int) -> timedelta:
        wait = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
        return timedelta(seconds=wait * (0.5 + self._jitter() / 2))

    def _record(self, alert_id: int, action: str, note: str) -> None:
        try:
            self._meta.alerts.record(alert_id, action=action, note=note, now=self._now())
        except NoiselabError as exc:  # a history line must not stop the sender
            event(log, "cannot record webhook outcome", level=logging.WARNING, error=str(exc))
