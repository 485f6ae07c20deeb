"""Webhook signatures: HMAC-SHA256 of ``"{timestamp}.{body}"`` with the rule's secret.

Each delivery carries ``X-Noiselab-Timestamp`` (Unix seconds when it was sent) and
``X-Noiselab-Signature: sha256=<hex>``. A receiver recomputes the HMAC over the timestamp, a
dot and the raw body bytes, compares in constant time, and refuses a timestamp older than a
few minutes, so a captured delivery cannot be replayed later (the ``delivery`` id in the body
lets it drop repeats within that window).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_S",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Noiselab-Signature"
TIMESTAMP_HEADER = "X-Noiselab-Timestamp"
DELIVERY_HEADER = "X-Noiselab-Delivery"
EVENT_HEADER = "X-Noiselab-Event"
TOLERANCE_S = 300
"""Seconds a receiver should accept between the timestamp and its own clock."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Noiselab-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of
    ``b"{timestamp}." + body`` keyed with the UTF-8 bytes of ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> bool:
    """Whether ``signature`` is ``secret``'s for ``body`` at ``timestamp`` (header text) and
    the timestamp is within ``tolerance_s`` of ``now`` (Unix s). What a receiver does."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)
