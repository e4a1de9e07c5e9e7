"""Structured logging for the daemon: one line per event, as text or JSON, to stderr and a rotating file.

JSON lines carry ``time``, ``level``, ``logger``, ``message`` and, when the event concerns a job, ``job_id``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from pathlib import Path

_EXTRA_FIELDS = ("job_id",)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
                + f".{int(record.msecs):03d}",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key in _EXTRA_FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")


def setup_logging(level: str = "info", fmt: str = "text", file: Path | None = None) -> None:
    """Configure the root logger (replacing earlier handlers); `file` rotates at 5 MB, three old files kept."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    stream = logging.StreamHandler()
    stream.setFormatter(formatter)
    root.addHandler(stream)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(file, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        rotating.setFormatter(JsonFormatter())
        root.addHandler(rotating)
    root.setLevel(level.upper())
    for noisy in ("watchdog", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
