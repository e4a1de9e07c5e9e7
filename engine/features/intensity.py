"""Intensity: per-frame loudness in dB, 20 * log10(RMS), from log-mel frames, smoothed over time.

The RMS of a frame is estimated from the mel frame by mapping it back to a linear magnitude spectrum with the
filterbank's pseudo-inverse and applying Parseval's theorem for the Hann-windowed frame. It agrees with the RMS
computed from the waveform (`waveform_intensity_db`) within about half a dB for music below 2 kHz and under
5 dB for isolated tones near fmax, where the mel bins are widest.

Near silence the pseudo-inverse clamps most bins to zero and a constant floor would swallow what is left, so a
stretch that went silent would have no gradient back to sound (the "silence trap"). `frame_power` therefore
adds a leak: the frame's mel-domain energy, 30 dB down. It is always positive and differentiable in every mel
bin, changes normal levels by under 0.005 dB, and below about -100 dB it is what the curve follows. The sums run
in float64 so even a log-mel far below the model's floor gives a finite level and gradient.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.nn import functional as F

from engine.audio.mel import MelSpec, check_logmel, mel_filterbank, mel_to_linear_magnitude

DB_FLOOR = -100.0
"""Floor of the waveform reference (`waveform_intensity_db`): digital silence reads -100 dB."""
LEAK_DB = -30.0
"""Level of the mel-domain leak added to each frame's power, relative to the frame's mel energy."""


def frame_power(logmel: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """Mean-square amplitude of each frame `(..., frames)` from log-mel `(..., n_mels, frames)`, float64.

    Parseval over the pseudo-inverse's linear spectrum, plus the leak (module docstring): never zero, and
    differentiable in every mel bin."""
    logmel = logmel.double()
    magnitude = mel_to_linear_magnitude(logmel, spec)
    weights = torch.full((magnitude.shape[-2], 1), 2.0, dtype=logmel.dtype, device=logmel.device)
    weights[0] = weights[-1] = 1.0
    window = torch.hann_window(spec.win_length, dtype=torch.float64)
    norm = spec.n_fft * float((window ** 2).sum())
    parseval = (weights * magnitude ** 2).sum(dim=-2) / norm
    bandwidth = torch.as_tensor(_mel_bandwidths(spec), dtype=logmel.dtype, device=logmel.device)
    mel_energy = (bandwidth.unsqueeze(-1) * torch.exp(2.0 * logmel)).sum(dim=-2) / norm
    return parseval + 10 ** (LEAK_DB / 10) * mel_energy


@functools.lru_cache(maxsize=16)
def _mel_bandwidths(spec: MelSpec) -> np.ndarray:
    """`(n_mels,)` how many FFT bins (counted as in Parseval, both sides) each mel band stands for."""
    bank = mel_filterbank(spec)
    share = bank / np.maximum(bank.sum(axis=0, keepdims=True), 1e-12)
    return 2.0 * share.sum(axis=1)


def smooth(curve: torch.Tensor, frames: int) -> torch.Tensor:
    """Moving average (Hann-weighted, `frames` wide, edges replicated) along the last axis."""
    if frames <= 1:
        return curve
    kernel = torch.hann_window(frames + 2, periodic=False, dtype=curve.dtype, device=curve.device)[1:-1]
    kernel = (kernel / kernel.sum()).view(1, 1, -1)
    lead = curve.shape[:-1]
    flat = curve.reshape(-1, 1, curve.shape[-1])
    padded = F.pad(flat, (frames // 2, frames - 1 - frames // 2), mode="replicate")
    return F.conv1d(padded, kernel).reshape(*lead, curve.shape[-1])


def intensity_db(logmel: torch.Tensor, spec: MelSpec = MelSpec(), *, smoothing_seconds: float = 0.25) -> torch.Tensor:
    """Smoothed loudness curve in dB [shape=(..., frames)] of log-mel [shape=(..., n_mels, frames)]. Differentiable."""
    check_logmel(logmel, spec.n_mels)
    db = 10.0 * torch.log10(frame_power(logmel, spec))
    return smooth(db, int(round(smoothing_seconds * spec.frame_rate))).to(logmel.dtype)


METER_FRAME_SECONDS = 2048 / 22050
"""A meter frame (Hann), about 93 ms: 2048 samples at 22,050 Hz."""
METER_HOP_SECONDS = 512 / 22050
METER_SMOOTHING_SECONDS = 0.25


def meter_db(audio: np.ndarray, sample_rate: int, times: np.ndarray) -> np.ndarray:
    """A loudness meter framed like a listener's, read at `times` (seconds) `(frames,)` from mono `audio`
    `(samples,)`: 20 log10(RMS) of centred, zero-padded Hann frames of METER_FRAME_SECONDS every METER_HOP_SECONDS,
    floored at DB_FLOOR, averaged over METER_SMOOTHING_SECONDS (a moving average of the dB curve, edges repeated),
    interpolated linearly at `times`.

    Coarser than the mel's own framing (1024-sample frames, a Hann-weighted 0.25-s average, `waveform_intensity_db`):
    a step in loudness reads as a ramp about a third of a second long, as it does on a DAW's meter and in the WAV
    measurements of `benchmarks/producer_eval.py` (an independent implementation with the same framing). Judging
    renders with the mel's framing let takes through that the WAV read at 1.58-2.08 dB RMS for a 1.5 tolerance."""
    audio = np.asarray(audio, dtype=np.float64)
    frame = int(round(METER_FRAME_SECONDS * sample_rate))
    hop = int(round(METER_HOP_SECONDS * sample_rate))
    count = 1 + audio.size // hop
    tail = max(0, (count - 1) * hop - audio.size)  # so the last frame, centred on (count - 1) * hop, is whole
    padded = np.pad(audio, (frame // 2, frame // 2 + tail))
    window = np.hanning(frame + 1)[:-1]
    index = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    power = ((padded[index] * window) ** 2).sum(axis=1) / (window ** 2).sum()
    db = np.maximum(10.0 * np.log10(power + 1e-30), DB_FLOOR)
    width = max(1, int(round(METER_SMOOTHING_SECONDS * sample_rate / hop)))
    smoothed = np.convolve(np.pad(db, (width // 2, width - 1 - width // 2), mode="edge"), np.ones(width) / width,
                           mode="valid")
    return np.interp(times, np.arange(count) * hop / sample_rate, smoothed)


def waveform_intensity_db(audio: np.ndarray, spec: MelSpec = MelSpec(), *, smoothing_seconds: float = 0.25) -> np.ndarray:
    """Reference computed from the waveform with numpy: per-frame 20*log10(RMS) of Hann-windowed frames, same
    framing as the mel (reflect padding, hop `spec.hop_length`), same smoothing. `(samples,)` -> `(frames,)`."""
    audio = np.asarray(audio, dtype=np.float64)
    pad = (spec.n_fft - spec.hop_length) // 2
    padded = np.pad(audio, (pad, pad), mode="reflect")
    frames = (len(padded) - spec.n_fft) // spec.hop_length + 1
    window = np.hanning(spec.win_length + 1)[:-1]
    index = np.arange(spec.n_fft)[None, :] + spec.hop_length * np.arange(frames)[:, None]
    power = ((padded[index] * window) ** 2).sum(axis=1) / (window ** 2).sum()
    db = 10.0 * np.log10(power + 10 ** (DB_FLOOR / 10))
    return smooth(torch.from_numpy(db), int(round(smoothing_seconds * spec.frame_rate))).numpy()
