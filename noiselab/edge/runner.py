"""The edge client's main loop: read a block, measure, buffer, publish.

Everything runs on the calling thread except paho's network loop: a block of audio goes
through the meters, the finished seconds are committed to the buffer, then the uplink
publishes what is buffered. A WAV file is replayed as fast as the meters run, or paced at
real time (``realtime``); at its end the loop waits until every reading is acknowledged. A
stop request (Ctrl-C, SIGTERM) ends the reading, then publishing goes on for at most
``flush_timeout_s`` seconds; whatever is still unacknowledged stays in the buffer for the
next run.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from noiselab.edge.buffer import ReadingBuffer
from noiselab.edge.levels import ReadingMaker
from noiselab.edge.sources import AudioSource
from noiselab.edge.uplink import Uplink, UplinkSettings
from noiselab.logs import event

__all__ = ["RunOutcome", "run_sensor"]

log = logging.getLogger("noiselab.sensor")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended: readings measured, readings left in the buffer, whether it was
    asked to stop before the source ended."""

    measured: int
    buffered: int
    stopped: bool


def run_sensor(
    source: AudioSource,
    buffer: ReadingBuffer,
    uplink_settings: UplinkSettings,
    *,
    calibration_db: float,
    spectra: bool,
    realtime: bool,
    stop: threading.Event,
    flush_timeout_s: float = 5.0,
) -> RunOutcome:
    """Measure ``source`` until it ends or ``stop`` is set, publishing through the buffer."""
    maker = ReadingMaker(source.fs, calibration_db, spectra=spectra)
    uplink = Uplink(uplink_settings, buffer)
    backlog = buffer.count()
    event(log, "sensor started", fs=source.fs, backlog=backlog, spectra=spectra)
    uplink.start()
    measured = samples = 0
    began = time.monotonic()
    try:
        for block in source.blocks(stop):
            readings = maker.process(block, source.first_sample_time())
            buffer.append(readings)
            measured += len(readings)
            uplink.pump()
            samples += block.size
            if realtime:
                # Pace by the samples read so far, so sleeping errors do not add up.
                stop.wait(max(0.0, began + samples / source.fs - time.monotonic()))
        stopped = stop.is_set()
        if not stopped:
            event(log, "source ended; uploading what is buffered", readings=measured)
            stopped = not uplink.flush(stop)
        if stopped:
            uplink.flush(timeout_s=flush_timeout_s)
    finally:
        uplink.close()
    left = buffer.count()
    event(log, "sensor stopped", measured=measured, buffered=left, stopped=stopped)
    return RunOutcome(measured, left, stopped)
