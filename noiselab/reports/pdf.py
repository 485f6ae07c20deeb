"""A report page printed to PDF by headless Chromium (Debian's ``chromium``), as a browser
prints it: A4, the page's own CSS print rules, no header or footer.

Chromium gets the page as a file in a fresh temporary directory that also holds its profile,
with every host name resolving to nothing, so printing cannot fetch anything (the page has no
scripts or external resources, and escapes every text a person wrote). It runs as a child
process with a time limit and its output is checked to be a PDF. Where no Chromium is
installed, :class:`PdfUnavailable` says so; the HTML and CSV forms need nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from noiselab.errors import NoiselabError

__all__ = ["CHROMIUM_NAMES", "PdfUnavailable", "find_chromium", "html_to_pdf"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
"""Executables looked for on ``PATH`` (``NOISELAB_CHROMIUM`` names one explicitly)."""
TIMEOUT_S = 60.0


class PdfUnavailable(NoiselabError):  # noqa: N818 - reads as a state, like StoreUnavailable
    """No PDF could be made: Chromium is missing, failed or timed out (the message says)."""


def find_chromium() -> str | None:
    """``NOISELAB_CHROMIUM`` when set, else the first of :data:`CHROMIUM_NAMES` on ``PATH``."""
    explicit = os.environ.get("NOISELAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def html_to_pdf(page: str, *, chromium: str | None = None, timeout_s: float = TIMEOUT_S) -> bytes:
    """``page`` (a self-contained HTML document) printed to PDF bytes."""
    binary = chromium or find_chromium()
    if binary is None:
        raise PdfUnavailable(
            "PDF needs headless Chromium on this host (apt-get install chromium, or set "
            "NOISELAB_CHROMIUM); the HTML and CSV reports are available"
        )
    with tempfile.TemporaryDirectory(prefix="noiselab-pdf-") as tmp:
        source, target = Path(tmp, "report.html"), Path(tmp, "report.pdf")
        source.write_text(page, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={Path(tmp, 'profile')}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(f"Chromium did not print within {timeout_s:g} s") from exc
        except (OSError, subprocess.CalledProcessError) as exc:
            raise PdfUnavailable(f"Chromium could not print the report: {exc}") from exc
        data = target.read_bytes() if target.is_file() else b""
    if not data.startswith(b"%PDF-"):
        raise PdfUnavailable("Chromium wrote no PDF")
    return data
