"""Structured logging for the daemon: one line per event, as text or JSON, to stderr and a rotating file.

JSON lines carry ``time``, ``level``, ``logger``, ``message`` and, when the event concerns a job, ``job_id``.
The file is opened without following a link planted under its name, and characters UTF-8 cannot carry (a lone
surrogate a hostile request sent) are written as backslash escapes rather than failing the line.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
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


class NoFollowRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that is never opened through a symbolic link (``O_NOFOLLOW``)."""

    def _open(self):  # type: ignore[no-untyped-def]
        flags = getattr(os, "O_NOFOLLOW", 0)
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,
                    opener=lambda path, mode: os.open(path, mode | flags, 0o644))


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
    root.setLevel(level.upper())
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            rotating = NoFollowRotatingFileHandler(file, maxBytes=5_000_000, backupCount=3, encoding="utf-8",
                                                   errors="backslashreplace")
        except OSError as error:
            logging.getLogger("ditto_bridge").warning("cannot write the log file %s (%s; a link there is never "
                                                      "followed); logging to stderr only", file, error)
        else:
            rotating.setFormatter(JsonFormatter())
            root.addHandler(rotating)
    for noisy in ("watchdog", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
