"""The project's error hierarchy.

::

    NoiselabError
    ├── ConfigError          bad URL, flag or environment value (named in the message)
    ├── StoreError           a store adapter failed; ``retryable`` says whether to try again
    │   ├── StoreUnavailable the backend is down or locked: retry with backoff
    │   └── ReadingRejected  the store cannot take these readings' values (only they fail)
    └── QueryError           a well-formed request the store cannot answer (e.g. too many points)

Adapters translate driver errors at their boundary with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "NoiselabError",
    "QueryError",
    "ReadingRejected",
    "StoreError",
    "StoreUnavailable",
]


class NoiselabError(Exception):
    """Base of every error noiselab raises on purpose."""


class ConfigError(NoiselabError):
    """A configuration value is invalid; the message names the value."""


class StoreError(NoiselabError):
    """A store operation failed."""

    retryable: bool = False


class StoreUnavailable(StoreError):  # noqa: N818 - reads as a state, like TimeoutError
    """The store is temporarily unavailable (down, locked, full): retry with backoff."""

    retryable = True


class ReadingRejected(StoreError):  # noqa: N818 - reads as what happened to the reading
    """The store refuses a reading for its values; the store itself is fine, and other
    readings of the same batch may be written alone."""


class QueryError(NoiselabError):
    """A query the store will not answer as asked (the message says why)."""
