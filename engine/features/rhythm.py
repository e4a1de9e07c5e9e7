"""Rhythm: an onset envelope of log-mel frames, the onsets picked from it, and a beat-level view.

The envelope is the half-wave-rectified spectral flux: per mel band, how much the log magnitude rose since the
previous frame (falls count 0), averaged over the bands. Its unit is nepers per frame (the log-mel is the natural
log of mel magnitude); frame 0 has no previous frame and reads 0. It is differentiable wherever a band rises.

Frame `i` is centred on `(i + 0.5) / frame_rate` seconds, but a sound starting at time `t` raises the flux most
in a frame centred before `t`, whose 46 ms window has just taken in the attack: `ONSET_LAG_FRAMES` says
where, measured on clicks (tests/engine/features/test_rhythm_features.py), so that frames
and seconds convert in one place (`onset_frame_position`, `frames_to_onset_seconds`).

`pick_onsets` finds onsets as common detectors do (a local maximum above a moving average plus a margin, at
most one per 30 ms), in numpy on this envelope. On the 36 uncontrolled held-out takes of the rhythm evaluation
(`benchmarks/rhythm_eval.py`) its onsets agree with librosa's detector (`engine.evaluation.onsets`) at a median
F-measure of 0.96, p10 0.86 (+-50 ms); `beat_contrast` compares the envelope at target onsets with
the envelope between them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from engine.audio.mel import MelSpec, check_logmel

COMPRESSION = 1000.0
"""Gain before the logarithm: levels more than 60 dB under the clip's loudest mel bin barely count, so a sound
rising out of near silence registers when it is heard, not while it only grazes a window's edge."""
ONSET_LAG_FRAMES = -0.5
"""Where the flux of a sound starting at a frame's centre peaks, in frames from that frame: half a frame (6 ms)
earlier, measured on clicks and on a General MIDI drum loop (onsets then read within 5 ms of the true times)."""
PEAK_RADIUS_S = 0.03
"""A picked onset is the largest envelope value within this many seconds on either side."""
AVERAGE_RADIUS_S = 0.1
"""The moving average an onset must exceed spans this many seconds on either side."""
MARGIN = 0.05
"""How far above the moving average (as a share of the clip's largest envelope value) an onset must rise."""
FLOOR = 0.02
"""Envelope values below this (nepers per frame) are no onset, however they compare with the clip's own."""
EDGE_FRAMES = 2
"""The last frames see the clip's end mirrored by the framing's reflect padding: no onset is picked there."""
MIN_GAP_S = 0.03
"""Picked onsets are at least this far apart (the later of two closer ones is dropped)."""


def compressed_magnitude(logmel: torch.Tensor) -> torch.Tensor:
    """``log(1 + COMPRESSION * m)`` of the mel magnitude `m` relative to the clip's loudest bin `(..., n_mels,
    frames)`: logarithmic above about -60 dB of the loudest, linear (so nearly 0) below."""
    top = logmel.detach().amax(dim=(-2, -1), keepdim=True)
    return torch.log1p(COMPRESSION * torch.exp(logmel - top))


def onset_envelope(logmel: torch.Tensor) -> torch.Tensor:
    """Half-wave-rectified spectral flux `(..., frames)` of log-mel `(..., n_mels, frames)` (natural log of mel
    magnitude), on the compressed magnitude, averaged over the bands."""
    check_logmel(logmel, logmel.shape[-2])
    level = compressed_magnitude(logmel)
    rise = F.relu(level[..., 1:] - level[..., :-1]).mean(dim=-2)
    return F.pad(rise, (1, 0))


def onset_frame_position(seconds: np.ndarray, spec: MelSpec) -> np.ndarray:
    """Onset times in seconds `(onsets,)` -> the (fractional) frame index where their flux peaks."""
    return np.asarray(seconds, dtype=np.float64) * spec.frame_rate - 0.5 + ONSET_LAG_FRAMES


def frames_to_onset_seconds(frames: np.ndarray, spec: MelSpec) -> np.ndarray:
    """Frame indices of flux peaks `(onsets,)` -> onset times in seconds (the inverse of `onset_frame_position`)."""
    return (np.asarray(frames, dtype=np.float64) + 0.5 - ONSET_LAG_FRAMES) / spec.frame_rate


def pick_onsets(envelope: np.ndarray, spec: MelSpec) -> np.ndarray:
    """Frame indices `(onsets,)` of the onsets in one envelope `(frames,)` (see the module docstring)."""
    envelope = np.asarray(envelope, dtype=np.float64)
    top = float(envelope.max(initial=0.0))
    if top < FLOOR:
        return np.zeros(0, dtype=np.int64)
    peak = max(1, round(PEAK_RADIUS_S * spec.frame_rate))
    average = max(1, round(AVERAGE_RADIUS_S * spec.frame_rate))
    padded = np.pad(envelope, peak, mode="constant", constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * peak + 1).max(axis=-1)
    kernel = np.ones(2 * average + 1) / (2 * average + 1)
    mean = np.convolve(np.pad(envelope, average, mode="edge"), kernel, mode="valid")
    candidates = np.flatnonzero((envelope >= local_max) & (envelope >= mean + MARGIN * top) & (envelope >= FLOOR))
    candidates = candidates[candidates < len(envelope) - EDGE_FRAMES]
    gap = MIN_GAP_S * spec.frame_rate
    picked: list[int] = []
    for frame in candidates:
        if not picked or frame - picked[-1] >= gap:
            picked.append(int(frame))
    return np.array(picked, dtype=np.int64)


def onset_seconds(logmel: torch.Tensor, spec: MelSpec) -> np.ndarray:
    """Onset times in seconds `(onsets,)` of one clip's log-mel `(n_mels, frames)`."""
    return onsets_and_strengths(logmel, spec)[0]


def onsets_and_strengths(logmel: torch.Tensor, spec: MelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Onset times in seconds and their strengths `(onsets,)` of one clip's log-mel `(n_mels, frames)`: each
    onset's envelope peak over the clip's strongest, 0-1 (the accents a recording plays)."""
    envelope = onset_envelope(logmel.detach().float()).cpu().numpy()
    frames = pick_onsets(envelope, spec)
    strengths = envelope[frames] / envelope[frames].max() if len(frames) else np.zeros(0)
    return frames_to_onset_seconds(frames, spec), strengths


def onset_f_measure(found: np.ndarray, target: np.ndarray, window: float) -> float:
    """F-measure of `found` onsets against `target` onsets (seconds, sorted), a hit within +-`window` s, each onset
    matched at most once; 0 when either is empty."""
    if len(found) == 0 or len(target) == 0:
        return 0.0
    return 2.0 * matched_onsets(found, target, window) / (len(found) + len(target))


def gaussian_bumps(positions: np.ndarray, heights: np.ndarray, frames: int, width: float) -> np.ndarray:
    """`(frames,)` sum of Gaussians of standard deviation `width` frames at fractional frame `positions`."""
    grid = np.arange(frames, dtype=np.float64)[:, None]
    return (np.asarray(heights, float)[None, :]
            * np.exp(-0.5 * ((grid - np.asarray(positions, float)[None, :]) / width) ** 2)).sum(axis=1)


def beat_contrast(envelope: torch.Tensor, near: torch.Tensor) -> torch.Tensor:
    """Mean envelope where `near` `(frames,)` is 1 (at the target's onsets) over its mean where it is 0 (between
    them): `(..., frames)` -> `(...)`. 1 means the onsets fall anywhere; the larger, the more on the targets."""
    near = near.to(envelope)
    at = (envelope * near).sum(dim=-1) / near.sum().clamp(min=1.0)
    between = (envelope * (1.0 - near)).sum(dim=-1) / (1.0 - near).sum().clamp(min=1.0)
    return at / (between + 1e-6)


def matched_onsets(found: np.ndarray, target: np.ndarray, window: float) -> int:
    """Size of a largest one-to-one matching of sorted onsets `found` and `target` (seconds) within +-`window`.

    Every onset's partners form an interval whose ends move forward with the onset, so walking both lists in order
    and matching the earliest pair within reach finds a largest matching."""
    i = j = hits = 0
    while i < found.size and j < target.size:
        if found[i] < target[j] - window:
            i += 1  # too early for this target, and so for every later one
        elif found[i] > target[j] + window:
            j += 1  # this target is out of reach of this and every later found onset
        else:
            hits += 1
            i += 1
            j += 1
    return hits
