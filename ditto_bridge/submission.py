"""The submission service: the one way into the job queue, from OSC, the inbox and MIDI.

A request (JSON text or an inbox path sent to ``/ditto/generate``, a job file the inbox watcher found, a job the
MIDI input built) is read, validated, translated (`ditto_bridge.translate.live_job`; it plans reference audio and
writes nothing) and queued. The queue alone decides on room and ids (`JobQueue.check_room`). A refusal raises with
``error.job_id`` set; a refused inbox file moves to ``inbox/failed/`` and the default reply address hears why.
The service is handed the queue, the config, the worker's `wake` and a `send`; it never calls back into its owner.

An inbox job file is the inbox's own entry (never resolved through a link), read only when it is a regular file of
at most `MAX_JOB_FILE_BYTES` (a FIFO, a device or a link is refused without blocking), and moved into
``inbox/taken/`` or ``inbox/failed/`` as that entry under a name no file there has yet, so a planted link is
moved (or refused) itself and what it points to is never touched. ``taken`` and ``failed`` must be real folders:
a link under those names is replaced by a folder.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

from ditto_bridge.config import Config
from ditto_bridge.errors import QueueFullError, RequestError
from ditto_bridge.inbox import all_settled, referenced_files
from ditto_bridge.job_queue import JobQueue
from ditto_bridge.server import Address, Send
from ditto_bridge.translate.live_job import TranslateContext, parse_json_text, requested_id, translate_request
from ditto_bridge.translate.references import LIVE_PROJECT_MARKER, is_live_project
from engine.safe_files import Folder, OutsideFoldersError, UnsafeFileError, folder, owner_tag, resolve_inside

log = logging.getLogger("ditto_bridge.submission")
MAX_JOB_FILE_BYTES = 5_000_000


class Submission:
    """Requests in, queued jobs out (see the module docstring); `wake` tells the worker a job waits."""

    def __init__(self, queue: JobQueue, config: Config, *, wake: Callable[[], None], send: Send) -> None:
        self.queue = queue
        self.config = config
        self.wake = wake
        self.send = send
        self.inbox = Path(config.inbox)
        self.default_reply: Address | None = ("127.0.0.1", config.reply_port) if config.reply_port else None
        """Where inbox and MIDI jobs are answered (no sender to answer)."""
        self.context = TranslateContext(model=config.model, audio_roots=tuple(config.audio_dirs), inbox=self.inbox,
                                        reference_dir=config.reference_dir)
        self._lock = threading.RLock()
        self._claimed: dict[Path, str] = {}

    # ------------------------------------------------------------------------------------------------ requests
    def submit_text(self, text: str, reply_to: Address) -> str:
        """``/ditto/generate``: JSON text, or the path of a .json job file in the inbox."""
        text = text.strip()
        if not text:
            raise RequestError("/ditto/generate: send a job as JSON, or the path of a .json job file in the inbox")
        if text[0] in "{[":
            return self.submit(parse_json_text(text), reply_to=reply_to, source="osc")
        return self._submit_file(text, reply_to)

    def submit(self, data: Any, *, reply_to: Address | None, source: str, base_dir: Path | None = None) -> str:
        """Validate, translate and queue one request; returns the job id. Raises with ``error.job_id`` set."""
        own_id = requested_id(data) if isinstance(data, dict) else None
        try:
            with self._lock:
                job_id = own_id or uuid.uuid4().hex[:12]
                self.queue.check_room(job_id)  # before translating, which reads the clip's audio
                translation = translate_request(data, self._context_for(data), job_id, base_dir=base_dir)
                self._check_model(translation.job.get("model", ""))
                if translation.references:  # where the worker will render them: a real folder, answered now
                    Folder(self.context.reference_dir, create=True).close()
                self.queue.submit(job_id, job=translation.job, output=translation.output.to_dict(),
                                  references=translation.references, reply_to=reply_to, source=source)
        except (RequestError, QueueFullError) as error:
            error.job_id = own_id or ""  # type: ignore[attr-defined]
            raise
        log.info("job %s accepted from %s (%s, %.2f s)", job_id, source, translation.output.task,
                 translation.job["duration"], extra={"job_id": job_id})
        self.wake()
        return job_id

    def submit_midi(self, job: dict[str, Any]) -> str | None:
        """A job the MIDI input built; a refusal is logged and sent to the default reply address."""
        try:
            return self.submit(job, reply_to=self.default_reply, source="midi")
        except (RequestError, QueueFullError) as error:
            log.warning("MIDI-triggered job refused: %s", error)
            self.send("/ditto/error", ("", f"MIDI: {error}"), self.default_reply)
            return None

    def _context_for(self, data: Any) -> TranslateContext:
        """The translation context of one request: the Live set's project folder (``song.project_folder``, when
        the device reports one and it is a saved Live project) joins the folders clip audio may come from."""
        song = data.get("song") if isinstance(data, dict) else None
        raw = song.get("project_folder") if isinstance(song, dict) else None
        if raw is None:
            return self.context
        if not isinstance(raw, str) or not raw.strip() or "\x00" in raw or not os.path.isabs(raw):
            raise RequestError(f"song.project_folder: must be the absolute path of the Live set's project folder, "
                               f"got {str(raw)[:200]!r}")
        project = Path(os.path.realpath(raw))
        if not is_live_project(project):
            raise RequestError(f"song.project_folder: {raw[:200]!r} is not a saved Live project folder (it has no "
                               f"'{LIVE_PROJECT_MARKER}' folder); save the set, or add the folder to audio_dirs")
        return dataclasses.replace(self.context, audio_roots=(*self.context.audio_roots, project))

    def _check_model(self, name: str) -> None:
        from engine.models.registry import model_names

        if name != self.config.model and name not in model_names():
            raise RequestError(f"model: {name[:100]!r} is not a model this daemon knows "
                               f"({', '.join(sorted({self.config.model, *model_names()}))})")

    # --------------------------------------------------------------------------------------------- job files
    def _submit_file(self, text: str, reply_to: Address) -> str:
        path = self._inbox_entry(text)
        with self._lock:
            if path in self._claimed:  # the watcher took it first: same job, and this sender hears of it
                job_id = self._claimed[path]
                self.queue.set_reply(job_id, reply_to)
                return job_id
            data = self._read_job_file(path)
            taken = self._claim(path)
            try:
                job_id = self.submit(data, reply_to=reply_to, source="osc-file", base_dir=self.inbox)
            except (RequestError, QueueFullError) as error:
                if taken is not None:
                    self._move_failed(taken, str(error))
                raise
            self._claimed[path] = job_id
            return job_id

    def _inbox_entry(self, text: str) -> Path:
        """The inbox entry a ``/ditto/generate`` path names: a ``.json`` directly in the inbox (not resolved)."""
        inbox = self.inbox
        where = "/ditto/generate"
        given = Path(text).expanduser() if "\x00" not in text else Path(text)
        given = given if given.is_absolute() else inbox / given
        try:
            parent = resolve_inside(given.parent, [inbox], where=where)
        except OutsideFoldersError:
            raise RequestError(f"{where}: {text[:200]!r} is outside the allowed folders (the inbox {inbox}); put "
                               f"the .json job file there") from None
        if parent != inbox or given.name in ("", ".", "..") or given.suffix.lower() != ".json":
            raise RequestError(f"{where}: {text[:200]!r} is not a .json job file directly in the inbox ({inbox}); "
                               f"put it there")
        return inbox / given.name

    def take_file(self, path: Path) -> bool | str:
        """The inbox watcher's `take`: True when the file was taken (or failed for good), else why it waits."""
        try:
            data = self._read_job_file(path)
        except RequestError as error:
            self._move_failed(path, str(error))
            self.send("/ditto/error", ("", str(error)), self.default_reply)
            return True
        needed = referenced_files(data, self.inbox)
        missing = [p for p in needed if not p.is_file()]
        if missing:
            return f"waiting for {', '.join(p.name for p in missing[:3])}"
        if not all_settled(needed, self.config.settle_seconds):
            return "waiting for referenced files to finish writing"
        with self._lock:
            if not os.path.lexists(path) or path in self._claimed:
                return True
            try:
                job_id = self.submit(data, reply_to=self.default_reply, source="inbox", base_dir=self.inbox)
            except QueueFullError as error:
                return str(error)
            except RequestError as error:
                self._move_failed(path, str(error))
                self.send("/ditto/error", (getattr(error, "job_id", ""), f"{path.name}: {error}"), self.default_reply)
                return True
            self._claimed[path] = job_id
            self._claim(path, job_id)
        return True

    def give_up(self, path: Path, message: str) -> None:
        """The inbox watcher's `give_up`: the file waited too long for what it names."""
        self._move_failed(path, message)
        self.send("/ditto/error", ("", f"{path.name}: {message}"), self.default_reply)

    def _read_job_file(self, path: Path) -> Any:
        """The JSON of an inbox entry: a regular file (not a link, FIFO or device) of at most MAX_JOB_FILE_BYTES."""
        try:
            with folder(path.parent) as where:
                raw = where.read_regular(path.name, max_bytes=MAX_JOB_FILE_BYTES)
            text = raw.decode("utf-8")
        except UnsafeFileError as error:
            raise RequestError(f"{path.name}: refused: {error}") from None
        except FileNotFoundError:
            raise RequestError(f"{path.name}: no such file in the inbox") from None
        except (OSError, UnicodeDecodeError) as error:
            raise RequestError(f"{path.name}: cannot read the job file ({error})") from None
        return parse_json_text(text, where=path.name)

    def _claim(self, path: Path, job_id: str | None = None) -> Path | None:
        """Move the inbox entry `path` (never what a link points to) into ``taken/``; its new path."""
        stem, suffix = _split_name(path.name)
        try:
            with folder(path.parent) as inbox, inbox.subfolder("taken") as taken:
                name = _move_entry(inbox, path.name, taken, f"{stem}-{job_id or uuid.uuid4().hex[:8]}", suffix)
        except OSError as error:
            log.error("inbox: could not move %s into taken/ (%s); it stays, and is not run again while the daemon "
                      "runs", path.name, error)
            return None
        return None if name is None else path.parent / "taken" / name

    def _move_failed(self, path: Path, message: str) -> None:
        """Move the entry `path` into ``failed/`` (never replacing a file there) with ``<name>.error.txt``."""
        owner = owner_tag(Path(self.config.data_dir))
        stem, suffix = _split_name(path.name)
        try:
            with folder(path.parent) as source, folder(self.inbox) as inbox, inbox.subfolder("failed") as failed:
                name = _move_entry(source, path.name, failed, stem, suffix) or path.name
                note = (message + "\n").encode("utf-8", "backslashreplace")
                for attempt in range(100):
                    note_name = f"{name}.error.txt" if attempt == 0 else f"{name}.{attempt + 1}.error.txt"
                    if failed.write_new(note_name, lambda handle: handle.write(note), owner=owner):
                        break
        except OSError as error:
            log.error("inbox: could not move %s into failed/ (%s); the reason was: %s", path.name, error, message)
            return
        log.warning("inbox job %s failed: %s", path.name, message)


def _split_name(name: str) -> tuple[str, str]:
    """``("job", ".json")`` for ``job.json`` (a name without a suffix has ``""``)."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot + suffix) if stem else (name, "")


def _move_entry(source: Folder, name: str, target: Folder, stem: str, suffix: str) -> str | None:
    """Move the entry `name` of `source` into `target` as ``<stem><suffix>``, or ``<stem>-<n><suffix>`` when that
    is taken; nothing in `target` is replaced. Returns the new name, None when `name` is gone."""
    if not source.exists(name):
        return None
    for attempt in range(1000):
        candidate = f"{stem}{suffix}" if attempt == 0 else f"{stem}-{attempt + 1}{suffix}"
        if source.publish(name, candidate, into=target):
            target.sync()
            return candidate
    raise UnsafeFileError(f"{target.path}: 1000 files are named {stem}{suffix}; clean the folder")
