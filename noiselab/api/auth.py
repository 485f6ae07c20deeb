"""API keys and roles: who is calling (what a caller may then see: :mod:`noiselab.api.access`).

A key reads ``nl_<id>_<secret>``: ``id`` (16 hex digits) finds the row, ``secret`` is
``secrets.token_urlsafe(32)`` (256 random bits). Only a per-key random 16-byte salt and
``scrypt(secret, salt, n=2**14, r=8, p=1)`` are stored; scrypt because it is in the standard
library and memory-hard, so a stolen database does not give the keys away cheaply. A presented
key is hashed again and compared with ``hmac.compare_digest`` (constant time); an unknown id
costs a hash of a dummy too, so timing does not tell which ids exist.

Hashing costs ~60 ms, so a verified key is cached in memory (under its SHA-256, never in the
clear) for ``ApiSettings.auth_cache_s`` (60 s by default): revoking a key takes effect within
that window. Then it is checked against its row again (one indexed read: revoked? the same
stored hash?) but not hashed again: the hash is paid once per key (:class:`KeyVerifier`).
``last_used`` is written when a key is checked against its row, not on cache hits.

Callers send ``Authorization: Bearer KEY``. Routes declare what they need::

    def route(principal: OptionalPrincipal): ...          # public; a key may widen visibility
    def route(principal: Annotated[Principal, Depends(require_role("staff", "admin"))]): ...

(:mod:`noiselab.api.access` names the usual ones: ``Staff``, ``Admin``, ``Reader``.)

A missing, malformed, unknown or revoked key where one is needed answers 401 with
``WWW-Authenticate: Bearer``; a key presented on a public endpoint must be valid too (401
otherwise, so a client with a broken key learns it instead of silently seeing less). A wrong
role answers 403. Visibility (applied by :mod:`noiselab.api.access`): the public sees public
sensors; a vendor public sensors and its own; staff and admin all. A ``sensor`` key pushes
readings over HTTP for the sensors it lists (:mod:`noiselab.api.routes.push`) and otherwise
sees what the public sees.

Vendors and trials: a vendor key sees the trials whose ``vendor`` equals the key's ``name``
(:mod:`noiselab.store.metadata.trials`) and the treated and control sensors of those trials, besides
the sensors its key lists. The trial sensors are looked up on every request (one indexed query),
not cached with the key: a trial created or changed by staff takes effect at once, while the
expensive hash check stays cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from noiselab.api.ratelimit import RateLimiter, client_address, too_many_requests
from noiselab.model import ApiKey, Role, Sensor
from noiselab.store.metadata import MetadataStore, Trial

__all__ = [
    "CurrentPrincipal",
    "KeyVerifier",
    "OptionalPrincipal",
    "Principal",
    "bearer_scheme",
    "create_key",
    "get_principal",
    "hash_secret",
    "optional_principal",
    "require_role",
    "sensor_principal",
]

KEY_PREFIX = "nl"
SALT_BYTES = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES = 2**14, 8, 1, 32
_KEY = re.compile(r"nl_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{20,100})")
_DUMMY_SALT = b"\0" * SALT_BYTES

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API key, `nl_<id>_<secret>` (`noiselab keys create`). Optional on public "
    "endpoints, where it may widen what is visible.",
)

basic_scheme = HTTPBasic(
    auto_error=False,
    description="For devices that only speak HTTP Basic (the Sensor.Community firmware's own-API "
    "setting): any user name, the API key as the password. Only on the push endpoints.",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller with a valid key: its id, name, role, and (vendors) the sensors it owns: those
    its key lists and those of its trials."""

    key_id: str
    name: str
    role: Role
    sensors: frozenset[str] = frozenset()

    @property
    def sees_all(self) -> bool:
        """Staff and admin see every sensor and trial."""
        return self.role in ("staff", "admin")

    def owns(self, sensor_id: str) -> bool:
        """Whether ``sensor_id`` is one of a vendor's own sensors."""
        return self.role == "vendor" and sensor_id in self.sensors

    def sees(self, sensor: Sensor) -> bool:
        """Whether this caller may see ``sensor``: staff and admin all, a vendor public
        sensors and its own, a sensor key (which only pushes data) public sensors."""
        return self.sees_all or sensor.public or self.owns(sensor.id)

    def sees_trial(self, trial: Trial) -> bool:
        """Whether this caller may see ``trial``: staff and admin all, a vendor the trials
        naming it (``trial.vendor == name``), a sensor key none."""
        return self.sees_all or (self.role == "vendor" and trial.vendor == self.name)


def hash_secret(secret: str, salt: bytes) -> bytes:
    """scrypt of ``secret`` with ``salt`` (parameters in the module docstring)."""
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES
    )


def create_key(
    meta: MetadataStore, *, role: Role, name: str, sensors: tuple[str, ...] = ()
) -> tuple[ApiKey, str]:
    """Create and store a key; return it and the full key text, which is not stored and
    cannot be shown again. Bad values raise ``ValueError``."""
    key = ApiKey(id=secrets.token_hex(8), name=name.strip(), role=role, sensors=sensors)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(SALT_BYTES)
    meta.keys.add(key, salt=salt, digest=hash_secret(secret, salt))
    return key, f"{KEY_PREFIX}_{key.id}_{secret}"


@dataclass(frozen=True, slots=True)
class _Verified:
    """A presented key that hashed to ``digest``, its key's stored hash: ``principal`` is
    trusted without any database read until ``until`` (Unix s)."""

    principal: Principal
    digest: bytes
    until: float


class KeyVerifier:
    """Checks presented keys against the database, caching successes for ``cache_s`` seconds
    of ``clock`` (Unix seconds). Thread-safe.

    After ``cache_s`` a key that hashed correctly before is checked against its row again
    (still there, not revoked, the same stored hash) without hashing it again, so the hash is
    paid once per key and presentation (until ``REMEMBER_S`` without use); one check per
    presented key runs at a time, and callers presenting the same key meanwhile wait for it
    (a dashboard's panels arriving together, or a cache expiring under load, cost one check).
    """

    REMEMBER_S = 86_400.0
    """How long after its trust ends a key's hash is remembered, s."""

    def __init__(self, meta: MetadataStore, cache_s: float, clock: Callable[[], float]) -> None:
        self._meta, self._cache_s, self._clock = meta, cache_s, clock
        self._verified: dict[bytes, _Verified] = {}
        self._flights: dict[bytes, tuple[threading.Lock, int]] = {}
        self._lock = threading.Lock()

    def cached(self, presented: str) -> Principal | None:
        """The principal of ``presented`` when it was verified within ``cache_s`` and needs no
        database read (not a vendor, whose trials are read each time), else ``None``: the
        check an event loop may make without blocking."""
        hit = self._hit(hashlib.sha256(presented.encode()).digest())
        return hit if hit is not None and hit.role != "vendor" else None

    def verify(self, presented: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else ``None``."""
        fingerprint = hashlib.sha256(presented.encode()).digest()
        principal = self._hit(fingerprint)
        if principal is None:
            with self._single_flight(fingerprint):
                principal = self._hit(fingerprint)  # checked by the caller this one waited for
                if principal is None:
                    principal = self._check(presented, fingerprint)
        return None if principal is None else self._with_trials(principal)

    def forget(self, key_id: str) -> None:
        """Drop the cached verifications of ``key_id`` (a revocation takes effect at once)."""
        with self._lock:
            for fingerprint in [
                f for f, known in self._verified.items() if known.principal.key_id == key_id
            ]:
                del self._verified[fingerprint]

    def _hit(self, fingerprint: bytes) -> Principal | None:
        with self._lock:
            known = self._verified.get(fingerprint)
        return known.principal if known is not None and self._clock() < known.until else None

    @contextmanager
    def _single_flight(self, fingerprint: bytes) -> Iterator[None]:
        """Hold the lock of ``fingerprint``, made on first use and dropped by its last user
        (so random keys from a client leave nothing behind)."""
        with self._lock:
            lock, users = self._flights.get(fingerprint, (threading.Lock(), 0))
            self._flights[fingerprint] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                users = self._flights[fingerprint][1] - 1
                if users:
                    self._flights[fingerprint] = (lock, users)
                else:
                    del self._flights[fingerprint]

    def _with_trials(self, principal: Principal) -> Principal:
        """A vendor's principal widened by the sensors of its trials (read fresh each time)."""
        if principal.role != "vendor":
            return principal
        extra = self._meta.trials.vendor_sensors(principal.name)
        if extra <= principal.sensors:
            return principal
        return replace(principal, sensors=principal.sensors | extra)

    def _check(self, presented: str, fingerprint: bytes) -> Principal | None:
        """Verify ``presented`` against its row: hash it, unless it hashed to the same stored
        hash before; remember a success, forget a failure."""
        with self._lock:
            known = self._verified.pop(fingerprint, None)
        match = _KEY.fullmatch(presented)
        if match is None:
            return None
        found = self._meta.keys.secret(match["id"])
        if found is None:
            hash_secret(match["secret"], _DUMMY_SALT)  # same cost as for a known id
            return None
        key, salt, stored = found
        hashed_before = known is not None and hmac.compare_digest(known.digest, stored)
        if not (hashed_before or hmac.compare_digest(hash_secret(match["secret"], salt), stored)):
            return None
        if key.revoked_at is not None:
            return None
        now = self._clock()
        self._meta.keys.touch(key.id, datetime.fromtimestamp(now, UTC))
        principal = Principal(key.id, key.name, key.role, frozenset(key.sensors))
        with self._lock:
            self._prune(now)
            self._verified[fingerprint] = _Verified(principal, stored, now + self._cache_s)
        return principal

    def _prune(self, now: float) -> None:
        for fingerprint in [
            f for f, known in self._verified.items() if known.until + self.REMEMBER_S <= now
        ]:
            del self._verified[fingerprint]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal | None:
    """The caller's principal, ``None`` without an ``Authorization`` header; a header that is
    not a valid bearer key answers 401.

    Rate limit (:mod:`noiselab.api.ratelimit`): a request without a header takes a token from
    its address's bucket, and so does a failed key check (429 instead of 401 once the bucket is
    empty); a valid key takes nothing and is never limited by the public bucket. The hash of a
    bad key is still computed before the 429 (telling a valid key from a bad one needs it).

    A key verified within ``auth_cache_s`` is answered on the event loop; any other check
    (hashing, database reads) runs in a worker thread.
    """
    if "authorization" not in request.headers:
        _charge(request)
        return None
    presented = credentials.credentials if credentials is not None else ""
    verifier: KeyVerifier = request.app.state.keys
    known = verifier.cached(presented.strip()) if presented.strip() else None  # "": 401 path
    if known is not None:
        return known
    return await run_in_threadpool(
        _verified, request, presented, "Authorization: expected 'Bearer <API key>'"
    )


def _verified(request: Request, presented: str, malformed: str) -> Principal:
    """The principal of the key ``presented``; 401 (``malformed`` when there is no key at all)
    after charging the caller's address for the failure."""
    if not presented.strip():
        _charge(request)
        raise _unauthorized(malformed)
    verifier: KeyVerifier = request.app.state.keys
    principal = verifier.verify(presented.strip())
    if principal is None:
        _charge(request)
        raise _unauthorized("invalid or revoked API key")
    return principal


def _charge(request: Request) -> None:
    """Take a token from the caller's address bucket: 429 when it has none left."""
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(client_address(request, request.app.state.settings.trusted_proxies))
    if wait is not None:
        raise too_many_requests(wait)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def sensor_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)],
) -> Principal:
    """A ``sensor`` key, sent as ``Bearer KEY`` or as the password of HTTP Basic: 401 without
    a valid key (failures count against the address like on public endpoints), 403 for a key
    of another role."""
    presented = bearer.credentials if bearer is not None else basic.password if basic else ""
    principal = _verified(
        request, presented, "Authorization: expected 'Bearer <API key>' or Basic with the key"
    )
    if principal.role != "sensor":
        raise HTTPException(403, f"a {principal.role} key may not push readings; needs sensor")
    return principal


async def get_principal(principal: OptionalPrincipal) -> Principal:
    """The caller's principal; 401 without a key."""
    if principal is None:
        raise _unauthorized("this endpoint needs an API key: Authorization: Bearer <key>")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting keys of ``roles`` only: 401 without a key, 403 for another
    role."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                403, f"a {principal.role} key may not do this; needs {', '.join(sorted(allowed))}"
            )
        return principal

    return dependency
