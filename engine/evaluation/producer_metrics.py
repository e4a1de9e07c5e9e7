"""Measures of the producer-scale evaluation, taken on the WAV a producer gets, with numpy only.

The loudness measure is deliberately independent of the engine's features (`engine.features.intensity`): its own
framing (2048-sample Hann frames, hop 512, centred, zero-padded), its own smoothing (a 0.25-s moving average of
the dB curve) and its own target curve (breakpoints interpolated linearly at the frame centres, held at the ends).

- `frame_db`: per-frame 20 log10(RMS) of Hann-windowed frames; a sine of amplitude A reads 20 log10(A / sqrt 2).
- `loudness_mse`: mean square dB error of the smoothed curve against a target curve.
- `silent_stretch`: whether the take is digitally silent (frames below -90 dB) for >= 0.25 s while the target
  asks for more than -45 dB there: such a take fails its intensity control whatever its MSE.
- `with_dynamics_of`: a take given another take's loudness contour by a smooth gain (FD-mel's dynamics-matched
  reference: the uncontrolled take played as loud, moment by moment, as the controlled one).
- `melody_target`: the target pitch class per frame of the 256-hop grid the transcriber reports on.
- `summary`: median, p90 and mean of a list of numbers (numpy's linear percentile).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

FRAME = 2048
HOP = 512
SMOOTHING_SECONDS = 0.25
FLOOR_DB = -120.0
SILENT_DB = -90.0
SILENT_SECONDS = 0.25
AUDIBLE_TARGET_DB = -45.0
NORMALIZED_RMS_DB = -20.0
MAX_MATCH_GAIN_DB = 60.0


class MeasureError(ValueError):
    """A measure got audio or a target it cannot use (empty, not finite, wrong rank)."""


def _mono(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    if audio.ndim != 1 or audio.size == 0:
        raise MeasureError(f"audio: expected (samples,) or (channels, samples), got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise MeasureError("audio: contains NaN or infinite samples")
    return audio


def frame_times(frames: int, sample_rate: int, *, hop: int = HOP) -> np.ndarray:
    """Centre of each frame in seconds `(frames,)`: frame i is centred on sample i * hop."""
    return np.arange(frames) * hop / sample_rate


def frame_db(audio: np.ndarray, sample_rate: int, *, frame: int = FRAME, hop: int = HOP) -> np.ndarray:
    """Unsmoothed loudness in dB of each Hann-windowed frame `(1 + samples // hop,)`, floored at FLOOR_DB.

    `audio` [shape=(samples,) or (channels, samples)] is averaged over channels; frames are centred (the signal is
    zero-padded by frame / 2 on both sides)."""
    del sample_rate  # frames are in samples; kept for a uniform signature
    signal = _mono(audio)
    padded = np.pad(signal, (frame // 2, frame // 2))
    frames = 1 + signal.size // hop
    padded = np.pad(padded, (0, max(0, (frames - 1) * hop + frame - padded.size)))
    window = np.hanning(frame + 1)[:-1]
    index = np.arange(frame)[None, :] + hop * np.arange(frames)[:, None]
    power = ((padded[index] * window) ** 2).sum(axis=1) / (window ** 2).sum()
    return np.maximum(10.0 * np.log10(power + 1e-30), FLOOR_DB)


def smooth_db(curve: np.ndarray, sample_rate: int, *, hop: int = HOP,
              seconds: float = SMOOTHING_SECONDS) -> np.ndarray:
    """Centred moving average over `seconds` (edges repeated) of a per-frame dB curve `(frames,)`."""
    width = max(1, int(round(seconds * sample_rate / hop)))
    if width == 1:
        return np.asarray(curve, dtype=np.float64)
    padded = np.pad(np.asarray(curve, dtype=np.float64), (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def loudness_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Smoothed loudness curve in dB `(1 + samples // HOP,)`."""
    return smooth_db(frame_db(audio, sample_rate), sample_rate)


def target_curve(times: Sequence[float], db: Sequence[float], frames: int, sample_rate: int, *,
                 hop: int = HOP) -> np.ndarray:
    """Breakpoints (seconds, dB) at the frame centres `(frames,)`: linear between, held beyond the ends."""
    times, db = np.asarray(times, dtype=np.float64), np.asarray(db, dtype=np.float64)
    if times.size == 0 or times.size != db.size:
        raise MeasureError(f"target: need as many levels as times (>= 1), got {times.size} and {db.size}")
    return np.interp(frame_times(frames, sample_rate, hop=hop), times, db)


def loudness_mse(audio: np.ndarray, sample_rate: int, target_db: np.ndarray) -> float:
    """Mean square error in dB^2 of the smoothed loudness against `target_db` `(frames,)` on the same grid."""
    curve = loudness_db(audio, sample_rate)
    target = np.asarray(target_db, dtype=np.float64)
    if target.shape != curve.shape:
        raise MeasureError(f"target_db: {target.shape[0] if target.ndim else 0} frames, the audio has {curve.size}")
    return float(np.mean((curve - target) ** 2))


def clipped_target(target_db: np.ndarray, loudness_range: Sequence[float] | None) -> np.ndarray:
    """The target the music itself is asked to meet: `target_db` clipped into (low_db, high_db), or unchanged."""
    if loudness_range is None:
        return np.asarray(target_db, dtype=np.float64)
    low, high = (float(v) for v in loudness_range)
    return np.clip(np.asarray(target_db, dtype=np.float64), low, high)


def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in a boolean array `(n,)`."""
    best = run = 0
    for flag in np.asarray(flags, dtype=bool):
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def silent_stretch(audio: np.ndarray, sample_rate: int, target_db: np.ndarray, *, hop: int = HOP,
                   silent_db: float = SILENT_DB, seconds: float = SILENT_SECONDS,
                   audible_db: float = AUDIBLE_TARGET_DB) -> bool:
    """True when the audio's unsmoothed frame loudness stays below `silent_db` for at least `seconds` in a row on
    frames whose target is above `audible_db`. `target_db` `(frames,)` is on the grid of `frame_db`."""
    level = frame_db(audio, sample_rate, hop=hop)
    target = np.asarray(target_db, dtype=np.float64)
    if target.shape != level.shape:
        raise MeasureError(f"target_db: {target.size} frames, the audio has {level.size}")
    frames = int(np.ceil(seconds * sample_rate / hop))
    return longest_run((level < silent_db) & (target > audible_db)) >= frames


def _rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(signal ** 2)))


def rms_db(audio: np.ndarray) -> float:
    """Level of a whole take in dB RMS (full scale 0 dB; digital silence -inf)."""
    rms = _rms(_mono(audio))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def normalized(audio: np.ndarray, *, rms_db: float = NORMALIZED_RMS_DB) -> np.ndarray:
    """Mono audio scaled to `rms_db` dB RMS (digital silence stays silent); FD-mel's level-normalized variant."""
    signal = _mono(audio)
    rms = _rms(signal)
    if rms < 1e-9:
        return signal
    return signal * (10 ** (rms_db / 20) / rms)


def with_dynamics_of(audio: np.ndarray, contour_from: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono `audio` `(samples,)` times a smooth gain that moves its smoothed loudness curve (`loudness_db`) onto
    `contour_from`'s: the gain in dB is the difference of the two curves, at most MAX_MATCH_GAIN_DB either way,
    interpolated from frame centres to samples. The clips are compared over the shorter one's length; `audio`'s
    length is kept (held gain past the end of `contour_from`)."""
    signal = _mono(audio)
    own, wanted = loudness_db(signal, sample_rate), loudness_db(contour_from, sample_rate)
    frames = min(own.size, wanted.size)
    gain_db = np.clip(wanted[:frames] - own[:frames], -MAX_MATCH_GAIN_DB, MAX_MATCH_GAIN_DB)
    gain = np.interp(np.arange(signal.size), np.arange(frames) * HOP, gain_db)
    return signal * 10 ** (gain / 20)


def melody_target(notes: Sequence[dict], frames: int, sample_rate: int, *, hop: int = 256) -> np.ndarray:
    """Target pitch class per frame `(frames,)` (-1 where no note sounds); frame i is centred on sample i * hop."""
    t = frame_times(frames, sample_rate, hop=hop)
    target = np.full(frames, -1, dtype=np.int64)
    for note in notes:
        target[(t >= note["start"]) & (t < note["end"])] = int(note["pitch"]) % 12
    return target


def summary(values: Sequence[float]) -> dict[str, float]:
    """`n`, `median`, `p90`, `p10` and `mean` of finite numbers (NaN statistics when there are none)."""
    data = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if data.size == 0:
        return {"n": 0, "median": float("nan"), "p90": float("nan"), "p10": float("nan"), "mean": float("nan")}
    return {"n": int(data.size), "median": float(np.median(data)), "p90": float(np.percentile(data, 90)),
            "p10": float(np.percentile(data, 10)), "mean": float(data.mean())}
