"""Counters of the ingest worker, exported in Prometheus text format."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["IngestMetrics"]


class IngestMetrics:
    """One worker's counters, in their own registry (several workers may share a process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.received = Counter(
            "noiselab_ingest_messages_received", "MQTT messages received", registry=r
        )
        self.acked = Counter(
            "noiselab_ingest_messages_acked",
            "MQTT messages acknowledged after their contents were committed",
            registry=r,
        )
        self.stored = Counter(
            "noiselab_ingest_readings_stored",
            "Readings durably stored (new or replaced)",
            registry=r,
        )
        self.unchanged = Counter(
            "noiselab_ingest_readings_unchanged",
            "Re-delivered readings identical to stored ones",
            registry=r,
        )
        self.quarantined = Counter(
            "noiselab_ingest_rejections", "Readings or messages quarantined", registry=r
        )
        self.batches = Counter("noiselab_ingest_batches", "Batches committed", registry=r)
        self.errors = Counter(
            "noiselab_ingest_batch_errors",
            "Batches that failed unexpectedly and were retried unacknowledged",
            registry=r,
        )
        self.store_retries = Counter(
            "noiselab_ingest_store_retries", "Store writes retried after an error", registry=r
        )
        self.lag = Gauge(
            "noiselab_ingest_lag_seconds",
            "Age of the oldest message of the last batch when it was committed",
            registry=r,
        )
        self.commit_seconds = Histogram(
            "noiselab_ingest_commit_seconds",
            "Time to parse, store and acknowledge one batch",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )

    def snapshot(self) -> dict[str, float]:
        """Current counter values, for periodic log lines."""
        return {
            "received": self.received._value.get(),
            "acked": self.acked._value.get(),
            "stored": self.stored._value.get(),
            "unchanged": self.unchanged._value.get(),
            "quarantined": self.quarantined._value.get(),
            "batches": self.batches._value.get(),
            "lag_s": self.lag._value.get(),
        }
