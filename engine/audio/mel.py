"""Log-mel spectrogram: settings, filterbank and a differentiable torch transform.

Defaults are the HiFi-GAN "universal" settings: 22,050 Hz, n_fft 1024, hop 256, 80 mel bins (Slaney scale and
area normalization), fmin 0, fmax 8000 Hz, magnitude (not power) spectrum, natural log with a floor of 1e-5.
A clip of `s` seconds has `frames_for(s)` frames. `stft` frames every spectrum (Hann window, reflect padding of
(n_fft - hop) / 2 each side: HiFi-GAN's framing; `istft` inverts it), frame `i` centred on sample `i * hop + hop / 2`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import EngineError, FeatureInputError


@dataclass(frozen=True)
class MelSpec:
    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length

    def frames_for(self, seconds: float) -> int:
        """Frames of a clip lasting `seconds` (one frame per hop, rounded to the nearest)."""
        return max(1, int(round(seconds * self.frame_rate)))

    def seconds_to_frame(self, seconds: float) -> float:
        """A duration in seconds as a (fractional) number of frames: the one place seconds become frames."""
        return seconds * self.frame_rate

    def frame_times(self, frames: int) -> np.ndarray:
        """Time in seconds of each frame centre, `(frames,)`."""
        return (np.arange(frames) + 0.5) / self.frame_rate


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@functools.lru_cache(maxsize=16)
def mel_filterbank(spec: MelSpec) -> np.ndarray:
    """Slaney-normalized triangular filters, `(n_mels, n_fft // 2 + 1)` (same as librosa's defaults)."""
    fft_freqs = np.linspace(0, spec.sample_rate / 2, spec.n_fft // 2 + 1)
    mel_points = mel_to_hz(np.linspace(hz_to_mel(spec.fmin), hz_to_mel(spec.fmax), spec.n_mels + 2))
    widths = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]
    weights = np.zeros((spec.n_mels, len(fft_freqs)))
    for i in range(spec.n_mels):
        lower = -ramps[i] / widths[i]
        upper = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2:] - mel_points[:-2]))[:, None]
    return weights


def _filterbank_tensor(spec: MelSpec, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(mel_filterbank(spec), device=device, dtype=dtype)


def stft(audio: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """Complex STFT, the module's framing: [shape=(..., samples)] -> [shape=(..., n_fft // 2 + 1, samples // hop)]."""
    lead = audio.shape[:-1]
    flat = torch.nn.functional.pad(audio.reshape(-1, 1, audio.shape[-1]), (_padding(spec),) * 2, mode="reflect")
    spectrum = torch.stft(flat.squeeze(1), spec.n_fft, hop_length=spec.hop_length, win_length=spec.win_length,
                          window=_window(spec, audio.device, audio.dtype), center=False, return_complex=True)
    return spectrum.reshape(*lead, *spectrum.shape[-2:])


def istft(spectrum: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """Least-squares overlap-add inverse of `stft` (Griffin & Lim 1984): complex [shape=(batch, bins, frames)] ->
    [shape=(batch, frames * hop_length)]. Not `torch.istft`: with center=False it refuses the Hann window (zero
    envelope at the first padded sample); center=True trims n_fft / 2, not this framing's (n_fft - hop) / 2."""
    batch, _, frames = spectrum.shape
    window = _window(spec, spectrum.device, spectrum.real.dtype)
    segments = torch.fft.irfft(spectrum, n=spec.n_fft, dim=1) * window[None, :, None]   # (batch, n_fft, frames)
    padded_length = (frames - 1) * spec.hop_length + spec.n_fft
    fold = dict(output_size=(1, padded_length), kernel_size=(1, spec.n_fft), stride=(1, spec.hop_length))
    summed = torch.nn.functional.fold(segments, **fold).reshape(batch, padded_length)
    envelope = torch.nn.functional.fold((window ** 2)[None, :, None].expand(1, -1, frames), **fold).reshape(padded_length)
    keep = slice(_padding(spec), _padding(spec) + frames * spec.hop_length)
    return summed[:, keep] / torch.clamp(envelope[keep], min=1e-8)


def _padding(spec: MelSpec) -> int:
    """Samples of reflect padding on each side of the waveform before framing."""
    return (spec.n_fft - spec.hop_length) // 2


def _window(spec: MelSpec, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.hann_window(spec.win_length, device=device, dtype=dtype)


def stft_magnitude(audio: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """[shape=(..., samples)] -> `|stft|` [shape=(..., n_fft // 2 + 1, frames)], 1e-9 under the root (smooth at 0)."""
    spectrum = stft(audio, spec)
    return torch.sqrt(spectrum.real ** 2 + spectrum.imag ** 2 + 1e-9)


def log_mel(audio: torch.Tensor, spec: MelSpec = MelSpec()) -> torch.Tensor:
    """Differentiable natural-log mel of a waveform.

    [shape=(..., samples)] at `spec.sample_rate` -> [shape=(..., n_mels, samples // hop_length)].
    """
    magnitude = stft_magnitude(audio, spec)
    mel = torch.matmul(_filterbank_tensor(spec, audio.device, audio.dtype), magnitude)
    return torch.log(torch.clamp(mel, min=spec.log_floor))


def check_logmel(logmel: torch.Tensor, n_mels: int, *, name: str = "logmel", batched: bool = False,
                 error: type[EngineError] = FeatureInputError) -> None:
    """Raise `error`, naming `name`, unless `logmel` is a finite floating point tensor `(..., n_mels, frames)` with
    at least one frame; `batched` asks for exactly `(batch, n_mels, frames)`. The one check of a log-mel at every
    boundary (features, vocoders)."""
    if not isinstance(logmel, torch.Tensor) or not logmel.is_floating_point():
        raise error(f"{name}: expected a floating point torch.Tensor, got "
                    f"{getattr(logmel, 'dtype', type(logmel).__name__)}")
    shape = tuple(logmel.shape)
    if batched and logmel.ndim != 3:
        raise error(f"{name}: expected shape (batch, {n_mels}, frames), got {shape}; add a batch axis with "
                    f"{name}.unsqueeze(0)")
    if logmel.ndim < 2 or logmel.shape[-2] != n_mels:
        raise error(f"{name}: expected {n_mels} mel bins, shape (..., {n_mels}, frames), got {shape}")
    if logmel.shape[-1] < 1:
        raise error(f"{name}: needs at least one frame, got shape {shape}")
    if not torch.isfinite(logmel).all():
        raise error(f"{name}: contains NaN or infinite values")


def mel_to_linear_magnitude(logmel: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """Approximate linear magnitude `(..., n_fft // 2 + 1, frames)` from log-mel via the filterbank's pseudo-inverse."""
    inverse = torch.as_tensor(_pseudo_inverse(spec), device=logmel.device, dtype=logmel.dtype)
    return torch.clamp(torch.matmul(inverse, torch.exp(logmel)), min=0.0)


@functools.lru_cache(maxsize=16)
def _pseudo_inverse(spec: MelSpec) -> np.ndarray:
    """`(n_fft // 2 + 1, n_mels)` Moore-Penrose pseudo-inverse of the filterbank."""
    return np.linalg.pinv(mel_filterbank(spec))
