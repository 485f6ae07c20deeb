"""Staff alerts: the evaluator that opens and resolves alerts from the store, and webhooks.

- ``checks``: whether one rule holds for one sensor at an instant (evidence included)
- ``evaluate``: one pass over the enabled rules, and the open/hold/resolve decision
- ``webhook``: JSON POSTs with retries and backoff, off the evaluation loop
- ``service``: the ``noiselab alerts`` loop (interval, errors, clean stop)

The rules, alerts and history live in the metadata database (:mod:`noiselab.store.metadata.alerts`).
"""

from noiselab.alerts.evaluate import Evaluator, Outcome, decide
from noiselab.alerts.service import AlertService
from noiselab.alerts.webhook import WebhookNotifier

__all__ = ["AlertService", "Evaluator", "Outcome", "WebhookNotifier", "decide"]
