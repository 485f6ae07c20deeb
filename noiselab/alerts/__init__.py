"""Staff alerts: the evaluator that opens and resolves alerts from the store, and webhooks.

- ``checks``: whether one rule holds for one sensor at an instant (evidence included)
- ``evaluate``: one pass over the enabled rules, and the open/hold/resolve decision
- ``url_policy``: where webhooks may go (no internal addresses unless allowed), pure
- ``transport``: the HTTP transport that connects only to vetted addresses
- ``signing``: the HMAC-SHA256 signature of each delivery
- ``webhook``: the sender that empties the durable outbox, with backoff and dead letters
- ``service``: the ``noiselab alerts`` loop (interval, errors, clean stop)

The rules, alerts and history live in the metadata database (:mod:`noiselab.store.metadata.alerts`).
"""

from noiselab.alerts.evaluate import Evaluator, Outcome, decide
from noiselab.alerts.service import AlertService
from noiselab.alerts.webhook import WebhookSender

__all__ = ["AlertService", "Evaluator", "Outcome", "WebhookSender", "decide"]
