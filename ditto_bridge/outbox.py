"""Writing takes to the outbox: at the set's sample rate and channel count, atomically, never overwriting.

A take is written under a temporary name that does not end in ``.wav`` (``.<stem>.wav.<pid>-<n>.partial``) in
the outbox itself, then published under its final name with a hard link (which fails rather than replace an
existing file) and the temporary name removed. On a file system without hard links the final name is checked
and the file moved with `os.replace`. A watcher (Live's browser, a script) therefore never sees half a WAV,
and an earlier render is never replaced: names are ``<name>_<task>_s<seed>_t<take>.wav``, then ``_2``, ``_3``...

The sidecar JSON (same stem, ``.json``) is published first, so whoever sees a WAV finds its sidecar beside it.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from ditto_bridge.errors import OutboxError

PARTIAL_SUFFIX = ".partial"
_counter = itertools.count()


def safe_stem(text: str, *, limit: int = 60) -> str:
    """A file-name-safe version of a take name: letters, digits, ``-``, ``_``, ``.``; spaces become ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip()).strip("._")
    return cleaned[:limit] or "take"


def take_stem(name: str, task: str, seed: int, take: int) -> str:
    """``<name>_<task>_s<seed>_t<take>`` with `take` counted from 1."""
    return f"{safe_stem(name)}_{safe_stem(task)}_s{seed}_t{take}"


def convert(audio: np.ndarray, in_rate: int, out_rate: int, channels: int) -> np.ndarray:
    """Audio ``(channels, samples)`` float at `in_rate` -> ``(samples, channels)`` float32 at `out_rate`.

    Resampling is soxr's high-quality polyphase filter. Channels: mono is copied to every output channel; more
    channels than asked are mixed down to mono (one channel) or the first `channels` kept; fewer are repeated.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise OutboxError(f"audio must be (channels, samples), got shape {audio.shape}")
    frames = np.ascontiguousarray(audio.T)
    if in_rate != out_rate:
        frames = soxr.resample(frames, in_rate, out_rate, quality="HQ").astype(np.float32)
        if frames.ndim == 1:
            frames = frames[:, None]
    have = frames.shape[1]
    if channels == 1 and have > 1:
        frames = frames.mean(axis=1, keepdims=True)
    elif have == 1 and channels > 1:
        frames = np.repeat(frames, channels, axis=1)
    elif have > channels:
        frames = frames[:, :channels]
    elif have < channels:
        frames = frames[:, [i % have for i in range(channels)]]
    return np.clip(frames, -1.0, 1.0)


def _temp_name(folder: Path, final_name: str) -> Path:
    return folder / f".{final_name}.{os.getpid()}-{next(_counter)}{PARTIAL_SUFFIX}"


def _publish(temp: Path, final: Path) -> bool:
    """Give `temp` the name `final` unless `final` exists; True when published."""
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if final.exists():  # no hard links here: check, then move (a narrow race, on such file systems only)
            return False
        os.replace(temp, final)
        return True
    temp.unlink()
    return True


def write_take(outbox: Path, stem: str, audio: np.ndarray, *, in_rate: int, out_rate: int, channels: int,
               sidecar: dict[str, Any], subtype: str = "PCM_24") -> Path:
    """Write one take and its sidecar; returns the WAV's final path.

    `audio` is ``(channels, samples)`` float at `in_rate`; the WAV is `out_rate` Hz with `channels` channels.
    """
    outbox.mkdir(parents=True, exist_ok=True)
    frames = convert(audio, in_rate, out_rate, channels)
    wav_temp = _temp_name(outbox, f"{stem}.wav")
    json_temp = _temp_name(outbox, f"{stem}.json")
    try:
        sf.write(str(wav_temp), frames, out_rate, format="WAV", subtype=subtype)
        _fsync(wav_temp)
        for suffix in itertools.count(1):
            final_stem = stem if suffix == 1 else f"{stem}_{suffix}"
            wav, side = outbox / f"{final_stem}.wav", outbox / f"{final_stem}.json"
            if wav.exists() or side.exists():
                continue
            content = dict(sidecar, wav=str(wav), wav_sample_rate=out_rate, wav_channels=channels,
                           wav_frames=int(frames.shape[0]), wav_subtype=subtype)
            json_temp.write_text(json.dumps(content, indent=2, default=_jsonable), encoding="utf-8")
            if not _publish(json_temp, side):
                continue
            if _publish(wav_temp, wav):
                return wav
            side.unlink(missing_ok=True)  # the WAV name was taken meanwhile: try the next name
    except (OSError, sf.LibsndfileError) as error:
        raise OutboxError(f"outbox {outbox}: cannot write {stem}.wav ({error}); check the folder is writable "
                          f"and the disk not full") from error
    finally:
        wav_temp.unlink(missing_ok=True)
        json_temp.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def remove_partials(outbox: Path) -> list[Path]:
    """Delete temporary files a killed daemon left in the outbox (never a finished WAV); returns them."""
    if not outbox.is_dir():
        return []
    removed = []
    for path in outbox.glob(f".*{PARTIAL_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
