"""Structured logs: one line per event, ``key=value`` pairs (logfmt), or JSON lines.

Call ``configure_logging`` once in ``main()``; modules log with
``log.info("batch stored", extra={"fields": {...}})`` or the ``event`` helper.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

__all__ = ["configure_logging", "event"]


class _LogfmtFormatter(logging.Formatter):
    def __init__(self, *, as_json: bool) -> None:
        super().__init__()
        self._as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self._as_json:
            return json.dumps(fields, default=str)
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in fields.items())


def _logfmt_value(value: Any) -> str:
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else f"{value:.6g}"
    else:
        text = str(value)
    if text == "" or any(c in text for c in ' "=\n'):
        return json.dumps(text)
    return text


def configure_logging(level: str = "info", *, as_json: bool = False) -> None:
    """Send structured log lines to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogfmtFormatter(as_json=as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic narrates every start-up migration check at INFO; keep it for debugging only.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    # httpx and httpcore log each request's full URL (a webhook's path may hold a token),
    # at any level: their warnings only.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def event(logger: logging.Logger, msg: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``msg`` with structured ``fields``."""
    logger.log(level, msg, extra={"fields": fields})
