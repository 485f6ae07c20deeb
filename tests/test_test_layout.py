"""The test suite's own layout: test code shares helpers through the ``support`` package only,
never by importing a test module (or a conftest), so each module can move or go on its own."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    """Whether a dotted module name names a test module or a conftest (``tests.test_api``,
    ``test_api``, ``conftest``...)."""
    return any(part.startswith("test_") or part == "conftest" for part in dotted.split("."))


def imported_test_modules(path: Path) -> Iterator[str]:
    """``line: statement`` for each import in ``path`` that brings in a test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            shown = f"import {', '.join(names)}"
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            # ``from . import test_api`` or ``from tests import test_api`` name the module last.
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            shown = f"from {module} import {', '.join(a.name for a in node.names)}"
        else:
            continue
        if any(_is_test_module(name.lstrip(".")) for name in names):
            yield f"{node.lineno}: {shown}"


def test_no_test_code_imports_a_test_module() -> None:
    """Every test module, conftest and support module under tests/; a shared helper belongs in
    ``tests/support/``."""
    found = [
        f"{path.relative_to(TESTS.parent)}:{where}"
        for path in sorted(TESTS.rglob("*.py"))
        for where in imported_test_modules(path)
    ]
    assert not found, (
        "test code imports a test module (move the shared code to tests/support/):\n"
        + ("\n".join(found))
    )


def test_the_layout_check_sees_each_form_of_import(tmp_path: Path) -> None:
    """``import``, ``from ... import``, relative and package-qualified forms are all caught;
    ``support`` and library imports are not."""
    module = tmp_path / "test_example.py"
    module.write_text(
        "import os\n"
        "import test_api\n"
        "from test_infinity import FROM\n"
        "from tests.test_map_api import NOW\n"
        "from . import test_pipeline\n"
        "from conftest import IngestProcess\n"
        "from support.lab import ApiLab\n"
        "from noiselab.analysis import levels\n"
        "def helper():\n"
        "    from test_auth import Lab\n",
        encoding="utf-8",
    )
    assert list(imported_test_modules(module)) == [
        "2: import test_api",
        "3: from test_infinity import FROM",
        "4: from tests.test_map_api import NOW",
        "5: from . import test_pipeline",
        "6: from conftest import IngestProcess",
        "10: from test_auth import Lab",
    ]
