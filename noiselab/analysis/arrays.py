"""The numpy array types of the package, declared once.

Levels, energies, times and durations are ``float64``; counts, indices and integer times
(milliseconds, minutes) are ``int64`` (``np.intp`` on the 64-bit platforms we run on); masks
are ``bool``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["BoolArray", "FloatArray", "IndexArray", "IntArray"]

FloatArray = npt.NDArray[np.float64]
"""An array of ``float64``: levels (dB), energies, seconds."""

IntArray = npt.NDArray[np.int64]
"""An array of ``int64``: counts, indices, integer times."""

IndexArray = npt.NDArray[np.intp]
"""An array of ``np.intp``: positions into other arrays, as ``np.searchsorted`` returns them."""

BoolArray = npt.NDArray[np.bool_]
"""An array of ``bool``: masks."""
