"""Multi-resolution STFT distance between two waveforms (Yamamoto et al., Parallel WaveGAN, arXiv 1910.11480).

At each resolution (n_fft, hop) with a Hann window of n_fft samples:
    spectral convergence  SC  = || |S_ref| - |S_est| ||_F / || |S_ref| ||_F
    log-magnitude distance LM = mean | log |S_ref| - log |S_est| |     (natural log, magnitudes floored at 1e-7)
and the distance is the mean over resolutions of SC + LM. It is 0 for identical signals, ignores phase within a
window, and is the figure `benchmarks/vocoder.py` reports for re-synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.errors import FeatureInputError

DEFAULT_RESOLUTIONS: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))
MAGNITUDE_FLOOR = 1e-7


@dataclass(frozen=True)
class StftDistance:
    """Per-batch-item parts of the distance, each [shape=(batch,)], averaged over resolutions."""

    spectral_convergence: torch.Tensor
    log_magnitude: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.spectral_convergence + self.log_magnitude


def _magnitude(audio: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, device=audio.device, dtype=audio.dtype)
    stft = torch.stft(audio, n_fft, hop_length=hop, win_length=n_fft, window=window, center=True,
                      pad_mode="reflect", return_complex=True)
    return stft.abs()


def _check(name: str, audio: torch.Tensor) -> torch.Tensor:
    if not isinstance(audio, torch.Tensor) or not audio.is_floating_point():
        raise FeatureInputError(f"{name}: expected a floating point torch.Tensor, got "
                                f"{getattr(audio, 'dtype', type(audio).__name__)}")
    if audio.ndim not in (1, 2):
        raise FeatureInputError(f"{name}: expected shape (samples,) or (batch, samples), got {tuple(audio.shape)}")
    if not torch.isfinite(audio).all():
        raise FeatureInputError(f"{name}: contains NaN or infinite values")
    return audio if audio.ndim == 2 else audio.unsqueeze(0)


def multi_resolution_stft_distance(reference: torch.Tensor, estimate: torch.Tensor, *,
                                   resolutions: tuple[tuple[int, int], ...] = DEFAULT_RESOLUTIONS,
                                   max_frequency_hz: float | None = None,
                                   sample_rate: float = 22050.0) -> StftDistance:
    """Distance of `estimate` from `reference`, both [shape=(batch, samples)] or (samples,) at `sample_rate` Hz.

    Returns an `StftDistance` whose fields have shape (batch,). Signals must have the same shape and be longer
    than half the largest n_fft (reflect padding). With `max_frequency_hz`, only STFT bins at or below that
    frequency count (e.g. 8000 Hz: the band a log-mel with fmax 8000 describes).
    """
    reference, estimate = _check("reference", reference), _check("estimate", estimate)
    if reference.shape != estimate.shape:
        raise FeatureInputError(f"estimate: shape {tuple(estimate.shape)} differs from reference "
                                f"{tuple(reference.shape)}; trim both to the same length first")
    if max_frequency_hz is not None and not 0 < max_frequency_hz <= sample_rate / 2:
        raise FeatureInputError(f"max_frequency_hz: {max_frequency_hz} is outside (0, {sample_rate / 2}]")
    longest = max(n_fft for n_fft, _ in resolutions)
    if reference.shape[-1] <= longest // 2:
        raise FeatureInputError(f"reference: {reference.shape[-1]} samples is too short for n_fft {longest}; "
                                f"needs more than {longest // 2}")
    sc_sum = torch.zeros(reference.shape[0], dtype=reference.dtype, device=reference.device)
    lm_sum = torch.zeros_like(sc_sum)
    for n_fft, hop in resolutions:
        ref_mag, est_mag = _magnitude(reference, n_fft, hop), _magnitude(estimate, n_fft, hop)
        if max_frequency_hz is not None:
            keep = int(max_frequency_hz * n_fft / sample_rate) + 1         # bins 0 .. floor(f * n_fft / sr)
            ref_mag, est_mag = ref_mag[..., :keep, :], est_mag[..., :keep, :]
        ref_norm = torch.linalg.vector_norm(ref_mag, dim=(-2, -1))
        diff_norm = torch.linalg.vector_norm(ref_mag - est_mag, dim=(-2, -1))
        sc_sum = sc_sum + diff_norm / torch.clamp(ref_norm, min=torch.finfo(ref_mag.dtype).tiny)
        log_diff = torch.log(torch.clamp(ref_mag, min=MAGNITUDE_FLOOR)) - torch.log(torch.clamp(est_mag, min=MAGNITUDE_FLOOR))
        lm_sum = lm_sum + log_diff.abs().mean(dim=(-2, -1))
    count = len(resolutions)
    return StftDistance(spectral_convergence=sc_sum / count, log_magnitude=lm_sum / count)
