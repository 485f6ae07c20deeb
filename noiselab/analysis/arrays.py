"""The numpy array types of the package, declared once.

Levels, energies, times and durations are ``float64``; counts, indices and integer times
(milliseconds, minutes) are ``int64`` (``np.intp`` on the 64-bit platforms we run on).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray"]

FloatArray = npt.NDArray[np.float64]
"""An array of ``float64``: levels (dB), energies, seconds."""

IntArray = npt.NDArray[np.int64]
"""An array of ``int64``: counts, indices, integer times."""
