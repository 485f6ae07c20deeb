"""``with`` support for the stores: one base for every resource that ``close()`` releases."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["ClosesOnExit"]


class ClosesOnExit(ABC):
    """A resource usable as ``with Store(...) as store:``; leaving the block calls ``close()``,
    whether the block ended normally or by an exception (which is not suppressed)."""

    @abstractmethod
    def close(self) -> None:
        """Release the resource; the data stays valid."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
