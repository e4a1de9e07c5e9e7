"""Shared pieces of the baseline tests: intensity controls on the tiny model."""

import pytest
import torch

from engine.controls.intensity import IntensityControl


@pytest.fixture
def intensity_control(tiny_model):
    """A ramp from -40 to -15 dB over a clip of `seconds`, bound to the tiny model's frames."""
    def build(seconds: float) -> IntensityControl:
        frames = tiny_model.latent_shape(seconds)[-1]
        return IntensityControl(label="intensity", weight=1.0, tolerance=2.0,
                                target_db=torch.linspace(-40.0, -15.0, frames), mask=torch.ones(frames),
                                spec=tiny_model.mel)
    return build
