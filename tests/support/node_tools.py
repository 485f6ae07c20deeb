"""The node packages the tests run (``tests/node``: InfluxData's Flux language server, Grafana's
dashboard types, TypeScript), installed by ``bash scripts/test`` with ``npm ci``.

``require(package)`` gives a package's folder, or skips the test with the command that installs
it; under CI (``CI`` set) a missing node or package fails the test instead, as a missing
Chromium does: these checks are the only contact with the real parsers, so CI never passes
without them. ``run_node(script, stdin)`` runs a script of ``tests/node`` with node and returns
its standard output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.paths import TESTS

__all__ = ["NODE_DIR", "node_binary", "require", "run_node"]

NODE_DIR = TESTS / "node"
"""``package.json``, ``package-lock.json`` and the scripts that drive the packages."""
INSTALL = "bash scripts/test (or: cd tests/node && npm ci)"


def _missing(what: str) -> None:
    """Skip, or fail under CI, because ``what`` is not installed."""
    message = f"{what} is not installed: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def node_binary() -> str:
    """The ``node`` executable (skips, or fails under CI, without one)."""
    found = shutil.which("node")
    if found is None:
        _missing("node")
    assert found is not None
    return found


def require(package: str) -> Path:
    """The installed folder of ``package`` (e.g. ``@influxdata/flux-lsp-node``)."""
    node_binary()
    folder = NODE_DIR / "node_modules" / package
    if not (folder / "package.json").is_file():
        _missing(f"the node package {package}")
    return folder


def run_node(script: str, stdin: str = "", *args: str, timeout: float = 120.0) -> str:
    """Run ``tests/node/<script>`` with ``args`` and ``stdin``; its standard output. A non-zero
    exit fails the test with the script's standard error."""
    done = subprocess.run(
        [node_binary(), str(NODE_DIR / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"node {script} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done.stdout
