"""Features agree with independent references computed another way, on known signals."""

import numpy as np
import pytest
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.errors import FeatureInputError
from engine.features import chroma, intensity_db, self_similarity, waveform_intensity_db

SR = 22050


def _tone(freq, seconds=1.0, amplitude=0.3, harmonics=1):
    t = np.arange(int(SR * seconds)) / SR
    return sum(amplitude / k * np.sin(2 * np.pi * freq * k * t) for k in range(1, harmonics + 1))


def _mel(audio):
    return log_mel(torch.tensor(audio, dtype=torch.float64), MelSpec())


@pytest.mark.parametrize("signal", ["tone", "harmonic", "chord", "crescendo"])
def test_intensity_from_mel_matches_waveform_rms_in_db(signal):
    t = np.arange(SR * 2) / SR
    audio = {
        "tone": _tone(440, 2),
        "harmonic": _tone(220, 2, harmonics=8),
        "chord": sum(_tone(f, 2, 0.1) for f in (261.6, 329.6, 392.0)),
        "crescendo": _tone(330, 2, harmonics=5) * np.linspace(0.01, 1.0, len(t)),
    }[signal]
    from_mel = intensity_db(_mel(audio)).numpy()
    from_wave = waveform_intensity_db(audio)
    inner = slice(12, -12)  # away from the reflect-padded edges
    assert np.abs(from_mel[inner] - from_wave[inner]).mean() < 1.0
    if signal == "crescendo":
        assert from_wave[-20] - from_wave[20] > 12  # amplitude 0.12 -> 0.97 between those frames: 18 dB


def test_intensity_of_a_sine_is_its_rms_in_db():
    db = intensity_db(_mel(_tone(440, 1.0, amplitude=0.5))).numpy()
    assert abs(np.median(db) - 20 * np.log10(0.5 / np.sqrt(2))) < 1.0


@pytest.mark.parametrize("midi", [57, 60, 64, 67, 70, 74])
def test_chroma_of_a_tone_peaks_at_its_pitch_class(midi):
    freq = 440 * 2 ** ((midi - 69) / 12)
    c = chroma(_mel(_tone(freq, 0.5, harmonics=4)))
    assert int(c.mean(dim=-1).argmax()) == midi % 12
    assert torch.allclose(c.sum(dim=-2), torch.ones(c.shape[-1], dtype=c.dtype))


def test_self_similarity_is_high_where_a_section_repeats():
    a, b = _tone(262, 1.0, harmonics=6), np.random.default_rng(0).standard_normal(SR) * 0.05
    ssm = self_similarity(_mel(np.concatenate([a, b, a]))).numpy()
    blocks = ssm.shape[0]
    third = blocks // 3
    a1, b1, a2 = slice(2, third - 2), slice(third + 2, 2 * third - 2), slice(2 * third + 2, blocks - 2)
    repeat = ssm[a1, a2].mean()
    across = ssm[a1, b1].mean()
    assert repeat > 0.8 and across < 0.3 and repeat - across > 0.6


@pytest.mark.parametrize("bad", [torch.full((80, 10), float("nan")), torch.zeros(40, 10), torch.zeros(80, 10, dtype=torch.int64)])
def test_features_reject_bad_input_with_a_clear_error(bad):
    with pytest.raises(FeatureInputError):
        intensity_db(bad)
