"""Statistical and known-answer tests of the Vallensbæk simulator (physics + generator).

Times are local (Europe/Copenhagen) winter days of 2026: Tuesday 6 January is the weekday,
Saturday 10 January the weekend day. Accepted ranges are stated in each docstring with why.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest

from noiselab.analysis.baci import baci
from noiselab.analysis.decibels import leq
from noiselab.analysis.events import detect_events
from noiselab.analysis.levels import percentile_level
from noiselab.ingest.message import parse_message
from noiselab.sensors_sim import physics
from noiselab.sensors_sim.generate import Generated, generate, readings
from noiselab.sensors_sim.site_specs import Barrier, load_sites, site_by_id

CPH = ZoneInfo("Europe/Copenhagen")
TUESDAY = datetime(2026, 1, 6, tzinfo=CPH)
SATURDAY = datetime(2026, 1, 10, tzinfo=CPH)
SEED = 7


@cache
def _day(site_id: str, day: datetime, seed: int = SEED) -> Generated:
    return generate(site_by_id(site_id), day, day + timedelta(days=1), seed)


def _hour_leq(g: Generated, hour: int) -> float:
    """LAeq of local clock hour ``hour`` of a generated (non-DST-change) local day."""
    return leq(g.laeq[hour * 3600 : (hour + 1) * 3600])


def _energy(levels: np.ndarray) -> np.ndarray:
    return np.asarray(10.0 ** (levels / 10.0))


# --- physics known answers -----------------------------------------------------------------


def test_line_source_level_known_answer() -> None:
    """1000 veh/h of LW = 100 dB at 100 km/h: LW' = 100 + 10·log10(1000/100000) = 80 dB/m;
    at 10 m: 80 - 10 - 8 - 0.005·10 = 61.95 dB; at 20 m 3.01 + 0.05 dB less."""
    at10 = physics.line_source_level(100.0, [1000.0, 1000.0], 100.0, 10.0)
    at20 = physics.line_source_level(100.0, 1000.0, 100.0, 20.0)
    np.testing.assert_allclose(at10, 61.95, atol=1e-9)
    np.testing.assert_allclose(at10[0] - at20, 10 * np.log10(2) + 0.05, atol=1e-9)


def test_vehicle_sound_power_known_answer() -> None:
    """LW = A + B·log10(v/70): at 70 km/h exactly A; at 140 km/h A + B·0.30103."""
    assert physics.vehicle_sound_power(70.0, physics.LIGHT) == physics.LIGHT.a_db
    np.testing.assert_allclose(
        physics.vehicle_sound_power(140.0, physics.HEAVY),
        physics.HEAVY.a_db + physics.HEAVY.b_db * np.log10(2.0),
    )


def test_passby_kernel_sums_to_one_and_is_symmetric() -> None:
    """Energy of one pass-by is conserved and centred on closest approach."""
    k = physics.passby_kernel(25.0, 110.0, 1.0, 1000)
    np.testing.assert_allclose(k.sum(), 1.0)
    np.testing.assert_allclose(k[1:50], k[-1:-50:-1])


def test_train_energy_integrates_to_sel() -> None:
    """The 1-s energies of one isolated pass-by sum to 10^(SEL/10) (SEL = L∞ + 10·log10(l/v))
    within 1 % (the ±300 s window cuts the far tails), and their peak is below Lmax."""
    kind = physics.TRAIN_KINDS[1]
    t0 = np.arange(0.0, 1200.0)
    e = physics.train_energy(t0, 1.0, np.array([600.0]), np.array([1]), 25.0)
    np.testing.assert_allclose(10 * np.log10(e.sum()), physics.train_sel(kind, 25.0), atol=0.05)
    assert 10 * np.log10(e.max()) <= physics.train_lmax(kind, 25.0) + 1e-9


def test_timetable_within_line_capacity_and_freight_mostly_at_night() -> None:
    """At most 24 trains in any hour (line capacity); most freight trains run 22-06 h."""
    for weekend in (False, True):
        at, kind = physics.timetable(weekend=weekend)
        per_hour = np.bincount((at // 3600).astype(int), minlength=24)
        assert per_hour.max() <= 24
        freight_hours = (at[kind == 2] // 3600).astype(int)
        night = (freight_hours >= 22) | (freight_hours < 6)
        assert night.mean() > 0.6


# --- sites -------------------------------------------------------------------------------


def test_default_sites_file() -> None:
    """About a dozen sites, valid ids, estimated coordinates near Vallensbæk, one trial pair."""
    sites = load_sites()
    assert 10 <= len(sites) <= 14
    assert len({s.id for s in sites}) == len(sites)
    for s in sites:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,63}", s.id)
        assert s.estimated
        assert 55.60 < s.lat < 55.66
        assert 12.33 < s.lon < 12.41
        if s.source == "road":
            assert s.road is not None
            assert s.road.distance_m == s.distance_m
        if s.source == "rail":
            assert s.rail is not None
            assert s.rail.distance_m == s.distance_m
    roles = sorted((s.role, s.pair) for s in sites if s.role is not None)
    assert roles == [("control", "trial-blade"), ("treated", "trial-blade")]
    assert site_by_id("trial-blade-treated").insertion_loss_db == 6.0
    with pytest.raises(KeyError, match="kbm-25m"):
        site_by_id("nowhere")


# --- generator ---------------------------------------------------------------------------


def test_generate_is_deterministic_and_chunk_independent() -> None:
    """Same seed, same arrays; another seed, other arrays; [a, c) == [a, b) + [b, c) even
    across midnight UTC."""
    site = site_by_id("ring-25m")
    a = TUESDAY + timedelta(hours=22)
    b, c = a + timedelta(hours=2), a + timedelta(hours=4)
    one = generate(site, a, c, 3)
    two = generate(site, a, c, 3)
    for field in Generated.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
    first, second = generate(site, a, b, 3), generate(site, b, c, 3)
    np.testing.assert_array_equal(one.laeq, np.concatenate([first.laeq, second.laeq]))
    both = np.concatenate([first.train_times, second.train_times])
    np.testing.assert_array_equal(one.train_times, both)
    assert not np.array_equal(one.laeq, generate(site, a, c, 4).laeq)
    assert one.ts.size == 4 * 3600
    assert np.all(np.diff(one.ts) == 1.0)


def test_rate_hz_grid_and_validation() -> None:
    """0.1 Hz gives one 10-s interval per 10 s; a rate whose interval does not divide a day
    is refused."""
    g = generate(site_by_id("kbm-50m"), TUESDAY, TUESDAY + timedelta(hours=1), 1, rate_hz=0.1)
    assert g.ts.size == 360
    assert np.all(np.diff(g.ts) == 10.0)
    with pytest.raises(ValueError, match="rate_hz"):
        generate(site_by_id("kbm-50m"), TUESDAY, TUESDAY + timedelta(hours=1), 1, rate_hz=0.007)


def test_rush_hour_louder_than_night_near_motorways() -> None:
    """Weekday 08-09 h vs 03-04 h at 25 m: flow ratio 7.0/0.4 (12.4 dB) minus the night's
    larger heavy share (about +1.5 dB at night) gives about 10-11 dB; accept 8-16 dB."""
    for site_id in ("kbm-25m", "hbm-25m"):
        g = _day(site_id, TUESDAY)
        margin = _hour_leq(g, 8) - _hour_leq(g, 3)
        assert 8.0 < margin < 16.0, (site_id, margin)


def test_road_level_falls_about_3_db_per_doubling() -> None:
    """Daytime (07-19 h) LAeq at 25, 50, 150 m: line source, 3.01 dB per doubling plus air
    absorption (0.125 dB from 25 to 50 m, 0.625 dB to 150 m), i.e. about 3.1-3.3 dB per
    doubling; accept 2.6-3.6 dB (Poisson noise at 150 m and background add spread)."""
    for road in ("kbm", "hbm"):
        day = {
            d: leq(_day(f"{road}-{d}m", TUESDAY).laeq[7 * 3600 : 19 * 3600]) for d in (25, 50, 150)
        }
        per_doubling_50 = day[25] - day[50]
        per_doubling_150 = (day[25] - day[150]) / np.log2(150 / 25)
        assert 2.6 < per_doubling_50 < 3.6, (road, day)
        assert 2.6 < per_doubling_150 < 3.6, (road, day)
        assert 70.0 < day[25] < 82.0, day  # plausible daytime LAeq 25 m from a busy motorway


def test_weekend_differs_from_weekday() -> None:
    """Weekend days carry 80 % of the weekday traffic (-0.97 dB) with half the heavy share
    (about -0.3 dB more) and no morning peak. Over a week: weekend LAeq 0.5-2.5 dB below the
    weekday LAeq (a single day varies by about ±0.3 dB); the 07-08 h hour of Saturday more than
    5 dB below Tuesday's (flow shares 7.2 % vs 2.6 %·0.8)."""
    monday = TUESDAY - timedelta(days=1)
    week = generate(site_by_id("kbm-25m"), monday, monday + timedelta(days=7), SEED)
    days = week.laeq.reshape(7, -1)
    assert 0.5 < leq(days[:5].ravel()) - leq(days[5:].ravel()) < 2.5
    wd, we = _day("kbm-25m", TUESDAY), _day("kbm-25m", SATURDAY)
    assert _hour_leq(wd, 7) - _hour_leq(we, 7) > 5.0


def test_percentile_spread_plausible_and_wider_at_night() -> None:
    """L10 > L50 > L90. Daytime hour at 25 m from KBM (about 9000 veh/h, several vehicles
    within the pass-by window at any time): L10-L90 of 2-7 dB, the 'few dB' of dense motorway
    traffic. Night hour 02-03 h (about 560 veh/h, under one vehicle in the window): single
    pass-bys stand out, L10-L90 wider than by day and in 6-25 dB."""
    g = _day("kbm-25m", TUESDAY)
    spreads = {}
    for hour in (10, 2):
        x = g.laeq[hour * 3600 : (hour + 1) * 3600]
        l10, l50, l90 = (percentile_level(x, n) for n in (10, 50, 90))
        assert l10 > l50 > l90
        spreads[hour] = l10 - l90
    assert 2.0 < spreads[10] < 7.0, spreads
    assert 6.0 < spreads[2] < 25.0, spreads
    assert spreads[2] > spreads[10] + 3.0, spreads


def test_fast_extremes_bracket_laeq() -> None:
    """LAFmin ≤ LAeq,1s ≤ LAFmax in every interval, LAFmax within 0.2-6 dB above by day."""
    g = _day("kbm-25m", TUESDAY)
    assert np.all(g.lafmin <= g.laeq)
    assert np.all(g.laeq <= g.lafmax)
    assert 0.2 <= np.median(g.lafmax - g.laeq) <= 6.0


def test_rail_events_at_timetable_times_with_plausible_lmax_and_sel() -> None:
    """Each train (truth ``train_times``) is found by ``detect_events`` within 30 s of its
    scheduled pass (the event brackets it), LAFmax 80-97 dB at 25 m (intercity about 89 dB,
    freight about 91 dB by :func:`physics.train_lmax`), and SEL within -2.5..+1.5 dB of
    ``physics.train_sel`` (the detector cuts the quiet tails; background adds a little)."""
    g = _day("ring-25m", TUESDAY)
    events = detect_events(g.ts, g.laeq, lafmax=g.lafmax)
    assert g.train_times.size > 100
    starts = np.array([e.start for e in events])
    ends = np.array([e.end for e in events])
    found = 0
    for when, kind in zip(g.train_times, g.train_kinds, strict=True):
        hit = np.flatnonzero((starts - 30.0 <= when) & (when <= ends + 30.0))
        if hit.size == 0:
            continue
        found += 1
        event = events[int(hit[0])]
        k = physics.TRAIN_KINDS[int(kind)]
        assert 80.0 < event.lmax < 97.0, (k.name, event)
        if hit.size == 1 and event.duration_s < 120.0:  # one train alone in the event
            expected = physics.train_sel(k, 25.0)
            assert expected - 2.5 < event.sel < expected + 1.5, (k.name, event, expected)
    assert found == g.train_times.size
    # A few events may be road traffic from Holbækmotorvejen 225 m away; trains close together
    # may merge into one event.
    unmatched = sum(
        not np.any((g.train_times >= e.start - 30.0) & (g.train_times <= e.end + 30.0))
        for e in events
    )
    assert unmatched <= 0.05 * g.train_times.size


def test_barrier_lowers_only_the_road_part_from_installation() -> None:
    """Truth: road_mitigated = road before the installation and road - 6 dB after it; the
    background is the same as without the barrier."""
    site = site_by_id("trial-blade-treated")
    installed = TUESDAY + timedelta(hours=12)
    barrier = Barrier(installed_at=installed.timestamp())
    g = generate(site, TUESDAY, TUESDAY + timedelta(days=1), SEED, barrier=barrier)
    plain = _day("trial-blade-treated", TUESDAY)
    after = g.ts >= installed.timestamp()
    np.testing.assert_allclose(g.road_laeq, plain.road_laeq)
    np.testing.assert_allclose(g.road_mitigated_laeq[~after], g.road_laeq[~after])
    np.testing.assert_allclose(g.road_mitigated_laeq[after], g.road_laeq[after] - 6.0)
    np.testing.assert_array_equal(g.background_laeq, plain.background_laeq)
    assert leq(plain.laeq[after]) - leq(g.laeq[after]) > 4.0


def _hourly(levels: np.ndarray) -> np.ndarray:
    """Energetic LAeq,1h of consecutive whole hours of 1-s levels."""
    e = _energy(levels).reshape(-1, 3600)
    return np.asarray(10.0 * np.log10(e.mean(axis=1)))


def test_baci_recovers_injected_barrier_effect() -> None:
    """Three weeks before and after a 6 dB barrier at the treated site (road contribution only;
    background unaffected). The expected total effect is computed from the truth arrays:
    ``Leq(road_mitigated + background) - Leq(road + background)`` over the after-phase hours
    (energetic means of the hourly levels, as BACI averages), a little under 6 dB because the
    background is not screened. It must lie in BACI's 95 % interval and within 0.7 dB of the
    estimate. (At 95 % a seed misses now and then by design: 1 of seeds 1-8 did.)"""
    treated, control = site_by_id("trial-blade-treated"), site_by_id("trial-blade-control")
    start = datetime(2026, 2, 9, tzinfo=CPH)
    installed = start + timedelta(days=21)
    end = installed + timedelta(days=21)
    barrier = Barrier(installed_at=installed.timestamp(), insertion_loss_db=6.0)
    t = generate(treated, start, end, SEED, barrier=barrier)
    c = generate(control, start, end, SEED)
    n_before = 21 * 24
    t_h, c_h = _hourly(t.laeq), _hourly(c.laeq)
    result = baci(t_h[:n_before], c_h[:n_before], t_h[n_before:], c_h[n_before:], seed=1)
    after = slice(n_before * 3600, None)
    bg = _energy(t.background_laeq[after])
    with_barrier = _hourly(10 * np.log10(_energy(t.road_mitigated_laeq[after]) + bg))
    without = _hourly(10 * np.log10(_energy(t.road_laeq[after]) + bg))
    expected = leq(with_barrier) - leq(without)
    assert -6.0 < expected < -5.0
    assert result.ci_low <= expected <= result.ci_high, (expected, result)
    assert abs(result.effect_db - expected) < 0.7, (expected, result)


@pytest.mark.parametrize("site_id", ["kbm-25m", "ring-25m", "bg-strandpark"])
def test_generated_readings_pass_the_mqtt_contract(site_id: str) -> None:
    """Every reading, JSON-encoded as the simulator publishes it, is accepted by ingest."""
    g = generate(site_by_id(site_id), TUESDAY, TUESDAY + timedelta(hours=2), SEED)
    rows = readings(g)
    received = float(g.ts[-1]) + 5.0
    for i in range(0, len(rows), 3600):
        payload = msgspec.json.encode(rows[i : i + 3600])
        parsed = parse_message(f"noiselab/{site_id}/levels", payload, received)
        assert parsed.rejections == []
        assert len(parsed.readings) == len(rows[i : i + 3600])
