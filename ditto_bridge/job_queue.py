"""The persistent job queue: one SQLite file in the data folder, so that killing the daemon loses nothing.

States: ``queued`` -> ``running`` -> ``done`` | ``failed`` | ``cancelled``. A job found ``running`` when the
daemon starts was interrupted (killed, power cut): `recover` puts it back in the queue while it has attempts
left and marks it ``failed`` with a message otherwise, so no job is silently dropped. A graceful shutdown puts
the running job back without counting the attempt (`requeue`).

The file is opened in WAL mode with ``synchronous=FULL``: a state change that returned is on disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ditto_bridge.errors import QueueFullError, RequestError, UnknownJobError

STATES = ("queued", "running", "done", "failed", "cancelled")
FINAL_STATES = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    job TEXT NOT NULL,
    output TEXT NOT NULL,
    refs TEXT NOT NULL,
    reply_host TEXT,
    reply_port INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    outputs TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq);
"""


@dataclass
class JobRecord:
    """One row: the engine job (JSON), how to write it out, where to reply, and what became of it."""

    id: str
    state: str
    source: str
    job: dict[str, Any]
    output: dict[str, Any]
    references: list[str]
    reply_to: tuple[str, int] | None
    attempts: int = 0
    error: str = ""
    outputs: list[str] = field(default_factory=list)
    created: float = 0.0
    started: float | None = None
    finished: float | None = None


class JobQueue:
    """Thread-safe access to the queue file; at most `max_queued` jobs wait at once."""

    def __init__(self, path: Path, *, max_queued: int = 16) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_queued = max_queued
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------------------------------------ writing
    def submit(self, job_id: str, *, job: dict[str, Any], output: dict[str, Any], references: list[str] | tuple = (),
               reply_to: tuple[str, int] | None = None, source: str = "osc") -> JobRecord:
        """Queue a job; `QueueFullError` when `max_queued` wait already, `RequestError` for a reused id."""
        with self._lock, self._transaction():
            self._check_room(job_id)
            self._db.execute(
                "INSERT INTO jobs (id, state, source, job, output, refs, reply_host, reply_port, created) "
                "VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                (job_id, source, json.dumps(job), json.dumps(output), json.dumps(list(references)),
                 reply_to[0] if reply_to else None, reply_to[1] if reply_to else None, time.time()))
        record = self.get(job_id)
        assert record is not None
        return record

    def check_room(self, job_id: str) -> None:
        """Raise what `submit` would for `job_id` now (`QueueFullError`, or `RequestError` for a reused id), so a
        caller can refuse before preparing the job; `submit` checks again when it stores it."""
        with self._lock:
            self._check_room(job_id)

    def _check_room(self, job_id: str) -> None:
        queued = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state='queued'").fetchone()[0]
        if queued >= self.max_queued:
            raise QueueFullError(f"busy: {queued} jobs are waiting, the most this daemon takes (max_queue); "
                                 f"wait for one to finish or cancel one")
        if self._db.execute("SELECT 1 FROM jobs WHERE id=?", (job_id,)).fetchone():
            raise RequestError(f"id: a job called {job_id!r} exists already; send a new id")

    def claim_next(self) -> JobRecord | None:
        """The oldest queued job, now ``running`` with one more attempt; None when nothing waits."""
        with self._lock, self._transaction():
            row = self._db.execute("SELECT id FROM jobs WHERE state='queued' ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE jobs SET state='running', attempts=attempts+1, started=? WHERE id=?",
                             (time.time(), row["id"]))
        return self.get(row["id"])

    def finish(self, job_id: str, outputs: list[str]) -> None:
        self._final(job_id, "done", "", outputs)

    def fail(self, job_id: str, message: str) -> None:
        self._final(job_id, "failed", message, [])

    def cancel_queued(self, job_id: str) -> bool:
        """Cancel a job that has not started; False if it is not queued (running or finished)."""
        with self._lock, self._transaction():
            changed = self._db.execute("UPDATE jobs SET state='cancelled', finished=? WHERE id=? AND state='queued'",
                                       (time.time(), job_id)).rowcount
        return changed == 1

    def mark_cancelled(self, job_id: str) -> None:
        self._final(job_id, "cancelled", "", [])

    def requeue(self, job_id: str) -> None:
        """Put a running job back in front of the queue without counting the attempt (graceful shutdown)."""
        with self._lock, self._transaction():
            self._db.execute("UPDATE jobs SET state='queued', attempts=MAX(attempts-1, 0), started=NULL "
                             "WHERE id=? AND state='running'", (job_id,))

    def set_reply(self, job_id: str, reply_to: tuple[str, int] | None) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE jobs SET reply_host=?, reply_port=? WHERE id=?",
                             (reply_to[0] if reply_to else None, reply_to[1] if reply_to else None, job_id))

    def recover(self, max_attempts: int) -> tuple[list[JobRecord], list[JobRecord]]:
        """After a crash: interrupted jobs back to the queue, or failed once they had `max_attempts` runs.

        Returns ``(requeued, failed)``.
        """
        requeued, failed = [], []
        with self._lock:
            rows = self._db.execute("SELECT id, attempts FROM jobs WHERE state='running' ORDER BY seq").fetchall()
            for row in rows:
                if row["attempts"] < max_attempts:
                    with self._transaction():
                        self._db.execute("UPDATE jobs SET state='queued', started=NULL WHERE id=?", (row["id"],))
                    requeued.append(self.get(row["id"]))
                else:
                    self._final(row["id"], "failed",
                                f"interrupted {row['attempts']} time(s): the daemon stopped while this job ran "
                                f"(killed or crashed); not retried again (max_attempts {max_attempts})", [])
                    failed.append(self.get(row["id"]))
        return [r for r in requeued if r], [r for r in failed if r]

    def _final(self, job_id: str, state: str, error: str, outputs: list[str]) -> None:
        with self._lock, self._transaction():
            changed = self._db.execute("UPDATE jobs SET state=?, error=?, outputs=?, finished=? WHERE id=?",
                                       (state, error, json.dumps(outputs), time.time(), job_id)).rowcount
        if changed != 1:
            raise UnknownJobError(f"no job {job_id!r}")

    # ------------------------------------------------------------------------------------------------ reading
    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if row is None else _record(row)

    def state_of(self, job_id: str) -> tuple[str, str]:
        """``(state, detail)`` as ``/ditto/job`` answers it: a done job's first take, another's error (or ''),
        ``('unknown', '')`` for an id never seen."""
        record = self.get(job_id)
        if record is None:
            return "unknown", ""
        return record.state, (record.outputs[0] if record.outputs else "") if record.state == "done" else record.error

    def counts(self) -> tuple[int, str]:
        """``(queued count, running job id or '')``."""
        with self._lock:
            queued = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state='queued'").fetchone()[0]
            running = self._db.execute("SELECT id FROM jobs WHERE state='running' ORDER BY seq LIMIT 1").fetchone()
        return int(queued), running["id"] if running else ""

    def all(self) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY seq").fetchall()
        return [_record(r) for r in rows]

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _record(row: sqlite3.Row) -> JobRecord:
    reply = (row["reply_host"], int(row["reply_port"])) if row["reply_host"] and row["reply_port"] else None
    return JobRecord(row["id"], row["state"], row["source"], json.loads(row["job"]), json.loads(row["output"]),
                     json.loads(row["refs"]), reply, int(row["attempts"]), row["error"], json.loads(row["outputs"]),
                     row["created"], row["started"], row["finished"])

