"""Test helpers for the daemon: an OSC peer on a real UDP socket, a daemon subprocess, audio measurements."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from ditto_bridge.protocol import decode_datagram
from ditto_bridge.translate.references import ReferenceWindow, render_window

REPO = Path(__file__).resolve().parents[2]


class OscPeer:
    """A UDP socket on 127.0.0.1 that sends OSC requests and collects the replies, like the device."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = self.sock.getsockname()
        self.inbox: list[tuple[str, list[Any]]] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> OscPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, address: str, *args: Any) -> None:
        builder = OscMessageBuilder(address)
        for value in args:
            builder.add_arg(value)
        self.sock.sendto(builder.build().dgram, self.target)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def receive(self, timeout: float) -> tuple[str, list[Any]] | None:
        """The next message (replies already collected first), or None after `timeout` seconds."""
        if self.inbox:
            return self.inbox.pop(0)
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, _ = self.sock.recvfrom(65_535)
        except TimeoutError:
            return None
        messages = decode_datagram(data)
        self.inbox.extend(messages[1:])
        return messages[0]

    def wait_for(self, match: Callable[[str, list[Any]], bool], timeout: float,
                 seen: list[tuple[str, list[Any]]] | None = None) -> tuple[str, list[Any]]:
        """Messages until one matches; all are appended to `seen`. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching reply within {timeout} s; got {kept[-5:]}")
                message = self.receive(left)
                if message is None:
                    continue
                if seen is not None:
                    seen.append(message)
                if match(*message):
                    return message
                kept.append(message)
        finally:
            self.inbox = kept + self.inbox if seen is None else self.inbox

    def request(self, address: str, *args: Any, reply: str | None = None, timeout: float = 10.0
                ) -> tuple[str, list[Any]]:
        """Send and wait for the first reply on `reply` (any address when None)."""
        self.send(address, *args)
        return self.wait_for(lambda a, _: reply is None or a == reply, timeout)


class DaemonProcess:
    """`ditto-bridge serve` as a real subprocess on an ephemeral port; stderr goes to a log file."""

    def __init__(self, root: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.log_path = root / f"serve-{time.monotonic_ns()}.log"
        self.config = root / "config.toml"
        if not self.config.exists():
            self.config.write_text("")
        command = [sys.executable, "-m", "ditto_bridge.cli", "serve", "--config", str(self.config), "--port", "0",
                   "--data-dir", str(root / "data"), "--inbox", str(root / "inbox"), "--outbox",
                   str(root / "outbox"), "--audio-dir", str(root / "audio"), "--model", "builtin-tiny",
                   "--device", "cpu", "--torch-threads", "1", "--log-format", "json", *extra]
        environment = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        environment["PYTHONPATH"] = os.pathsep.join([str(REPO), environment.get("PYTHONPATH", "")])
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env=environment)
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if "listening on udp://" in event.get("message", ""):
                    return int(event["message"].split("udp://")[1].split(" ")[0].rsplit(":", 1)[1])
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited with {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        raise AssertionError(f"the daemon did not start:\n{self.log_text()}")

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return out

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log_file.close()


def frame_db(audio: np.ndarray, sample_rate: int, frame_seconds: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame 20*log10(RMS) of a (samples, channels) or (samples,) signal, and each frame's centre in seconds."""
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    size = int(round(frame_seconds * sample_rate))
    count = len(mono) // size
    frames = mono[: count * size].reshape(count, size)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12)
    return 20 * np.log10(rms), (np.arange(count) + 0.5) * frame_seconds


def rendered(translation):
    """The translation with its reference windows rendered, as the worker renders them before the job runs (from
    the folders the plan allowed when it was made)."""
    for plan in translation.output.renders:
        render_window(ReferenceWindow.from_dict(plan["window"]), Path(plan["path"]), [Path(r) for r in plan["roots"]])
    return translation


RAMP_RATE = 8000
"""Sample rate of `ramp_clip`'s files."""


def ramp_clip(folder: Path, seconds: float = 20.0, name: str = "ramp.wav") -> Path:
    """A mono WAV whose sample value is its own time in seconds / 100: a rendered window tells where it came from."""
    import soundfile as sf

    t = np.arange(int(seconds * RAMP_RATE)) / RAMP_RATE
    path = folder / name
    sf.write(path, (t / 100.0).astype(np.float32), RAMP_RATE, subtype="FLOAT")
    return path
