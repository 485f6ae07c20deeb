"""Wall time of the working check, ``bash scripts/test --fast``, against its baseline in the same
run: the same tests (those without the ``process`` marker) in one pytest process.

The fast check is lint, types and those tests spread over one pytest-xdist worker per core; the
baseline runs only the tests, so the ratio understates the gain. Usage::

    .venv/bin/python benchmarks/suite_time.py            # --repeats 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    """Seconds ``command`` took in the repository root; it must succeed."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin"  # Debian's mosquitto
    one_process, fast = [], []
    for _ in range(args.repeats):
        one_process.append(timed([*pytest, "-m", "not process"]))
        fast.append(timed(["bash", "scripts/test", "--fast", "-q", "-p", "no:cacheprovider"]))
    base, quick = statistics.median(one_process), statistics.median(fast)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| run | wall time (s) | ratio to one process |")
    print("|---|---:|---:|")
    print(f"| tests without `process`, one pytest process (baseline) | {base:.1f} | 1.00 |")
    print(
        f"| `bash scripts/test --fast` (ruff, mypy, tests on xdist) | {quick:.1f} | "
        f"{quick / base:.2f} |"
    )


if __name__ == "__main__":
    main()
