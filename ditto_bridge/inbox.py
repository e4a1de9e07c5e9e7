"""The watched inbox: job files and reference audio dropped by the device or by hand.

watchdog reports files appearing in the inbox (top level). A ``*.json`` file is a job, taken once its size and
modification time have stayed the same for `settle_seconds` (so a file still being written is never read half).
Names starting with ``.`` are ignored: write ``.job.json.tmp`` and rename it to ``job.json`` for an instant drop.

A job may name reference audio or a MIDI file inside the inbox that has not arrived yet (the device copies the
clip's audio after writing the job): the job then waits until every such file is there and settled, for at
most `reference_wait_seconds`, and fails with a message after that.

Taken files move to ``inbox/taken/`` (so they never run twice, even after a restart); files whose job failed move
to ``inbox/failed/`` with ``<name>.error.txt`` beside them saying why. A job file is read only when it is a
regular file of bounded size; a link, a FIFO or a device in the inbox is refused (moved to ``failed/`` itself,
never what it points to) without blocking the inbox (see `ditto_bridge.submission`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ditto_bridge.translate.references import inside
from engine.safe_files import folder

log = logging.getLogger("ditto_bridge.inbox")
JOB_SUFFIX = ".json"
AUDIO_SUFFIXES = (".wav", ".aif", ".aiff", ".flac", ".ogg", ".mp3", ".mid", ".midi")
POLL_SECONDS = 0.1
_PATH_FIELDS = ("file_path", "reference", "midi_file")


def referenced_files(data: Any, inbox: Path) -> list[Path]:
    """Every path a job names (``clip.file_path``, ``midi_file``, ``controls[].reference``) that lies in the inbox.

    Relative paths are relative to the inbox.
    """
    found: list[Path] = []

    def walk(value: Any, depth: int) -> None:
        if depth > 6:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if key in _PATH_FIELDS and isinstance(item, str) and item and "\x00" not in item:
                    path = Path(item).expanduser()
                    path = path if path.is_absolute() else inbox / path
                    if inside(path, [inbox]):
                        found.append(path)
                else:
                    walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value[:1000]:
                walk(item, depth + 1)

    walk(data, 0)
    return found


class _Handler(FileSystemEventHandler):
    def __init__(self, inbox: "Inbox") -> None:
        self.inbox = inbox

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        for raw in (getattr(event, "dest_path", None), event.src_path):
            if raw:
                self.inbox.notice(Path(raw if isinstance(raw, str) else raw.decode()))


class Inbox:
    """Watches `folder`; calls `take(path)` for each settled job file (see the module docstring).

    `take` returns True when the job was taken or failed for good, or a sentence saying why it waits (a
    referenced file is missing, the queue is full); after `reference_wait_seconds` of waiting the inbox calls
    `give_up(path, message)`.
    """

    def __init__(self, folder: Path, take: Callable[[Path], "bool | str"], give_up: Callable[[Path, str], None], *,
                 settle_seconds: float = 0.3, reference_wait_seconds: float = 60.0) -> None:
        self.folder = folder
        self.take = take
        self.give_up = give_up
        self.settle_seconds = settle_seconds
        self.reference_wait_seconds = reference_wait_seconds
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}  # path -> ((size, mtime_ns), since)
        self._waiting: dict[Path, float] = {}  # job path -> when it started waiting for references
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: Any = None
        self._thread = threading.Thread(target=self._run, name="inbox", daemon=True)

    def start(self) -> "Inbox":
        with folder(self.folder, create=True) as inbox:  # real folders: a link named taken/failed is replaced
            for sub in ("taken", "failed"):
                inbox.subfolder(sub).close()
        self._observer = Observer()
        self._observer.schedule(_Handler(self), str(self.folder), recursive=False)
        self._observer.start()
        for path in sorted(self.folder.iterdir()):
            self.notice(path)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def notice(self, path: Path) -> None:
        """A file appeared or changed; job files become candidates, audio wakes waiting jobs."""
        if path.parent != self.folder or path.name.startswith("."):
            return
        suffix = path.suffix.lower()
        if suffix == JOB_SUFFIX:
            with self._lock:
                self._seen.setdefault(path, ((-1, -1), time.monotonic()))
        elif suffix in AUDIO_SUFFIXES:
            log.debug("inbox: %s arrived", path.name)

    def pending(self) -> list[Path]:
        with self._lock:
            return sorted(self._seen)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            for path in self.pending():
                self._check(path)

    def _check(self, path: Path) -> None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            with self._lock:
                self._seen.pop(path, None)
                self._waiting.pop(path, None)
            return
        signature = (stat.st_size, stat.st_mtime_ns)
        now = time.monotonic()
        with self._lock:
            previous, since = self._seen.get(path, ((-1, -1), now))
            if signature != previous:
                self._seen[path] = (signature, now)
                return
        if now - since < self.settle_seconds:
            return
        try:
            outcome = self.take(path)
        except OSError as error:
            log.warning("inbox: cannot take %s: %s", path.name, error)
            outcome = f"cannot take it yet ({error})"
        if outcome is True:
            with self._lock:
                self._seen.pop(path, None)
                self._waiting.pop(path, None)
            return
        with self._lock:
            waiting_since = self._waiting.setdefault(path, now)
        if now - waiting_since > self.reference_wait_seconds:
            with self._lock:
                self._seen.pop(path, None)
                self._waiting.pop(path, None)
            self.give_up(path, f"gave up after {self.reference_wait_seconds:g} s: {outcome}")

def all_settled(paths: Iterable[Path], settle_seconds: float) -> bool:
    """Whether every path exists and was last modified at least `settle_seconds` ago."""
    now = time.time()
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        if now - stat.st_mtime < settle_seconds:
            return False
    return True
