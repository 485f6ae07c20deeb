"""The time-series store protocol that every adapter (SQLite, InfluxDB) implements.

The store keeps readings keyed by ``(sensor_id, ts)`` (millisecond resolution) and energetic
roll-ups that answer long ranges. History is immutable: a stored reading is never replaced by a
write (see :mod:`noiselab.store.conflicts`). It knows nothing of MQTT or HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from zoneinfo import ZoneInfo

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.analysis.corrections import RangeCorrection
from noiselab.model import Reading, WeatherObservation
from noiselab.store.conflicts import Conflict
from noiselab.store.weather_base import WeatherWriteResult

__all__ = [
    "BandLevels",
    "LevelPoint",
    "ReadingStore",
    "SensorActivity",
    "Series",
    "ValidLevels",
    "WriteResult",
]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one durable write did: readings ``inserted``, re-delivered readings identical to
    what was stored (``unchanged``, no-ops), and the ``conflicts``: readings that differ from
    the one stored (or kept earlier in the same batch) for their ``(sensor_id, ts)``, which
    were not written. ``inserted + unchanged + len(conflicts)`` is the number of readings."""

    inserted: int
    unchanged: int
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class LevelPoint:
    """One bucket of a levels query.

    ``t`` is the bucket start (UTC, aware). ``laeq`` is the energetic mean over the measured
    seconds in the bucket, ``lafmax`` the highest LAFmax reported for it (``None`` when no
    reading carried one), ``l10/l50/l90`` the levels exceeded 10/50/90 % of the measured time
    (``None`` when the bucket holds readings longer than 1 s, from which they cannot be
    computed), ``coverage`` the measured seconds over the bucket's real length (0..1, a 23-h or
    25-h day counts its real seconds). ``excluded_s``: the measured seconds of the bucket that
    exclusions left out (``ReadingStore.valid_levels``; 0 for ``levels``), which none of the
    other values include.
    """

    t: datetime
    laeq: float
    lafmax: float | None
    l10: float | None
    l50: float | None
    l90: float | None
    coverage: float
    excluded_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ValidLevels:
    """Levels with corrections and exclusions applied (``ReadingStore.valid_levels``):
    ``points`` the buckets with measured seconds left; ``excluded_s`` the measured seconds
    left out over every bucket (those left out whole too) per cause of
    :data:`~noiselab.analysis.corrections.EXCLUSION_ORDER`; ``offset_cut`` how many buckets
    of ``points`` an offset correction begins or ends in, whose L10/L50/L90 are therefore
    ``None`` (:mod:`noiselab.store.level_ranges`)."""

    points: list[LevelPoint]
    excluded_s: dict[str, float]
    offset_cut: int = 0


@dataclass(frozen=True, slots=True)
class Series:
    """One sensor's data over a range as arrays, ordered by ``ts``, ready for ``analysis``.

    ``ts`` interval starts (Unix s, UTC), ``laeq`` (dB), ``duration`` (s: the interval length
    for raw readings, the measured seconds for roll-up minutes), ``lafmax`` (dB, NaN where no
    reading carried one).
    """

    ts: FloatArray
    laeq: FloatArray
    duration: FloatArray
    lafmax: FloatArray

    def __len__(self) -> int:
        return int(self.ts.size)


@dataclass(frozen=True, slots=True)
class BandLevels:
    """Hourly third-octave band levels of one sensor, from the readings that carried a spectrum.

    ``t`` the starts of the hours with spectra (Unix s, UTC, ascending), ``bands_hz`` the nominal
    band centres (Hz), ``lzeq`` shape ``(hours, bands)``: per band the energetic mean of the
    readings' LZeq (dB) weighted by their durations, ``seconds`` the seconds of readings with a
    spectrum in each hour. A reading counts in the hour its interval starts in.
    """

    t: FloatArray
    bands_hz: FloatArray
    lzeq: FloatArray
    seconds: FloatArray

    def __len__(self) -> int:
        return int(self.t.size)


@dataclass(frozen=True, slots=True)
class SensorActivity:
    """When a sensor's data was last seen: the end of its latest reading (Unix s) and the
    receive time of the write that stored it (Unix s)."""

    sensor_id: str
    last_ts: float
    last_received: float


class ReadingStore(Protocol):
    """A durable, idempotent store of readings and their roll-ups."""

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        """Store ``readings`` in one transaction; durable when it returns.

        Idempotent and immutable by ``(sensor_id, ts)``: a reading equal to the stored one at
        the store's precision is a re-delivery and changes nothing; a different one is not
        written and comes back in ``WriteResult.conflicts`` with the stored reading. Within one
        batch the first reading of a key wins and later different ones are conflicts with it.
        Roll-ups are exact afterwards. Raises ``StoreError`` (``retryable`` set when trying
        again may help).
        """
        ...

    def levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every,
        zone: ZoneInfo = DEFAULT_ZONE,
    ) -> list[LevelPoint]:
        """Energetic levels of one sensor in buckets of ``every`` over ``[start, end)``;
        ``1d`` buckets start at local midnight in ``zone``.

        ``1s`` buckets come from raw readings, coarser ones from the roll-ups. Buckets without
        measured seconds are omitted. Raises ``QueryError`` when more than
        ``MAX_POINTS`` buckets would be needed.
        """
        ...

    def valid_levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every,
        zone: ZoneInfo = DEFAULT_ZONE,
        *,
        ranges: Sequence[RangeCorrection] = (),
    ) -> ValidLevels:
        """``levels`` with ``ranges`` applied: staff corrections and exclusion spans on whole
        minutes (:class:`~noiselab.validity.SensorValidity` ``.ranges``). The minutes an
        exclusion covers leave each bucket's LAeq, LAFmax, L10/L50/L90 and coverage, and are
        counted in ``excluded_s``; an offset adds to the levels of its minutes. The same cells
        are read as for ``levels``, except that hours an edge cuts are read per minute (see
        :mod:`noiselab.store.level_ranges`). Without ranges, ``levels`` exactly."""
        ...

    def series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The raw readings of one sensor with ``start <= ts < end``.

        Raises ``QueryError`` when the range holds more than ``MAX_SERIES_ROWS`` readings.
        """
        ...

    def minute_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The per-minute roll-up of one sensor for the minutes starting in ``[start, end)``:
        ``ts`` the minute start, ``laeq`` its energetic mean over the measured seconds,
        ``duration`` the measured seconds. Energy sums over these rows equal those of the raw
        readings, so period levels computed from them are exact; they answer long ranges."""
        ...

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The hourly roll-up of one sensor for the UTC hours starting in ``[start, end)``, like
        ``minute_series`` one tier up: ``ts`` the hour start, ``laeq`` the energetic mean over
        the measured seconds, ``duration`` the measured seconds (a row never reaches past its
        hour). Energy sums equal those of the raw readings, so any period made of whole UTC
        hours (every local hour in a zone whose offsets are whole hours, such as
        Europe/Copenhagen) has its exact level from these rows: a sensor-year is 8,760 rows."""
        ...

    def minute_sums(self, sensor_id: str, starts: FloatArray, ends: FloatArray) -> Series:
        """The per-minute roll-up of one sensor summed over each span ``[starts[i], ends[i])``
        (Unix s; ascending and disjoint): the minutes starting in a span give one row, ``ts``
        the span's start, ``laeq`` their energetic mean over the measured seconds,
        ``duration`` those seconds, ``lafmax`` the highest (NaN: none). A span without data
        gives no row; one holding more seconds than its length (overlapping readings) gives
        equal rows from its start, none reaching past its end (as ``minute_series``).

        One read for all spans, e.g. the pieces of the hours that a year of weather spans cuts
        (:mod:`noiselab.corrections`). Raises ``QueryError`` for spans that are empty, not
        ascending or overlapping, or more than ``span_sums.MAX_SPANS``.
        """
        ...

    def hourly_bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly energetic band levels of the readings with a spectrum and
        ``start <= ts < end``; hours are UTC hours (whole local hours in Europe/Copenhagen).

        Readings whose bands differ from the first one's are left out. Raises ``QueryError``
        when the range holds more such readings than the adapter decodes at once (SQLite:
        ``MAX_SPECTRA_ROWS``).
        """
        ...

    def activity(self) -> list[SensorActivity]:
        """The last data seen per sensor."""
        ...

    def write_weather(
        self, observations: Sequence[WeatherObservation], received_at: float
    ) -> WeatherWriteResult:
        """Store weather observations in one durable write, idempotent and immutable by
        ``(station_id, ts)`` like ``write`` (see :mod:`noiselab.store.weather_base`)."""
        ...

    def weather(self, station_id: str, start: datetime, end: datetime) -> list[WeatherObservation]:
        """The observations of one station with ``start <= ts < end``, ordered by ``ts``.
        Raises ``QueryError`` when the range holds more than ``MAX_WEATHER_ROWS``."""
        ...

    def close(self) -> None:
        """Release connections. The store stays valid on disk."""
        ...

    def __enter__(self) -> Self:
        """The store itself, closed when the ``with`` block ends."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...
