"""KeyVerifier under load: the hash is paid once per key, one check per key at a time, and
revocation still takes effect within the cache window."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.lab import ApiLab, Key

from noiselab.api import auth
from noiselab.api.auth import KeyVerifier
from noiselab.store.metadata import MetadataStore
from noiselab.store.metadata.tables import api_keys_table


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets hashed (scrypt) while the test runs."""
    calls: list[str] = []
    original = auth.hash_secret

    def counting(secret: str, salt: bytes) -> bytes:
        calls.append(secret)
        return original(secret, salt)

    monkeypatch.setattr(auth, "hash_secret", counting)
    return calls


@pytest.fixture
def lab(tmp_path: Path) -> ApiLab:
    return ApiLab(tmp_path, now=1000.0)


@pytest.fixture
def meta(lab: ApiLab) -> Iterator[MetadataStore]:
    with MetadataStore(lab.meta_url) as store:
        yield store


@pytest.fixture
def verified(lab: ApiLab, meta: MetadataStore, hashes: list[str]) -> tuple[Key, KeyVerifier]:
    """A staff key and a verifier (60-s window) that has verified it once; ``hashes`` then
    holds that one hash."""
    key = lab.key("staff")
    verifier = KeyVerifier(meta, 60.0, lab.clock)
    hashes.clear()  # creating the key hashed it
    assert verifier.verify(key.text) is not None
    return key, verifier


def test_only_recent_non_vendor_keys_are_answered_without_the_database(
    lab: ApiLab, meta: MetadataStore
) -> None:
    """``cached`` serves a staff key verified within the window; a vendor's trials are read
    each time, so its key always takes the blocking path; a forgotten key is not kept."""
    staff_key, vendor_key = lab.key("staff"), lab.key("vendor", "acme", ["vb-road-1"])
    verifier = KeyVerifier(meta, 60.0, lab.clock)
    assert verifier.cached(staff_key.text) is None  # not verified yet
    principal = verifier.verify(staff_key.text)
    assert principal is not None
    assert verifier.cached(staff_key.text) == principal
    assert verifier.verify(vendor_key.text) is not None
    assert verifier.cached(vendor_key.text) is None
    lab.clock.now += 61
    assert verifier.cached(staff_key.text) is None
    verifier.verify(staff_key.text)
    verifier.forget(staff_key.id)
    assert verifier.cached(staff_key.text) is None


def test_after_the_window_a_key_is_checked_against_its_row_without_hashing(
    lab: ApiLab, meta: MetadataStore, hashes: list[str], verified: tuple[Key, KeyVerifier]
) -> None:
    key, verifier = verified
    for _ in range(3):
        lab.clock.now += 61
        assert verifier.verify(key.text) is not None
    assert len(hashes) == 1
    used = {k.id: k.last_used for k in meta.keys.all()}[key.id]
    assert used is not None
    assert used.timestamp() == lab.clock.now  # the row check records the use


def test_a_revoked_key_fails_after_the_window_without_hashing(
    lab: ApiLab, meta: MetadataStore, hashes: list[str], verified: tuple[Key, KeyVerifier]
) -> None:
    key, verifier = verified
    meta.keys.revoke(key.id)
    lab.clock.now += 59
    assert verifier.verify(key.text) is not None  # trusted within the window
    lab.clock.now += 2
    assert verifier.verify(key.text) is None
    assert verifier.verify(key.text) is None
    assert len(hashes) == 2  # forgotten after the failure: hashed again, and refused


def test_a_changed_stored_hash_is_hashed_again(
    lab: ApiLab, meta: MetadataStore, hashes: list[str]
) -> None:
    """A row whose hash no longer is the one the key matched: the key must hash again."""
    key = lab.key("staff")
    hashes.clear()  # creating the key hashed it
    verifier = KeyVerifier(meta, 0.0, lab.clock)  # no trust window: the row every time
    assert verifier.verify(key.text) is not None
    assert verifier.verify(key.text) is not None
    assert len(hashes) == 1
    with sa.create_engine(lab.meta_url).begin() as connection:
        connection.execute(
            sa.update(api_keys_table).where(api_keys_table.c.id == key.id).values(hash=b"\x00" * 32)
        )
    assert verifier.verify(key.text) is None
    assert len(hashes) == 2


def test_callers_presenting_the_same_key_together_cost_one_hash(
    lab: ApiLab, meta: MetadataStore, hashes: list[str]
) -> None:
    key = lab.key("staff")
    hashes.clear()  # creating the key hashed it
    verifier = KeyVerifier(meta, 60.0, lab.clock)
    start = threading.Barrier(8)
    results: list[object] = []

    def call() -> None:
        start.wait()
        results.append(verifier.verify(key.text))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result is not None for result in results)
    assert len(hashes) == 1


def test_bad_keys_leave_nothing_behind(lab: ApiLab, meta: MetadataStore) -> None:
    key = lab.key("staff")
    verifier = KeyVerifier(meta, 60.0, lab.clock)
    for n in range(5):
        assert verifier.verify(f"{key.text[:-4]}{n:04d}") is None
        assert verifier.verify(f"nl_{n:016x}_nothing") is None
    assert verifier._flights == {}
    assert verifier._verified == {}
