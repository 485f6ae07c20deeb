"""Line protocol of the InfluxDB adapter: exact bytes for hand-checked readings."""

from __future__ import annotations

import math

import pytest

from noiselab.model import Reading, Spectrum
from noiselab.store.influx_lines import (
    band_field,
    escape_key,
    escape_measurement,
    format_float,
    reading_lines,
    readings_payload,
)


def test_full_reading_exact_line():
    # energy = 1 s * 10^(62.4/10) = 10^6.24 = 1,737,800.8287... (hand: log10(1737800.83) = 6.24)
    reading = Reading("kbm-25m", 1795600800.0, 62.4, 1.0, 66.0, 58.1, None, 1042)
    assert reading_lines(reading, "road") == [
        "noise,sensor_id=kbm-25m,source=road duration=1.0,energy=1737800.8287493763,"
        "laeq=62.4,lafmax=66.0,lafmin=58.1,seq=1042i 1795600800000"
    ]


def test_minimal_reading_omits_absent_fields_and_marks_unknown_source():
    # 0.5 s at 60 dB: energy 0.5 * 10^6 = 500000; ts with milliseconds keeps them
    reading = Reading("hbm-50m", 1795600800.25, 60.0, 0.5)
    assert reading_lines(reading, None) == [
        "noise,sensor_id=hbm-50m,source=unknown duration=0.5,energy=500000.0,laeq=60.0 "
        "1795600800250"
    ]


def test_energy_sums_give_the_energetic_mean():
    # 60 dB for 1 s and 70 dB for 1 s: Leq = 10 log10((1e6 + 1e7) / 2) = 67.40 dB
    lines = [
        reading_lines(Reading("s1", 0.0 + i, level, 1.0), "road")[0]
        for i, level in enumerate((60.0, 70.0))
    ]
    energies = [float(line.split("energy=")[1].split(",")[0]) for line in lines]
    assert round(10 * math.log10(sum(energies) / 2), 2) == 67.40


def test_spectrum_point_with_levels_and_energies():
    reading = Reading("kbm-25m", 10.0, 62.0, 1.0, spectrum=Spectrum((12.5, 1000.0), (40.0, 60.0)))
    lines = reading_lines(reading, "road")
    assert lines[1] == (
        "noise_spectrum,sensor_id=kbm-25m,source=road duration=1.0,e_1000=1000000.0,"
        "e_12.5=10000.0,lz_1000=60.0,lz_12.5=40.0 10000"
    )


def test_payload_joins_lines_and_looks_up_sources():
    readings = [Reading("a1", 1.0, 50.0), Reading("b2", 2.0, 50.0)]
    payload = readings_payload(readings, {"a1": "rail"}.get)
    assert payload == (
        b"noise,sensor_id=a1,source=rail duration=1.0,energy=100000.0,laeq=50.0 1000\n"
        b"noise,sensor_id=b2,source=unknown duration=1.0,energy=100000.0,laeq=50.0 2000"
    )


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a b", r"a\ b"), ("a,b", r"a\,b"), ("a=b", r"a\=b"), ("plain-id", "plain-id")],
)
def test_key_escaping(raw, escaped):
    assert escape_key(raw) == escaped


def test_measurement_escaping_keeps_equals():
    assert escape_measurement("my noise,x=1") == r"my\ noise\,x=1"


@pytest.mark.parametrize("bad", ["", "ends\\"])
def test_unwritable_keys_are_refused(bad):
    with pytest.raises(ValueError, match="line protocol"):
        escape_key(bad)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(value):
    with pytest.raises(ValueError, match="not a finite number"):
        format_float(value)


def test_band_field_names():
    assert band_field("lz", 1000.0) == "lz_1000"
    assert band_field("e", 12.5) == "e_12.5"
