"""Shared pieces of the baseline tests: a reference WAV and intensity controls on the tiny model."""

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.controls.intensity import IntensityControl


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    """Two seconds of a decaying A3/E4 dyad at 22,050 Hz."""
    rate = 22050
    t = np.arange(2 * rate) / rate
    audio = 0.3 * np.exp(-t) * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))
    path = tmp_path_factory.mktemp("refs") / "reference.wav"
    sf.write(str(path), audio.astype(np.float32), rate)
    return str(path)


@pytest.fixture
def noise(tiny_model):
    def draw(seconds: float, seed: int = 0, batch: int = 1) -> torch.Tensor:
        return torch.randn(batch, *tiny_model.latent_shape(seconds), generator=torch.Generator().manual_seed(seed))
    return draw


@pytest.fixture
def intensity_control(tiny_model):
    """A ramp from -40 to -15 dB over a clip of `seconds`, bound to the tiny model's frames."""
    def build(seconds: float) -> IntensityControl:
        frames = tiny_model.latent_shape(seconds)[-1]
        return IntensityControl(label="intensity", weight=1.0, tolerance=2.0,
                                target_db=torch.linspace(-40.0, -15.0, frames), mask=torch.ones(frames),
                                spec=tiny_model.mel)
    return build
