"""The daemon: wires the OSC server, the submission service, the job queue and its worker, the inbox watcher and
the MIDI input together, starts them and stops them. Each is handed what it needs (the queue, the config, a
function that sends a reply); none calls back into the daemon.

Use it as a context manager (it always stops what it started)::

    with Daemon(load_config(flags={"port": 0})) as daemon:
        print(daemon.address)        # ('127.0.0.1', 53122)
        daemon.wait()                # until stop_event is set (a signal handler sets it)

One daemon per data folder: a lock file in the folder keeps a second one from sharing the queue. Every file the
daemon and its services read, write or move goes through `engine.safe_files`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

from ditto_bridge import __version__
from ditto_bridge.config import Config, exposure, is_loopback
from ditto_bridge.errors import BridgeError, MidiUnavailableError
from ditto_bridge.inbox import Inbox
from ditto_bridge.job_queue import JobQueue
from ditto_bridge.midi import MidiCapture, MidiSettings, open_input
from ditto_bridge.outbox import remove_own_partials
from ditto_bridge.server import Address, Dispatcher, Handlers, UdpServer
from ditto_bridge.submission import MAX_JOB_FILE_BYTES, Submission
from ditto_bridge.worker import Worker
from engine.safe_files import owner_tag, read_regular

log = logging.getLogger("ditto_bridge.daemon")


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
    """Everything `ditto-bridge serve` runs."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop_event = threading.Event()
        self.midi_status = "off (no midi_in configured)"
        self._lock = DataDirLock(Path(config.data_dir))
        self._midi_port: Any = None
        self.capture: MidiCapture | None = None
        self.queue: JobQueue | None = None
        self.worker: Worker | None = None
        self.submission: Submission | None = None
        self.server: UdpServer | None = None
        self.inbox: Inbox | None = None

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
            queue = self.queue = JobQueue(config.queue_path, max_queued=config.max_queue)
            worker = self.worker = Worker(queue, config, self._send)
            submission = self.submission = Submission(queue, config, wake=worker.wake, send=self._send)
            handlers = Handlers(ping=lambda: (__version__, config.model, worker.device_name),
                                submit=submission.submit_text, cancel=worker.cancel, status=queue.counts,
                                job_state=queue.state_of)
            self.server = UdpServer(Dispatcher(handlers, reply_port=config.reply_port), config.host, config.port)
            self.server.start()
            if not is_loopback(config.host):
                log.warning("%s (allow_remote is set): anyone who can reach udp://%s:%d can queue jobs",
                            exposure(config.host), config.host, self.server.address[1])
            worker.start()
            self.inbox = Inbox(Path(config.inbox), submission.take_file, submission.give_up,
                               settle_seconds=config.settle_seconds,
                               reference_wait_seconds=config.reference_wait_seconds).start()
            self._start_midi(submission)
        except BaseException:
            self.stop()
            raise
        host, port = self.server.address
        replies = f"port {config.reply_port}" if config.reply_port else "the sender"
        log.info("ditto-bridge %s listening on udp://%s:%d (replies to the port a sender's ping announces, else %s); "
                 "inbox %s; outbox %s; MIDI: %s", __version__, host, port, replies, config.inbox, config.outbox,
                 self.midi_status)
        return self

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

    def _send(self, address: str, args: tuple, to: Address | None) -> None:
        """The services' way to reply: one message through the OSC socket (nothing before it opens, or to None)."""
        if to is not None and self.server is not None:
            self.server.send(address, args, to)

    def _start_midi(self, submission: Submission) -> None:
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
        self.capture = MidiCapture(settings, submission.submit_midi)
        try:
            self._midi_port = open_input(config.midi_in, virtual=config.midi_virtual, callback=self.capture.handle)
            self.midi_status = f"listening on {config.midi_in!r}"
        except MidiUnavailableError as error:
            self.midi_status = f"unavailable ({error}); OSC keeps working"
            log.warning("MIDI input unavailable: %s. OSC keeps working.", error)
