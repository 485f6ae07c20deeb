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
            "Readings durably stored (new; a stored reading is never replaced)",
            registry=r,
        )
        self.unchanged = Counter(
            "noiselab_ingest_readings_unchanged",
            "Re-delivered readings equal to stored ones at the store precision",
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
        self._compaction_metrics(r)

    def _compaction_metrics(self, r: CollectorRegistry) -> None:
        """What background compaction of a SQLite store did (``noiselab.ingest.compaction``);
        they stay 0 when it is off."""
        self.compaction_chunks = Counter(
            "noiselab_ingest_compaction_chunks",
            "Sensor-hours moved into compressed chunks",
            registry=r,
        )
        self.compaction_readings = Counter(
            "noiselab_ingest_compaction_readings",
            "Readings moved into compressed chunks",
            registry=r,
        )
        self.compaction_bytes_saved = Counter(
            "noiselab_ingest_compaction_bytes_saved",
            "Estimated bytes freed by compaction: the hot rows' payload minus the chunks'",
            registry=r,
        )
        self.retention_dropped = Counter(
            "noiselab_ingest_retention_readings_dropped",
            "Raw readings removed by retention (their roll-ups are kept)",
            registry=r,
        )
        self.compaction_errors = Counter(
            "noiselab_ingest_compaction_errors",
            "Compaction passes that failed (tried again at the next interval)",
            registry=r,
        )
        self.compaction_lag = Gauge(
            "noiselab_ingest_compaction_lag_seconds",
            "How far the oldest uncompacted reading lies beyond the hot window (0: caught up)",
            registry=r,
        )
        self.compaction_pending = Gauge(
            "noiselab_ingest_compaction_pending_hours",
            "Sensor-hours beyond the hot window still to compact after the last pass",
            registry=r,
        )
        self.compaction_pass_seconds = Gauge(
            "noiselab_ingest_compaction_pass_seconds",
            "Duration of the last compaction pass (retention included)",
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
