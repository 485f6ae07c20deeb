"""``/api/v1/trials`` on real SQLite files through FastAPI's ``TestClient``: CRUD and its
validation, who sees and changes what, and the OpenAPI document with its examples. The evaluation,
the report and the CSV export are in ``test_trial_evaluation_api.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from support.trials import (
    CONTROL,
    INSTALLED,
    START,
    TREATED,
    TRIALS,
    Setup,
    create,
    trial_body,
    trial_setup,
)
from support.trials import zulu as _z

from noiselab.api.schemas.trials import (
    BandEffectOut,
    DailyRowOut,
    EvaluationOut,
    SummaryRowOut,
    TrialIn,
    TrialOut,
)


@pytest.fixture(scope="module")
def shared_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """An app over an empty store for the tests whose requests are all refused (422) or only
    read the OpenAPI document: they change nothing, so they share it."""
    yield from trial_setup(tmp_path_factory.mktemp("trials"))


# --------------------------------------------------------------------------- CRUD


def test_staff_create_read_replace_delete(setup: Setup) -> None:
    created = create(setup)
    TrialOut.model_validate(created)
    tid = created["id"]
    assert re.fullmatch(r"tr-[0-9a-f]{12}", tid)
    assert created["before_start"] == "2026-02-08T23:00:00Z"
    assert created["treated"] == [TREATED]
    got = setup.client.get(f"{TRIALS}/{tid}", headers=setup.headers["admin"])
    assert got.status_code == 200
    assert got.json() == created
    assert got.headers["cache-control"] == "private, no-store"
    replaced = setup.client.put(
        f"{TRIALS}/{tid}", json=trial_body(hours=[22, 23, 0]), headers=setup.headers["admin"]
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["hours"] == [22, 23, 0]
    assert replaced.json()["created"] == created["created"]
    listed = setup.client.get(TRIALS, headers=setup.headers["staff"]).json()
    assert [t["id"] for t in listed] == [tid]
    assert setup.client.delete(f"{TRIALS}/{tid}", headers=setup.headers["staff"]).status_code == 204
    assert setup.client.get(f"{TRIALS}/{tid}", headers=setup.headers["staff"]).status_code == 404
    assert setup.client.delete(f"{TRIALS}/{tid}", headers=setup.headers["staff"]).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"treated": []}, "treated"),
        ({"control": [TREATED]}, "both treated and control: trial-blade-treated"),
        ({"treated": ["nope-1"]}, "unknown sensors: nope-1"),
        ({"control": ["BAD ID"]}, "is not a sensor id"),
        ({"before_end": _z(INSTALLED + timedelta(hours=1))}, "before must end no later"),
        ({"after_end": _z(INSTALLED)}, "after: start must be before end"),
        ({"before_start": "2026-02-09T00:00:00"}, "timezone"),
        ({"before_start": _z(START + timedelta(minutes=30))}, "whole hour"),
        ({"before_start": _z(START - timedelta(days=400))}, "at most 366 days"),
        ({"hours": [24]}, "less than or equal to 23"),
        ({"hours": [3, 3]}, "at most once"),
        ({"hours": [True]}, "valid integer"),
        ({"name": "  "}, "name must be"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_trials_are_422_with_a_reason(
    shared_setup: Setup, changes: dict[str, Any], message: str
) -> None:
    staff = shared_setup.headers["staff"]
    response = shared_setup.client.post(TRIALS, json=trial_body(**changes), headers=staff)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


def test_bad_json_body_is_422(setup: Setup) -> None:
    response = setup.client.post(
        TRIALS,
        content=b"{not json",
        headers=setup.headers["staff"] | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "detail" in response.json()


# --------------------------------------------------------------------------- access


READS = ["", "/evaluation", "/daily", "/summary", "/bands", "/report", "/export.csv"]


@pytest.mark.parametrize("suffix", READS)
def test_read_access_by_role(setup: Setup, suffix: str) -> None:
    """Public 401; owning vendor, staff, admin 200; another vendor 404 like an unknown id."""
    tid = create(setup)["id"]
    expected = {"public": 401, "vendor": 200, "other": 404, "staff": 200, "admin": 200}
    for who, status in expected.items():
        response = setup.client.get(f"{TRIALS}/{tid}{suffix}", headers=setup.headers[who])
        assert response.status_code == status, (who, response.text)
    unknown = setup.client.get(f"{TRIALS}/tr-000000000000{suffix}", headers=setup.headers["other"])
    hidden = setup.client.get(f"{TRIALS}/{tid}{suffix}", headers=setup.headers["other"])
    assert hidden.json()["detail"].replace(tid, "X") == unknown.json()["detail"].replace(
        "tr-000000000000", "X"
    )


def test_writes_need_staff_or_admin(setup: Setup) -> None:
    tid = create(setup)["id"]
    for who, status in {"public": 401, "vendor": 403, "other": 403}.items():
        h = setup.headers[who]
        assert setup.client.post(TRIALS, json=trial_body(), headers=h).status_code == status
        assert (
            setup.client.put(f"{TRIALS}/{tid}", json=trial_body(), headers=h).status_code == status
        )
        assert setup.client.delete(f"{TRIALS}/{tid}", headers=h).status_code == status
    admin = setup.client.post(TRIALS, json=trial_body(), headers=setup.headers["admin"])
    assert admin.status_code == 201


def test_vendors_list_only_their_trials(setup: Setup) -> None:
    mine = create(setup)["id"]
    theirs = create(setup, vendor="rival", treated=["other-private"], control=["vb-public"])["id"]
    listed = {
        who: [t["id"] for t in setup.client.get(TRIALS, headers=setup.headers[who]).json()]
        for who in ("vendor", "other", "staff")
    }
    assert listed["vendor"] == [mine]
    assert listed["other"] == [theirs]
    assert sorted(listed["staff"]) == sorted([mine, theirs])
    assert setup.client.get(TRIALS).status_code == 401


def test_a_vendor_sees_its_trial_sensors_at_once(setup: Setup) -> None:
    """Before the trial exists the private sensors are 404 for the vendor; right after it is
    created (within the key cache's lifetime) they are visible, to it and not to the rival."""
    vendor, other = setup.headers["vendor"], setup.headers["other"]
    assert setup.client.get(f"/api/v1/sensors/{TREATED}", headers=vendor).status_code == 404
    tid = create(setup)["id"]
    for sensor_id in (TREATED, CONTROL):
        assert setup.client.get(f"/api/v1/sensors/{sensor_id}", headers=vendor).status_code == 200
        assert setup.client.get(f"/api/v1/sensors/{sensor_id}", headers=other).status_code == 404
    listed = {s["id"] for s in setup.client.get("/api/v1/sensors", headers=vendor).json()}
    assert listed == {TREATED, CONTROL, "vb-public"}
    fine = setup.client.get(f"/api/v1/sensors/{TREATED}/levels?every=1m", headers=vendor)
    assert fine.status_code == 200
    setup.client.delete(f"{TRIALS}/{tid}", headers=setup.headers["staff"])
    assert setup.client.get(f"/api/v1/sensors/{TREATED}", headers=vendor).status_code == 404


# ------------------------------------------------------------------------ OpenAPI


def test_openapi_documents_the_trial_routes(shared_setup: Setup) -> None:
    spec = shared_setup.client.get("/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith(TRIALS)}
    assert paths == {
        TRIALS,
        f"{TRIALS}/{{trial_id}}",
        *(f"{TRIALS}/{{trial_id}}{s}" for s in READS[1:]),
    }
    evaluation = spec["paths"][f"{TRIALS}/{{trial_id}}/evaluation"]["get"]
    assert {"200", "401", "404"} <= set(evaluation["responses"])
    schemas = spec["components"]["schemas"]
    assert schemas["TrialIn"]["examples"][0]["vendor"] == "acme"
    assert "examples" in schemas["DailyRowOut"]


def test_documented_examples_are_valid_answers() -> None:
    """Each model's OpenAPI example validates against the model itself."""
    for model in (TrialIn, TrialOut, EvaluationOut, DailyRowOut, SummaryRowOut, BandEffectOut):
        for example in model.model_json_schema()["examples"]:
            model.model_validate(example)
