"""Render `Part`s to mono audio with a General MIDI soundfont through TinySoundFont (the `tinysoundfont` package).

A fresh synthesizer is made for every clip (about 7 ms from soundfont bytes held in memory): TinySoundFont's reset
leaves tiny differences in its state, and a fresh one makes a clip's audio depend on nothing but its parts, so the
same seed gives identical arrays whatever process or order renders it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.training.compose import Part
from engine.training.corpus_dynamics import Envelope

DRUM_CHANNEL = 9
PITCHED_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)
CONTROL_INTERVAL = 256
"""Samples between expression (CC11) updates: one mel hop at 22,050 Hz, 11.6 ms."""


class RenderError(RuntimeError):
    """The soundfont is missing or a clip rendered to silence."""


@dataclass(frozen=True)
class SoundfontInfo:
    name: str
    path: str
    sha256: str
    renderer: str


def bundled_soundfont() -> Path:
    """pretty_midi's bundled General MIDI soundfont (TimGM6mb.sf2, 6 MB)."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.exists():
        raise RenderError(f"pretty_midi's soundfont is not at {path}; reinstall pretty_midi (pip install pretty_midi)")
    return path


@functools.lru_cache(maxsize=2)
def soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def soundfont_info(path: Path) -> SoundfontInfo:
    import tinysoundfont  # noqa: F401  (the renderer must be importable)
    from importlib.metadata import version

    data = soundfont_bytes(str(path))
    return SoundfontInfo(name=Path(path).name, path=str(path), sha256=hashlib.sha256(data).hexdigest(),
                         renderer=f"tinysoundfont {version('tinysoundfont')}")


def _events(parts: list[Part], sample_rate: int, n_samples: int) -> tuple[list[tuple], dict[int, Part]]:
    """MIDI events `(sample, order, kind, channel, a, b)` sorted by time; order puts note-offs before note-ons.

    Repeated notes of one pitch on one channel are cut at the next onset (a note-off would otherwise end both).
    """
    channels: dict[int, Part] = {}
    free = list(PITCHED_CHANNELS)
    for part in parts:
        if part.is_drums:
            if DRUM_CHANNEL in channels:
                raise RenderError("only one drum part per clip is supported (GM channel 10)")
            channels[DRUM_CHANNEL] = part
        else:
            if not free:
                raise RenderError(f"more than {len(PITCHED_CHANNELS)} pitched parts in one clip")
            channels[free.pop(0)] = part
    events: list[tuple] = []
    for channel, part in channels.items():
        by_pitch: dict[int, list] = {}
        for note in part.notes:
            by_pitch.setdefault(note.pitch, []).append(note)
        for pitch, notes in by_pitch.items():
            notes.sort(key=lambda n: n.start)
            for i, note in enumerate(notes):
                on = int(round(note.start * sample_rate))
                off = int(round((note.start + note.duration) * sample_rate))
                if i + 1 < len(notes):
                    off = min(off, int(round(notes[i + 1].start * sample_rate)))
                off = max(off, on + 1)
                if on >= n_samples:
                    continue
                events.append((on, 2, "on", channel, pitch, note.velocity))
                if off < n_samples:
                    events.append((off, 1, "off", channel, pitch, 0))
    events.sort()
    return events, channels


def render_parts(parts: list[Part], expression: Envelope, *, soundfont: Path, sample_rate: int,
                 n_samples: int) -> np.ndarray:
    """Mono float32 audio [shape=(n_samples,)] of `parts` with CC11 following `expression`; not normalized."""
    import tinysoundfont

    synth = tinysoundfont.Synth(gain=-6.0, samplerate=sample_rate)
    sfid = synth.sfload(soundfont_bytes(str(soundfont)), max_voices=256)
    events, channels = _events(parts, sample_rate, n_samples)
    for channel, part in channels.items():
        if part.is_drums:
            synth.program_select(channel, sfid, 128, part.program, is_drums=True)
        else:
            synth.program_select(channel, sfid, 0, part.program)
        synth.control_change(channel, 7, int(np.clip(part.volume, 0, 127)))
        synth.control_change(channel, 10, 64)
    control_times = np.arange(0, n_samples, CONTROL_INTERVAL)
    control_values = np.round(expression.at(control_times / sample_rate)).astype(int)
    for sample, value in zip(control_times, control_values):
        events.append((int(sample), 0, "cc11", -1, int(value), 0))
    events.sort()

    out = np.zeros((n_samples, 2), dtype=np.float32)
    position = 0
    last_expression = -1
    for sample, _order, kind, channel, a, b in events:
        if sample > position:
            block = synth.generate_simple(sample - position)
            out[position:sample] = np.frombuffer(block, dtype=np.float32).reshape(-1, 2)
            position = sample
        if kind == "on":
            synth.noteon(channel, a, b)
        elif kind == "off":
            synth.noteoff(channel, a)
        elif a != last_expression:
            for c in channels:
                synth.control_change(c, 11, a)
            last_expression = a
    if position < n_samples:
        block = synth.generate_simple(n_samples - position)
        out[position:] = np.frombuffer(block, dtype=np.float32).reshape(-1, 2)
    return out.mean(axis=1)


def normalize_peak(audio: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scale the whole clip so its sample peak is `peak_dbfs` dBFS (one gain: the dynamics inside are kept)."""
    peak = float(np.max(np.abs(audio)))
    if not np.isfinite(peak) or peak < 1e-6:
        raise RenderError(f"clip rendered to silence (peak {peak:.2e}); its parts have no audible notes")
    return (audio * (10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)
