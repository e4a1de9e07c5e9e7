"""Reading reference audio and writing WAV files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.errors import ReferenceAudioError


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


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write `(channels, samples)` float audio as 24-bit WAV atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".wav")
    os.close(fd)
    try:
        sf.write(tmp, np.clip(audio, -1, 1).T, sample_rate, subtype="PCM_24")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
