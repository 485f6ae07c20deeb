"""Flux checked by InfluxData's own Flux language server (``@influxdata/flux-lsp-node``, the
WebAssembly build of the server behind the InfluxDB UI's editor), run by
``tests/node/flux_check.mjs``.

The server reports what its parser and type checker find without running the query: syntax
(an unterminated string, an illegal escape), undefined identifiers, unknown or missing
arguments of standard-library functions and type errors ("expected string but found int
(argument bucket)"). It does not know any bucket, measurement, field or tag, nor what a query
returns: that needs a live InfluxDB.

``check_flux(queries)`` runs one node process per batch and returns every query's diagnostics;
``assert_clean(queries)`` fails with each problem shown under its line of the query.
``string_literals(queries)`` gives the string literals of each query as the server's parser
decodes them (``tests/node/flux_strings.mjs``), to show that data put into a query arrives as
the same text and never as a ``${...}`` interpolation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from support.node_tools import require, run_node

__all__ = [
    "PACKAGE",
    "Diagnostic",
    "Strings",
    "assert_clean",
    "check_flux",
    "describe",
    "string_literals",
]

PACKAGE = "@influxdata/flux-lsp-node"
SCRIPT = "flux_check.mjs"
STRINGS_SCRIPT = "flux_strings.mjs"


@dataclass(frozen=True)
class Diagnostic:
    """One problem the server published; lines and characters count from 0 (LSP positions,
    characters in UTF-16 code units)."""

    message: str
    line: int
    character: int
    end_line: int
    end_character: int
    severity: int
    """LSP severity: 1 error, 2 warning, 3 information, 4 hint."""

    @classmethod
    def from_lsp(cls, raw: Mapping[str, Any]) -> Diagnostic:
        """From a ``publishDiagnostics`` entry (``message``, ``range``, ``severity``)."""
        where = raw["range"]
        return cls(
            message=str(raw["message"]),
            line=int(where["start"]["line"]),
            character=int(where["start"]["character"]),
            end_line=int(where["end"]["line"]),
            end_character=int(where["end"]["character"]),
            severity=int(raw.get("severity", 1)),
        )


def check_flux(
    queries: Mapping[str, str],
    *,
    drop_diagnostics_of: Iterable[str] = (),
    timeout_ms: int = 10_000,
) -> dict[str, list[Diagnostic]]:
    """The diagnostics of each query by name (an empty list: the server found nothing wrong).

    Each query is checked alone (its own document, in its own folder). A query the server does
    not answer within ``timeout_ms`` fails the test, as does an answer that leaves a query out.
    ``drop_diagnostics_of`` names queries whose answer is thrown away, to show exactly that."""
    require(PACKAGE)
    if not queries:
        return {}
    stdin = json.dumps([{"name": name, "query": text} for name, text in queries.items()])
    args = ["--timeout-ms", str(timeout_ms)]
    for name in drop_diagnostics_of:
        args += ["--drop-diagnostics-of", name]
    answer = json.loads(run_node(SCRIPT, stdin, *args))
    if set(answer) != set(queries):
        missing = sorted(set(queries) - set(answer))
        extra = sorted(set(answer) - set(queries))
        pytest.fail(f"{SCRIPT} answered for the wrong queries: missing {missing}, extra {extra}")
    return {name: [Diagnostic.from_lsp(d) for d in answer[name]] for name in queries}


def describe(name: str, query: str, diagnostics: Iterable[Diagnostic]) -> str:
    """Each diagnostic with the query line it points at and a caret under the spot."""
    lines = query.split("\n")
    out = []
    for found in diagnostics:
        text = lines[found.line] if found.line < len(lines) else ""
        width = max(1, found.end_character - found.character) if found.end_line == found.line else 1
        out += [
            f"{name}:{found.line + 1}:{found.character + 1}: {found.message}",
            f"    {text}",
            f"    {' ' * found.character}{'^' * width}",
        ]
    return "\n".join(out)


def assert_clean(queries: Mapping[str, str]) -> dict[str, list[Diagnostic]]:
    """Fail, showing every problem in place, unless the server finds none in any query; the
    (empty) diagnostics otherwise."""
    found = check_flux(queries)
    problems = [describe(name, queries[name], found[name]) for name in queries if found[name]]
    assert not problems, "the Flux language server found problems:\n" + "\n".join(problems)
    return found


@dataclass(frozen=True)
class Strings:
    """What Flux's parser made of the strings of one query."""

    literals: list[str]
    """The decoded value of every plain string literal, in source order."""
    interpolated: list[str]
    """The source of every string holding a ``${...}`` interpolation."""
    errors: list[str]
    """The parser's errors (an illegal escape, an unterminated string, a bad statement)."""


def string_literals(queries: Mapping[str, str]) -> dict[str, Strings]:
    """The strings of each query, by name, as Flux's parser reads them."""
    require(PACKAGE)
    stdin = json.dumps([{"name": name, "query": text} for name, text in queries.items()])
    answer = json.loads(run_node(STRINGS_SCRIPT, stdin))
    assert set(answer) == set(queries), f"{STRINGS_SCRIPT} left out queries"
    return {name: Strings(**answer[name]) for name in queries}
