"""Webhook deliveries from the outbox to real HTTP servers on free local ports, on a real
metadata database (SQLite file and PostgreSQL, ``meta_url``).

The receivers listen on 127.0.0.1, which the URL policy refuses: the positive paths run with
an allow-list naming it, the SSRF tests without, and must leave the receiver untouched. A
resolver seam stands in for DNS where a name must resolve somewhere chosen (rebinding).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from support.receiver import Receiver, receiver

from noiselab.alerts.signing import verify
from noiselab.alerts.url_policy import AllowList, check_url_resolved
from noiselab.alerts.webhook import WebhookSender
from noiselab.store.metadata import Alert, AlertRule, Delivery, MetadataStore

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
LOCAL = AllowList.parse(["127.0.0.1"])
PATH_TOKEN = "/hook/t0k3n-in-path"  # a path that carries a token must not reach the logs


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def meta(meta_url: str) -> Iterator[MetadataStore]:
    store = MetadataStore(meta_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver(204) as running:
        yield running


def queued(meta: MetadataStore, url: str, sensor_id: str = "road-1") -> tuple[AlertRule, Alert]:
    """A rule with ``url`` (stored without the API's check) that has just opened an alert:
    its ``opened`` delivery is in the outbox, due at ``T0``."""
    rule = meta.alerts.add_rule(
        AlertRule(name="hooked", metric="laeq", window_s=900, threshold=60.0, webhook_url=url)
    )
    when = datetime.fromtimestamp(T0, UTC)
    alert = meta.alerts.open_new(rule, sensor_id, now=when, value=70.0, unit="dB", evidence={})
    assert alert is not None
    return rule, alert


def sender(meta: MetadataStore, clock: Clock | None = None, **options: object) -> WebhookSender:
    settings: dict[str, object] = {
        "timeout_s": 2.0,
        "clock": clock or Clock(),
        "jitter": lambda: 0.0,
    }
    return WebhookSender(meta, **(settings | options))  # type: ignore[arg-type]


def only(meta: MetadataStore) -> Delivery:
    (delivery,) = meta.deliveries.list()
    return delivery


# --------------------------------------------------------------------------- delivered


def test_a_delivery_is_signed_and_posted_to_an_allowed_receiver(
    meta: MetadataStore, hook: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    rule, alert = queued(meta, hook.url + PATH_TOKEN)
    assert rule.id is not None
    secret = meta.alerts.webhook_secret(rule.id)
    assert secret is not None
    caplog.set_level(logging.DEBUG)
    with sender(meta, allow=LOCAL) as sending:
        assert sending.run_once() == 1
    (got,) = hook.received
    assert got.path == PATH_TOKEN
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-noiselab-delivery"] == f"{alert.id}-opened"
    assert got.headers["x-noiselab-event"] == "alert.opened"
    stamp, signature = got.headers["x-noiselab-timestamp"], got.headers["x-noiselab-signature"]
    assert stamp == str(int(T0))
    assert verify(secret, timestamp=stamp, body=got.body, signature=signature, now=T0)
    assert not verify("whsec_wrong", timestamp=stamp, body=got.body, signature=signature, now=T0)
    delivery = only(meta)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, None)
    last = meta.alerts.history(alert.id)[-1]
    assert (last.action, last.actor) == ("notified", "evaluator")
    assert last.note == f"POST {hook.url}: HTTP 204, attempt 1"
    # nothing secret in our logs or the history: the secret, the path (it may hold a token);
    # httpx's own request lines are silenced by configure_logging (see test_webhook_process)
    ours = [r.getMessage() + str(vars(r)) for r in caplog.records if r.name.startswith("noiselab")]
    told = " ".join(ours + [e.note for e in meta.alerts.history(alert.id)])
    assert "webhook delivered" in told
    assert secret not in told
    assert "t0k3n" not in told


def test_the_body_is_the_queued_payload(meta: MetadataStore, hook: Receiver) -> None:
    import json

    _rule, alert = queued(meta, hook.url)
    with sender(meta, allow=LOCAL) as sending:
        sending.run_once()
    body = json.loads(hook.received[0].body)
    assert body["event"] == "alert.opened"
    assert body["delivery"] == f"{alert.id}-opened"
    assert body["created_at"] == "2026-03-02T12:00:00Z"
    assert body["alert"]["sensor_id"] == "road-1"
    assert body["rule"]["name"] == "hooked"


def test_a_resolution_is_queued_with_the_alert_change(meta: MetadataStore, hook: Receiver) -> None:
    """The evaluator's resolution queues ``resolved`` in its transaction; a person's does not;
    a rule without a URL queues nothing."""
    rule, alert = queued(meta, hook.url)
    when = datetime.fromtimestamp(T0 + 60, UTC)
    meta.alerts.resolve(alert.id, actor="evaluator", key_id=None, note="", now=when, notify=rule)
    quiet = meta.alerts.add_rule(AlertRule(name="quiet", metric="laeq", threshold=60.0))
    other = meta.alerts.open_new(quiet, "road-1", now=when, value=70.0, unit="dB", evidence={})
    assert other is not None
    meta.alerts.resolve(other.id, actor="kommune", key_id=None, note="", now=when)
    assert sorted(d.event for d in meta.deliveries.list()) == ["opened", "resolved"]


# --------------------------------------------------------------------------- SSRF at delivery


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}/api/v1/keys",
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
def test_an_internal_receiver_is_refused_at_delivery(
    meta: MetadataStore, hook: Receiver, form: str
) -> None:
    """Each form reaches the running receiver when allowed (the control below); without the
    allow-list nothing is sent, the delivery is dead at once, and the reason is recorded."""
    port = hook.url.rsplit(":", 1)[1]
    _rule, alert = queued(meta, form.format(port=port))
    with sender(meta) as sending:
        sending.run_once()
    assert hook.received == []
    delivery = only(meta)
    assert (delivery.status, delivery.attempts) == ("dead", 1)
    assert "loopback" in str(delivery.last_error)
    assert meta.alerts.history(alert.id)[-1].action == "notify_failed"


@pytest.mark.parametrize("form", ["http://2130706433:{port}/", "http://localhost:{port}/"])
def test_the_same_forms_are_delivered_when_allow_listed(
    meta: MetadataStore, hook: Receiver, form: str
) -> None:
    port = hook.url.rsplit(":", 1)[1]
    queued(meta, form.format(port=port))
    allow = AllowList.parse(["127.0.0.0/8", "::1/128", "localhost"])
    with sender(meta, allow=allow) as sending:
        sending.run_once()
    assert len(hook.received) == 1
    assert only(meta).status == "delivered"


def test_a_name_that_later_resolves_inside_is_refused(meta: MetadataStore, hook: Receiver) -> None:
    """DNS rebinding: the name resolved to a public address when the rule was saved and to
    127.0.0.1 at the delivery: refused, nothing sent."""
    port = int(hook.url.rsplit(":", 1)[1])
    url = f"http://hooks.rebind.test:{port}/hook"
    check_url_resolved(url, resolver=lambda host, p: ["93.184.216.34"])  # at save: fine
    queued(meta, url)
    with sender(meta, resolver=lambda host, p: ["127.0.0.1"]) as sending:
        sending.run_once()
    assert hook.received == []
    assert "hooks.rebind.test (127.0.0.1) is loopback" in str(only(meta).last_error)


def test_the_connection_goes_to_the_vetted_address_with_the_original_host(
    meta: MetadataStore, hook: Receiver
) -> None:
    """Resolved once, the connection is made to that address while ``Host`` names the host:
    the receiver (on 127.0.0.1, allowed) sees the name the rule gave."""
    port = int(hook.url.rsplit(":", 1)[1])
    queued(meta, f"http://hooks.pinned.test:{port}/hook")
    looked_up: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    with sender(meta, allow=LOCAL, resolver=resolve) as sending:
        sending.run_once()
    (got,) = hook.received
    assert got.headers["host"] == f"hooks.pinned.test:{port}"
    assert looked_up == ["hooks.pinned.test"]  # one lookup: nothing to rebind in between


def test_a_redirect_is_not_followed(meta: MetadataStore, hook: Receiver) -> None:
    """The receiver answers 302 towards a second server: that one gets nothing, and the
    delivery is dead with the reason."""
    with receiver(204) as target, receiver(302) as redirecting:
        redirecting.location = target.url + "/stolen"
        queued(meta, redirecting.url + "/hook")
        with sender(meta, allow=LOCAL) as sending:
            sending.run_once()
        assert len(redirecting.received) == 1
        assert target.received == []
    delivery = only(meta)
    assert delivery.status == "dead"
    assert "HTTP 302: redirects are not followed" in str(delivery.last_error)


# --------------------------------------------------------------------------- retries


def test_failures_back_off_then_dead_letter_and_a_retry_revives(meta: MetadataStore) -> None:
    """503 each time, 3 tries, first wait 10 s (jitter 0: half of 10·2^(n-1)): tries at T0,
    T0+5 and T0+15; then dead. Staff retry it; the receiver now answers 204."""
    clock = Clock()
    with receiver(503, 503, 503, 204) as failing:
        queued(meta, failing.url)
        with sender(meta, clock, allow=LOCAL, attempts=3, backoff_s=10.0) as sending:
            assert sending.run_once() == 1
            first = only(meta)
            assert (first.status, first.attempts, first.last_error) == (
                "pending",
                1,
                f"POST {failing.url}: HTTP 503",
            )
            assert first.next_attempt_at.timestamp() == T0 + 5
            clock.now = T0 + 4.9
            assert sending.run_once() == 0
            clock.now = T0 + 5
            assert sending.run_once() == 1
            assert only(meta).next_attempt_at.timestamp() == T0 + 15
            clock.now = T0 + 15
            sending.run_once()
            dead = only(meta)
            assert (dead.status, dead.attempts) == ("dead", 3)
            assert "gave up after 3 attempt(s)" in str(dead.last_error)
            assert len(failing.received) == 3
            clock.now = T0 + 1000
            assert sending.run_once() == 0  # dead stays dead
            revived = meta.deliveries.retry(dead.id, datetime.fromtimestamp(T0 + 1000, UTC))
            assert revived is not None
            assert revived.status == "pending"
            assert sending.run_once() == 1
        assert only(meta).status == "delivered"
        assert len(failing.received) == 4


def test_backoff_is_jittered_and_bounded(meta: MetadataStore) -> None:
    """Jitter 0.999…: the wait is just under the full 10·2^(n-1), and never above the cap."""
    clock = Clock()
    with receiver(503) as failing:
        queued(meta, failing.url)
        options = {"allow": LOCAL, "backoff_s": 10.0, "max_backoff_s": 15.0}
        with sender(meta, clock, jitter=lambda: 0.999, **options) as sending:
            sending.run_once()
            assert only(meta).next_attempt_at.timestamp() == pytest.approx(T0 + 9.995)
            clock.now = T0 + 10
            sending.run_once()
            assert only(meta).next_attempt_at.timestamp() == pytest.approx(T0 + 10 + 14.9925)


def test_a_closed_port_is_retried_not_lost(meta: MetadataStore) -> None:
    queued(meta, "http://127.0.0.1:9/hook")
    with sender(meta, allow=LOCAL) as sending:
        sending.run_once()
    delivery = only(meta)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectError" in str(delivery.last_error)


def test_a_sender_that_died_leaves_its_claim_to_expire(meta: MetadataStore, hook: Receiver) -> None:
    """A claim whose sender never reported (killed mid-send) is due again after its lease;
    before that no other sender takes it."""
    queued(meta, hook.url)
    now = datetime.fromtimestamp(T0, UTC)
    (lost,) = meta.deliveries.claim(now, lease_s=60)
    clock = Clock()
    with sender(meta, clock, allow=LOCAL) as sending:
        assert sending.run_once() == 0
        clock.now = T0 + 60
        assert sending.run_once() == 1
    assert only(meta).status == "delivered"
    assert not meta.deliveries.delivered(lost, now)  # the old claim cannot overwrite


def test_concurrent_senders_send_each_delivery_once(meta: MetadataStore, hook: Receiver) -> None:
    """Three senders on three threads empty an outbox of 30: each delivery reaches the
    receiver exactly once (row claims: SKIP LOCKED on PostgreSQL, serialised on SQLite)."""
    for n in range(30):
        queued(meta, hook.url, sensor_id=f"s-{n}")
    senders = [sender(meta, allow=LOCAL, batch=3) for _ in range(3)]
    threads = [threading.Thread(target=s.run_once) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for one in senders:
        one.close()
    ids = sorted(got.headers["x-noiselab-delivery"] for got in hook.received)
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert {d.status for d in meta.deliveries.list()} == {"delivered"}
