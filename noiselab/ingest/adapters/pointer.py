"""JSON Pointer (RFC 6901): resolve ``/a/0/b`` in a decoded JSON document.

A pointer is ``""`` (the whole document) or a sequence of ``/``-prefixed reference tokens, in
which ``~1`` stands for ``/`` and ``~0`` for ``~`` (RFC 6901, section 3; ``~1`` is decoded
before ``~0`` so that ``~01`` is ``~1``, section 4). An array index is ``0`` or a decimal
number without leading zeros; ``-`` (past the end) never names an existing value.
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["PointerError", "parse_pointer", "resolve"]

_INDEX: Final = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_BAD_ESCAPE: Final = re.compile(r"~(?![01])")


class PointerError(ValueError):
    """A pointer is malformed or names no value in the document."""


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """The unescaped reference tokens of ``pointer``; ``PointerError`` if it is malformed."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise PointerError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    if _BAD_ESCAPE.search(pointer):
        raise PointerError(f"JSON pointer {pointer!r} has '~' not followed by 0 or 1")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def resolve(document: Any, pointer: str) -> Any:
    """The value ``pointer`` names in ``document`` (decoded JSON); ``PointerError`` if none."""
    value = document
    walked = ""
    for token in parse_pointer(pointer):
        if isinstance(value, dict):
            if token not in value:
                raise PointerError(f"no member {token!r} at {walked or '/'}")
            value = value[token]
        elif isinstance(value, list):
            if not _INDEX.fullmatch(token):
                raise PointerError(f"{token!r} is not an array index at {walked or '/'}")
            position = int(token)
            if position >= len(value):
                raise PointerError(
                    f"index {position} is past the end of the {len(value)}-item array at "
                    f"{walked or '/'}"
                )
            value = value[position]
        else:
            raise PointerError(f"{walked or '/'} is not an object or array")
        walked += "/" + token.replace("~", "~0").replace("/", "~1")
    return value
