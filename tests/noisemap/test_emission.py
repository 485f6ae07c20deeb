"""Emission by hour (noiselab.noisemap.emission) agrees with the simulator's own relations:
the simulator's level at distance d is ``L = LW' - 10·log10(d) - 8 - 0.005·d``, so
``LW' = L + 10·log10(d) + 8 + 0.005·d`` (dB re 1 pW/m)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from noiselab.noisemap.emission import group_offsets_db, period_hours, rail_lw, road_lw
from noiselab.noisemap.geometry import LocalProjection
from noiselab.noisemap.sources import RailTraffic, RoadTraffic, group_names, load_sources
from noiselab.sensors_sim import physics


def test_road_emission_matches_the_simulator_line_source():
    """Weekday 08-09 h of 140,000 veh/day, 8 % heavy, 110/80 km/h."""
    traffic = RoadTraffic(140000.0, 0.08, 110.0, 80.0)
    q = 140000.0 * physics.WEEKDAY_FLOW[8]
    p = physics.heavy_share_by_hour(0.08, weekend=False)[8]
    energy = 0.0
    for share, v, em in ((1 - p, 110.0, physics.LIGHT), (p, 80.0, physics.HEAVY)):
        lw = physics.vehicle_sound_power(v, em)
        level = float(physics.line_source_level(lw, q * share, v, 10.0))
        energy += 10 ** ((level + 10.0 + 8.0 + 0.05) / 10.0)
    assert road_lw(traffic, weekend=False)[8] == pytest.approx(10 * math.log10(energy), abs=1e-9)


def test_rail_emission_matches_the_simulator_sound_exposure():
    """The hour's LAeq at 25 m from the SELs of its scheduled trains, ``10·log10(Σ 10^(SEL/10)
    / 3600)``, equals ``LW' - 10·log10(25) - 8 - 0.125`` (weekday 10-11 h: 8 passenger
    trains and 2 freight trains)."""
    times, kinds = physics.timetable(weekend=False)
    in_hour = kinds[(times >= 36000) & (times < 39600)]
    sel = [physics.train_sel(physics.TRAIN_KINDS[k], 25.0) for k in in_hour]
    laeq = 10 * math.log10(sum(10 ** (s / 10) for s in sel) / 3600.0)
    lw = rail_lw(RailTraffic(), weekend=False)[10]
    assert lw - 10 * math.log10(25.0) - 8.0 - 0.125 == pytest.approx(laeq, abs=1e-9)
    assert rail_lw(RailTraffic(0.5), weekend=False)[10] == pytest.approx(lw - 3.0103, abs=1e-4)


def test_period_hours_weights_the_overlap():
    """15 minutes from 07:50 UTC on a Monday in March: 10 min in 08 h, 5 min in 09 h local
    (UTC+1)."""
    start = datetime(2026, 3, 2, 7, 50, tzinfo=UTC).timestamp()
    hours = period_hours(start, start + 900.0)
    assert hours.hour.tolist() == [8, 9]
    assert hours.weight.tolist() == [600.0, 300.0]
    assert hours.weekend.tolist() == [False, False]


def test_offsets_of_a_whole_week_are_zero():
    """The reference is the week's energetic mean, so a whole week's offset is 0 dB."""
    sources = load_sources()
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC).timestamp()  # Monday 00:00 local
    week = period_hours(start, start + 7 * 86400.0)
    off = group_offsets_db(sources, group_names(sources), week, LocalProjection(12.37, 55.633))
    np.testing.assert_allclose(off, 0.0, atol=1e-9)
