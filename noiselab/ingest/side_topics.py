"""The messages beside a sensor's levels that the ingest also takes: a weather station's
observations (``PREFIX/STATION/weather``) and a sensor's calibrator-tone checks
(``PREFIX/SENSOR/calibration``). Pure: a message in, what it holds out, never raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from noiselab.ingest.inbox import Inbound
from noiselab.ingest.tone import ToneCheck, tone_message
from noiselab.ingest.weather_message import parse_weather, station_id_from_topic
from noiselab.model import Rejection, WeatherObservation

__all__ = ["SideMessages"]


@dataclass(slots=True)
class SideMessages:
    """What a batch's side messages held, gathered by :meth:`take`."""

    weather: list[WeatherObservation] = field(default_factory=list)
    tones: list[ToneCheck] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def take(self, item: Inbound, prefix: str, max_future_s: float, *, tones: bool) -> bool:
        """Gather ``item`` when it is a side message (tone checks only with ``tones``); False
        when it is none (a levels message or a foreign source's)."""
        if tones:
            tone = tone_message(item.topic, item.payload, item.received_at, prefix, max_future_s)
            if tone is not None:
                self.tones.extend(tone.checks)
                self.rejections.extend(tone.rejections)
                return True
        if station_id_from_topic(item.topic, prefix) is None:
            return False
        found = parse_weather(
            item.topic, item.payload, item.received_at, prefix=prefix, max_future_s=max_future_s
        )
        self.weather.extend(found.observations)
        self.rejections.extend(found.rejections)
        return True
