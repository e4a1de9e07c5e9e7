import numpy as np
import pytest

from engine.audio.io import write_wav
from engine.evaluation.held_partials import (MIN_RUN_FRAMES, PROMINENCE_NATS, held_partial_ratio,
                                             held_partial_ratio_logmel, held_partial_ratio_wav, librosa_logmel,
                                             spectral_peaks)
from engine.evaluation.metrics import MetricInputError

RATE = 22050
SECONDS = 2.0


def seconds(rate: int = RATE) -> np.ndarray:
    return np.arange(int(SECONDS * rate)) / rate


def held_sine(rate: int = RATE) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * 440.0 * seconds(rate))


def ridge(frames: int, *, bin_: int = 40, height: float = 1.0, total_frames: int = 40) -> np.ndarray:
    """A flat log-mel of zeros with one raised bin over the first `frames` frames."""
    logmel = np.zeros((80, total_frames))
    logmel[bin_, :frames] = height
    return logmel


def test_a_held_sine_scores_near_one():
    """A 440 Hz sine held for two seconds keeps its one peak on one bin, so nearly every peak is held."""
    assert held_partial_ratio(held_sine(), RATE) > 0.95


def test_white_noise_scores_near_zero():
    """White noise puts its peaks on random bins from frame to frame, so almost none stays eight frames."""
    noise = np.random.default_rng(0).normal(scale=0.1, size=seconds().size)
    assert held_partial_ratio(noise, RATE) < 0.05


def test_a_tone_gliding_an_octave_per_second_scores_low():
    """An exponential sweep from 1 kHz up an octave per second crosses a mel bin every ~5 frames, so it is not held."""
    t = seconds()
    sweep = 0.5 * np.sin(2 * np.pi * 1000.0 * (2.0 ** t - 1) / np.log(2))
    assert held_partial_ratio(sweep, RATE) < 0.1


def test_a_run_counts_as_held_from_exactly_eight_frames():
    """A ridge of MIN_RUN_FRAMES frames is held and one frame shorter is not: the threshold is inclusive."""
    assert held_partial_ratio_logmel(ridge(MIN_RUN_FRAMES)) == 1.0
    assert held_partial_ratio_logmel(ridge(MIN_RUN_FRAMES - 1)) == 0.0


def test_the_share_counts_peaks_not_runs():
    """One held run of 10 frames and one short run of 2 frames give 10 held peaks out of 12."""
    logmel = ridge(10)
    logmel[20, 15:17] = 1.0
    assert held_partial_ratio_logmel(logmel) == pytest.approx(10 / 12)


def test_a_peak_needs_its_prominence_over_bins_two_away():
    """A bump just below PROMINENCE_NATS above the bins two away is not a peak; one just above is."""
    assert not spectral_peaks(ridge(10, height=PROMINENCE_NATS - 0.01)).any()
    assert spectral_peaks(ridge(10, height=PROMINENCE_NATS + 0.01)).sum() == 10


def test_a_clip_without_peaks_has_no_ratio():
    """A flat log-mel has no peak at all, so its ratio is NaN rather than a made-up 0 or 1."""
    assert np.isnan(held_partial_ratio_logmel(np.zeros((80, 40))))


def test_a_wav_at_another_rate_is_resampled_first(tmp_path):
    """A held sine in a 44.1 kHz WAV file is resampled to 22,050 Hz and scores like the same sine at 22,050 Hz."""
    path = write_wav(tmp_path / "sine.wav", held_sine(44100)[None], 44100)
    assert held_partial_ratio_wav(path) == pytest.approx(held_partial_ratio(held_sine(), RATE), abs=0.02)


def test_the_log_mel_has_80_bins_and_one_frame_per_hop_plus_one():
    """librosa centres its frames, so two seconds at hop 256 give 44100 // 256 + 1 frames of 80 bins."""
    assert librosa_logmel(held_sine(), RATE).shape == (80, int(SECONDS * RATE) // 256 + 1)


@pytest.mark.parametrize("bad", [np.zeros(80), np.zeros((4, 10)), np.full((80, 10), np.nan)])
def test_a_log_mel_of_the_wrong_shape_or_not_finite_is_refused(bad):
    """A log-mel must be (n_mels >= 5, frames) and finite; anything else raises MetricInputError naming it."""
    with pytest.raises(MetricInputError, match="logmel"):
        spectral_peaks(bad)
