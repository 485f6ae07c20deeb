"""Tests of the rules each reading of a sensor message must meet, field by field (``ts``, the
levels, ``duration``, ``spectrum``, ``seq``, ``sensor_id``), and of the reasons given when a reading
breaks them (``noiselab.ingest.reading_rules``, applied through ``parse_message``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from support.messages import BANDS, LZEQ, NOW, accepted, good, parse, refused

from noiselab.ingest.reading_rules import lafmax_shortfall_db
from noiselab.model import Reading, Spectrum

# --- ts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-29T01:30:00+01:00", 1_774_744_200.0),
        ("2026-03-29T00:30:00Z", 1_774_744_200.0),
        ("2026-03-29T00:30:00+00:00", 1_774_744_200.0),
        ("2026-03-28T19:30:00-05:00", 1_774_744_200.0),
        ("2026-03-29t00:30:00z", 1_774_744_200.0),
        ("2026-03-29 00:30:00Z", 1_774_744_200.0),
        ("2026-03-29T00:29:59.250Z", 1_774_744_199.25),
        ("2000-01-01T00:00:00Z", 946_684_800.0),
    ],
)
def test_ts_as_rfc3339_with_offset(text: str, expected: float) -> None:
    assert accepted(good(ts=text)).ts == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-03-29T01:30:00", "has no UTC offset"),
        ("2026-03-29T01:30:00.5", "has no UTC offset"),
        ("2026-03-29", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30Z", "is not an RFC 3339 date-time"),
        ("20260329T013000Z", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30:00+0100", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30:00+01:00:30", "is not an RFC 3339 date-time"),
        ("1774744200", "is not an RFC 3339 date-time"),
        ("yesterday", "is not an RFC 3339 date-time"),
        ("", "is not an RFC 3339 date-time"),
        ("2026-02-30T00:00:00Z", "is not a valid date-time (day is out of range for month)"),
        ("2026-03-29T24:00:00Z", "is not a valid date-time"),
        ("2016-12-31T23:59:60Z", "is not a valid date-time"),
        ("\uff12\uff10\uff12\uff16-03-29T01:30:00Z", "is not an RFC 3339 date-time"),
    ],
)
def test_ts_bad_strings(text: str, reason: str) -> None:
    verdict = refused(good(ts=text))
    assert verdict.startswith(f"ts: {text!r} ")
    assert reason in verdict


def test_ts_as_unix_seconds_int_or_float() -> None:
    assert accepted(good(ts=1_774_744_000)).ts == 1_774_744_000.0
    assert accepted(good(ts=1_774_744_000.125)).ts == 1_774_744_000.125


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "ts: must be Unix seconds (a number) or an RFC 3339 string, got boolean true"),
        (None, "ts: must be Unix seconds (a number) or an RFC 3339 string, got null"),
        ([NOW], "ts: must be Unix seconds (a number) or an RFC 3339 string, got an array"),
        ({"s": NOW}, "ts: must be Unix seconds (a number) or an RFC 3339 string, got an object"),
    ],
)
def test_ts_wrong_types(value: Any, reason: str) -> None:
    assert refused(good(ts=value)) == reason


def test_ts_is_required() -> None:
    assert refused({"laeq": 55}) == "ts: required (Unix seconds or an RFC 3339 string with offset)"


def test_ts_up_to_exactly_max_future_is_accepted() -> None:
    assert accepted(good(ts=NOW + 300.0)).ts == NOW + 300.0
    assert accepted(good(ts=NOW + 60.0), max_future_s=60.0).ts == NOW + 60.0
    assert accepted(good(ts=NOW), max_future_s=0.0).ts == NOW


def test_ts_beyond_max_future_is_refused() -> None:
    assert refused(good(ts=NOW + 412.0)) == (
        "ts: 412.0 s in the future of the receive time (limit 300 s)"
    )
    assert refused(good(ts=NOW + 300.001)).startswith("ts: 300.001 s in the future")
    assert refused(good(ts=NOW + 61), max_future_s=60.0) == (
        "ts: 61.0 s in the future of the receive time (limit 60 s)"
    )
    future = datetime.fromtimestamp(NOW + 3600, UTC).isoformat()
    assert refused(good(ts=future)).startswith("ts: 3600.0 s in the future")


def test_ts_old_but_plausible_is_accepted() -> None:
    assert accepted(good(ts=NOW - 90 * 86_400)).ts == NOW - 90 * 86_400
    assert accepted(good(ts=946_684_800)).ts == 946_684_800.0


@pytest.mark.parametrize("value", [946_684_799.999, 0, -1, 1_000_000, "1999-12-31T23:59:59Z"])
def test_ts_before_2000_is_implausible(value: Any) -> None:
    reason = refused(good(ts=value))
    assert reason.startswith("ts: ")
    assert reason.endswith("is before 2000-01-01T00:00:00Z, implausible")


# --- levels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize("value", [0, 0.0, -0.0, 160, 160.0, 55.5, 1e-300])
def test_level_in_range(field: str, value: float) -> None:
    item = good(**{field: value})
    item["laeq"] = value  # LAFmax >= LAeq >= LAFmin must hold too
    if field == "lafmin":
        item["lafmax"] = 160
    assert getattr(accepted(item), field) == value


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize("value", [-0.1, -1, 160.0001, 171.2, 200, 1e308, -1e308])
def test_level_out_of_range(field: str, value: float) -> None:
    assert refused(good(**{field: value})) == (
        f"{field}: must be between 0 and 160 dB, got {value!r}"
    )


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "boolean true"), (False, "boolean false"), ("55", "string '55'"), ([55], "an array")],
)
def test_level_wrong_types(field: str, value: Any, shown: str) -> None:
    assert refused(good(**{field: value})) == f"{field}: must be a number, got {shown}"


def test_laeq_is_required_and_not_nullable() -> None:
    assert refused({"ts": NOW}) == "laeq: required (a level in dB)"
    assert refused({"ts": NOW, "laeq": None}) == "laeq: must be a number, got null"


def test_example_reason_for_laeq() -> None:
    assert refused(good(laeq=171.2)) == "laeq: must be between 0 and 160 dB, got 171.2"


def test_lafmin_above_lafmax_is_refused_but_equal_is_fine() -> None:
    assert refused(good(laeq=60, lafmin=60.5, lafmax=60)) == (
        "lafmin 60.5 dB is above lafmax 60.0 dB"
    )
    assert accepted(good(laeq=60, lafmin=60, lafmax=60)).lafmin == 60.0


# --- consistency: the order of the levels ------------------------------------------------------


def test_lafmax_shortfall_is_the_time_weighting_bound() -> None:
    """By hand: 10·log10(1 + 0.125/1) = 0.5115 dB; 10·log10(1 + 0.125/0.125) = 3.0103 dB;
    10·log10(1 + 0.125/60) = 0.0090 dB."""
    assert lafmax_shortfall_db(1.0) == pytest.approx(0.5115, abs=1e-4)
    assert lafmax_shortfall_db(0.125) == pytest.approx(3.0103, abs=1e-4)
    assert lafmax_shortfall_db(60.0) == pytest.approx(0.0090, abs=1e-4)


def _fast_peak_db(signal: list[float], dt: float, tau: float = 0.125) -> float:
    """The F-weighted maximum (dB re unit intensity) of ``signal`` (intensities in 1/s steps
    of ``dt``), the filter starting at rest; written out independently of the package."""
    y = peak = 0.0
    for x in signal:
        y += (x - y) * dt / tau
        peak = max(peak, y)
    return 10 * math.log10(peak)


def test_the_bound_holds_and_is_reached() -> None:
    """1 s intervals of unit energy (LAeq 0 dB), F weighting simulated in 1 ms steps. A single
    impulse anywhere stays above the floor; the worst case of the derivation — an impulse of
    c·τ at the start, then a steady c = E/(T + τ) — sits on it."""
    dt, n = 0.001, 1000
    floor = -lafmax_shortfall_db(1.0)
    for at in range(0, n, 37):
        impulse = [1.0 / dt if i == at else 0.0 for i in range(n)]
        assert _fast_peak_db(impulse, dt) >= floor - 0.01
    c = 1.0 / (1.0 + 0.125)
    worst = [c * 0.125 / dt] + [c] * (n - 1)
    assert _fast_peak_db(worst, dt) == pytest.approx(floor, abs=0.02)


def test_lafmax_below_laeq_is_refused_beyond_the_time_weighting_bound() -> None:
    """The finding: LAFmax 50 dB with LAeq 120 dB cannot happen. Over 1 s the floor is
    0.51 dB below LAeq, plus 0.1 dB for rounding: 0.61 dB."""
    assert refused(good(laeq=120, lafmax=50)) == (
        "lafmax below laeq: lafmax 50.0 dB is more than 0.61 dB below laeq 120.0 dB (over 1.0 s"
        " the fast maximum lies at most 10·log10(1 + 0.125 s/T) below the mean)"
    )
    assert refused(good(laeq=60, lafmax=59.38)).startswith("lafmax below laeq: ")
    assert accepted(good(laeq=60, lafmax=59.4)).lafmax == 59.4
    # Over a minute the floor is almost LAeq itself; over 125 ms it is 3 dB below.
    assert refused(good(laeq=60, lafmax=59.85, duration=60)).startswith("lafmax below laeq: ")
    assert accepted(good(laeq=60, lafmax=57.0, duration=0.125)).lafmax == 57.0


def test_lafmin_above_laeq_is_accepted() -> None:
    """After a loud moment the fast level decays at 34.7 dB/s and can stay above a quiet
    interval's LAeq: a reading of the replayed-WAV meter test (LAFmax 64.0 from the decay of
    the previous tone, LAFmin 37.16, LAeq 36.68)."""
    reading = accepted(good(laeq=36.68, lafmax=64.0, lafmin=37.16))
    assert (reading.laeq, reading.lafmin) == (36.68, 37.16)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"l10": 50, "l50": 55}, "l10 50.0 dB is more than 0.1 dB below l50 55.0 dB"),
        ({"l50": 40, "l90": 45.5}, "l50 40.0 dB is more than 0.1 dB below l90 45.5 dB"),
        ({"l10": 50, "l90": 50.2}, "l10 50.0 dB is more than 0.1 dB below l90 50.2 dB"),
        ({"l10": 60, "l50": 55, "l90": 58}, "l50 55.0 dB is more than 0.1 dB below l90 58.0 dB"),
    ],
)
def test_percentiles_out_of_order_are_refused(fields: dict[str, float], reason: str) -> None:
    assert refused(good(**fields)) == (
        f"percentiles out of order: {reason} (L10 >= L50 >= L90 must hold)"
    )


@pytest.mark.parametrize(
    "fields",
    [{"l10": 60, "l50": 55, "l90": 50}, {"l10": 55, "l50": 55.1}, {"l90": 80}, {"l10": 50}],
)
def test_percentiles_in_order_or_alone_are_accepted_and_not_stored(
    fields: dict[str, float],
) -> None:
    assert accepted(good(**fields)) == Reading("vb-001", NOW - 10, 55.0)


def test_percentiles_must_be_levels() -> None:
    assert refused(good(l50=171)) == "l50: must be between 0 and 160 dB, got 171"


def test_every_broken_order_is_named() -> None:
    reason = refused(good(laeq=70, lafmax=60, lafmin=75, l10=40, l50=45))
    assert [part.split(":")[0] for part in reason.split("; ")] == [
        "lafmin 75.0 dB is above lafmax 60.0 dB",
        "lafmax below laeq",
        "percentiles out of order",
    ]


# --- consistency: a reading's interval and the next reading -------------------------------------


def test_a_duration_longer_than_the_gap_to_the_next_reading_is_refused() -> None:
    parsed = parse(
        [good(ts=NOW - 10, duration=2), good(ts=NOW - 9), good(ts=NOW - 8, duration=1.005)]
    )
    assert [r.ts for r in parsed.readings] == [NOW - 9, NOW - 8]  # the last has no next
    (rejection,) = parsed.rejections
    assert rejection.index == 0
    assert rejection.raw == b'{"ts":1774744190.0,"laeq":55.0,"duration":2}'
    assert rejection.reason == (
        "duration longer than the gap to the next reading: duration 2.0 s reaches past the"
        " next reading of the message, 1 s after ts 1774744190.0"
    )


def test_an_interval_ending_within_10_ms_of_the_next_start_is_fine() -> None:
    parsed = parse([good(ts=NOW - 10, duration=1.01), good(ts=NOW - 9), good(ts=NOW - 9)])
    assert (len(parsed.readings), parsed.rejections) == (3, [])  # same ts: the store's business


def test_the_gap_is_taken_in_time_order_not_message_order() -> None:
    parsed = parse([good(ts=NOW - 8), good(ts=NOW - 10, duration=3), good(ts=NOW - 9.5)])
    assert [r.index for r in parsed.rejections] == [1]
    assert [r.ts for r in parsed.readings] == [NOW - 8, NOW - 9.5]


# --- duration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3600, 3600.0, 1, 0.125, 1e-9])
def test_duration_in_range(value: float) -> None:
    assert accepted(good(duration=value)).duration == value


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1, 3600.001, 86_400])
def test_duration_out_of_range(value: float) -> None:
    assert refused(good(duration=value)) == (
        f"duration: must be more than 0 and at most 3600 s, got {value!r}"
    )


@pytest.mark.parametrize("value", [True, "1", [1], {}])
def test_duration_wrong_types(value: Any) -> None:
    assert refused(good(duration=value)).startswith("duration: must be a number, got ")


def test_duration_defaults_to_one_second() -> None:
    assert accepted(good()).duration == 1.0


# --- spectrum ----------------------------------------------------------------------------------


def spectrum(bands: Any = BANDS, lzeq: Any = LZEQ) -> dict[str, Any]:
    return good(spectrum={"bands_hz": bands, "lzeq": lzeq})


def test_spectrum_valid_including_bounds_and_64_bands() -> None:
    reading = accepted(spectrum([20, 25], [0, 160]))
    assert reading.spectrum == Spectrum((20.0, 25.0), (0.0, 160.0))
    bands = [10.0 * 1.1**i for i in range(64)]
    assert accepted(spectrum(bands, [40.0] * 64)).spectrum == Spectrum(tuple(bands), (40.0,) * 64)
    assert accepted(spectrum([1000], [40])).spectrum == Spectrum((1000.0,), (40.0,))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (spectrum([100, 200], [40]), "spectrum: bands_hz has 2 values but lzeq has 1"),
        (spectrum([], []), "spectrum: must have 1 to 64 bands, got 0"),
        (spectrum([float(i + 1) for i in range(65)], [40.0] * 65), "must have 1 to 64 bands"),
        (
            spectrum([100, 80], [1, 2]),
            "spectrum.bands_hz: must be strictly increasing, but [1] = 80.0 follows [0] = 100.0",
        ),
        (spectrum([100, 100], [1, 2]), "spectrum.bands_hz: must be strictly increasing"),
        (spectrum([0, 100], [1, 2]), "spectrum.bands_hz[0]: must be a positive frequency in Hz"),
        (spectrum([-5, 100], [1, 2]), "spectrum.bands_hz[0]: must be a positive frequency"),
        (spectrum([50, 100], [1, 170]), "spectrum.lzeq[1]: must be between 0 and 160 dB, got 170"),
        (spectrum([50, 100], [-1, 2]), "spectrum.lzeq[0]: must be between 0 and 160 dB"),
        (spectrum([50, True], [1, 2]), "spectrum.bands_hz[1]: must be a number, got boolean true"),
        (spectrum([50, 100], [1, None]), "spectrum.lzeq[1]: must be a number, got null"),
        (spectrum("50,100", [1, 2]), "spectrum.bands_hz: must be an array of numbers, got string"),
        (good(spectrum={"bands_hz": [50]}), "spectrum.lzeq: required"),
        (good(spectrum={"lzeq": [50]}), "spectrum.bands_hz: required"),
        (good(spectrum=[[50], [40]]), "spectrum: must be an object with bands_hz and lzeq arrays"),
        (good(spectrum=True), "spectrum: must be an object with bands_hz and lzeq arrays"),
    ],
)
def test_spectrum_refused(item: dict[str, Any], reason: str) -> None:
    assert reason in refused(item)


# --- seq, sensor_id ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1])
def test_seq_valid(value: int) -> None:
    reading = accepted(good(seq=value))
    assert reading.seq == value
    assert type(reading.seq) is int


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "seq: must be an integer from 0 to 2**63 - 1, got -1"),
        (2**63, "seq: must be an integer from 0 to 2**63 - 1, got 9223372036854775808"),
        (1.0, "seq: must be an integer >= 0, got number 1.0"),
        (1.5, "seq: must be an integer >= 0, got number 1.5"),
        (True, "seq: must be an integer >= 0, got boolean true"),
        ("3", "seq: must be an integer >= 0, got string '3'"),
    ],
)
def test_seq_refused(value: Any, reason: str) -> None:
    assert refused(good(seq=value)) == reason


def test_sensor_id_matching_the_topic_is_accepted() -> None:
    assert accepted(good(sensor_id="vb-001")).sensor_id == "vb-001"


def test_sensor_id_differing_from_the_topic_is_refused() -> None:
    assert (
        refused(good(sensor_id="vb-002")) == "sensor_id 'vb-002' differs from the topic's 'vb-001'"
    )
    assert refused(good(sensor_id=1)) == "sensor_id: must be a string, got number 1"


# --- infinity, booleans, several problems at once ----------------------------------------------


@pytest.mark.parametrize("field", ["ts", "laeq", "duration", "lafmax", "lafmin"])
@pytest.mark.parametrize(("literal", "sign"), [(b"1e999", ""), (b"-1e999", "-"), (b"9e400", "")])
def test_numbers_beyond_the_float_range_are_refused_per_reading(
    field: str, literal: bytes, sign: str
) -> None:
    bad = b'{"ts": 1774744000, "laeq": 50, "' + field.encode() + b'": ' + literal + b"}"
    payload = b'[{"ts": 1774744000, "laeq": 50}, ' + bad + b"]"
    parsed = parse(payload)
    assert parsed.readings == [Reading("vb-001", 1_774_744_000.0, 50.0)]
    [rejection] = parsed.rejections
    assert rejection.index == 1
    assert rejection.raw == bad
    assert rejection.reason == (
        f"{field}: must be a finite number, got {sign}infinity "
        "(the JSON number is beyond the float range)"
    )


def test_infinity_inside_a_spectrum_is_refused() -> None:
    payload = b'{"ts": 1774744000, "laeq": 50, "spectrum": {"bands_hz": [1e999], "lzeq": [1]}}'
    assert refused(payload).startswith("spectrum.bands_hz[0]: must be a finite number")


def test_huge_integers_are_refused_not_crashing() -> None:
    assert refused(good(laeq=10**400)).startswith("laeq: must be a finite number")
    assert refused(good(seq=10**30)).startswith("seq: must be an integer from 0 to 2**63 - 1")
    payload = b'{"ts": 1774744000, "laeq": ' + b"9" * 5000 + b"}"
    assert refused(payload).startswith("reading could not be decoded")


@pytest.mark.parametrize("field", ["ts", "laeq", "duration", "lafmax", "lafmin", "seq"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_never_numbers(field: str, value: bool) -> None:
    reason = refused(good(**{field: value}))
    assert reason.startswith(f"{field}: must be ")
    assert reason.endswith(f"boolean {'true' if value else 'false'}")


def test_every_problem_of_a_reading_is_named() -> None:
    reason = refused({"laeq": 200, "duration": 0, "seq": -1, "sensor_id": "zz"})
    assert reason.split("; ") == [
        "ts: required (Unix seconds or an RFC 3339 string with offset)",
        "laeq: must be between 0 and 160 dB, got 200",
        "duration: must be more than 0 and at most 3600 s, got 0",
        "seq: must be an integer from 0 to 2**63 - 1, got -1",
        "sensor_id 'zz' differs from the topic's 'vb-001'",
    ]
