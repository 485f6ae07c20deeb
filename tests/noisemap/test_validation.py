"""Leave-one-sensor-out validation (noiselab.noisemap.validation) on hand-made values and on
the simulator's own data (2 days x 24 hourly LAeq of the 12 default sites, about 1 s)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from noiselab.noisemap.basic_maps import build_basic_maps
from noiselab.noisemap.geometry import LocalProjection, grid_around
from noiselab.noisemap.model import NoiseMap
from noiselab.noisemap.propagation import PropagationParams
from noiselab.noisemap.scale import combine
from noiselab.noisemap.simulated import START, hourly_laeq, loo_errors
from noiselab.noisemap.sources import load_sources
from noiselab.noisemap.validation import leave_one_out, summarize
from noiselab.sensors_sim.site_specs import load_sites

PROJ = LocalProjection(12.370, 55.633)


@cache
def simulated():
    return hourly_laeq(load_sites(), START, days=2, seed=3)


def test_leave_one_out_is_exact_when_the_model_is_right():
    """Three sensors of one group measured exactly as modelled with a +2 dB gain: each is
    predicted from the other two with no error."""
    model = np.array([[70.0, 64.0, 58.0]])
    meas, _ = combine(model, np.array([2.0]), 30.0)
    result = leave_one_out(("road",), model, meas, np.zeros(3, bool), ("a", "b", "c"))
    np.testing.assert_allclose(result.errors_db, 0.0, atol=0.02)


def test_summarize():
    s = summarize([1.0, -2.0, 3.0, np.nan])
    assert (s["n"], s["median"], s["max"]) == (3.0, 2.0, 3.0)
    assert s["bias"] == pytest.approx(2.0 / 3.0)


def test_hourly_loo_error_on_simulator_data_is_within_2_db():
    """Median absolute leave-one-out error of hourly LAeq ≤ 2 dB over 2 days x 12 sites.
    Negative control: the same check with each sensor's measurements swapped for another
    sensor's (rolled by one) fails it."""
    data = simulated()
    errors = loo_errors(data, load_sources(), PROJ)
    assert errors.shape == (48, 12)
    assert summarize(errors)["median"] <= 2.0
    swapped = type(data)(data.sites, data.hour_starts, np.roll(data.laeq_db, 1, axis=1))
    assert summarize(loo_errors(swapped, load_sources(), PROJ))["median"] > 2.0


def test_noise_map_estimate_at_a_fitted_sensor_is_close_to_its_measurement():
    """Through the NoiseMap seam on a coarse grid: fit one simulated hour, the estimate at a
    source sensor in the fit lies within 2 dB of its measurement, its parts add up to the
    level, and the surface has the grid's shape."""
    sources = load_sources()
    grid = grid_around(12.370, 55.633, 6000.0, 5000.0, 250.0)
    nmap = NoiseMap(
        sources, build_basic_maps(sources, grid, PropagationParams()), PropagationParams()
    )
    data = simulated()
    h = 10
    sensors = {s.id: (s.lon, s.lat, float(data.laeq_db[h, i])) for i, s in enumerate(data.sites)}
    sensors["ring-100m"] = (sensors["ring-100m"][0], sensors["ring-100m"][1], None)
    bg_ids = {s.id for s in data.sites if s.source == "background"}
    t = float(data.hour_starts[h])
    offsets = nmap.offsets(t, t + 3600.0)
    fit = nmap.fit(sensors, bg_ids, offsets)
    assert "ring-100m" not in fit.used
    here = nmap.estimate(sensors["kbm-50m"][0], sensors["kbm-50m"][1], offsets, fit)
    assert here.level_db == pytest.approx(sensors["kbm-50m"][2], abs=2.0)
    parts = np.array(list(here.contributions_db.values()))
    assert 10 * np.log10(np.sum(10 ** (parts / 10))) == pytest.approx(here.level_db, abs=1e-9)
    assert max(here.contributions_db, key=here.contributions_db.get) == "kbm"
    assert nmap.surface(offsets, fit).shape == grid.shape
    loo = nmap.validate(sensors, bg_ids, offsets)
    assert np.isnan(loo.errors_db[list(sensors).index("ring-100m")])
