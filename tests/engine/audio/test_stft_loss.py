import math

import pytest
import torch

from engine.audio.stft_loss import multi_resolution_stft_distance
from engine.errors import FeatureInputError

SR = 22050


def _tone(f0: float = 440.0, seconds: float = 0.5) -> torch.Tensor:
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    return (0.5 * torch.sin(2 * math.pi * f0 * t)).float()


def test_distance_is_exactly_zero_for_identical_signals_including_silence():
    signals = torch.stack([_tone(), torch.zeros(int(0.5 * SR))])
    distance = multi_resolution_stft_distance(signals, signals.clone())
    assert distance.total.shape == (2,)
    assert torch.equal(distance.spectral_convergence, torch.zeros(2))
    assert torch.equal(distance.log_magnitude, torch.zeros(2))


def test_distance_grows_with_the_level_of_added_noise():
    clean = _tone()
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    totals = [multi_resolution_stft_distance(clean, clean + level * noise).total.item()
              for level in (1e-4, 1e-3, 1e-2, 1e-1)]
    assert all(a < b for a, b in zip(totals, totals[1:])), totals
    assert totals[0] > 0


def test_spectral_convergence_of_a_scaled_copy_is_the_scale_error():
    clean = _tone()
    distance = multi_resolution_stft_distance(clean, 0.5 * clean)
    # | |S| - 0.5 |S| | / |S| = 0.5 at every resolution; log-magnitude differs by ln 2 wherever |S| is above the floor.
    assert distance.spectral_convergence.item() == pytest.approx(0.5, abs=1e-5)
    assert 0 < distance.log_magnitude.item() <= math.log(2) + 1e-5


def test_band_limit_ignores_differences_above_it():
    # A noise floor keeps every bin well above the magnitude floor, so window leakage of the 10 kHz tone stays
    # negligible against it (a bare sine leaves bins near 1e-7, where any leakage is a large log difference).
    noise = torch.randn(int(0.5 * SR), generator=torch.Generator().manual_seed(0))
    clean = _tone(440.0) + 1e-2 * noise
    t = torch.arange(clean.shape[-1], dtype=torch.float64) / SR
    bright = clean + (0.1 * torch.sin(2 * math.pi * 10000.0 * t)).float()
    full = multi_resolution_stft_distance(clean, bright).total.item()
    below_8k = multi_resolution_stft_distance(clean, bright, max_frequency_hz=8000.0, sample_rate=SR).total.item()
    assert below_8k < 0.1 * full


@pytest.mark.parametrize("reference, estimate, message", [
    (torch.zeros(4096), torch.zeros(4000), "differs from reference"),
    (torch.zeros(512), torch.zeros(512), "too short"),
    (torch.zeros(1, 1, 4096), torch.zeros(1, 1, 4096), "shape"),
    (torch.zeros(4096, dtype=torch.int16), torch.zeros(4096, dtype=torch.int16), "floating point"),
    (torch.full((4096,), float("nan")), torch.zeros(4096), "NaN"),
])
def test_bad_inputs_raise_feature_input_error_naming_the_problem(reference, estimate, message):
    with pytest.raises(FeatureInputError, match=message):
        multi_resolution_stft_distance(reference, estimate)
