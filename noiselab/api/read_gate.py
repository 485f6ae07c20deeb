"""The gate every costly read passes: its cost is charged to the caller, then it runs in the
shared thread pool, or in the heavy pool when it costs at least ``Limits.heavy_units``.

Answers, as ``HTTPException`` s with ``{"detail": ...}`` saying what to do:

- 422 when the read costs more than the caller's whole budget (``*_cost_burst``): it could
  never run, so the caller must narrow it;
- 429 with ``Retry-After`` when the caller's budget cannot pay for it now;
- 503 with ``Retry-After`` when the heavy pool stays full for ``heavy_wait_s``.

A route's ``work(offload)`` does its heavy computing through ``offload`` (:data:`Offload`),
which in the heavy pool runs it in a worker process, and may keep or share the result (caches)
itself. The caller is its key (``key <id>``), or without a key its client address, as the rate
limiter sees it (:func:`noiselab.api.ratelimit.client_address`). Units: :mod:`noiselab.api.cost`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from noiselab.api.auth import Principal
from noiselab.api.cost import POINT_UNITS, Cost
from noiselab.api.cost_budget import CostBudget
from noiselab.api.heavy_pool import BusyError, HeavyPool
from noiselab.api.limits import Limits
from noiselab.api.ratelimit import client_address
from noiselab.store.base import ReadingStore

__all__ = ["Offload", "ReadGate", "run_read"]

T = TypeVar("T")
Offload = Callable[..., Any]
"""``offload(fn, *args)`` computes ``fn(store, *args)`` where the read runs: a module-level
``fn`` with arguments that pickle, as it may run in a worker process."""


class ReadGate:
    """The budgets (public and keyed) and the heavy pool of one app."""

    def __init__(self, limits: Limits, clock: Callable[[], float], store_url: str) -> None:
        self.limits = limits
        self.public = CostBudget(limits.public_cost_per_s, limits.public_cost_burst, clock)
        self.keyed = CostBudget(limits.keyed_cost_per_s, limits.keyed_cost_burst, clock)
        processes = store_url if limits.heavy_processes else None
        self.pool = HeavyPool(limits.workers, limits.heavy_wait_s, limits.heavy_queue, processes)

    def charge(self, request: Request, principal: Principal | None, cost: Cost) -> None:
        """Take ``cost`` from the caller's budget, or raise the 422 or 429 of the module
        docstring."""
        if principal is None:
            budget, who = self.public, "this address"
            caller = "address " + client_address(
                request, request.app.state.settings.trusted_proxies
            )
        else:
            budget, who, caller = self.keyed, "this key", "key " + principal.key_id
        refusal = budget.take(caller, cost.units)
        if refusal is None:
            return
        if refusal.wait_s is None:
            raise HTTPException(
                422,
                f"this read would cost {cost.units:,} units ({cost.rows:,} rows read + "
                f"{POINT_UNITS} per point answered, {cost.points:,} points); {who} may spend at "
                f"most {budget.burst:,} per request: ask for a shorter range or coarser buckets",
            )
        seconds = max(1, math.ceil(refusal.wait_s))
        raise HTTPException(
            429,
            f"read budget of {who} spent ({budget.rate:,.0f} units/s, bursts of "
            f"{budget.burst:,}); this read costs {cost.units:,}: retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )

    async def run(self, cost: Cost, store: ReadingStore, work: Callable[[Offload], T]) -> T:
        """``work(offload)`` in the heavy pool (a cost of ``heavy_units`` or more, where
        ``offload`` computes in the pool's processes) or the shared one (``offload`` computes
        in place); 503 with ``Retry-After`` when the heavy pool is full."""
        if cost.units < self.limits.heavy_units:
            return await run_in_threadpool(work, partial(_in_place, store))
        try:
            return await self.pool.run(lambda: work(partial(self.pool.call, store)))
        except BusyError as exc:
            raise HTTPException(
                503,
                "too many costly reads at once; retry later or ask for a shorter range",
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from exc


def _in_place(store: ReadingStore, fn: Callable[..., T], *args: Any) -> T:
    return fn(store, *args)


async def run_read(
    request: Request,
    principal: Principal | None,
    cost: Cost,
    store: ReadingStore,
    work: Callable[[Offload], T],
) -> T:
    """Charge ``cost`` to the caller and run ``work`` (see :class:`ReadGate`)."""
    gate: ReadGate = request.app.state.read_gate
    gate.charge(request, principal, cost)
    return await gate.run(cost, store, work)
