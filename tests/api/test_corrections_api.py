"""``/api/v1/corrections`` on real SQLite files: staff add, list, read and withdraw corrections
(the audit log); bad requests are 4xx with a reason, never 500; the daily indicators and the
levels change by hand-computed amounts at once and change back on withdrawal (the levels as
measured on request); a correction made outside the API reaches the indicators within the
registry's cache window; trial answers and the report cite the corrections. Access per role is in
``test_role_matrix.py``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.lab import ApiLab, Key
from support.readings import minutes, sensor
from support.trials import create, trial_setup

from noiselab.api.schemas.corrections import CorrectionOut
from noiselab.api.schemas.trials import EvaluationOut
from noiselab.store.metadata import Correction, MetadataStore

CPH = ZoneInfo("Europe/Copenhagen")
URL = "/api/v1/corrections"
SENSOR = "vb-road-1"
INDICATORS = f"/api/v1/sensors/{SENSOR}/indicators"
DAY = {"start": "2026-02-10", "end": "2026-02-11"}


def local(hour: int, minute: int = 0, day: int = 10) -> str:
    """2026-02-``day`` ``hour``:``minute`` Copenhagen (UTC+1) as RFC 3339 UTC."""
    t = datetime(2026, 2, day, hour, minute, tzinfo=CPH).astimezone(UTC)
    return t.isoformat().replace("+00:00", "Z")


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    staff_key: Key
    lab: ApiLab


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A public road sensor at a steady 60 dB (one-minute readings) from 2026-02-10 00:00 to
    2026-02-11 07:00 local, so the 10th has every period; a staff key named ``kommune``."""
    lab = ApiLab(tmp_path, now=datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    lab.sensors(sensor(SENSOR))
    start = datetime(2026, 2, 10, tzinfo=CPH).timestamp()
    lab.write(minutes(SENSOR, start, 31 * 60, 60.0), received_at=start + 31 * 3600)
    key = lab.key("staff", "kommune")
    with lab.client() as client:
        yield Api(client, key.headers, key, lab)


def body(**changes: Any) -> dict[str, Any]:
    return {
        "sensor_id": SENSOR,
        "start": local(19),
        "end": local(22),
        "kind": "offset",
        "offset_db": -3.0,
        "reason": "Calibrator check: the sensor read 3 dB high in the evening",
    } | changes


def add(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 201, response.text
    return response.json()


def day_of(api: Api) -> dict[str, Any]:
    response = api.client.get(INDICATORS, params=DAY)
    assert response.status_code == 200, response.text
    return response.json()["days"][0]


# --------------------------------------------------------------------------- the audit log


def test_staff_add_read_list_and_withdraw_once(api: Api) -> None:
    made = add(api)
    CorrectionOut.model_validate(made)
    assert made["created_by"] == "kommune"
    assert made["created_by_key"] == api.staff_key.id
    assert made["created_at"] == "2026-02-20T00:00:00Z"  # the app's clock
    assert (made["start"], made["end"], made["active"]) == ("2026-02-10T18:00:00Z", local(22), True)
    one = api.client.get(f"{URL}/{made['id']}", headers=api.staff)
    assert one.json() == made
    assert one.headers["cache-control"] == "private, no-store"
    withdraw = f"{URL}/{made['id']}/withdraw"
    gone = api.client.post(withdraw, json={"reason": "wrong sensor"}, headers=api.staff)
    assert gone.status_code == 200, gone.text
    assert gone.json() | {} == made | {
        "active": False,
        "withdrawn_at": "2026-02-20T00:00:00Z",
        "withdrawn_by": "kommune",
        "withdrawn_by_key": api.staff_key.id,
        "withdraw_reason": "wrong sensor",
    }
    again = api.client.post(withdraw, json={"reason": "again"}, headers=api.staff)
    assert again.status_code == 409
    assert "was withdrawn at 2026-02-20T00:00Z by kommune" in again.json()["detail"]
    listed = api.client.get(URL, headers=api.staff).json()
    assert listed == [gone.json()]  # nothing disappears
    assert (
        api.client.get(URL, params={"include_withdrawn": "false"}, headers=api.staff).json() == []
    )


def test_the_list_filters_and_pages_oldest_first(api: Api) -> None:
    ids = [add(api, start=local(h), end=local(h + 1))["id"] for h in (1, 3, 5)]
    page = api.client.get(URL, params={"limit": 2}, headers=api.staff)
    assert [c["id"] for c in page.json()] == ids[:2]
    nxt = page.headers["x-next-after-id"]
    rest = api.client.get(URL, params={"after_id": nxt}, headers=api.staff).json()
    assert [c["id"] for c in rest] == ids[2:]
    window = {"start": local(2), "end": local(4)}
    assert [c["id"] for c in api.client.get(URL, params=window, headers=api.staff).json()] == [
        ids[1]
    ]
    other = api.client.get(URL, params={"sensor_id": "vb-other"}, headers=api.staff)
    assert other.json() == []


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"sensor_id": "vb-nowhere"}, "sensor_id: unknown sensor 'vb-nowhere'"),
        ({"start": local(19).replace(":00Z", ":30Z")}, "must be on a whole minute"),
        ({"end": local(18)}, "start: must be before end"),
        ({"offset_db": 20.5}, "offset_db"),
        ({"offset_db": None}, "an offset correction needs a number of dB"),
        ({"kind": "exclude"}, "an exclusion takes no offset"),
        ({"kind": "shift"}, "kind"),
        ({"reason": "   "}, "reason: must be 1-2000 characters"),
        ({"reason": ""}, "reason"),
        ({"start": "2026-02-10T19:00:00"}, "start"),
        ({"end": "9999-12-31T23:59:00Z"}, "1970-01-01..2100-01-01"),
    ],
)
def test_bad_corrections_are_422_with_a_reason(
    api: Api, changes: dict[str, Any], detail: str
) -> None:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert api.client.get(URL, headers=api.staff).json() == []


def test_odd_bodies_and_ids_are_4xx(api: Api) -> None:
    nan = api.client.post(
        URL,
        content=b'{"sensor_id": "vb-road-1", "start": "2026-02-10T18:00:00Z", "end": '
        b'"2026-02-10T19:00:00Z", "kind": "offset", "offset_db": NaN, "reason": "x"}',
        headers=api.staff | {"Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    missing = [
        api.client.get(f"{URL}/999999", headers=api.staff),
        api.client.post(f"{URL}/999999/withdraw", json={"reason": "x"}, headers=api.staff),
    ]
    for response in missing:
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == "unknown correction 999999"
    huge = api.client.get(f"{URL}/{2**64}", headers=api.staff)
    assert huge.status_code == 422
    blank = api.client.post(f"{URL}/1/withdraw", json={"reason": ""}, headers=api.staff)
    assert blank.status_code == 422


# --------------------------------------------------------------------------- indicators


def test_an_evening_offset_lowers_levening_and_lden_by_hand_computed_amounts(api: Api) -> None:
    """Steady 60 dB. Before: Lday = Levening = Lnight = 60, Lden = 10·log10((12·10^6 +
    3·10^6.5 + 9·10^7)/24) = 66.67 dB. With -3 dB over the evening (19-22 local): Levening
    57.00 and Lden = 10·log10((12·10^6 + 3·10^6.2 + 9·10^7)/24) = 66.48 dB, at once (the
    cached answer is not served). Withdrawn: back to 66.67. The levels of those hours carry
    the offset too (57.00 dB), and are 60.00 dB as measured."""
    assert (day_of(api)["levening"], day_of(api)["lden"]) == (60.0, 66.67)
    made = add(api)
    corrected = day_of(api)
    assert (corrected["lday"], corrected["levening"], corrected["lnight"]) == (60.0, 57.0, 60.0)
    assert corrected["lden"] == 66.48
    url, hours = f"/api/v1/sensors/{SENSOR}/levels", {"start": local(19), "end": local(22)}
    levels = api.client.get(url, params={**hours, "every": "1h"}).json()
    assert [p["laeq"] for p in levels["points"]] == [57.0, 57.0, 57.0]
    measured = api.client.get(url, params={**hours, "every": "1h", "as_measured": "true"}).json()
    assert [p["laeq"] for p in measured["points"]] == [60.0, 60.0, 60.0]
    api.client.post(f"{URL}/{made['id']}/withdraw", json={"reason": "no"}, headers=api.staff)
    assert (day_of(api)["levening"], day_of(api)["lden"]) == (60.0, 66.67)


def test_half_an_hour_is_corrected_through_its_minutes(api: Api) -> None:
    """-3 dB over 19:00-19:30: the 19 h hour is 60 + 10·log10(0.5·10^-0.3 + 0.5) = 58.754 dB,
    Levening = 10·log10((10^5.8754 + 2·10^6)/3) = 59.62 dB, Lden 66.64 dB."""
    add(api, end=local(19, 30))
    day = day_of(api)
    assert (day["levening"], day["lden"]) == (59.62, 66.64)
    assert day["coverage"]["evening"] == 1.0


def test_an_excluded_night_has_no_lnight_nor_lden(api: Api) -> None:
    """The night of the 10th (22:00 to 07:00 next morning) excluded: Lnight and Lden null,
    night coverage 0; Lday and Levening unchanged."""
    add(api, kind="exclude", offset_db=None, start=local(22), end=local(7, day=11))
    day = day_of(api)
    assert (day["lday"], day["levening"], day["lnight"], day["lden"]) == (60.0, 60.0, None, None)
    assert day["coverage"]["night"] == 0.0


def test_a_correction_made_elsewhere_applies_within_the_cache_window(api: Api) -> None:
    """Made in the metadata database directly (as ``noiselab corrections add`` does): the
    answer kept for this sensor holds for the registry's 5 s, then the correction applies."""
    assert day_of(api)["levening"] == 60.0
    with MetadataStore(api.lab.meta_url) as meta:
        meta.corrections.add(
            Correction(
                sensor_id=SENSOR,
                start=datetime.fromisoformat(local(19)),
                end=datetime.fromisoformat(local(22)),
                kind="offset",
                offset_db=-3.0,
                reason="from the command line",
                created_by="ops",
            )
        )
    assert day_of(api)["levening"] == 60.0
    assert api.lab.clock is not None
    api.lab.clock.now += 6
    assert day_of(api)["levening"] == 57.0


# --------------------------------------------------------------------------- trials


def test_trial_answers_and_report_cite_the_corrections(tmp_path: Path) -> None:
    """No corrections: the answers and the report say none were applied. One added and one
    withdrawn on the treated sensor: the summary counts the applied one at once (the cached
    evaluation is not served), the evaluation lists both without key ids, and the report
    cites them (escaped)."""
    for setup in trial_setup(tmp_path):
        trial = create(setup)
        url = f"/api/v1/trials/{trial['id']}"
        vendor, staff = setup.headers["vendor"], setup.headers["staff"]
        first = EvaluationOut.model_validate(
            setup.client.get(url + "/evaluation", headers=vendor).json()
        )
        assert first.corrections == []
        assert first.corrections_note.startswith("No corrections were applied")
        assert (
            "No corrections were applied" in setup.client.get(url + "/report", headers=vendor).text
        )
        assert (
            setup.client.get(url + "/summary", headers=vendor).json()[0]["corrections_applied"] == 0
        )
        sensor_id = trial["treated"][0]
        made = [
            setup.client.post(
                URL,
                json={
                    "sensor_id": sensor_id,
                    "start": trial["after_start"],
                    "end": trial["after_end"],
                    "kind": kind,
                    "offset_db": offset,
                    "reason": f"<b>{kind}</b> reason",
                },
                headers=staff,
            ).json()
            for kind, offset in (("offset", -1.5), ("exclude", None))
        ]
        setup.client.post(
            f"{URL}/{made[1]['id']}/withdraw", json={"reason": "only a test"}, headers=staff
        )
        assert (
            setup.client.get(url + "/summary", headers=vendor).json()[0]["corrections_applied"] == 1
        )
        cited = setup.client.get(url + "/evaluation", headers=vendor).json()
        EvaluationOut.model_validate(cited)
        assert [(c["id"], c["active"]) for c in cited["corrections"]] == [
            (made[0]["id"], True),
            (made[1]["id"], False),
        ]
        assert "created_by_key" not in cited["corrections"][0]
        assert cited["corrections"][1]["withdraw_reason"] == "only a test"
        assert f"applied (id {made[0]['id']})" in cited["corrections_note"]
        page = setup.client.get(url + "/report", headers=vendor).text
        assert "&lt;b&gt;offset&lt;/b&gt; reason" in page
        assert "<b>offset</b>" not in page
        assert "offset -1.50 dB" in page
        assert "withdrawn" in page
        assert "only a test (not applied)" in page
