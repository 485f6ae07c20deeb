"""What one request may cost the API: its body, its reads, and the room heavy reads get.

One :class:`Limits` is part of :class:`~noiselab.api.settings.ApiSettings` (``limits``);
the defaults suit the two-core host the project runs on. Each field states its unit.

Bodies (:mod:`noiselab.api.body_guard`)
    ``max_body_bytes`` for every route, ``push_body_bytes`` for ``/api/v1/push``,
    ``weather_body_bytes`` for ``/api/v1/push/weather`` (a day of a station's minutes),
    ``citizen_body_bytes`` for ``/api/v1/citizen-reports`` (whose report is filed without a
    key); a body over its route's limit answers 413 as soon as that many bytes arrived. A
    JSON body nested deeper than ``max_json_depth`` answers 422 before it is parsed.

Cost (:mod:`noiselab.api.cost`, :mod:`noiselab.api.cost_budget`)
    A read's cost is estimated before it runs, in *units*: one unit per stored row it reads
    (a raw reading, a per-minute or hourly roll-up cell) plus ``cost.POINT_UNITS`` per point it
    answers. Each caller (a key; without one, the client address) has a budget that refills at
    ``*_cost_per_s`` units a second up to ``*_cost_burst``: a read the budget cannot pay for
    answers 429 with ``Retry-After``, and a read costing more than the burst, which could
    never be paid for, answers 422 naming the limit. Public (``public_``) and keyed
    (``keyed_``) callers have separate figures; a rate or burst of 0 turns that budget off.

Heavy reads (:mod:`noiselab.api.heavy_pool`)
    A read of at least ``heavy_units`` is one of at most ``heavy_workers`` at a time (0: one
    per core but one, at least one), computed in worker processes of its own
    (``heavy_processes``; else in threads of the API's process), so cheap routes keep their
    threads, the interpreter lock and a core. A heavy read waits at most ``heavy_wait_s``
    seconds for a place and at most ``heavy_queue`` reads wait at once; beyond either it
    answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from noiselab.errors import ConfigError

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The figures above; ``ConfigError`` names a bad one."""

    max_body_bytes: int = 256 * 1024
    push_body_bytes: int = 64 * 1024
    citizen_body_bytes: int = 8 * 1024
    weather_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    public_cost_per_s: float = 50_000.0
    public_cost_burst: int = 1_000_000
    keyed_cost_per_s: float = 200_000.0
    keyed_cost_burst: int = 5_000_000
    heavy_units: int = 50_000
    heavy_workers: int = 0
    heavy_wait_s: float = 10.0
    heavy_queue: int = 64
    heavy_processes: bool = True

    def __post_init__(self) -> None:
        for name in (
            "max_body_bytes",
            "push_body_bytes",
            "citizen_body_bytes",
            "weather_body_bytes",
        ):
            if not 1024 <= getattr(self, name) <= 1 << 30:
                raise ConfigError(f"{name} {getattr(self, name)}: need 1 KiB..1 GiB")
        if not 2 <= self.max_json_depth <= 1000:
            raise ConfigError(f"max JSON depth {self.max_json_depth}: need 2..1000")
        for name in (
            "public_cost_per_s",
            "public_cost_burst",
            "keyed_cost_per_s",
            "keyed_cost_burst",
        ):
            if not 0 <= getattr(self, name) <= 1e12:
                raise ConfigError(f"{name} {getattr(self, name)}: need 0..1e12 (0: off)")
        if not 0 <= self.heavy_units <= 1e12:
            raise ConfigError(f"heavy units {self.heavy_units}: need 0..1e12")
        if not 0 <= self.heavy_workers <= 256:
            raise ConfigError(f"heavy workers {self.heavy_workers}: need 0..256 (0: per core)")
        if not 0 < self.heavy_wait_s <= 600:
            raise ConfigError(f"heavy wait {self.heavy_wait_s} s: need 0 < wait <= 600 s")
        if not 0 <= self.heavy_queue <= 100_000:
            raise ConfigError(f"heavy queue {self.heavy_queue}: need 0..100000")

    @property
    def workers(self) -> int:
        """Heavy reads at a time: ``heavy_workers``, or the usable cores but one when 0."""
        if self.heavy_workers:
            return self.heavy_workers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
        return max(1, cores - 1)
