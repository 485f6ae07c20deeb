"""The MQTT client id an ingest process connects with, held for as long as its worker runs.

``--client-id`` picks it: a given id is used as is, none means ``noiselab-ingest-HOSTNAME``,
and ``slot`` claims the lowest free numbered slot of the shared-subscription group in the
metadata database (:mod:`noiselab.ingest.slots`) and connects as ``GROUP-N``. A slot is
watched while the worker runs: if it is lost (a PostgreSQL session that went away), the worker
is stopped and the process exits with an error rather than run beside a replica that took the
slot, and with it the same client id, over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from noiselab.errors import NoiselabError
from noiselab.ingest.slots import SlotLease, claim_slot, slot_client_id, watch_slot
from noiselab.ingest.worker import default_client_id

__all__ = ["SLOT", "ClientIdLease", "hold_client_id"]

SLOT = "slot"
"""The ``--client-id`` that asks for a numbered slot."""

_SLOT_GROUP = "noiselab-ingest"
"""Slot group (and client-id stem) of an ingest with a plain subscription (no share group)."""


class ClientIdLease:
    """The client id to connect with and, for a slot id, the slot that makes it exclusive."""

    def __init__(self, client_id: str, slot: SlotLease | None = None) -> None:
        self.client_id = client_id
        self.slot = slot
        self._lost = threading.Event()
        self._stop_watching: threading.Event | None = None

    def watch(self, on_lost: Callable[[], None]) -> None:
        """Call ``on_lost()`` once, from a daemon thread, if the slot is lost (e.g. the worker's
        ``request_stop``, which must be thread-safe). Nothing to watch without a slot."""
        if self.slot is None:
            return

        def lost() -> None:
            self._lost.set()
            on_lost()

        self._stop_watching = watch_slot(self.slot, lost)

    @property
    def lost(self) -> bool:
        """Whether the slot was lost while it was watched."""
        return self._lost.is_set()

    def release(self) -> None:
        """Stop watching and give the slot up (nothing to do without a slot)."""
        if self._stop_watching is not None:
            self._stop_watching.set()
        if self.slot is not None:
            self.slot.release()


@contextmanager
def hold_client_id(
    requested: str | None, meta_url: str, share_group: str
) -> Iterator[ClientIdLease]:
    """The client id for ``--client-id requested``, held until the block ends.

    ``requested`` is an id, ``None`` (the default id) or :data:`SLOT`; a slot is claimed in the
    metadata database ``meta_url`` in the group ``share_group`` (``noiselab-ingest`` for an
    empty group) and released when the block ends, however it ends. Raises what
    :func:`~noiselab.ingest.slots.claim_slot` raises when no slot can be held, and
    ``NoiselabError`` after a block that ended because the watched slot was lost.
    """
    if requested != SLOT:
        yield ClientIdLease(requested or default_client_id())
        return
    group = share_group or _SLOT_GROUP
    slot = claim_slot(meta_url, group)
    lease = ClientIdLease(slot_client_id(group, slot.slot), slot)
    try:
        yield lease
    finally:
        lease.release()
    if lease.lost:
        raise NoiselabError(f"lost ingest slot {slot.slot}; stopped to avoid a duplicate")
