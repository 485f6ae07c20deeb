"""Ingest slots: each replica holds the lowest free slot, freed when its process dies.

Run on a SQLite metadata file (flock) and on PostgreSQL (advisory locks) when one answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import pytest

from noiselab.errors import ConfigError, NoiselabError, StoreError
from noiselab.ingest import lease as lease_module
from noiselab.ingest.lease import hold_client_id
from noiselab.ingest.slots import claim_slot, slot_client_id, watch_slot
from noiselab.ingest.worker import default_client_id


def test_lowest_free_slot_is_claimed_and_reused(meta_url):
    leases = [claim_slot(meta_url, "noiselab-ingest") for _ in range(3)]
    try:
        assert [lease.slot for lease in leases] == [1, 2, 3]
        assert all(lease.alive() for lease in leases)
        leases[1].release()
        assert not leases[1].alive()
        again = claim_slot(meta_url, "noiselab-ingest")
        assert again.slot == 2
        leases[1] = again
        other_group = claim_slot(meta_url, "other-group")
        assert other_group.slot == 1
        other_group.release()
    finally:
        for lease in leases:
            lease.release()


def test_all_slots_taken_is_an_error(meta_url):
    held = [claim_slot(meta_url, "tiny", max_slots=2) for _ in range(2)]
    try:
        with pytest.raises(StoreError, match="all 2 ingest slots of 'tiny' are taken"):
            claim_slot(meta_url, "tiny", max_slots=2)
    finally:
        for lease in held:
            lease.release()


@pytest.mark.process
def test_a_killed_process_frees_its_slot(meta_url):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from noiselab.ingest.slots import claim_slot\n"
            f"lease = claim_slot({meta_url!r}, 'noiselab-ingest')\n"
            "print(lease.slot, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "1"
        mine = claim_slot(meta_url, "noiselab-ingest")
        assert mine.slot == 2
        mine.release()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 10  # PostgreSQL notices the dead session promptly
        while True:
            lease = claim_slot(meta_url, "noiselab-ingest")
            if lease.slot == 1 or time.monotonic() > deadline:
                break
            lease.release()
            time.sleep(0.1)
        assert lease.slot == 1
        lease.release()
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_client_ids_and_bad_urls():
    assert slot_client_id("noiselab-ingest", 3) == "noiselab-ingest-3"
    with pytest.raises(ConfigError, match="slots need"):
        claim_slot("sqlite://", "noiselab-ingest")


def test_a_given_or_default_client_id_holds_no_slot(meta_url):
    with hold_client_id("mine", meta_url, "noiselab-ingest") as held:
        assert (held.client_id, held.slot) == ("mine", None)
    with hold_client_id(None, meta_url, "noiselab-ingest") as held:
        assert held.client_id == default_client_id()
        assert held.slot is None


def test_a_slot_client_id_is_held_for_the_block(meta_url):
    with hold_client_id("slot", meta_url, "") as held:
        assert held.client_id == "noiselab-ingest-1"
        other = claim_slot(meta_url, "noiselab-ingest")
        assert other.slot == 2
        other.release()
    again = claim_slot(meta_url, "noiselab-ingest")
    assert again.slot == 1
    again.release()


def test_a_lost_slot_stops_the_worker_and_fails(meta_url, monkeypatch):
    monkeypatch.setattr(lease_module, "watch_slot", partial(watch_slot, interval_s=0.01))
    stopped = threading.Event()

    def run_until_the_slot_is_lost() -> None:
        with hold_client_id("slot", meta_url, "group") as held:
            held.watch(stopped.set)
            assert held.slot is not None
            held.slot.release()  # as a dropped PostgreSQL session does
            assert stopped.wait(10)
            assert held.lost

    with pytest.raises(NoiselabError, match="lost ingest slot 1; stopped to avoid a duplicate"):
        run_until_the_slot_is_lost()
