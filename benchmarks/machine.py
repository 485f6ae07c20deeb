"""One line describing the machine a benchmark ran on, for docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

__all__ = ["describe"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> str:
    """OS, kernel, architecture, CPU model and count, Python and numpy versions."""
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}; {_cpu_model()}; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}; numpy {np.__version__}"
    )
