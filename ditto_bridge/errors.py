"""The bridge's error family. Messages name the field, file or port at fault and say what to do next.

A `RequestError` message starts with the offending field of the request (``song.tempo: must be a number greater
than 0, got -3``) and is what the daemon sends back in ``/ditto/error``.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class RequestError(BridgeError, ValueError):
    """A request (an OSC message, a job in Live units, a job file) is malformed or refers to something missing."""


class ProtocolError(RequestError):
    """A datagram is not OSC, or an OSC message has an unknown address or the wrong argument types."""


class QueueFullError(BridgeError):
    """The job queue holds as many queued jobs as it may; the message says how many and what to do."""


class UnknownJobError(BridgeError, KeyError):
    """No job with that id is known to the queue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(BridgeError, ValueError):
    """The configuration (TOML file or flags) has a bad value; the message names the key and the file."""


class OutboxError(BridgeError, OSError):
    """A WAV or its sidecar could not be written to the outbox."""


class MidiUnavailableError(BridgeError):
    """No MIDI backend or port could be opened; the daemon keeps serving OSC without MIDI."""
