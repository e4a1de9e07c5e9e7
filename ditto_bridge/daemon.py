"""The daemon: the OSC server, the job queue and its worker, the inbox watcher and the MIDI input, together.

Use it as a context manager (it always stops what it started)::

    with Daemon(load_config(flags={"port": 0})) as daemon:
        print(daemon.address)        # ('127.0.0.1', 53122)
        daemon.wait()                # until stop_event is set (a signal handler sets it)

One daemon per data folder: a lock file in the folder keeps a second one from sharing the queue.

Files: every file the daemon reads, writes or moves goes through `ditto_bridge.safe_files`. An inbox job file is
the inbox's own entry (never resolved through a link): it is read only when it is a regular file of at most
`MAX_JOB_FILE_BYTES` (a FIFO, a device or a link is refused without blocking), and it is moved into
``inbox/taken/`` or ``inbox/failed/`` as that entry, under a name no file there has yet, so a link planted in
the inbox is moved (or refused) itself and what it points to is never touched. ``taken`` and ``failed`` must be
real folders: a link under those names is removed and the folder created.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
import threading
import uuid
from pathlib import Path
from typing import Any

from ditto_bridge import __version__
from ditto_bridge.config import Config, exposure, is_loopback
from ditto_bridge.errors import BridgeError, MidiUnavailableError, QueueFullError, RequestError, UnknownJobError
from ditto_bridge.inbox import Inbox, all_settled, referenced_files
from ditto_bridge.job_queue import JobQueue, JobRecord
from ditto_bridge.midi import MidiCapture, MidiSettings, open_input
from ditto_bridge.outbox import published_summary, remove_own_partials
from ditto_bridge.safe_files import Folder, OutsideFoldersError, UnsafeFileError, folder, owner_tag, \
    read_regular, resolve_inside
from ditto_bridge.protocol import summary_argument
from ditto_bridge.server import Address, Dispatcher, UdpServer
from ditto_bridge.translate.live_job import TranslateContext, parse_json_text, requested_id, translate_request
from ditto_bridge.worker import Worker

log = logging.getLogger("ditto_bridge.daemon")
MAX_JOB_FILE_BYTES = 5_000_000
LIVE_PROJECT_MARKER = "Ableton Project Info"
"""The folder Live keeps in every saved project folder; a reported project folder must have it."""


class DataDirLock:
    """An exclusive lock on ``<data_dir>/daemon.lock`` held while the daemon runs (released if it dies)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "daemon.lock"
        self._file: Any = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # never through a link planted under the lock's name, never a FIFO or device
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) |
                         getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as error:
            raise BridgeError(f"{self.path}: cannot open the lock file ({error.strerror or error}); remove it if it "
                              f"is a link or not a regular file") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise BridgeError(f"{self.path}: is not a regular file; remove it")
        handle = os.fdopen(fd, "r+")
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise BridgeError(f"another ditto-bridge daemon uses {self.path.parent}; stop it first, or give this "
                              f"one its own --data-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Daemon:
    """Everything `ditto-bridge serve` runs; also the `Service` the OSC dispatcher calls."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop_event = threading.Event()
        self.midi_status = "off (no midi_in configured)"
        self._lock = DataDirLock(Path(config.data_dir))
        self._submit_lock = threading.RLock()
        self._claimed: dict[Path, str] = {}
        self._cancel_requesters: dict[str, Address] = {}
        self._midi_port: Any = None
        self.capture: MidiCapture | None = None
        self.queue: JobQueue | None = None
        self.worker: Worker | None = None
        self.server: UdpServer | None = None
        self.inbox: Inbox | None = None
        self.context = TranslateContext(model=config.model, audio_roots=tuple(config.audio_dirs),
                                        inbox=Path(config.inbox), reference_dir=config.reference_dir)

    # ------------------------------------------------------------------------------------------- life cycle
    def __enter__(self) -> "Daemon":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def address(self) -> Address:
        assert self.server is not None, "start() the daemon first"
        return self.server.address

    def start(self) -> "Daemon":
        config = self.config
        self._lock.acquire()
        try:
            for folder in (Path(config.data_dir), Path(config.inbox), Path(config.outbox), config.reference_dir):
                folder.mkdir(parents=True, exist_ok=True)
            for path in remove_own_partials(Path(config.outbox), owner_tag(Path(config.data_dir))):
                log.info("removed an unfinished file this daemon left when it stopped: %s", path.name)
            self.queue = JobQueue(config.queue_path, max_queued=config.max_queue)
            self.worker = Worker(self.queue, config, self._notify)
            finished = self._finish_published()
            requeued, failed = self.queue.recover(config.max_attempts)
            self.server = UdpServer(Dispatcher(self, reply_port=config.reply_port), config.host, config.port)
            for record in requeued:
                log.warning("job %s was interrupted; it runs again (attempt %d of %d)", record.id,
                            record.attempts + 1, config.max_attempts, extra={"job_id": record.id})
            for path in self.worker.lineages.remove_leftovers():
                log.info("removed an unfinished lineage file a stopped daemon left: %s", path.name)
            self.server.start()
            if not is_loopback(config.host):
                log.warning("%s (allow_remote is set): anyone who can reach udp://%s:%d can queue jobs",
                            exposure(config.host), config.host, self.server.address[1])
            for record, paths in finished:
                for path in paths:  # with the summary each take's sidecar holds ('' when it has none)
                    summary = summary_argument(published_summary(path))
                    self._notify(record, "/ditto/done", (record.id, str(path), summary))
            for record in failed:
                log.error("job %s failed: %s", record.id, record.error, extra={"job_id": record.id})
                self._notify(record, "/ditto/error", (record.id, record.error))
            self.worker.start()
            self.inbox = Inbox(Path(config.inbox), self.take_inbox_file, self.inbox_gave_up,
                               settle_seconds=config.settle_seconds,
                               reference_wait_seconds=config.reference_wait_seconds).start()
            self._start_midi()
        except BaseException:
            self.stop()
            raise
        host, port = self.server.address
        log.info("ditto-bridge %s listening on udp://%s:%d (replies to %s); inbox %s; outbox %s; MIDI: %s",
                 __version__, host, port, f"port {config.reply_port}" if config.reply_port else "the sender",
                 config.inbox, config.outbox, self.midi_status)
        return self

    def _finish_published(self) -> list[tuple[JobRecord, list[Path]]]:
        """Interrupted jobs whose every take was already published (killed between publishing and being marked
        done): marked done now with those takes, never run again. Returns them with their takes."""
        assert self.queue is not None and self.worker is not None
        finished = []
        for record in self.queue.all():
            if record.state != "running":
                continue
            paths = self.worker.published_outputs(record)
            if paths is not None:
                self.queue.finish(record.id, [str(p) for p in paths])
                self.worker.remove_references(record)
                log.warning("job %s was interrupted after its takes were published; marked done without running "
                            "again: %s", record.id, ", ".join(p.name for p in paths), extra={"job_id": record.id})
                finished.append((record, paths))
        return finished

    def stop(self) -> None:
        """Stop taking jobs, persist the running one (or let it finish its step), close everything."""
        self.stop_event.set()
        if self.inbox is not None:
            self.inbox.stop()
        if self._midi_port is not None:
            self._midi_port.close()
            self._midi_port = None
        if self.worker is not None and not self.worker.stop(timeout=120.0):
            log.error("the running job did not stop in time; it will run again at the next start")
        if self.server is not None:
            self.server.stop()
        if self.queue is not None:
            self.queue.close()
        self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        return self.stop_event.wait(timeout)

    # -------------------------------------------------------------------------------------------- the service
    def ping(self) -> tuple[str, str, str]:
        return __version__, self.config.model, self.worker.device_name if self.worker else self.config.device

    def status(self) -> tuple[int, str]:
        assert self.queue is not None
        return self.queue.counts()

    def job_state(self, job_id: str) -> tuple[str, str]:
        assert self.queue is not None
        record = self.queue.get(job_id)
        if record is None:
            return "unknown", ""
        if record.state == "done":
            return "done", record.outputs[0] if record.outputs else ""
        return record.state, record.error

    def cancel(self, job_id: str, reply_to: Address) -> bool:
        assert self.queue is not None and self.worker is not None
        record = self.queue.get(job_id)
        if record is None:
            raise UnknownJobError(f"no job {job_id[:100]!r} is known to this daemon")
        if record.state == "queued" and self.queue.cancel_queued(job_id):
            for path in record.references:
                Path(path).unlink(missing_ok=True)
            log.info("job %s cancelled before it started", job_id, extra={"job_id": job_id})
            return True
        if record.state in ("queued", "running") and self.worker.request_cancel(job_id):
            latest = self.queue.get(job_id)
            if latest is not None and latest.state == "running":  # the worker answers once it has stopped
                if record.reply_to != reply_to:
                    self._cancel_requesters[job_id] = reply_to
                return False
            self.worker.forget_cancel(job_id)
        latest = self.queue.get(job_id)
        state = latest.state if latest else record.state
        error = RequestError(f"job {job_id} is already {state}; nothing to cancel" if state not in ("queued", "running")
                             else f"job {job_id} is finishing; too late to cancel")
        error.job_id = job_id  # type: ignore[attr-defined]
        raise error

    def submit(self, text: str, reply_to: Address) -> str:
        """``/ditto/generate``: JSON text, or the path of a .json job file in the inbox."""
        text = text.strip()
        if not text:
            raise RequestError("/ditto/generate: send a job as JSON, or the path of a .json job file in the inbox")
        if text[0] in "{[":
            return self.submit_request(parse_json_text(text), reply_to=reply_to, source="osc")
        return self._submit_file(text, reply_to)

    def submit_request(self, data: Any, *, reply_to: Address | None, source: str, base_dir: Path | None = None) -> str:
        """Validate, translate and queue one request; returns the job id. Raises with ``error.job_id`` set."""
        assert self.queue is not None and self.worker is not None
        own_id = requested_id(data) if isinstance(data, dict) else None
        try:
            with self._submit_lock:
                job_id = own_id or uuid.uuid4().hex[:12]
                self.queue.check_room(job_id)  # before translating, which copies reference audio
                translation = translate_request(data, self._context_for(data), job_id, base_dir=base_dir)
                try:
                    self._check_model(translation.job.get("model", ""))
                    self.queue.submit(job_id, job=translation.job, output=translation.output.to_dict(),
                                      references=translation.references, reply_to=reply_to, source=source)
                except BaseException:
                    for path in translation.references:
                        Path(path).unlink(missing_ok=True)
                    raise
        except (RequestError, QueueFullError) as error:
            error.job_id = own_id or ""  # type: ignore[attr-defined]
            raise
        log.info("job %s accepted from %s (%s, %.2f s)", job_id, source, translation.output.task,
                 translation.job["duration"], extra={"job_id": job_id})
        self.worker.wake()
        return job_id

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
        if not (project / LIVE_PROJECT_MARKER).is_dir() or project == Path(project.anchor):
            raise RequestError(f"song.project_folder: {raw[:200]!r} is not a saved Live project folder (it has no "
                               f"'{LIVE_PROJECT_MARKER}' folder); save the set, or add the folder to audio_dirs")
        return dataclasses.replace(self.context, audio_roots=(*self.context.audio_roots, project))

    def _check_model(self, name: str) -> None:
        from engine.models.registry import model_names

        if name != self.config.model and name not in model_names():
            raise RequestError(f"model: {name[:100]!r} is not a model this daemon knows "
                               f"({', '.join(sorted({self.config.model, *model_names()}))})")

    # -------------------------------------------------------------------------------------------- job files
    def _submit_file(self, text: str, reply_to: Address) -> str:
        inbox = Path(self.config.inbox)
        path = self._inbox_entry(text)
        with self._submit_lock:
            if path in self._claimed:  # the watcher took it first: same job, and this sender hears of it
                job_id = self._claimed[path]
                assert self.queue is not None
                self.queue.set_reply(job_id, reply_to)
                return job_id
            data = self._read_job_file(path)
            taken = self._claim(path)
            try:
                job_id = self.submit_request(data, reply_to=reply_to, source="osc-file", base_dir=inbox)
            except (RequestError, QueueFullError) as error:
                if taken is not None:
                    self._move_failed(taken, str(error))
                raise
            self._claimed[path] = job_id
            return job_id

    def _inbox_entry(self, text: str) -> Path:
        """The inbox entry a ``/ditto/generate`` path names: a ``.json`` directly in the inbox (not resolved)."""
        inbox = Path(self.config.inbox)
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

    def take_inbox_file(self, path: Path) -> bool | str:
        """The inbox's callback: True when the file was taken (or failed for good), else why it waits."""
        inbox = Path(self.config.inbox)
        try:
            data = self._read_job_file(path)
        except RequestError as error:
            self._move_failed(path, str(error))
            self._notify_default("/ditto/error", ("", str(error)))
            return True
        needed = referenced_files(data, inbox)
        missing = [p for p in needed if not p.is_file()]
        if missing:
            return f"waiting for {', '.join(p.name for p in missing[:3])}"
        if not all_settled(needed, self.config.settle_seconds):
            return "waiting for referenced files to finish writing"
        with self._submit_lock:
            if not os.path.lexists(path) or path in self._claimed:
                return True
            try:
                job_id = self.submit_request(data, reply_to=self._default_reply(), source="inbox", base_dir=inbox)
            except QueueFullError as error:
                return str(error)
            except RequestError as error:
                self._move_failed(path, str(error))
                self._notify_default("/ditto/error", (getattr(error, "job_id", ""), f"{path.name}: {error}"))
                return True
            self._claimed[path] = job_id
            self._claim(path, job_id)
        return True

    def inbox_gave_up(self, path: Path, message: str) -> None:
        self._move_failed(path, message)
        self._notify_default("/ditto/error", ("", f"{path.name}: {message}"))

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
            with folder(path.parent) as source, folder(Path(self.config.inbox)) as inbox, \
                    inbox.subfolder("failed") as failed:
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
    # ------------------------------------------------------------------------------------------------- MIDI
    def _start_midi(self) -> None:
        config = self.config
        if not config.midi_in:
            return
        template: dict[str, Any] = {}
        if config.midi_job is not None:
            try:
                template = json.loads(read_regular(Path(config.midi_job), max_bytes=MAX_JOB_FILE_BYTES))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                log.error("midi_job %s cannot be read (%s); MIDI jobs use the defaults", config.midi_job, error)
        settings = MidiSettings(config.midi_trigger_note, config.midi_trigger_cc, config.midi_intensity_cc,
                                config.midi_min_db, config.midi_max_db, config.midi_tempo, template)
        self.capture = MidiCapture(settings, self.submit_midi_job)
        try:
            self._midi_port = open_input(config.midi_in, virtual=config.midi_virtual, callback=self.capture.handle)
            self.midi_status = f"listening on {config.midi_in!r}"
        except MidiUnavailableError as error:
            self.midi_status = f"unavailable ({error}); OSC keeps working"
            log.warning("MIDI input unavailable: %s. OSC keeps working.", error)

    def submit_midi_job(self, job: dict[str, Any]) -> str | None:
        try:
            return self.submit_request(job, reply_to=self._default_reply(), source="midi")
        except (RequestError, QueueFullError) as error:
            log.warning("MIDI-triggered job refused: %s", error)
            self._notify_default("/ditto/error", ("", f"MIDI: {error}"))
            return None

    # ------------------------------------------------------------------------------------------------ replies
    def _default_reply(self) -> Address | None:
        return ("127.0.0.1", self.config.reply_port) if self.config.reply_port else None

    def _notify_default(self, address: str, args: tuple) -> None:
        to = self._default_reply()
        if to is not None and self.server is not None:
            self.server.send(address, args, to)

    def _notify(self, record: JobRecord, address: str, args: tuple) -> None:
        if self.server is None:
            return
        if record.reply_to is not None:
            self.server.send(address, args, record.reply_to)
        if address == "/ditto/cancelled":
            other = self._cancel_requesters.pop(record.id, None)
            if other is not None:
                self.server.send(address, args, other)


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
