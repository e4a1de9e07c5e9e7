"""A clip's audio as the engine's reference: clip positions to file time, and windows rendered to WAV files.

A clip has an *axis*: its own beats for warped audio clips (mapped to file seconds through the warp markers)
and file seconds for unwarped ones (Live reports their loop brace and markers in seconds). At the song's tempo
one beat of a warped clip lasts ``60 / tempo`` seconds of output; a second of an unwarped clip lasts one second.

Translation plans a `ReferenceWindow`; the worker's `render_window` reads the stretch of the file that the window
plays, following the warp map sample by sample (linear interpolation, like Live's Re-Pitch warp mode; Live's Beats
and Complex modes are not reproduced), and writes it at the file's own sample rate. The engine resamples
references itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import soundfile as sf

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.time import SongTime
from ditto_bridge.translate.warp import WarpMap, WarpMarker
from engine.safe_files import OutsideFoldersError, UnsafeFileError, check_regular, folder, open_regular, resolve_inside

AUDIO_SUFFIXES = (".wav", ".aif", ".aiff", ".flac", ".ogg", ".mp3")
REFERENCE_OWNER = "reference"
"""Tag of the temporary names rendered references are written under."""
LIVE_PROJECT_MARKER = "Ableton Project Info"
"""The folder Live keeps in every saved project folder."""


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether `path` (resolved, links followed) lies inside one of `roots` (resolved)."""
    try:
        resolve_inside(path, roots)
        return True
    except OutsideFoldersError:
        return False


def is_live_project(path: Path) -> bool:
    """Whether `path` (resolved) is a saved Live project folder (it holds `LIVE_PROJECT_MARKER`), not a root."""
    return (path / LIVE_PROJECT_MARKER).is_dir() and path != Path(path.anchor)


def checked_file(raw: str, where: str, roots: Iterable[Path], *, base: Path | None = None,
                 suffixes: tuple[str, ...] | None = None, max_bytes: int | None = None) -> Path:
    """An existing regular file inside one of `roots` (resolved); relative paths resolve against `base`.

    Nothing outside `roots` is opened, and the error for such a path never says whether it exists. Inside, the
    file is opened without following a link and without blocking, and must be a regular file (not a FIFO, a
    device or a folder) of at most `max_bytes`. Every path a job names goes through here: ``clip.file_path``,
    ``midi_file``, ``controls[].reference``, ``warm_start``.
    """
    try:
        path = resolve_inside(raw, list(roots), base=base, where=where)
    except OutsideFoldersError as error:
        raise RequestError(str(error)) from None
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise RequestError(f"{where}: expected one of {', '.join(suffixes)}, got {path.name[:100]!r}")
    try:
        check_regular(path, max_bytes=max_bytes, where=where)
    except FileNotFoundError:
        raise RequestError(f"{where}: no such file {str(path)[:200]!r}") from None
    except UnsafeFileError as error:
        raise RequestError(str(error)) from None
    except OSError as error:
        raise RequestError(f"{where}: cannot open {path.name[:100]!r} ({error.strerror or error})") from None
    return path


@dataclass(frozen=True)
class ClipAudio:
    """An audio clip's file and its axis (see the module docstring)."""

    file_path: str
    sample_rate: int
    frames: int
    warp: WarpMap | None

    @classmethod
    def open(cls, file_path: Path, warp: WarpMap | None) -> "ClipAudio":
        try:
            with open_regular(file_path, where="clip.file_path") as handle:
                info = sf.info(handle)
        except UnsafeFileError as error:
            raise RequestError(str(error)) from None
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            raise RequestError(f"clip.file_path: cannot read {file_path.name!r} as audio ({error}); "
                               f"WAV, AIFF, FLAC, OGG and MP3 can be read: consolidate or freeze other formats"
                               ) from None
        if info.frames <= 0 or info.samplerate <= 0:
            raise RequestError(f"clip.file_path: {file_path.name!r} holds no audio")
        return cls(str(file_path), int(info.samplerate), int(info.frames), warp)

    @property
    def unit(self) -> str:
        """``beats`` for a warped clip, ``seconds`` for an unwarped one."""
        return "beats" if self.warp is not None else "seconds"

    @property
    def file_seconds(self) -> float:
        return self.frames / self.sample_rate

    def axis_bounds(self) -> tuple[float, float]:
        """The clip-axis positions of the file's first and last sample."""
        if self.warp is None:
            return 0.0, self.file_seconds
        return self.warp.seconds_to_beat(0.0), self.warp.seconds_to_beat(self.file_seconds)

    def axis_length(self, output_seconds: float, song: SongTime) -> float:
        """How far along the clip axis `output_seconds` of output reach."""
        return song.seconds_to_beats(output_seconds) if self.warp is not None else output_seconds

    def output_seconds(self, axis_length: float, song: SongTime) -> float:
        """Output seconds that an axis length takes to play."""
        return song.beats_to_seconds(axis_length) if self.warp is not None else axis_length


@dataclass(frozen=True)
class ReferenceWindow:
    """A stretch of a clip to render: from clip-axis position `axis_start`, `duration` seconds of output."""

    file_path: str
    axis_start: float
    duration: float
    tempo: float
    warp_markers: tuple[tuple[float, float], ...] | None  # (beat_time, sample_time) or None when unwarped
    fallback_seconds_per_beat: float

    @classmethod
    def of(cls, clip: ClipAudio, axis_start: float, duration: float, song: SongTime) -> "ReferenceWindow":
        markers = None if clip.warp is None else tuple((m.beat_time, m.sample_time) for m in clip.warp.markers)
        return cls(clip.file_path, axis_start, duration, song.tempo, markers, song.seconds_per_beat)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReferenceWindow":
        markers = data.get("warp_markers")
        return cls(data["file_path"], float(data["axis_start"]), float(data["duration"]), float(data["tempo"]),
                   None if markers is None else tuple((float(a), float(b)) for a, b in markers),
                   float(data["fallback_seconds_per_beat"]))


def render_window(window: ReferenceWindow, out_path: Path, roots: Iterable[Path]) -> Path:
    """Write the audio a window plays to `out_path` (float WAV at the file's sample rate), atomically, just before
    the job runs. The clip's file is checked again first: inside `roots` (a folder swapped for a link since the job
    arrived leads nowhere else), then opened as a regular file. `RequestError` when it cannot be read any more (gone, now a link or
    outside the folders, not audio)."""
    try:
        resolve_inside(window.file_path, list(roots), where="clip.file_path")
    except OutsideFoldersError as error:
        raise RequestError(str(error)) from None
    try:
        audio, rate = _played(window)
    except (OSError, RuntimeError) as error:
        raise RequestError(f"clip.file_path: {Path(window.file_path).name[:100]!r} cannot be read any more "
                           f"({error}); put the clip's audio back and send the job again") from None
    with folder(out_path.parent, create=True) as where:  # the job's own file: replaced, never written through
        where.write_new(out_path.name, lambda handle: sf.write(handle, audio, rate, format="WAV", subtype="FLOAT"),
                        owner=REFERENCE_OWNER, replace=True)
    return out_path


def _played(window: ReferenceWindow) -> tuple[np.ndarray, int]:
    """The audio a window plays [shape=(samples, channels)] at the file's rate (Hz), and that rate: sample n plays
    clip-axis position ``axis_start + n / rate`` seconds (unwarped) or ``axis_start + n / rate * tempo / 60``
    beats (warped), read from the file through the warp map; positions outside the file are silent."""
    with open_regular(Path(window.file_path), where="clip.file_path") as handle:
        info = sf.info(handle)
    rate = int(info.samplerate)
    count = max(1, int(math.ceil(window.duration * rate)))
    t = np.arange(count, dtype=np.float64) / rate
    if window.warp_markers is None:
        file_seconds = window.axis_start + t
    else:
        warp = WarpMap(tuple(WarpMarker(a, b) for a, b in window.warp_markers), window.fallback_seconds_per_beat)
        file_seconds = warp.beats_to_seconds_array(window.axis_start + t * window.tempo / 60.0)
    position = file_seconds * rate
    first = int(max(0, math.floor(position.min())))
    last = int(min(info.frames, math.ceil(position.max()) + 2))
    channels = int(info.channels)
    if last <= first:
        audio = np.zeros((count, channels), dtype=np.float32)
    else:
        with open_regular(Path(window.file_path), where="clip.file_path") as handle:
            block, _ = sf.read(handle, start=first, stop=last, dtype="float32", always_2d=True)
        local = position - first
        inside_file = (position >= 0) & (position <= info.frames - 1)
        audio = np.zeros((count, channels), dtype=np.float32)
        if window.warp_markers is None and float(window.axis_start * rate).is_integer():
            start = int(round(local[0]))
            piece = block[start:start + count]
            audio[:len(piece)] = piece
        else:
            index = np.clip(np.floor(local).astype(np.int64), 0, len(block) - 1)
            nxt = np.clip(index + 1, 0, len(block) - 1)
            frac = (local - np.floor(local)).astype(np.float32)[:, None]
            audio = block[index] * (1.0 - frac) + block[nxt] * frac
        audio[~inside_file] = 0.0
    return audio, rate
