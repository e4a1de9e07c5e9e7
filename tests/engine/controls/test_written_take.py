"""An intensity render is judged as the take will be written: its gain applied, read by the listener's meter."""

import numpy as np
import torch

from engine.audio.gain import apply_gain_db
from engine.audio.mel import MelSpec
from engine.controls.intensity import IntensityControl, audio_levels_db
from engine.evaluation import producer_metrics

SPEC = MelSpec()
SECONDS = 4.0


def _drop_below_reach() -> IntensityControl:
    """Asked -20 dB, then -45 dB from 2 s (a 0.1-s fall, as a drawn drop has); the music reaches -30 dB, so 15 dB
    of the drop is left to gain."""
    frames = SPEC.frames_for(SECONDS)
    times = SPEC.frame_times(frames)
    requested = np.interp(times, [1.95, 2.05], [-20.0, -45.0])
    music = np.clip(requested, -30.0, 0.0)
    return IntensityControl(label="intensity", weight=1.0, tolerance=1.5, target_db=torch.from_numpy(music),
                            mask=torch.ones(frames), spec=SPEC, requested_db=torch.from_numpy(requested))


def _music_on_its_target(control: IntensityControl) -> np.ndarray:
    """`(1, 1, samples)` noise whose level follows the music's target exactly, sample by sample."""
    samples = int(SECONDS * SPEC.sample_rate)
    level_db = np.interp(np.arange(samples) / SPEC.sample_rate, SPEC.frame_times(control.target_db.shape[-1]),
                         control.target_db.numpy())
    noise = np.random.default_rng(0).standard_normal(samples)
    return (noise * 10 ** (level_db / 20))[None, None]


def test_a_render_whose_music_meets_its_target_is_judged_by_the_take_written_from_it():
    control = _drop_below_reach()
    music = _music_on_its_target(control)
    judged = float(control.audio_metric(torch.zeros(1), torch.from_numpy(music)))

    written = apply_gain_db(music[0, 0], control.gain_db.numpy(), frame_rate=SPEC.frame_rate,
                            sample_rate=SPEC.sample_rate).audio
    wav_db = producer_metrics.loudness_db(written, SPEC.sample_rate)
    asked = np.interp(producer_metrics.frame_times(wav_db.size, SPEC.sample_rate),
                      SPEC.frame_times(control.target_db.shape[-1]), control.requested_db.numpy())
    on_the_wav = float(np.sqrt(np.mean((wav_db - asked) ** 2)))
    music_alone = float(np.sqrt(np.mean((producer_metrics.loudness_db(music[0, 0], SPEC.sample_rate)
                                         - np.clip(asked, -30.0, 0.0)) ** 2)))
    assert abs(judged - on_the_wav) < 0.1
    assert judged > music_alone + 0.3  # the gain's step reads as a ramp on the written take


def test_without_gain_the_written_take_is_the_music():
    control = _drop_below_reach()
    control.gain = False
    music = torch.from_numpy(_music_on_its_target(control))
    frames = control.target_db.shape[-1]
    assert np.array_equal(control.written_levels_db(music), audio_levels_db(music, SPEC, frames))
    with_gain = _drop_below_reach().written_levels_db(music)
    assert np.abs(with_gain - audio_levels_db(music, SPEC, frames)).max() > 1.0  # the gain's step, read as a ramp
