"""Webhook signatures: HMAC-SHA256 over ``timestamp.body``, as a receiver verifies it."""

from __future__ import annotations

import hashlib
import hmac

from noiselab.alerts.signing import sign, verify

SECRET = "whsec_test-secret"
BODY = b'{"event":"alert.opened","delivery":"12-opened"}'


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    """Computed independently with hmac: key = the secret's bytes, message = b"1772492400." +
    body."""
    expected = hmac.new(SECRET.encode(), b"1772492400." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1772492400, BODY) == f"sha256={expected}"


def test_verify_accepts_the_right_secret_and_refuses_anything_else() -> None:
    signature = sign(SECRET, 1000, BODY)
    assert verify(SECRET, timestamp="1000", body=BODY, signature=signature, now=1010)
    assert not verify("whsec_wrong", timestamp="1000", body=BODY, signature=signature, now=1010)
    assert not verify(SECRET, timestamp="1000", body=BODY + b" ", signature=signature, now=1010)
    assert not verify(SECRET, timestamp="1001", body=BODY, signature=signature, now=1010)
    assert not verify(SECRET, timestamp="x", body=BODY, signature=signature, now=1010)


def test_an_old_timestamp_is_refused_against_replay() -> None:
    signature = sign(SECRET, 1000, BODY)
    assert verify(SECRET, timestamp="1000", body=BODY, signature=signature, now=1300)
    assert not verify(SECRET, timestamp="1000", body=BODY, signature=signature, now=1301)


def test_the_receiver_example_in_the_docs_verifies() -> None:
    """The Python block of docs/alerts.md's "Signatures" section, run on a real signature:
    it accepts it, and refuses a wrong secret, a changed body and an old timestamp."""
    import re
    import time

    from support.paths import ROOT

    text = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    scope: dict[str, object] = {}
    exec(code, scope)
    check = scope["noiselab_signature_ok"]
    assert callable(check)
    now = int(time.time())
    headers = {"X-Noiselab-Timestamp": str(now), "X-Noiselab-Signature": sign(SECRET, now, BODY)}
    assert check(SECRET, headers, BODY)
    assert not check("whsec_wrong", headers, BODY)
    assert not check(SECRET, headers, BODY + b"x")
    old = now - 301
    stale = {"X-Noiselab-Timestamp": str(old), "X-Noiselab-Signature": sign(SECRET, old, BODY)}
    assert not check(SECRET, stale, BODY)
