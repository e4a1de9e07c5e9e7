"""Control and seam metrics measured on output audio (the waveform a producer gets), not on the optimizer's mel.

Every function takes audio as a float array `(samples,)` or `(channels, samples)` (channels are averaged) at
`sample_rate` Hz; audio at another rate is resampled to the project's mel rate (22,050 Hz) first. Frames are the
project's mel frames (`MelSpec()`: hop 256, frame i centred on sample i * 256), so a clip of n samples has
n // 256 frames and frame-wise targets are cut to that length.

- intensity: mean square error in dB^2 between `waveform_intensity_db` of the audio and a target curve.
- melody: frame accuracy of the pitch class, from the project's chroma of the audio's log-mel (argmax per frame),
  or from an independent transcriber (`engine.evaluation.transcriber`).
- structure: mean square error between the self-similarity of the audio's MFCCs and a target matrix.
- overlap: mean square error in log-mel (nats^2) against a reference, over the frames a mask selects.
- seams: spectral change across a boundary relative to the change inside the clip (1.0 = as smooth as the music
  around it; a click or a jump scores far above 1).
"""

from __future__ import annotations

import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.audio.resample import resample_array
from engine.errors import EngineError
from engine.features.chroma import chroma
from engine.features.intensity import waveform_intensity_db
from engine.features.structure import self_similarity

SPEC = MelSpec()
SEAM_FLOOR = 0.05
"""Nats of RMS log-mel change added to both sides of the seam ratio, so near-silent or steady clips score 1."""
SEAM_HALO = 2
"""Frames on each side of a boundary whose change counts as change across it (a frame spans 4 hops)."""


class MetricInputError(EngineError, ValueError):
    """A metric got audio or a target it cannot use (wrong rank, empty, not finite, mismatched lengths)."""


def mono(audio: np.ndarray, sample_rate: int, spec: MelSpec = SPEC) -> np.ndarray:
    """Float64 mono `(samples,)` at `spec.sample_rate`, validated."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    if audio.ndim != 1 or audio.size == 0:
        raise MetricInputError(f"audio: expected (samples,) or (channels, samples), got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise MetricInputError("audio: contains NaN or infinite samples")
    if sample_rate != spec.sample_rate:
        audio = resample_array(audio[None], sample_rate, spec.sample_rate)[0].astype(np.float64)
    if audio.size < spec.n_fft:
        raise MetricInputError(f"audio: {audio.size} samples is shorter than one analysis frame ({spec.n_fft})")
    return audio


def audio_logmel(audio: np.ndarray, sample_rate: int, spec: MelSpec = SPEC) -> torch.Tensor:
    """The project's natural-log mel of the audio, `(n_mels, samples // hop)` float32."""
    signal = torch.from_numpy(mono(audio, sample_rate, spec).astype(np.float32))
    with torch.no_grad():
        return log_mel(signal, spec)


def _frames_of(target: np.ndarray, frames: int, name: str) -> np.ndarray:
    target = np.asarray(target)
    if target.shape[-1] < frames:
        raise MetricInputError(f"{name}: has {target.shape[-1]} frames, the audio {frames}; build the target for "
                               "the audio's duration")
    return target[..., :frames]


def intensity_curve(audio: np.ndarray, sample_rate: int, spec: MelSpec = SPEC) -> np.ndarray:
    """Smoothed loudness in dB per frame `(samples // hop,)` from the waveform."""
    signal = mono(audio, sample_rate, spec)
    return waveform_intensity_db(signal, spec)[: signal.size // spec.hop_length]


def intensity_mse(audio: np.ndarray, sample_rate: int, target_db: np.ndarray, *, mask: np.ndarray | None = None,
                  spec: MelSpec = SPEC) -> float:
    """Mean square error in dB^2 between the audio's intensity curve and `target_db` `(frames,)`."""
    curve = intensity_curve(audio, sample_rate, spec)
    target = _frames_of(target_db, curve.size, "target_db").astype(np.float64)
    weights = np.ones(curve.size) if mask is None else _frames_of(mask, curve.size, "mask").astype(np.float64)
    if weights.sum() <= 0:
        raise MetricInputError("mask: selects no frame")
    return float(((curve - target) ** 2 * weights).sum() / weights.sum())


def chroma_pitch_classes(audio: np.ndarray, sample_rate: int, spec: MelSpec = SPEC) -> np.ndarray:
    """Pitch class 0-11 (C = 0) with the most chroma energy in each frame `(samples // hop,)`."""
    with torch.no_grad():
        return chroma(audio_logmel(audio, sample_rate, spec).double(), spec).argmax(dim=0).numpy()


def pitch_class_accuracy(estimate: np.ndarray, target_pc: np.ndarray) -> float:
    """Fraction of frames with a target (>= 0) whose estimated pitch class (-1: none) equals it."""
    estimate = np.asarray(estimate)
    target = _frames_of(target_pc, estimate.size, "target_pc")
    active = target >= 0
    if not active.any():
        raise MetricInputError("target_pc: no frame has a target pitch class")
    return float((estimate[active] == target[active]).mean())


def melody_accuracy_chroma(audio: np.ndarray, sample_rate: int, target_pc: np.ndarray, *,
                           spec: MelSpec = SPEC) -> float:
    """Melody accuracy from the project's chroma of the audio (the control's own feature, re-analysed)."""
    return pitch_class_accuracy(chroma_pitch_classes(audio, sample_rate, spec), target_pc)


def melody_accuracy_transcribed(audio: np.ndarray, sample_rate: int, target_pc: np.ndarray, transcriber) -> float:
    """Melody accuracy from an independent transcriber's most active note per frame (`transcriber.pitch_classes`)."""
    return pitch_class_accuracy(transcriber.pitch_classes(audio, sample_rate), target_pc)


def structure_mse(audio: np.ndarray, sample_rate: int, target: np.ndarray, block_mask: np.ndarray, *,
                  pool: int = 16, spec: MelSpec = SPEC) -> float:
    """Mean square error between the audio's MFCC self-similarity `(blocks, blocks)` and `target`, over the
    labelled blocks (`block_mask`)."""
    with torch.no_grad():
        ssm = self_similarity(audio_logmel(audio, sample_rate, spec).double(), pool=pool).numpy()
    blocks = ssm.shape[-1]
    target = np.asarray(target, dtype=np.float64)[:blocks, :blocks]
    mask = np.asarray(block_mask, dtype=np.float64)[:blocks]
    pair = mask[:, None] * mask[None, :]
    if pair.sum() <= 0:
        raise MetricInputError("block_mask: selects no block")
    return float(((ssm - target) ** 2 * pair).sum() / pair.sum())


def overlap_mse(audio: np.ndarray, sample_rate: int, reference_logmel: np.ndarray, mask: np.ndarray, *,
                spec: MelSpec = SPEC) -> float:
    """Mean square log-mel error (nats^2) against `reference_logmel` `(n_mels, frames)` where `mask` is 1."""
    logmel = audio_logmel(audio, sample_rate, spec).double().numpy()
    frames = logmel.shape[-1]
    reference = _frames_of(reference_logmel, frames, "reference_logmel")
    weights = _frames_of(mask, frames, "mask").astype(np.float64)
    if weights.sum() <= 0:
        raise MetricInputError("mask: selects no frame")
    return float((((logmel - reference) ** 2).mean(axis=0) * weights).sum() / weights.sum())


# ------------------------------------------------------------------------------------------------------ seams


def spectral_change(logmel: np.ndarray) -> np.ndarray:
    """RMS over mel bins of the frame-to-frame log-mel difference, `(frames - 1,)` in nats; entry i is the
    change from frame i to frame i + 1."""
    logmel = np.asarray(logmel, dtype=np.float64)
    return np.sqrt((np.diff(logmel, axis=-1) ** 2).mean(axis=-2))


def _windowed_max(change: np.ndarray, halo: int) -> np.ndarray:
    """Largest change among entries i - 1 - halo .. i - 1 + halo for every boundary i (between frames i - 1 and
    i), `(frames,)` for `change` of `(frames - 1,)`; the edges repeat the first and last change."""
    padded = np.pad(change, (halo + 1, halo), mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * halo + 1).max(axis=1)


def seam_scores(audio: np.ndarray, sample_rate: int, boundaries: list[float], *, spec: MelSpec = SPEC,
                halo: int = SEAM_HALO, floor: float = SEAM_FLOOR) -> list[float]:
    """Seam score of each boundary (seconds into the audio): the largest spectral change within `halo` frames of
    it, relative to the median of the same statistic at every other position of the clip, both plus `floor`.

    1.0 means the boundary changes the sound no more than a typical moment of the clip; a click scores far higher.
    """
    logmel = audio_logmel(audio, sample_rate, spec).double().numpy()
    frames = logmel.shape[-1]
    local = _windowed_max(spectral_change(logmel), halo)  # (frames,): boundary before frame i
    positions = [int(round(spec.seconds_to_frame(b))) for b in boundaries]
    for b, p in zip(boundaries, positions):
        if not halo < p < frames - halo:
            raise MetricInputError(f"boundary at {b:.3f} s lies within {halo} frames of the clip's edge")
    away = np.ones(frames, dtype=bool)
    away[: halo + 1] = False
    away[frames - halo:] = False
    for p in positions:
        away[max(0, p - 2 * halo - 1): p + 2 * halo + 2] = False
    if away.sum() < 4:
        raise MetricInputError("the clip is too short to measure the change inside it")
    typical = float(np.median(local[away]))
    return [float((local[p] + floor) / (typical + floor)) for p in positions]


def loop_seam_score(loop: np.ndarray, sample_rate: int, *, spec: MelSpec = SPEC, halo: int = SEAM_HALO,
                    floor: float = SEAM_FLOOR) -> float:
    """Seam score at the wrap point of a loop: the loop played twice, measured where the second pass starts."""
    signal = mono(loop, sample_rate, spec)
    twice = np.concatenate([signal, signal])
    return seam_scores(twice, spec.sample_rate, [signal.size / spec.sample_rate], spec=spec, halo=halo,
                       floor=floor)[0]
