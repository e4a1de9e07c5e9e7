"""Reading reference audio and writing WAV files."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from engine.errors import ReferenceAudioError
from engine.safe_files import write_file


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Audio file -> (float32 `(channels, samples)` in [-1, 1], sample rate in Hz).

    Raises ReferenceAudioError naming the file when it is missing, unreadable, empty or not finite.
    """
    path = Path(path)
    if not path.is_file():
        raise ReferenceAudioError(f"reference audio {path}: no such file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as error:
        raise ReferenceAudioError(f"reference audio {path}: cannot be read ({error}); use WAV, AIFF or FLAC") \
            from error
    if data.shape[0] == 0:
        raise ReferenceAudioError(f"reference audio {path}: the file holds no samples")
    if not np.isfinite(data).all():
        raise ReferenceAudioError(f"reference audio {path}: contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(rate)


def encode_wav(target: str | Path | BinaryIO, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_24") -> None:
    """Write `(channels, samples)` float audio, clipped to [-1, 1], as a WAV of `subtype` to a path or an open
    binary file: the one WAV encoding every take is written with."""
    frames = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0).T
    sf.write(target, frames, sample_rate, format="WAV", subtype=subtype)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write `(channels, samples)` float audio as a 24-bit WAV (mode 0o644) atomically (`engine.safe_files`)."""
    return write_file(path, lambda handle: encode_wav(handle, audio, sample_rate), mode=0o644)
