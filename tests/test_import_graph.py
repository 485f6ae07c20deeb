"""The modules of the noiselab package import each other without cycles.

Every module is parsed with ``ast`` (nothing is imported) and every ``import`` and
``from ... import`` statement counts wherever it is: at module level, inside functions (lazy
imports) and inside ``if TYPE_CHECKING:`` blocks. A cycle that only the type checker or a
function call walks through is still a cycle between the modules' designs, so it fails too.

Edges go from a module to the modules it names, resolved like this:

- ``import a.b.c`` -> ``a.b.c``;
- ``from a.b import x`` -> ``a.b.x`` when that is a module (a submodule imported by name),
  else ``a.b`` (a name taken from the package's ``__init__``);
- relative imports are first made absolute against the importing module's package.

The parent packages that Python runs before a submodule are not edges: a package whose
``__init__`` re-exports its submodules, which import one another directly, would otherwise form
a cycle with each of them. A submodule that imports a name through its own package's face
(``from a.b import x`` inside ``a/b/y.py``, ``x`` not a module) is a real cycle and fails.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import noiselab


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line`` of the source's file."""

    source: str
    target: str
    line: int


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root`` (the package
    directory, named ``package``); a package is named by its ``__init__.py``."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from`` import names (``None`` beyond the top package)."""
    if node.level == 0:
        return node.module
    parts = module.split(".") if is_package else module.split(".")[:-1]
    up = node.level - 1
    if up >= len(parts):
        return None
    base = parts[: len(parts) - up]
    return ".".join([*base, node.module] if node.module else base)


def _imported(
    module: str, is_package: bool, tree: ast.AST
) -> Iterator[tuple[tuple[str, ...], int]]:
    """``(candidate target, line)`` for every import anywhere in ``tree``, most specific first
    for a ``from`` import: the submodule, then the module it is taken from."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield (alias.name,), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            if base is None:
                continue
            for alias in node.names:
                yield (f"{base}.{alias.name}", base), node.lineno


def import_graph(modules: Mapping[str, Path]) -> list[Edge]:
    """Every import between ``modules``, resolved as the module docstring says."""
    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for candidates, line in _imported(module, is_package, tree):
            target = next((c for c in candidates if c in modules), None)
            if target is not None:
                edges.append(Edge(module, target, line))
    return edges


def cycles(modules: Mapping[str, Path], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module, and the modules that import
    themselves, each sorted (Tarjan's algorithm, iterative)."""
    successors: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        successors[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(successors[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    found.append(sorted(component))
    return sorted(found)


def describe(component: list[str], edges: list[Edge]) -> str:
    """The imports that hold ``component`` together, one per line: ``module:line``."""
    members = set(component)
    inside = sorted(
        {(e.source, e.line, e.target) for e in edges if {e.source, e.target} <= members}
    )
    lines = [f"cycle of {len(component)}: {', '.join(component)}"]
    lines += [f"  {source}:{line} imports {target}" for source, line, target in inside]
    return "\n".join(lines)


def test_noiselab_has_no_import_cycles() -> None:
    modules = module_files(Path(noiselab.__path__[0]), "noiselab")
    assert "noiselab.store.metadata" in modules  # the walk found the package
    edges = import_graph(modules)
    assert len(edges) > len(modules)  # the resolution found the imports
    found = cycles(modules, edges)
    assert not found, "import cycles:\n" + "\n".join(describe(c, edges) for c in found)


# --------------------------------------------------------------------------- the checker itself

_FACE = {
    "pkg/__init__.py": "from pkg.a import A\nfrom pkg.b import B\n",
    "pkg/a.py": "from pkg.b import B\nA = B\n",
    "pkg/b.py": "B = 1\n",
}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(_FACE, [], id="a package face over siblings is no cycle"),
        pytest.param(
            {**_FACE, "pkg/b.py": "from pkg import A\nB = A\n"},
            [["pkg", "pkg.a", "pkg.b"]],
            id="a submodule importing through its package face",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "import pkg.b\n",
                "pkg/b.py": "def f():\n    from pkg.a import g\n",
            },
            [["pkg.a", "pkg.b"]],
            id="a lazy import inside a function",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg import b\n",
                "pkg/b.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\n",
            },
            [["pkg.a", "pkg.b"]],
            id="a TYPE_CHECKING import, submodule imported by name",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/sub/__init__.py": "from .x import X\n",
                "pkg/sub/x.py": "from ..c import C\nX = C\n",
                "pkg/c.py": "from .sub import x\nC = 1\n",
            },
            [["pkg.c", "pkg.sub.x"]],
            id="relative imports",
        ),
        pytest.param(
            {"pkg/__init__.py": "", "pkg/a.py": "from pkg.a import thing\n"},
            [["pkg.a"]],
            id="a module importing itself",
        ),
        pytest.param(
            {"pkg/__init__.py": "import os\nimport json\n", "pkg/a.py": "import os.path\n"},
            [],
            id="imports outside the package are no edges",
        ),
    ],
)
def test_the_checker_finds_exactly_the_cycles(
    tmp_path: Path, files: dict[str, str], expected: list[list[str]]
) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    modules = module_files(tmp_path / "pkg", "pkg")
    edges = import_graph(modules)
    assert cycles(modules, edges) == expected
    for component in expected:
        assert describe(component, edges).startswith(f"cycle of {len(component)}")
