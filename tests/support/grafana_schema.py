"""Type-check Grafana dashboard JSON against Grafana's own generated TypeScript types.

Grafana publishes its dashboard model as TypeScript (npm ``@grafana/schema``, pinned in
``tests/node/package.json`` to the version of the Grafana image we deploy), not as JSON Schema.
So each dashboard is written out as a TypeScript module that assigns the JSON to typed
constants, and ``tsc --noEmit --strict`` compiles all of them in one run:

- one constant of type ``DashboardPanel`` per top-level panel (its plugin's ``Options`` and
  custom ``FieldConfig``, chosen by the panel's ``type``), and one of type ``DashboardModel``
  for the rest of the dashboard (``tests/node/grafana_types.ts`` defines both);
- the JSON is written one key or array item per line, and each line remembers its panel and
  JSON path, so a compiler error at ``file(line,col)`` becomes
  ``dashboard title / panel title / path: message``.

An object literal assigned to a typed constant gets TypeScript's excess-property check, so a
misspelled key is an error, as are a value of the wrong type, a string outside an enum, a
missing required key (``schemaVersion``) and a panel type without a schema. Query targets are
open records and are not checked here (``support.openapi`` checks the Infinity ones).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support.node_tools import NODE_DIR, node_binary, require

__all__ = ["TYPES", "Checked", "SchemaError", "check_dashboards", "typescript_source"]

TYPES = NODE_DIR / "grafana_types.ts"
"""The mapped types the generated modules import (``DashboardModel``, ``DashboardPanel``)."""
TSC_OPTIONS = (
    "--noEmit",
    "--strict",
    "--pretty",
    "false",
    "--skipLibCheck",  # not the .d.ts files of Grafana (ours and the dashboards are .ts)
    "--target",
    "es2022",
    "--module",
    "esnext",
    "--moduleResolution",
    "bundler",  # follows the package's "exports" to the per-panel-plugin types
)
_DIAGNOSTIC = re.compile(r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): ")
DASHBOARD = "(dashboard)"
"""The panel named by an error outside every panel."""


@dataclass(frozen=True)
class SchemaError:
    """One compiler error, placed in the dashboard: ``path`` is a JSON path within the panel
    (or the dashboard, when ``panel`` is ``DASHBOARD``); "" is the object itself."""

    dashboard: str
    panel: str
    path: str
    message: str

    def __str__(self) -> str:
        message = self.message if len(self.message) <= 300 else self.message[:299] + "…"
        return f"{self.dashboard} / {self.panel} / {self.path or '(root)'}: {message}"


@dataclass
class TypeScriptSource:
    """A dashboard as a TypeScript module, and for each line (0-based) its panel and path."""

    title: str
    text: str
    places: list[tuple[str, str]]


@dataclass
class Checked:
    """The errors of each dashboard (by the key it was given), and how long ``tsc`` took."""

    errors: dict[str, list[SchemaError]] = field(default_factory=dict)
    seconds: float = 0.0


def typescript_source(model: Mapping[str, Any]) -> TypeScriptSource:
    """The dashboard ``model`` as a module of typed constants: ``panel_<n>`` per panel, then
    ``dashboard``, whose ``panels`` names them."""
    module = json.dumps(str(TYPES.with_suffix("")))
    texts = [f"import type {{ DashboardModel, DashboardPanel }} from {module};"]
    places = [(DASHBOARD, "")]
    rest = dict(model)
    panels = model.get("panels")
    if isinstance(panels, list):
        names = []
        for number, panel in enumerate(panels, start=1):
            names.append(f"panel_{number}")
            out: list[tuple[str, str]] = []
            _write(panel, "", f"const {names[-1]}: DashboardPanel = ", ";", 0, out)
            texts += [text for text, _ in out]
            places += [(_panel_label(panel, number), path) for _, path in out]
        rest["panels"] = _Code(f"[{', '.join(names)}]")
    out = []
    _write(rest, "", "export const dashboard: DashboardModel = ", ";", 0, out)
    texts += [text for text, _ in out]
    places += [(DASHBOARD, path) for _, path in out]
    title = str(model.get("title", "(untitled)"))
    return TypeScriptSource(title, "\n".join(texts) + "\n", places)


class _Code(str):
    """TypeScript written as it is, not as a JSON string."""

    __slots__ = ()


def _panel_label(panel: Any, number: int) -> str:
    if isinstance(panel, dict) and isinstance(panel.get("title"), str) and panel["title"]:
        return str(panel["title"])
    return f"panel #{number}"


def _key_path(path: str, key: str) -> str:
    """``path`` extended by ``key``: ``a.b``, or ``a["b c"]`` for a key that is no identifier."""
    if not re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def _write(
    value: Any, path: str, head: str, tail: str, depth: int, out: list[tuple[str, str]]
) -> None:
    """Append ``value`` as JSON text to ``out`` as (line, path) pairs, one key or item per
    line: the first line starts with ``head``, the last ends with ``tail``."""
    indent = "  " * (depth + 1)
    if isinstance(value, dict) and value:
        out.append((head + "{", path))
        for i, (key, item) in enumerate(value.items()):
            comma = "," if i < len(value) - 1 else ""
            child = _key_path(path, str(key))
            _write(item, child, f"{indent}{json.dumps(key)}: ", comma, depth + 1, out)
        out.append(("  " * depth + "}" + tail, path))
    elif isinstance(value, list) and value:
        out.append((head + "[", path))
        for i, item in enumerate(value):
            comma = "," if i < len(value) - 1 else ""
            _write(item, f"{path}[{i}]", indent, comma, depth + 1, out)
        out.append(("  " * depth + "]" + tail, path))
    else:
        text = value if isinstance(value, _Code) else json.dumps(value, ensure_ascii=False)
        out.append((head + text + tail, path))


def check_dashboards(models: Mapping[str, Mapping[str, Any]], folder: Path) -> Checked:
    """Compile each dashboard of ``models`` (key: a file-name-safe name) as ``<key>.ts`` in
    ``folder`` with one ``tsc`` run; the errors of each, placed by panel and JSON path. An
    error outside the generated modules (in ``grafana_types.ts``, say) fails the test."""
    require("@grafana/schema")
    tsc = require("typescript") / "bin" / "tsc"
    sources: dict[Path, tuple[str, TypeScriptSource]] = {}
    for key, model in models.items():
        file = folder / f"{key}.ts"
        source = typescript_source(model)
        file.write_text(source.text, encoding="utf-8")
        sources[file.resolve()] = (key, source)
    started = time.perf_counter()
    done = subprocess.run(
        [node_binary(), str(tsc), *TSC_OPTIONS, *(str(file) for file in sources)],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
        check=False,
    )
    checked = Checked({key: [] for key in models}, time.perf_counter() - started)
    diagnostics = list(_diagnostics(done.stdout))
    if done.returncode != 0 and not diagnostics:
        pytest.fail(f"tsc exited {done.returncode}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    for file, line, message in diagnostics:
        found = sources.get((folder / file).resolve())
        if found is None:
            pytest.fail(f"tsc: an error outside the dashboards: {file}({line}): {message}")
        key, source = found
        panel, path = source.places[line - 1]
        checked.errors[key].append(SchemaError(source.title, panel, path, message))
    return checked


def _diagnostics(output: str) -> Iterator[tuple[str, int, str]]:
    """``(file, line, message)`` per error of ``tsc --pretty false``; a message's continuation
    lines (indented) are joined to it."""
    current: list[Any] | None = None
    for text in output.splitlines():
        match = _DIAGNOSTIC.match(text)
        if match:
            if current:
                yield current[0], current[1], current[2]
            current = [match["file"], int(match["line"]), text[match.end() :]]
        elif current and text.strip():
            current[2] += " " + text.strip()
    if current:
        yield current[0], current[1], current[2]
