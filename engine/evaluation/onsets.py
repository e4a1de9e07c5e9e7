"""An independent rhythm meter on output audio: onsets and tempo found by librosa, onset F-measure against targets.

Onsets are found here without the engine's own onset feature (`engine.features.rhythm`), so a rhythm control that
fools its own feature does not fool this meter; only the matching of found onsets to targets is shared. Audio is a float array `(samples,)` or `(channels, samples)`
(channels averaged) at `sample_rate` Hz, resampled to the project's mel rate (22,050 Hz) first; every time is in
seconds from the clip's start; tempi are in beats per minute.

- onsets: `librosa.onset.onset_detect` on librosa's spectral-flux onset strength (n_fft 1024, hop 128 = 5.8 ms,
  so clicks are placed within about 6 ms), peaks taken as they are (no backtracking to the preceding energy
  minimum);
- F-measure: each found onset may hit at most one target onset and the other way round, within +-`window` seconds
  (edges included), as in MIREX onset evaluation; F = 2 P R / (P + R);
- tempo: `librosa.beat.beat_track`'s global tempo (hop 256, its default prior around 120 BPM).

librosa's onset strength is zero over its first n_fft / (2 hop) + 1 frames (29 ms), so an onset in a clip's first
moments can never be found; `clip_onset_f_measure` scores onsets from `BLIND_SECONDS` on, in targets and output alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.evaluation.metrics import MetricInputError, mono
from engine.features.rhythm import matched_onsets

SAMPLE_RATE = 22050
"""Rate the meter analyses at (the project's mel rate)."""
ONSET_N_FFT = 1024
ONSET_HOP = 128
TEMPO_HOP = 256
WINDOW_SECONDS = 0.05
"""Default hit window: an onset this close to a target onset hits it."""
TEMPO_TOLERANCE = 0.04
"""Default tempo tolerance, a share of the target tempo (4 %)."""
BLIND_SECONDS = 0.05
"""Onsets before this time are not scored by `clip_onset_f_measure` (the detector cannot see them)."""


def detect_onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times in seconds `(onsets,)`, increasing, of `(samples,)` or `(channels, samples)` audio."""
    import librosa

    signal = mono(audio, sample_rate).astype(np.float32)
    strength = librosa.onset.onset_strength(y=signal, sr=SAMPLE_RATE, n_fft=ONSET_N_FFT, hop_length=ONSET_HOP)
    times = librosa.onset.onset_detect(onset_envelope=strength, sr=SAMPLE_RATE, hop_length=ONSET_HOP,
                                       backtrack=False, units="time")
    return np.asarray(times, dtype=np.float64)


def onset_f_measure(estimated: Sequence[float], reference: Sequence[float],
                    window: float = WINDOW_SECONDS) -> tuple[float, float, float]:
    """(F-measure, precision, recall), each in [0, 1], of onset times `estimated` `(n,)` against `reference`
    `(m,)` in seconds, matched one to one within +-`window` seconds. Either list empty: all three are 0.

    Both lists are sorted first. Every onset's partners form an interval whose ends move forward with the onset,
    so walking both lists in order and matching the earliest pair within reach finds a largest matching."""
    if not (np.isfinite(window) and window > 0):
        raise MetricInputError(f"window: must be a positive number of seconds, got {window}")
    found = _times("estimated", estimated)
    target = _times("reference", reference)
    if found.size == 0 or target.size == 0:
        return 0.0, 0.0, 0.0
    hits = matched_onsets(found, target, window)
    if hits == 0:
        return 0.0, 0.0, 0.0
    precision, recall = hits / found.size, hits / target.size
    return 2.0 * precision * recall / (precision + recall), precision, recall


def clip_onset_f_measure(audio: np.ndarray, sample_rate: int, reference: Sequence[float], *,
                         window: float = WINDOW_SECONDS) -> dict[str, float]:
    """Onset F-measure of one clip against target onsets in seconds, both taken from `BLIND_SECONDS` on.

    Returns `f`, `precision`, `recall`, `found` (output onsets scored) and `targets` (target onsets scored)."""
    found = detect_onsets(audio, sample_rate)
    found = found[found >= BLIND_SECONDS]
    target = _times("reference", reference)
    target = target[target >= BLIND_SECONDS]
    f, precision, recall = onset_f_measure(found, target, window)
    return {"f": f, "precision": precision, "recall": recall, "found": int(found.size), "targets": int(target.size)}


def beat_tempo(audio: np.ndarray, sample_rate: int) -> float:
    """Global tempo in BPM that librosa's beat tracker finds in `(samples,)` or `(channels, samples)` audio
    (0.0 when it finds no beat at all)."""
    import librosa

    signal = mono(audio, sample_rate).astype(np.float32)
    tempo, _ = librosa.beat.beat_track(y=signal, sr=SAMPLE_RATE, hop_length=TEMPO_HOP)
    return float(np.atleast_1d(tempo)[0])


def tempo_matches(found: float, target: float, tolerance: float = TEMPO_TOLERANCE) -> bool:
    """Whether a found tempo lies within `tolerance` (a share, 0.04 = 4 %) of the target tempo, both in BPM.

    Half or double the target does NOT count: the target is the tempo the producer set, and music at half or
    double of it is not at that tempo for this measure."""
    if not (np.isfinite(target) and target > 0):
        raise MetricInputError(f"target: must be a positive tempo in BPM, got {target}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise MetricInputError(f"tolerance: must be a share >= 0, got {tolerance}")
    return bool(np.isfinite(found) and abs(found - target) <= tolerance * target)


def _times(name: str, times: Sequence[float]) -> np.ndarray:
    values = np.asarray(times, dtype=np.float64)
    if values.ndim != 1:
        raise MetricInputError(f"{name}: expected a 1-D list of onset times in seconds, got shape {values.shape}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise MetricInputError(f"{name}[{bad[0]}]: must be a finite number of seconds, got {values[bad[0]]}")
    return np.sort(values)
