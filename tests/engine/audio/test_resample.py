"""One resampler and one channel rule for every WAV the project writes or reads back."""

import numpy as np
import pytest

from engine.audio.resample import match_channels, resample_array


def _tone(seconds=0.5, rate=22050, hz=1000.0):
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)


def test_resampling_keeps_the_duration_and_the_pitch():
    out = resample_array(_tone()[None], 22050, 44100)
    assert out.shape == (1, 22050)
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert np.fft.rfftfreq(out.shape[1], 1 / 44100)[np.argmax(spectrum)] == pytest.approx(1000.0, abs=2.0)


def test_one_channel_is_the_mix():
    stereo = np.stack([_tone(), -_tone()])
    assert np.allclose(match_channels(stereo, 1), 0.0)


@pytest.mark.parametrize("have, want, order", [(1, 2, [0, 0]), (2, 2, [0, 1]), (6, 2, [0, 1]), (2, 3, [0, 1, 0])])
def test_other_counts_take_channels_in_turn(have, want, order):
    audio = np.arange(have, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    assert match_channels(audio, want)[:, 0].tolist() == [float(i) for i in order]
