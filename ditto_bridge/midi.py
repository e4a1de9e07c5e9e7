"""MIDI input (mido, python-rtmidi backend): played notes become a melody target, a CC an intensity curve, and a
trigger note or CC sends what was played as a job.

`MidiCapture` is the pure part: feed it mido messages with their arrival times (seconds) and it keeps the notes
and CC values since the last trigger. On a trigger it builds a job in Live units (the same JSON the device sends)
from the template (``midi_job`` in the config) and hands it to `submit`:

* notes -> ``task: "melody"`` with ``notes`` in beats from the first recorded event;
* CC `intensity_cc` -> ``intensity`` breakpoints (value / 127, ``unit: "normalized"`` onto min..max dB);
* only CC, or nothing -> ``task: "generate"`` (with the intensity curve if there is one).

Beats come from MIDI clock when it runs (24 ticks per quarter note; the tempo is measured from the ticks), else
from the template's tempo or `tempo`. A MIDI ``start`` message resets the recording and sets beat 0.

`open_input` opens a real port: a virtual one named `name` where the OS allows (macOS, Linux), else the existing
input whose name starts with `name`. With no backend or no port it raises `MidiUnavailableError`, and the daemon
goes on serving OSC.
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ditto_bridge.translate.envelopes import NORMALIZED_MAX_DB, NORMALIZED_MIN_DB

log = logging.getLogger("ditto_bridge.midi")

CLOCKS_PER_BEAT = 24


@dataclass
class MidiSettings:
    """What to record and what triggers a job (see `ditto_bridge.config.Config` for each field)."""

    trigger_note: int | None = 0
    trigger_cc: int | None = None
    intensity_cc: int | None = 11
    min_db: float = NORMALIZED_MIN_DB
    max_db: float = NORMALIZED_MAX_DB
    tempo: float = 120.0
    template: dict[str, Any] = field(default_factory=dict)


class MidiCapture:
    """Records notes and a CC curve from mido messages; builds and submits a job on a trigger."""

    def __init__(self, settings: MidiSettings, submit: Callable[[dict[str, Any]], Any],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.submit = submit
        self.clock = clock
        self._lock = threading.Lock()
        self._cc_high = False
        self._clock_times: list[float] = []
        self.reset()

    def reset(self, origin: float | None = None) -> None:
        self.origin = origin
        self.notes: list[tuple[int, float, float, int]] = []  # pitch, start s, end s, velocity
        self.open: dict[tuple[int, int], tuple[float, int]] = {}
        self.cc: list[tuple[float, int]] = []

    # ------------------------------------------------------------------------------------------------ input
    def handle(self, message: Any, now: float | None = None) -> dict[str, Any] | None:
        """One message at time `now` (seconds; default: the clock). Returns the job it submitted, if any."""
        now = self.clock() if now is None else now
        kind = getattr(message, "type", None)
        with self._lock:
            if kind == "clock":
                self._clock_times = (self._clock_times + [now])[-CLOCKS_PER_BEAT * 2:]
                return None
            if kind == "start":
                self.reset(origin=now)
                return None
            if kind == "note_on" and message.velocity > 0 and message.note == self.settings.trigger_note:
                return self._trigger(now)
            if kind == "control_change" and message.control == self.settings.trigger_cc:
                rising = message.value >= 64 and not self._cc_high
                self._cc_high = message.value >= 64
                return self._trigger(now) if rising else None
            if kind in ("note_on", "note_off"):
                if message.note == self.settings.trigger_note:
                    return None
                key = (message.channel, message.note)
                if kind == "note_on" and message.velocity > 0:
                    self._start(now)
                    if key in self.open:  # re-struck without a note-off: end the old one
                        self._close(key, now)
                    self.open[key] = (now, message.velocity)
                elif key in self.open:
                    self._close(key, now)
                return None
            if kind == "control_change" and message.control == self.settings.intensity_cc:
                self._start(now)
                self.cc.append((now, int(message.value)))
        return None

    def _start(self, now: float) -> None:
        if self.origin is None:
            self.origin = now

    def _close(self, key: tuple[int, int], now: float) -> None:
        start, velocity = self.open.pop(key)
        if now > start:
            self.notes.append((key[1], start, now, velocity))

    # ------------------------------------------------------------------------------------------------ output
    def tempo(self) -> float:
        """BPM from MIDI clock when at least a beat of ticks arrived recently, else the template's or the default."""
        ticks = self._clock_times
        if len(ticks) > CLOCKS_PER_BEAT and self.clock() - ticks[-1] < 1.0:
            interval = statistics.median(b - a for a, b in zip(ticks, ticks[1:]))
            if interval > 0:
                return 60.0 / (interval * CLOCKS_PER_BEAT)
        song = self.settings.template.get("song")
        if isinstance(song, dict) and isinstance(song.get("tempo"), (int, float)):
            return float(song["tempo"])
        return self.settings.tempo

    def build_job(self, now: float) -> dict[str, Any]:
        """The job in Live units for what was recorded up to `now` (notes still held end at `now`)."""
        tempo = self.tempo()
        seconds_per_beat = 60.0 / tempo
        origin = self.origin if self.origin is not None else now
        notes = list(self.notes) + [(key[1], start, now, velocity) for key, (start, velocity) in self.open.items()
                                    if now > start]
        job = copy.deepcopy(self.settings.template)
        song = dict(job.get("song") or {})
        song["tempo"] = round(tempo, 3)
        job["song"] = song
        numerator = int(song.get("signature_numerator", 4))
        denominator = int(song.get("signature_denominator", 4))
        beats_per_bar = numerator * 4.0 / denominator
        end_beat = (now - origin) / seconds_per_beat
        if notes:
            job["task"] = "melody"
            job["notes"] = [{"pitch": p, "start_time": (s - origin) / seconds_per_beat,
                             "duration": (e - s) / seconds_per_beat, "velocity": v, "mute": False}
                            for p, s, e, v in sorted(notes, key=lambda n: n[1])]
        else:
            job.setdefault("task", "generate")
        if self.cc:
            job["intensity"] = {"unit": "normalized", "min": self.settings.min_db, "max": self.settings.max_db,
                                "breakpoints": [[(t - origin) / seconds_per_beat, value / 127.0]
                                                for t, value in self.cc]}
        if "length_bars" not in job:
            job["length_bars"] = max(1, math.ceil(end_beat / beats_per_bar - 1e-9))
        job.setdefault("name", "midi")
        return job

    def _trigger(self, now: float) -> dict[str, Any]:
        job = self.build_job(now)
        self.reset()
        log.info("MIDI trigger: submitting a %s job (%d notes, %d CC points)", job.get("task"),
                 len(job.get("notes", [])), len((job.get("intensity") or {}).get("breakpoints", [])))
        self.submit(job)
        return job


# ------------------------------------------------------------------------------------------------------ ports


def _backend_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, ValueError, RuntimeError]
    try:
        import rtmidi

        errors.append(rtmidi.RtMidiError)
    except ImportError:
        pass
    return tuple(errors)


def backend_status() -> tuple[bool, str]:
    """Whether a MIDI backend can list ports here, and a sentence saying what it found."""
    from ditto_bridge.errors import MidiUnavailableError

    try:
        backend = _backend()
        names = backend.get_input_names()
    except MidiUnavailableError as error:
        return False, str(error)
    except _backend_errors() as error:
        return False, f"the MIDI backend cannot reach the system's MIDI service ({_one_line(error)})"
    return True, f"inputs: {', '.join(names) if names else '(none)'}"


def _backend() -> Any:
    from ditto_bridge.errors import MidiUnavailableError

    try:
        import importlib

        import mido

        importlib.import_module("rtmidi")  # mido's backend needs it; imported here for a clear message
        return mido.Backend("mido.backends.rtmidi", load=True)
    except ImportError as error:
        raise MidiUnavailableError(f"no MIDI backend: python-rtmidi is not installed ({error}); "
                                   "pip install python-rtmidi") from None


def open_input(name: str, *, virtual: bool, callback: Callable[[Any], None]) -> Any:
    """A mido input port calling `callback(message)` (see the module docstring); `MidiUnavailableError` if none."""
    from ditto_bridge.errors import MidiUnavailableError

    backend = _backend()
    if virtual and sys.platform == "win32":
        virtual = False  # Windows MIDI has no virtual ports
    try:
        if virtual:
            return backend.open_input(name, virtual=True, callback=callback)
        names = backend.get_input_names()
        matches = [n for n in names if n == name] or [n for n in names if n.startswith(name)]
        if not matches:
            raise MidiUnavailableError(f"no MIDI input named {name!r} (inputs: {', '.join(names) or 'none'})")
        return backend.open_input(matches[0], callback=callback)
    except _backend_errors() as error:
        raise MidiUnavailableError(f"MIDI input {name!r} could not be opened: {_one_line(error)}. On Linux the ALSA "
                                   "sequencer (/dev/snd/seq) must exist; on macOS check Audio MIDI Setup") from None


def _one_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200].rstrip(". ")
