"""The loudness feature keeps a gradient where the output has gone (near) silent: no silence trap."""

import numpy as np
import pytest
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.features import intensity_db


@pytest.mark.parametrize("level", [-11.5, -20.0, -40.0])
def test_every_frame_of_a_silent_stretch_has_a_gradient_toward_sound(level):
    """log-mel at the model's floor (log 1e-5 = -11.5) and far below it, where a constant floor added to the
    power used to swallow the frame (the curve flat at -100 dB, its gradient zero)."""
    spec = MelSpec()
    logmel = torch.full((1, spec.n_mels, 64), level, dtype=torch.float32, requires_grad=True)
    curve = intensity_db(logmel, spec)
    assert curve.max() < -95.0
    (-(curve - (-40.0)) ** 2).sum().backward()  # a loss that asks the stretch for -40 dB
    per_frame = logmel.grad[0].sum(dim=0)
    assert torch.isfinite(logmel.grad).all()
    assert (per_frame > 0).all()  # every frame is pushed up, toward the target


def test_the_leak_moves_the_level_of_sounding_music_by_under_a_hundredth_of_a_db(monkeypatch):
    from engine.features import intensity as feature

    t = np.arange(22050) / 22050
    tone = sum(0.3 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 6))
    logmel = log_mel(torch.tensor(tone, dtype=torch.float64), MelSpec())
    with_leak = intensity_db(logmel)
    monkeypatch.setattr(feature, "LEAK_DB", -300.0)
    without = intensity_db(logmel)
    assert (with_leak - without).abs().max() < 0.01
