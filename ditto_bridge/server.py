"""OSC over UDP: a pure dispatcher (datagram in, replies out) and the socket loop around it.

`Dispatcher.dispatch` turns one datagram and its sender into the replies to send; it never touches a socket, so
tests can call it directly. Every malformed datagram or request is answered with ``/ditto/error`` and logged;
nothing is dropped silently. `UdpServer` owns the socket: it receives, dispatches, sends the replies, and lets the
worker send progress and results from its own thread (`send`).

Replies go to the sender's address, or to ``reply_port`` on the sender's host when one is configured (Max's
``udpsend``/``udpreceive`` pair sends from an arbitrary port and listens on a fixed one).
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from ditto_bridge import protocol
from ditto_bridge.errors import BridgeError, ProtocolError, QueueFullError, RequestError, UnknownJobError

log = logging.getLogger("ditto_bridge.server")
Address = tuple[str, int]
MAX_ERROR_CHARS = 1000
"""Error replies are cut to this many characters: a reply must stay well under 9 KB."""


@dataclass(frozen=True)
class Outgoing:
    """One reply to send: OSC address, arguments (typed by the reply table), destination."""

    address: str
    args: tuple[Any, ...]
    to: Address


class Service(Protocol):
    """What the dispatcher asks of the daemon."""

    def ping(self) -> tuple[str, str, str]:
        """(daemon version, model name, compute device)."""

    def submit(self, text: str, reply_to: Address) -> str:
        """Validate, translate and queue a job (JSON text or an inbox path); returns its id."""

    def cancel(self, job_id: str, reply_to: Address) -> bool:
        """True: cancelled now; False: the job is running and will answer /ditto/cancelled when it stops."""

    def status(self) -> tuple[int, str]:
        """(queued count, running job id or '')."""

    def job_state(self, job_id: str) -> tuple[str, str]:
        """(state, detail) of one job; ('unknown', '') when the id was never seen."""


def error_text(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 3] + "..."


class Dispatcher:
    """Datagram -> replies, using `service` for everything that is not OSC."""

    def __init__(self, service: Service, *, reply_port: int | None = None,
                 table: protocol.ProtocolTable | None = None) -> None:
        self.service = service
        self.reply_port = reply_port
        self.table = table or protocol.load_table()

    def reply_address(self, sender: Address) -> Address:
        return (sender[0], self.reply_port) if self.reply_port else sender

    def dispatch(self, data: bytes, sender: Address) -> list[Outgoing]:
        to = self.reply_address(sender)
        try:
            messages = protocol.decode_datagram(data)
        except ProtocolError as error:
            log.warning("bad datagram from %s:%s: %s", sender[0], sender[1], error)
            return [Outgoing("/ditto/error", ("", error_text(error)), to)]
        replies: list[Outgoing] = []
        for address, args in messages:
            replies.extend(self.handle(address, args, sender, to))
        return replies

    def handle(self, address: str, args: Sequence[Any], sender: Address, to: Address) -> list[Outgoing]:
        """One decoded message -> its replies."""
        job_id = ""
        try:
            protocol.check_request(address, args, self.table)
            if address == "/ditto/ping":
                return [Outgoing("/ditto/pong", self.service.ping(), to)]
            if address == "/ditto/status":
                return [Outgoing("/ditto/status", self.service.status(), to)]
            if address == "/ditto/generate":
                job_id = self.service.submit(args[0], to)
                return [Outgoing("/ditto/accepted", (job_id,), to)]
            if address == "/ditto/cancel":
                job_id = args[0]
                if self.service.cancel(job_id, to):
                    return [Outgoing("/ditto/cancelled", (job_id,), to)]
                return []  # running: the worker answers when it has stopped
            if address == "/ditto/job":
                job_id = args[0]
                state, detail = self.service.job_state(job_id)
                return [Outgoing("/ditto/job", (job_id, state, detail), to)]
            raise ProtocolError(f"{address}: in the table but not handled by this daemon version")
        except (RequestError, QueueFullError, UnknownJobError) as error:
            job_id = getattr(error, "job_id", job_id) or job_id
            log.info("refused %s from %s:%s: %s", address, sender[0], sender[1], error_text(error))
            return [Outgoing("/ditto/error", (job_id[:200], error_text(error)), to)]
        except BridgeError as error:
            log.error("%s failed: %s", address, error)
            return [Outgoing("/ditto/error", (job_id[:200], error_text(error)), to)]


class UdpServer:
    """The socket loop in a thread; `send` is safe to call from any thread."""

    def __init__(self, dispatcher: Dispatcher, host: str = "127.0.0.1", port: int = 9100) -> None:
        self.dispatcher = dispatcher
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
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
        self._thread = threading.Thread(target=self._run, name="osc-server", daemon=True)

    def start(self) -> "UdpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.socket.close()

    def send(self, address: str, args: Sequence[Any], to: Address) -> None:
        """Encode and send one reply; a failure to send is logged, never raised (the peer may be gone)."""
        try:
            data = protocol.encode_message(address, args, self.dispatcher.table)
            with self._send_lock:
                self.socket.sendto(data, to)
        except (OSError, ProtocolError) as error:
            log.warning("could not send %s to %s:%s: %s", address, to[0], to[1], error)

    def _run(self) -> None:
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
                replies = self.dispatcher.dispatch(data, sender[:2])
            except Exception as error:  # noqa: BLE001 - a bug in one request must not stop the daemon
                log.exception("internal error while handling a datagram from %s:%s", sender[0], sender[1])
                replies = [Outgoing("/ditto/error", ("", f"internal error: {error_text(error)}"),
                                    self.dispatcher.reply_address(sender[:2]))]
            for reply in replies:
                self.send(reply.address, reply.args, reply.to)
