"""No route module imports another route module: what routes share lives in
``noiselab.api.access``, ``noiselab.api.params``, ``noiselab.api.schemas`` and the services.

Every module of ``noiselab/api/routes/`` is parsed with :mod:`ast` (not imported), and every
import anywhere in it counts, function-level ones included: ``import noiselab.api.routes.x``,
``from noiselab.api.routes.x import y``, ``from noiselab.api.routes import x`` and the relative
forms (``from . import x``, ``from .x import y``), and ``importlib.import_module`` or
``__import__`` of a literal name. ``__init__.py`` is the package, not a route.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import noiselab.api.routes

ROUTES_PACKAGE = "noiselab.api.routes"
ROUTES_DIR = Path(noiselab.api.routes.__file__).parent


def route_modules(directory: Path) -> list[Path]:
    """The route modules in ``directory``: every ``*.py`` but ``__init__.py``."""
    return sorted(p for p in directory.glob("*.py") if p.name != "__init__.py")


def imported_routes(source: str, package: str, module: str, routes: set[str]) -> list[str]:
    """Each import in ``source`` (the module ``module`` of ``package``) of another module of
    ``routes``, as ``"line N: <import>"``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            targets = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and _call_name(node) in {"import_module", "__import__"}:
            targets = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant)]
            targets = [t for t in targets if isinstance(t, str)]
        for target in targets:
            if not target.startswith(package + "."):
                continue
            name = target[len(package) + 1 :].split(".")[0]
            if name in routes and name != module:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
                break
    return found


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def violations(directory: Path, package: str) -> list[str]:
    """``"<file> line N: <import>"`` for every import of one route module by another."""
    modules = route_modules(directory)
    names = {p.stem for p in modules}
    return [
        f"{path.name} {hit}"
        for path in modules
        for hit in imported_routes(path.read_text(encoding="utf-8"), package, path.stem, names)
    ]


def test_there_are_route_modules():
    assert len(route_modules(ROUTES_DIR)) >= 2


def test_no_route_module_imports_another():
    assert violations(ROUTES_DIR, ROUTES_PACKAGE) == []


@pytest.mark.parametrize(
    "statement",
    [
        "from noiselab.api.routes.sensors import rfc3339",
        "import noiselab.api.routes.sensors",
        "import noiselab.api.routes.sensors as s",
        "from noiselab.api.routes import sensors",
        "from noiselab.api.routes import health, sensors",
        "from . import sensors",
        "from .sensors import rfc3339",
        "from ..routes import sensors",
        "from ..routes.sensors import rfc3339",
        "importlib.import_module('noiselab.api.routes.sensors')",
        "__import__('noiselab.api.routes.sensors')",
        "def helper():\n    from noiselab.api.routes.sensors import rfc3339\n    return rfc3339",
        "class Routes:\n    def m(self):\n        from .sensors import rfc3339",
        "try:\n    import noiselab.api.routes.sensors\nexcept ImportError:\n    pass",
    ],
)
def test_a_violation_is_found_and_named(tmp_path, statement):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "sensors.py").write_text('"""A route."""\n')
    (tmp_path / "trials.py").write_text(f"from __future__ import annotations\n\n{statement}\n")
    found = violations(tmp_path, ROUTES_PACKAGE)
    assert len(found) == 1
    assert found[0].startswith("trials.py line ")
    assert "sensors" in found[0]


@pytest.mark.parametrize(
    "statement",
    [
        "from noiselab.api.params import rfc3339",
        "from noiselab.api.access import cache_headers",
        "from noiselab.api.schemas.sensors import SensorOut",
        "import noiselab.api.routes",
        "from noiselab.api import routes",
        "from noiselab.api.routes.trials import router",  # itself
        "from .trials import router",  # itself
        "from noiselab.api.routes_extra import x",  # not the routes package
    ],
)
def test_shared_modules_and_itself_are_allowed(tmp_path, statement):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "sensors.py").write_text('"""A route."""\n')
    (tmp_path / "trials.py").write_text(f"{statement}\n")
    assert violations(tmp_path, ROUTES_PACKAGE) == []


def test_the_package_init_is_not_a_route(tmp_path):
    (tmp_path / "__init__.py").write_text("from noiselab.api.routes import sensors\n")
    (tmp_path / "sensors.py").write_text('"""A route."""\n')
    assert violations(tmp_path, ROUTES_PACKAGE) == []
