"""Danish guideline values for traffic noise (Miljøstyrelsen), as data, and a classifier.

The values are *vejledende grænseværdier*: guideline values for planning, not binding limits.
A level above one is reported as "above the guideline value" ("over vejledende
grænseværdi"), never as a violation. All values are outdoor, free-field levels in dB.

Sources:

* Road traffic: Miljøstyrelsen, Vejledning nr. 4/2007 "Støj fra veje", the guideline values
  in Lden by area use (as summarised on mst.dk, "Støj fra vejtrafik").
* Railways: Miljøstyrelsen, tillæg (July 2007) til vejledning nr. 1/1997 "Støj og vibrationer
  fra jernbaner": Lden by area use, and LAmax 85 dB at dwellings during a train pass-by
  (as summarised on mst.dk, "Støj fra jernbaner og stationer"). LAmax is defined with time
  weighting *Slow*, for the noisiest train that runs regularly on the line (Miljøstyrelsen's
  1985 calculation guideline, cited by Miljøstyrelsens Referencelaboratorium, FAQ 2023-01).
* "Stærkt støjbelastet" (severely noise-exposed): Lden above 68 dB, the Danish road-noise
  mapping convention (Vejdirektoratet, "Hvad betyder støjbelastet?"; used with guideline
  4/2007). The sources define it for road traffic only, so it is applied to road sensors only.

There is no Danish Lnight guideline value, so none is assessed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = [
    "AREAS",
    "AREA_ALIASES",
    "GUIDELINES",
    "RAIL_CITATION",
    "RAIL_LAMAX",
    "ROAD_CITATION",
    "SOURCES",
    "STRONGLY_AFFECTED_CITATION",
    "STRONGLY_AFFECTED_LDEN_DB",
    "GuidelineAssessment",
    "GuidelineValue",
    "classify",
    "guideline_for",
    "lden_guideline_values",
]

ROAD_CITATION = 'Miljøstyrelsen, Vejledning nr. 4/2007 "Støj fra veje"'
RAIL_CITATION = (
    'Miljøstyrelsen, tillæg juli 2007 til vejledning nr. 1/1997 "Støj og vibrationer fra jernbaner"'
)
STRONGLY_AFFECTED_CITATION = (
    "Vejdirektoratet, road-noise mapping convention with vejledning nr. 4/2007: Lden above "
    '68 dB is "stærkt støjbelastet"'
)

SOURCES: tuple[str, ...] = ("road", "rail", "background")
"""Sensor source types (as in the sensor registry). Background sensors have no guideline."""

AREAS: MappingProxyType[str, str] = MappingProxyType(
    {
        "open_country_recreation": (
            "recreational areas in open country (holiday homes, campsites) / rekreative "
            "områder i det åbne land"
        ),
        "urban_recreation": (
            "recreational areas in or near towns (parks, allotments) / rekreative områder i "
            "eller nær byområder"
        ),
        "dwellings": "residential areas (dwellings, day care, outdoor living areas) / boligområder",
        "institutions": "public purposes (hospitals, schools) / offentlige formål",
        "commercial": "hotels, offices / liberale erhverv m.v.",
    }
)
"""Area uses of the Danish guidelines (both road and rail use the same five)."""

AREA_ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {
        "schools": "institutions",
        "hospitals": "institutions",
        "parks": "urban_recreation",
        "hotels": "commercial",
        "offices": "commercial",
    }
)
"""Other names accepted for an area use."""


@dataclass(frozen=True, slots=True)
class GuidelineValue:
    """One guideline value: ``indicator`` (``"Lden"`` or ``"LAmax"``) in dB for a source/area."""

    source: str
    area: str
    indicator: str
    value_db: float
    citation: str


_LDEN_DB: MappingProxyType[str, tuple[float, float]] = MappingProxyType(
    {
        # area: (road, rail) Lden in dB. Road: vejledning 4/2007. Rail: tillæg 2007 til 1/1997.
        "open_country_recreation": (53.0, 59.0),
        "urban_recreation": (58.0, 64.0),
        "dwellings": (58.0, 64.0),
        "institutions": (58.0, 64.0),
        "commercial": (63.0, 69.0),
    }
)

GUIDELINES: MappingProxyType[tuple[str, str], GuidelineValue] = MappingProxyType(
    {
        (source, area): GuidelineValue(source, area, "Lden", values[column], citation)
        for area, values in _LDEN_DB.items()
        for column, (source, citation) in enumerate(
            (("road", ROAD_CITATION), ("rail", RAIL_CITATION))
        )
    }
)
"""Lden guideline values (dB) by ``(source, area)``."""

RAIL_LAMAX = GuidelineValue("rail", "dwellings", "LAmax", 85.0, RAIL_CITATION)
"""LAmax (time weighting Slow) 85 dB during a train pass-by, at dwellings. Tillæg 2007."""

STRONGLY_AFFECTED_LDEN_DB = 68.0
"""Road traffic Lden above which a dwelling is "stærkt støjbelastet". See the module docstring."""

_LABELS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "above": ("over vejledende grænseværdi", "above the guideline value"),
        "at": ("lig med vejledende grænseværdi", "at the guideline value"),
        "below": ("under vejledende grænseværdi", "below the guideline value"),
        "no_data": ("ingen Lden", "no Lden"),
        "no_guideline": ("ingen vejledende grænseværdi", "no guideline value"),
    }
)


@dataclass(frozen=True, slots=True)
class GuidelineAssessment:
    """A sensor's indicators held against the Danish guideline of its source type.

    ``guideline`` is the Lden value that applies (``None`` for background sensors);
    ``margin_db = lden - guideline`` and ``above_guideline = lden > guideline`` are ``None``
    without an Lden or a guideline. ``strongly_affected`` (Lden > 68 dB) is assessed for road
    only. For rail at dwellings, ``lmax_guideline`` is LAmax 85 dB and
    ``passbys_above_lmax`` counts the pass-bys given whose Lmax exceeds it (``None`` where no
    LAmax guideline applies); ``lmax_margin_db`` is the loudest pass-by minus 85 dB.
    ``label_da`` / ``label_en`` describe the Lden assessment; ``note`` says what was not
    assessed and why.
    """

    source: str
    area: str
    guideline: GuidelineValue | None
    lden: float | None
    margin_db: float | None
    above_guideline: bool | None
    strongly_affected: bool | None
    label_da: str
    label_en: str
    lmax_guideline: GuidelineValue | None
    passbys: int
    passbys_above_lmax: int | None
    lmax_margin_db: float | None
    note: str


def _canonical_area(area: str) -> str:
    name = AREA_ALIASES.get(area, area)
    if name not in AREAS:
        known = ", ".join([*AREAS, *AREA_ALIASES])
        raise ValueError(f"unknown area {area!r}; expected one of {known}")
    return name


def guideline_for(source: str, area: str = "dwellings") -> GuidelineValue | None:
    """The Lden guideline value for a source type and area use; ``None`` for background.

    Example: ``guideline_for("road").value_db == 58.0``, ``guideline_for("rail",
    "commercial").value_db == 69.0``. Raises ``ValueError`` on an unknown source or area.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return GUIDELINES.get((source, _canonical_area(area)))


def _label(margin: float | None, guideline: GuidelineValue | None) -> tuple[str, str]:
    if guideline is None:
        return _LABELS["no_guideline"]
    if margin is None:
        return _LABELS["no_data"]
    if margin > 0:
        return _LABELS["above"]
    return _LABELS["at"] if margin == 0 else _LABELS["below"]


def classify(
    source: str,
    *,
    lden: float | None = None,
    lmax_events: Sequence[float] = (),
    area: str = "dwellings",
) -> GuidelineAssessment:
    """Hold a sensor's Lden (and, for rail, its pass-by maxima) against the Danish guideline.

    ``margin_db = Lden - L_guideline`` (dB); *above* means strictly greater (the guidelines say
    the level "should not exceed" the value), and the comparison uses the value as given, not
    rounded. Road: Lden 58 dB at dwellings (53 / 58 / 58 / 63 by area), "stærkt støjbelastet"
    above 68 dB. Rail: Lden 64 dB at dwellings (59 / 64 / 64 / 69), and at dwellings LAmax
    85 dB per pass-by: ``passbys_above_lmax = #{Lmax > 85}``. The rail guideline's LAmax uses
    time weighting Slow; a sensor's LAFmax (Fast) reads at least as high as LASmax on a
    pass-by, so counting LAFmax is conservative, while a maximum of 1-s LAeq reads lower.
    Background sensors get no guideline and say so. Example: ``classify("road", lden=60.2)``
    → margin +2.2 dB, above the guideline, not strongly affected.
    """
    guideline = guideline_for(source, area)
    canonical = _canonical_area(area)
    lmax = np.asarray(lmax_events, dtype=np.float64).reshape(-1)
    if not np.isfinite(lmax).all():
        raise ValueError("lmax_events must be finite numbers (dB)")
    if lden is not None and not np.isfinite(lden):
        raise ValueError(f"lden must be a finite number (dB), got {lden!r}")
    level = None if lden is None else float(lden)
    margin = None if (guideline is None or level is None) else level - guideline.value_db
    notes: list[str] = []
    if guideline is None:
        notes.append("background sensors measure no single source: no guideline value applies")
    strongly = None
    if source == "road" and level is not None:
        strongly = level > STRONGLY_AFFECTED_LDEN_DB
    elif source == "rail":
        notes.append('"stærkt støjbelastet" (Lden > 68 dB) is defined for road traffic only')
    lmax_guideline = RAIL_LAMAX if (source == "rail" and canonical == "dwellings") else None
    if source == "rail" and lmax_guideline is None:
        notes.append("the LAmax 85 dB guideline applies at dwellings")
    above_lmax = lmax_margin = None
    if lmax_guideline is not None:
        above_lmax = int(np.count_nonzero(lmax > lmax_guideline.value_db))
        if lmax.size:
            lmax_margin = float(lmax.max()) - lmax_guideline.value_db
    label_da, label_en = _label(margin, guideline)
    return GuidelineAssessment(
        source=source,
        area=canonical,
        guideline=guideline,
        lden=level,
        margin_db=margin,
        above_guideline=None if margin is None else margin > 0,
        strongly_affected=strongly,
        label_da=label_da,
        label_en=label_en,
        lmax_guideline=lmax_guideline,
        passbys=int(lmax.size),
        passbys_above_lmax=above_lmax,
        lmax_margin_db=lmax_margin,
        note="; ".join(notes),
    )


def lden_guideline_values() -> dict[str, float]:
    """The Lden guideline value (dB) at dwellings of each traffic source type that has one
    (``road``, ``rail``)."""
    return {
        source: found.value_db
        for source in ("road", "rail")
        if (found := guideline_for(source)) is not None
    }
