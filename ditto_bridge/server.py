"""OSC over UDP: a pure dispatcher (datagram in, replies out) and the socket loop around it.

`Dispatcher.dispatch` turns one datagram and its sender into the replies to send; it never touches a socket, so tests
can call it directly; what a request does is the `Handlers`' business (methods of the submission service, the worker
and the queue, wired by the daemon). Every datagram gets a bounded answer: a malformed one exactly one
``/ditto/error`` (logged), a message its reply, a bundle the replies of its first `MAX_MESSAGES_PER_DATAGRAM`
messages and one summary error for the rest; only an empty bundle is deliberately ignored. Replies are always
encodable and at most `protocol.MAX_REPLY_BYTES` (echoed ids and texts are cut), so no datagram is amplified into
many or large replies. A request the checks did not anticipate is answered with an error naming its address and the
kind of failure, and logged with its traceback; it never goes unanswered.

`UdpServer` owns the socket: one thread receives (into a large kernel buffer, and from there into a bounded
queue, so a burst is not lost while a job is being translated), another dispatches and sends the replies; the
worker sends progress and results from its own thread (`send`).

Where replies go (`Dispatcher.reply_address`, ``docs/PROTOCOL.md`` "Where replies go"): Max's ``udpsend`` sends from
a port of its own choosing and ``udpreceive`` listens on a fixed one, so the device announces its listening port in
every ``/ditto/ping``. A sender (host and source port) that announced one is answered there, on its own host; else,
when one is configured, at ``reply_port`` on the sender's host; else at the sender's own address. Keying the
announcement by the exact sender, not by the host, keeps a script on the same machine that sends from one port and
listens on it answered at its own port while the device runs.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ditto_bridge import protocol
from ditto_bridge.errors import BridgeError, ProtocolError, QueueFullError, RequestError, UnknownJobError
from engine.safe_files import UnsafeFileError

log = logging.getLogger("ditto_bridge.server")
Address = tuple[str, int]
Send = Callable[[str, tuple, "Address | None"], None]
"""``send(address, args, to)``: how a service sends one reply (nothing when `to` is None)."""
MAX_ERROR_CHARS = 1000
"""Error replies are cut to this many characters: a reply must stay well under 9 KB."""
MAX_ID_CHARS = 100
"""An id echoed in a reply is cut to this many characters (valid ids have at most 64)."""
MAX_MESSAGES_PER_DATAGRAM = 8
"""A bundle's first messages that are handled; the rest get one summary error."""
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""Kernel receive buffer asked for (the OS may cap it, e.g. Linux at net.core.rmem_max)."""
MAX_PENDING_DATAGRAMS = 4096
"""Datagrams received but not yet handled; past this a datagram is answered ``busy`` and dropped."""
MAX_ANNOUNCED_SENDERS = 1024
"""Senders whose announced reply port is remembered; past this the one whose last ping is oldest is forgotten
(the device announces again with its next ping, every 2 s)."""


@dataclass(frozen=True)
class Outgoing:
    """One reply to send: OSC address, arguments (typed by the reply table), destination."""

    address: str
    args: tuple[Any, ...]
    to: Address


@dataclass(frozen=True)
class Handlers:
    """What the dispatcher calls for each request address."""

    ping: Callable[[], tuple[str, str, str]]
    """(daemon version, model name, compute device)."""
    submit: Callable[[str, Address], str]
    """Validate, translate and queue a job (JSON text or an inbox path); returns its id."""
    cancel: Callable[[str, Address], bool]
    """True: cancelled now; False: the job is running and will answer /ditto/cancelled when it stops."""
    status: Callable[[], tuple[int, str]]
    """(queued count, running job id or '')."""
    job_state: Callable[[str], tuple[str, str]]
    """(state, detail) of one job; ('unknown', '') when the id was never seen."""


def error_text(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 3] + "..."


def echoed_id(job_id: str) -> str:
    """A job id as it is echoed in replies: cut to `MAX_ID_CHARS` (the protocol encodes what UTF-8 cannot)."""
    return job_id if len(job_id) <= MAX_ID_CHARS else job_id[:MAX_ID_CHARS - 3] + "..."


class Dispatcher:
    """Datagram -> replies, using `handlers` for everything that is not OSC."""

    def __init__(self, handlers: Handlers, *, reply_port: int | None = None,
                 table: protocol.ProtocolTable | None = None) -> None:
        self.handlers = handlers
        self.reply_port = reply_port
        self.table = table or protocol.load_table()
        self._announced: OrderedDict[Address, int] = OrderedDict()
        self._announced_lock = threading.Lock()  # the receive thread asks too (its busy reply)

    def reply_address(self, sender: Address) -> Address:
        """Where a reply to `sender` goes: the port it announced, else `reply_port`, on its host; else itself."""
        with self._announced_lock:
            announced = self._announced.get(sender)
        if announced:
            return (sender[0], announced)
        return (sender[0], self.reply_port) if self.reply_port else sender

    def announce(self, sender: Address, port: int) -> None:
        """`sender` listens for replies on `port` of its host from now on (0: at its sending port again)."""
        if not 0 <= port <= 65535:
            raise ProtocolError(f"/ditto/ping: the reply port must be a port number 1-65535, or 0 to be answered "
                                f"at the port the ping came from; got {port}")
        with self._announced_lock:
            if port == 0:
                self._announced.pop(sender, None)
                return
            before = self._announced.get(sender)
            if before != port:
                log.log(logging.INFO if before is None else logging.DEBUG,
                        "replies to %s:%s go to its port %d from now on", sender[0], sender[1], port)
            self._announced[sender] = port
            self._announced.move_to_end(sender)
            while len(self._announced) > MAX_ANNOUNCED_SENDERS:
                self._announced.popitem(last=False)

    def dispatch(self, data: bytes, sender: Address) -> list[Outgoing]:
        try:
            messages = protocol.decode_datagram(data)
        except ProtocolError as error:
            log.warning("bad datagram from %s:%s: %s", sender[0], sender[1], error)
            return [Outgoing("/ditto/error", ("", error_text(error)), self.reply_address(sender))]
        replies: list[Outgoing] = []
        for address, args in messages[:MAX_MESSAGES_PER_DATAGRAM]:
            # asked per message: a ping earlier in the same bundle may have announced a reply port
            replies.extend(self.handle(address, args, sender, self.reply_address(sender)))
        to = self.reply_address(sender)
        if len(messages) > MAX_MESSAGES_PER_DATAGRAM:
            skipped = len(messages) - MAX_MESSAGES_PER_DATAGRAM
            log.warning("bundle of %d messages from %s:%s: %d not handled", len(messages), sender[0], sender[1],
                        skipped)
            replies.append(Outgoing("/ditto/error", ("", f"bundle of {len(messages)} messages: only the first "
                                                         f"{MAX_MESSAGES_PER_DATAGRAM} were handled, the other "
                                                         f"{skipped} were ignored; send at most "
                                                         f"{MAX_MESSAGES_PER_DATAGRAM} messages per bundle"), to))
        return replies

    def handle(self, address: str, args: Sequence[Any], sender: Address, to: Address) -> list[Outgoing]:
        """One decoded message -> its replies."""
        job_id = ""
        try:
            protocol.check_request(address, args, self.table)
            if address == "/ditto/ping":
                if args:
                    self.announce(sender, args[0])
                    to = self.reply_address(sender)
                return [Outgoing("/ditto/pong", self.handlers.ping(), to)]
            if address == "/ditto/status":
                return [Outgoing("/ditto/status", self.handlers.status(), to)]
            if address == "/ditto/generate":
                job_id = self.handlers.submit(args[0], to)
                return [Outgoing("/ditto/accepted", (job_id,), to)]
            if address == "/ditto/cancel":
                job_id = args[0]
                if self.handlers.cancel(job_id, to):
                    return [Outgoing("/ditto/cancelled", (job_id,), to)]
                return []  # running: the worker answers when it has stopped
            if address == "/ditto/job":
                job_id = args[0]
                state, detail = self.handlers.job_state(job_id)
                return [Outgoing("/ditto/job", (echoed_id(job_id), state, detail), to)]
            raise ProtocolError(f"{address}: in the table but not handled by this daemon version")
        except (RequestError, QueueFullError, UnknownJobError) as error:
            job_id = getattr(error, "job_id", job_id) or job_id
            log.info("refused %s from %s:%s: %s", address, sender[0], sender[1], error_text(error))
            return [Outgoing("/ditto/error", (echoed_id(job_id), error_text(error)), to)]
        except (BridgeError, UnsafeFileError) as error:
            log.error("%s failed: %s", address, error)
            return [Outgoing("/ditto/error", (echoed_id(job_id), error_text(error)), to)]
        except Exception as error:  # noqa: BLE001 - unanticipated: answered by name and logged, never silent
            log.exception("%s from %s:%s: unanticipated %s", address, sender[0], sender[1], type(error).__name__)
            return [Outgoing("/ditto/error", (echoed_id(job_id), unanticipated(address, error)), to)]


def unanticipated(address: str, error: BaseException) -> str:
    """The reply to a request that failed in a way the checks did not anticipate (it names the failure)."""
    return (f"{address[:60]}: this request could not be handled ({type(error).__name__}); the daemon logged it. "
            f"Check the request against docs/PROTOCOL.md; if it is valid, report the log line")


class UdpServer:
    """The socket loop in two threads (receive, handle); `send` is safe to call from any thread."""

    def __init__(self, dispatcher: Dispatcher, host: str = "127.0.0.1", port: int = 9100) -> None:
        self.dispatcher = dispatcher
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.receive_buffer = self._enlarge_receive_buffer()
        try:
            self.socket.bind((host, port))
        except OSError as error:
            self.socket.close()
            raise BridgeError(f"cannot listen on udp://{host}:{port} ({error.strerror or error}); is another "
                              f"ditto-bridge running? Stop it or choose --port") from None
        self.socket.settimeout(0.2)
        self.address: Address = self.socket.getsockname()[:2]
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        self._pending: queue.Queue[tuple[bytes, Address]] = queue.Queue(maxsize=MAX_PENDING_DATAGRAMS)
        self._receiver = threading.Thread(target=self._receive, name="osc-receive", daemon=True)
        self._handler = threading.Thread(target=self._handle, name="osc-server", daemon=True)

    def _enlarge_receive_buffer(self) -> int:
        """Ask for `RECEIVE_BUFFER_BYTES` of kernel buffer (a burst of datagrams waits there); returns what the
        OS granted."""
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        except OSError as error:
            log.debug("SO_RCVBUF: %s", error)
        granted = int(self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        if granted < RECEIVE_BUFFER_BYTES // 2:  # Linux reports twice what it books; below half it was capped
            log.info("UDP receive buffer: %d bytes (asked for %d; the OS caps it, on Linux at "
                     "net.core.rmem_max)", granted, RECEIVE_BUFFER_BYTES)
        return granted

    def start(self) -> "UdpServer":
        self._receiver.start()
        self._handler.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._receiver, self._handler):
            if thread.is_alive():
                thread.join(timeout=5)
        self.socket.close()

    def send(self, address: str, args: Sequence[Any], to: Address) -> None:
        """Encode and send one reply; a failure to send is logged, never raised (the peer may be gone)."""
        try:
            data = protocol.encode_message(address, args, self.dispatcher.table)
            with self._send_lock:
                self.socket.sendto(data, to)
        except (OSError, ProtocolError, OverflowError) as error:
            log.warning("could not send %s to %s:%s: %s", address, to[0], to[1], error)

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.socket.recvfrom(65_535)
            except socket.timeout:
                continue
            except OSError as error:  # e.g. ICMP port unreachable surfaced on Windows, or the socket closed
                if self._stop.is_set():
                    return
                log.debug("recvfrom: %s", error)
                continue
            try:
                self._pending.put_nowait((data, sender[:2]))
            except queue.Full:
                log.warning("dropped a datagram from %s:%s: %d are waiting", sender[0], sender[1],
                            MAX_PENDING_DATAGRAMS)
                self.send("/ditto/error", ("", f"busy: {MAX_PENDING_DATAGRAMS} datagrams are waiting to be "
                                               f"handled; this one was dropped, send it again"),
                          self.dispatcher.reply_address(sender[:2]))

    def _handle(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._pending.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                replies = self.dispatcher.dispatch(data, sender)
            except Exception as error:  # noqa: BLE001 - a bug in one datagram must not stop the daemon
                log.exception("datagram from %s:%s: unanticipated %s", sender[0], sender[1], type(error).__name__)
                replies = [Outgoing("/ditto/error", ("", unanticipated("datagram", error)),
                                    self.dispatcher.reply_address(sender))]
            for reply in replies:
                self.send(reply.address, reply.args, reply.to)
