"""Tests of noiselab.analysis.guidelines against Miljøstyrelsen's published guideline values."""

from __future__ import annotations

import math

import pytest

from noiselab.analysis.guidelines import (
    GUIDELINES,
    RAIL_LAMAX,
    STRONGLY_AFFECTED_LDEN_DB,
    classify,
    guideline_for,
)

# Lden guideline values in dB as published by Miljøstyrelsen (mst.dk, "Støj fra vejtrafik" and
# "Støj fra jernbaner og stationer"): vejledning 4/2007 (road), tillæg 2007 til 1/1997 (rail).
PUBLISHED = {
    ("road", "open_country_recreation"): 53,
    ("road", "urban_recreation"): 58,
    ("road", "dwellings"): 58,
    ("road", "institutions"): 58,
    ("road", "commercial"): 63,
    ("rail", "open_country_recreation"): 59,
    ("rail", "urban_recreation"): 64,
    ("rail", "dwellings"): 64,
    ("rail", "institutions"): 64,
    ("rail", "commercial"): 69,
}


def test_guideline_table_matches_the_published_values():
    assert {key: value.value_db for key, value in GUIDELINES.items()} == PUBLISHED
    assert all(value.indicator == "Lden" for value in GUIDELINES.values())
    assert (RAIL_LAMAX.indicator, RAIL_LAMAX.value_db) == ("LAmax", 85.0)
    assert STRONGLY_AFFECTED_LDEN_DB == 68.0


def test_guideline_for_accepts_aliases():
    assert guideline_for("road", "schools") == guideline_for("road", "institutions")
    hotels = guideline_for("rail", "hotels")
    assert hotels is not None
    assert (hotels.area, hotels.value_db) == ("commercial", 69.0)
    assert guideline_for("background") is None


def test_road_above_the_guideline():
    """Lden 60.2 dB at a dwelling: 60.2 - 58 = +2.2 dB, above the guideline, below 68 dB."""
    result = classify("road", lden=60.2)
    assert result.guideline is not None
    assert result.guideline.value_db == 58.0
    assert result.margin_db == pytest.approx(2.2)
    assert result.above_guideline is True
    assert result.strongly_affected is False
    assert (result.label_da, result.label_en) == (
        "over vejledende grænseværdi",
        "above the guideline value",
    )


def test_road_below_and_at_the_guideline():
    below = classify("road", lden=55.0)
    assert (below.margin_db, below.above_guideline) == (-3.0, False)
    assert (below.label_da, below.label_en) == (
        "under vejledende grænseværdi",
        "below the guideline value",
    )
    at = classify("road", lden=58.0)
    assert (at.margin_db, at.above_guideline, at.label_en) == (
        0.0,
        False,
        "at the guideline value",
    )


def test_road_strongly_affected_strictly_above_68_db():
    assert classify("road", lden=68.0).strongly_affected is False
    assert classify("road", lden=68.1).strongly_affected is True


def test_road_open_country_uses_53_db():
    result = classify("road", lden=55.0, area="open_country_recreation")
    assert result.margin_db == 2.0
    assert result.above_guideline is True


def test_rail_lden_and_pass_bys_at_dwellings():
    """Rail at a dwelling: Lden 63 vs 64 -> -1 dB, below; pass-bys 80, 85, 86, 90 dB against
    LAmax 85: two exceed it (85 does not), the loudest by 5 dB."""
    result = classify("rail", lden=63.0, lmax_events=[80.0, 85.0, 86.0, 90.0])
    assert result.guideline is not None
    assert result.guideline.value_db == 64.0
    assert (result.margin_db, result.above_guideline) == (-1.0, False)
    assert result.lmax_guideline == RAIL_LAMAX
    assert (result.passbys, result.passbys_above_lmax, result.lmax_margin_db) == (4, 2, 5.0)
    assert result.strongly_affected is None
    assert "road traffic only" in result.note


def test_rail_without_pass_bys_counts_none_above():
    result = classify("rail", lden=70.0)
    assert (result.passbys, result.passbys_above_lmax, result.lmax_margin_db) == (0, 0, None)
    assert result.above_guideline is True


def test_rail_lamax_guideline_applies_at_dwellings_only():
    result = classify("rail", lden=70.0, lmax_events=[95.0], area="offices")
    assert result.area == "commercial"
    assert result.guideline is not None
    assert result.guideline.value_db == 69.0
    assert (result.lmax_guideline, result.passbys_above_lmax) == (None, None)
    assert "dwellings" in result.note


def test_missing_lden_gives_no_verdict():
    result = classify("road")
    assert (result.margin_db, result.above_guideline, result.strongly_affected) == (
        None,
        None,
        None,
    )
    assert result.label_en == "no Lden"


def test_background_sensors_have_no_guideline():
    result = classify("background", lden=75.0, lmax_events=[99.0])
    assert (result.guideline, result.margin_db, result.above_guideline) == (None, None, None)
    assert (result.strongly_affected, result.passbys_above_lmax) == (None, None)
    assert (result.label_da, result.label_en) == (
        "ingen vejledende grænseværdi",
        "no guideline value",
    )
    assert "no guideline" in result.note


def test_wording_never_says_violation():
    cases = [
        classify(source, lden=lden, lmax_events=[90.0])
        for source in ("road", "rail", "background")
        for lden in (None, 50.0, 70.0)
    ]
    text = " ".join(f"{c.label_da} {c.label_en} {c.note}" for c in cases).lower()
    assert "violat" not in text
    assert "overskrid" not in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "air"}, "unknown source"),
        ({"source": "road", "area": "moon"}, "unknown area"),
        ({"source": "road", "lden": math.nan}, "finite"),
        ({"source": "rail", "lmax_events": [math.inf]}, "finite"),
    ],
)
def test_classify_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        classify(**kwargs)
