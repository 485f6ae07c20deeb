"""Staff alerts: rules, alerts and their lifecycle. Staff and admin keys only (no key 401,
a vendor key 403).

``/api/v1/alert-rules`` (CRUD, and a new webhook signing secret), ``/api/v1/alerts`` (list
with filters, one alert with its history, acknowledge and resolve with a note) and
``/api/v1/alerts/deliveries`` (the webhook outbox; retry a dead delivery). The actor recorded
in the history is the key's name and id. A transition the alert's state does not allow
answers 409.

A rule's ``webhook_url`` must pass the URL policy (:mod:`noiselab.alerts.url_policy`, with the
operator's allow-list) when it is saved, its host resolved then: a refusal answers 422 with
the reason. The signing secret is in the answer that creates the rule or rotates its secret,
and in no other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.alerts.url_policy import UrlRefused, check_url_resolved
from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.auth import Principal
from noiselab.api.deps import MetaDep, SettingsDep
from noiselab.api.params import MAX_ID, RowId, parse_instant
from noiselab.api.schemas.alerts import (
    AlertDetailOut,
    AlertEventOut,
    AlertOut,
    DeliveryOut,
    NoteIn,
    RuleCreatedOut,
    RuleIn,
    RuleOut,
    SecretOut,
)
from noiselab.api.schemas.errors import ErrorOut
from noiselab.model import utc
from noiselab.store.metadata import (
    Alert,
    AlertRepository,
    AlertRule,
    AlertState,
    Delivery,
    DeliveryState,
    MetadataStore,
    NotDead,
    RuleInUse,
    TransitionError,
)

__all__ = ["alert_fields", "router"]

router = APIRouter(prefix="/api/v1", tags=["alerts"])

_BAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."}
}
_NO_RULE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such rule."}
}
_NO_ALERT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such alert."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The alert's state does not allow this."}
}


def _repo(meta: MetadataStore) -> AlertRepository:
    return meta.alerts


def _rule_out(rule: AlertRule) -> RuleOut:
    assert rule.id is not None
    fields = msgspec.structs.asdict(rule) | {"sensor_ids": list(rule.sensor_ids)}
    return RuleOut(**fields)


def _rule_from(
    body: RuleIn, meta: MetadataStore, settings: SettingsDep, now: datetime
) -> AlertRule:
    if body.webhook_url is not None:
        try:
            check_url_resolved(body.webhook_url, settings.webhook_allow_list)
        except UrlRefused as exc:
            raise HTTPException(422, str(exc)) from exc
    known = meta.sensors.ids()
    unknown = [sid for sid in body.sensor_ids if sid not in known]
    if unknown:
        raise HTTPException(422, f"sensor_ids: unknown sensor {unknown[0]!r}")
    fields = body.model_dump() | {"sensor_ids": tuple(dict.fromkeys(body.sensor_ids))}
    try:
        return AlertRule(**fields, created=now, updated=now)
    except (ValueError, TypeError) as exc:
        raise HTTPException(422, str(exc)) from exc


def alert_fields(alert: Alert, now: datetime) -> dict[str, Any]:
    """An alert as the flat row ``AlertOut`` describes."""
    fields = msgspec.structs.asdict(alert)
    in_db = alert.unit == "dB"
    until = alert.resolved_at or now
    return fields | {
        "value_db": alert.value if in_db else None,
        "threshold_db": alert.threshold if in_db else None,
        "open_s": round(max(0.0, (until - alert.opened_at).total_seconds()), 1),
    }


def _detail(repo: AlertRepository, alert: Alert, now: datetime) -> AlertDetailOut:
    history = [AlertEventOut(**msgspec.structs.asdict(e)) for e in repo.history(alert.id)]
    return AlertDetailOut(**alert_fields(alert, now), history=history)


def _now(settings: SettingsDep) -> datetime:
    return utc(settings.clock())


# --------------------------------------------------------------------------- rules


@router.get("/alert-rules", summary="List alert rules", responses=GUARDED)
def list_rules(response: Response, meta: MetaDep, _staff: Staff) -> list[RuleOut]:
    """All rules, the built-in health rules included, by id."""
    no_store(response)
    return [_rule_out(rule) for rule in _repo(meta).list_rules()]


@router.post(
    "/alert-rules",
    summary="Create an alert rule",
    status_code=201,
    responses={**GUARDED, **_BAD},
)
def create_rule(
    body: RuleIn, response: Response, meta: MetaDep, settings: SettingsDep, _staff: Staff
) -> RuleCreatedOut:
    """Create a rule; the evaluator picks it up at its next pass. The answer holds the rule's
    webhook signing secret, which no other answer shows."""
    no_store(response)
    rule = _rule_from(body, meta, settings, _now(settings))
    added = _repo(meta).add_rule(rule)
    assert added.id is not None
    secret = _repo(meta).webhook_secret(added.id)
    assert secret is not None
    return RuleCreatedOut(**_rule_out(added).model_dump(), webhook_secret=secret)


@router.post(
    "/alert-rules/{rule_id}/secret",
    summary="Give an alert rule a new webhook signing secret",
    responses={**GUARDED, **_NO_RULE, **_BAD},
)
def rotate_secret(
    rule_id: RowId, response: Response, meta: MetaDep, settings: SettingsDep, _staff: Staff
) -> SecretOut:
    """Replace the rule's signing secret and show the new one, this once. Deliveries sent
    from now on, queued ones included, carry signatures with the new secret."""
    no_store(response)
    secret = _repo(meta).rotate_secret(rule_id, _now(settings))
    if secret is None:
        raise HTTPException(404, f"unknown alert rule {rule_id}")
    return SecretOut(rule_id=rule_id, webhook_secret=secret)


@router.get(
    "/alert-rules/{rule_id}", summary="One alert rule", responses={**GUARDED, **_NO_RULE, **_BAD}
)
def get_rule(rule_id: RowId, response: Response, meta: MetaDep, _staff: Staff) -> RuleOut:
    """One rule."""
    no_store(response)
    rule = _repo(meta).get_rule(rule_id)
    if rule is None:
        raise HTTPException(404, f"unknown alert rule {rule_id}")
    return _rule_out(rule)


@router.put(
    "/alert-rules/{rule_id}",
    summary="Replace an alert rule",
    responses={
        **GUARDED,
        **_NO_RULE,
        **_BAD,
        409: {"model": ErrorOut, "description": "A built-in rule's kind cannot change."},
    },
)
def replace_rule(
    rule_id: RowId,
    *,
    body: RuleIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
) -> RuleOut:
    """Replace a rule's settings (its alerts stay; changes apply from the next pass)."""
    no_store(response)
    now = _now(settings)
    rule = _rule_from(body, meta, settings, now)
    try:
        replaced = _repo(meta).replace_rule(rule_id, rule, now)
    except RuleInUse as exc:
        raise HTTPException(409, str(exc)) from exc
    if replaced is None:
        raise HTTPException(404, f"unknown alert rule {rule_id}")
    return _rule_out(replaced)


@router.delete(
    "/alert-rules/{rule_id}",
    summary="Delete an alert rule",
    status_code=204,
    response_class=Response,
    responses={
        **GUARDED,
        **_NO_RULE,
        **_BAD,
        409: {"model": ErrorOut, "description": "Built in, or alerts refer to it: disable it."},
    },
)
def delete_rule(rule_id: RowId, meta: MetaDep, _staff: Staff) -> Response:
    """Delete a rule that never raised an alert; others are disabled (`enabled: false`)."""
    try:
        found = _repo(meta).delete_rule(rule_id)
    except RuleInUse as exc:
        raise HTTPException(409, str(exc)) from exc
    if not found:
        raise HTTPException(404, f"unknown alert rule {rule_id}")
    return Response(status_code=204, headers={"Cache-Control": "private, no-store"})


# --------------------------------------------------------------------------- deliveries
# (before /alerts/{alert_id}, which would take "deliveries" for an id)

_NO_DELIVERY: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such delivery."}
}


def _delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(**msgspec.structs.asdict(delivery))


@router.get("/alerts/deliveries", summary="List webhook deliveries", responses={**GUARDED, **_BAD})
def list_deliveries(
    *,
    response: Response,
    meta: MetaDep,
    _staff: Staff,
    status: Annotated[
        DeliveryState | None, Query(description="pending, delivered or dead.")
    ] = None,
    alert_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """The webhook outbox newest first, as flat rows: status, tries, next try, last error."""
    no_store(response)
    found = meta.deliveries.list(status=status, alert_id=alert_id, limit=limit)
    return [_delivery_out(delivery) for delivery in found]


@router.post(
    "/alerts/deliveries/{delivery_id}/retry",
    summary="Retry a dead webhook delivery",
    responses={
        **GUARDED,
        **_NO_DELIVERY,
        **_BAD,
        409: {"model": ErrorOut, "description": "The delivery is not dead."},
    },
)
def retry_delivery(
    delivery_id: RowId, response: Response, meta: MetaDep, settings: SettingsDep, _staff: Staff
) -> DeliveryOut:
    """Queue a dead delivery again, due now, with a fresh count of tries."""
    no_store(response)
    try:
        delivery = meta.deliveries.retry(delivery_id, _now(settings))
    except NotDead as exc:
        raise HTTPException(409, str(exc)) from exc
    if delivery is None:
        raise HTTPException(404, f"unknown delivery {delivery_id}")
    return _delivery_out(delivery)


# --------------------------------------------------------------------------- alerts


@router.get("/alerts", summary="List alerts", responses={**GUARDED, **_BAD})
def list_alerts(
    *,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
    state: Annotated[
        AlertState | None, Query(description="open, acknowledged or resolved.")
    ] = None,
    sensor_id: Annotated[str | None, Query(max_length=64)] = None,
    rule_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    start: Annotated[
        str | None,
        Query(
            description="Alerts active at or after this time: RFC 3339 with offset, a date "
            "(local midnight) or epoch milliseconds (Grafana's ${__from})."
        ),
    ] = None,
    end: Annotated[
        str | None, Query(description="Alerts opened before this time; like start.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    """Alerts newest first, as flat rows (Grafana Infinity friendly)."""
    no_store(response)
    first = parse_instant("start", start, settings.tz) if start else None
    last = parse_instant("end", end, settings.tz) if end else None
    if first is not None and last is not None and first >= last:
        raise HTTPException(422, "start: must be before end")
    alerts = _repo(meta).list_alerts(
        state=state, sensor_id=sensor_id, rule_id=rule_id, start=first, end=last, limit=limit
    )
    now = _now(settings)
    return [AlertOut(**alert_fields(alert, now)) for alert in alerts]


@router.get(
    "/alerts/{alert_id}",
    summary="One alert with its history",
    responses={**GUARDED, **_NO_ALERT, **_BAD},
)
def get_alert(
    alert_id: RowId, response: Response, meta: MetaDep, settings: SettingsDep, _staff: Staff
) -> AlertDetailOut:
    """One alert, its evidence and who did what when."""
    no_store(response)
    repo = _repo(meta)
    alert = repo.get_alert(alert_id)
    if alert is None:
        raise HTTPException(404, f"unknown alert {alert_id}")
    return _detail(repo, alert, _now(settings))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert",
    responses={**GUARDED, **_NO_ALERT, **_CONFLICT, **_BAD},
)
def acknowledge(
    alert_id: RowId,
    *,
    body: NoteIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    staff: Staff,
) -> AlertDetailOut:
    """Mark an open alert as seen, with a note; it stays unresolved."""
    return _move(
        alert_id,
        body=body,
        response=response,
        meta=meta,
        settings=settings,
        staff=staff,
        resolve=False,
    )


@router.post(
    "/alerts/{alert_id}/resolve",
    summary="Resolve an alert",
    responses={**GUARDED, **_NO_ALERT, **_CONFLICT, **_BAD},
)
def resolve(
    alert_id: RowId,
    *,
    body: NoteIn,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    staff: Staff,
) -> AlertDetailOut:
    """Resolve an open or acknowledged alert, with a note. No new alert of the same rule and
    sensor opens within the rule's cooldown."""
    return _move(
        alert_id,
        body=body,
        response=response,
        meta=meta,
        settings=settings,
        staff=staff,
        resolve=True,
    )


def _move(
    alert_id: RowId,
    *,
    body: NoteIn,
    response: Response,
    meta: MetadataStore,
    settings: SettingsDep,
    staff: Principal,
    resolve: bool,
) -> AlertDetailOut:
    no_store(response)
    repo, now = _repo(meta), _now(settings)
    move = repo.resolve if resolve else repo.acknowledge
    try:
        alert = move(
            alert_id, actor=staff.name, key_id=staff.key_id, note=body.note.strip(), now=now
        )
    except TransitionError as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if alert is None:
        raise HTTPException(404, f"unknown alert {alert_id}")
    return _detail(repo, alert, now)
