"""Webhook outbox rows for tests that need one in a given state."""

from __future__ import annotations

from datetime import UTC, datetime

from noiselab.store.metadata import AlertRule, MetadataStore

__all__ = ["dead_delivery"]


def dead_delivery(
    meta: MetadataStore, sensor_id: str, url: str = "https://hooks.example.org/x"
) -> int:
    """The id of a new dead delivery: a new rule with ``url`` opens an alert on ``sensor_id``,
    its delivery is claimed and given up (other due deliveries are claimed too, and left to
    their lease)."""
    now = datetime.now(UTC)
    rule = meta.alerts.add_rule(
        AlertRule(name="hooked", metric="laeq", window_s=900, threshold=60.0, webhook_url=url)
    )
    alert = meta.alerts.open_new(rule, sensor_id, now=now, value=70.0, unit="dB", evidence={})
    assert alert is not None
    for claimed in meta.deliveries.claim(now, lease_s=60, limit=1000):
        if claimed.delivery.alert_id == alert.id:
            assert meta.deliveries.dead(claimed, now, "HTTP 410")
            return claimed.delivery.id
    raise AssertionError(f"no delivery queued for alert {alert.id}")
