"""Daily indicators are kept per date: dates before yesterday for ``SETTLED_S`` seconds,
later ones for ``FRESH_S``; a long range recomputes only its missing or expired dates.
Visibility is checked before the cache, so a kept answer never reaches a caller who may not
see the sensor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support.grafana import FROM
from support.lab import ApiLab, staff
from support.readings import sensor

from noiselab.analysis.periods import DayIndicators
from noiselab.api.day_cache import DayCache
from noiselab.api.routes.indicators import FRESH_S, SETTLED_S
from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

URL = "/api/v1/sensors/{}/indicators?start=2026-03-02&end=2026-03-03"
MARCH_2 = FROM.timestamp()  # local midnight starting 2026-03-02 (UTC+1)


def _minutes(sensor_id: str, level: float, offset_s: int = 0) -> list[Reading]:
    """The whole local day 2026-03-02 of 30-s readings at ``level``, one a minute, each
    ``offset_s`` after the minute starts."""
    first = int(MARCH_2) + offset_s
    return [Reading(sensor_id, float(t), level, 30.0) for t in range(first, first + 86_400, 60)]


def _lday(client, sensor_id: str = "vb-road-1") -> float:
    return client.get(URL.format(sensor_id)).json()["days"][0]["lday"]


@pytest.mark.parametrize(
    ("now", "keep_s"),
    [
        (MARCH_2 + 3 * 86_400 + 3600, SETTLED_S),  # 2026-03-05 01:00: the 2nd is settled
        (MARCH_2 + 86_400 + 3600, FRESH_S),  # 2026-03-03 01:00: the 2nd is yesterday
    ],
    ids=["settled", "yesterday"],
)
def test_a_date_is_reused_for_its_time_then_recomputed(tmp_path, now, keep_s) -> None:
    """Steady 60 dB over the first half of every minute: Lday 60. Late data at 70 dB over the
    second halves: still 60 just before the date's time is up, then
    10·log10((10^6 + 10^7) / 2) = 67.4 once that and the FRESH_S an encoded answer is kept
    have passed."""
    lab = ApiLab(tmp_path, now=now)
    lab.sensors(sensor("vb-road-1"))
    lab.write(_minutes("vb-road-1", 60.0), received_at=now)
    with lab.client() as client:
        assert _lday(client) == 60.0
        lab.write(_minutes("vb-road-1", 70.0, offset_s=30), received_at=now)
        lab.clock.now += keep_s - 1
        assert _lday(client) == 60.0
        lab.clock.now += FRESH_S + 2
        assert _lday(client) == 67.4


def test_a_cached_answer_is_not_shown_to_a_caller_who_may_not_see_it(tmp_path) -> None:
    lab = ApiLab(tmp_path, now=MARCH_2 + 3 * 86_400)
    lab.sensors(sensor("vb-private-1", public=False))
    lab.write(_minutes("vb-private-1", 60.0), received_at=lab.clock.now)
    with lab.client() as client:
        url = URL.format("vb-private-1")
        assert client.get(url, headers=staff(client)).status_code == 200
        hidden = client.get(url)
        assert hidden.status_code == 404
        assert hidden.json() == {"detail": "unknown sensor 'vb-private-1'"}


def test_only_missing_dates_are_computed_in_one_span() -> None:
    calls: list[tuple[date, date]] = []

    def compute(lo: date, hi: date) -> list[DayIndicators]:
        calls.append((lo, hi))
        return [
            DayIndicators(date.fromordinal(o), None, None, None, None, None, None, 0, 0, 0, 0)
            for o in range(lo.toordinal(), hi.toordinal())
        ]

    now = [0.0]
    cache = DayCache(lambda: now[0])
    short = {date(2026, 3, 9)}  # kept 10 s, the others 100 s

    def ttl(day: date) -> float:
        return 10.0 if day in short else 100.0

    first, last = date(2026, 3, 1), date(2026, 3, 10)
    assert len(cache.get("s", first, last, compute, ttl)) == 9
    assert len(cache.get("s", first, last, compute, ttl)) == 9
    now[0] = 11.0
    days = cache.get("s", date(2026, 2, 27), last, compute, ttl)
    assert [d.date for d in days] == [date(2026, 2, 27) + timedelta(days=i) for i in range(11)]
    assert calls == [
        (date(2026, 3, 1), date(2026, 3, 10)),
        (date(2026, 2, 27), date(2026, 3, 10)),  # Feb 27-28 and Mar 9 missing: one span
    ]


def test_the_store_is_not_read_again_for_kept_dates(tmp_path) -> None:
    """A second request for the same dates reads nothing: the store file can even be gone."""
    lab = ApiLab(tmp_path, now=MARCH_2 + 3 * 86_400)
    lab.sensors(sensor("vb-road-1"))
    lab.write(_minutes("vb-road-1", 60.0), received_at=lab.clock.now)
    with lab.client() as client:
        assert _lday(client) == 60.0
        store: SqliteStore = client.app.state.store  # type: ignore[attr-defined]
        calls = []
        original = store.minute_series
        store.minute_series = lambda *a: calls.append(a) or original(*a)  # type: ignore[method-assign]
        assert _lday(client) == 60.0
        assert calls == []
