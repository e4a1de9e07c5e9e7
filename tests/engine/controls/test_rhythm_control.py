"""The rhythm control: target onsets from a list, a grid or a reference recording; its loss and metric on audio."""

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.controls.build import build_controls
from engine.controls.rhythm import RhythmControl, grid_onsets, repeat_onsets
from engine.errors import JobError
from engine.job import Job
from engine.models.registry import load_model

SPEC = MelSpec()
RATE = SPEC.sample_rate
TARGET = np.array([0.25, 0.75, 1.25, 1.5, 2.0, 2.5])


def grid(**fields):
    return Job.from_dict({"duration": 4.0, "controls": [{"type": "rhythm", "grid": fields}]}).controls[0].grid


def test_a_straight_grid_puts_a_step_every_sixteenth_and_rests_where_the_pattern_is_zero():
    onsets, accents = grid_onsets(grid(tempo=120, pattern=[1, 0, 0.5, 0]), 2.0)
    assert np.allclose(onsets, np.arange(0, 2.0, 0.25))  # a step is 0.125 s; every second step rests
    assert np.allclose(accents, [1, 0.5] * 4)


def test_swing_delays_every_second_step_by_its_share_of_a_step():
    onsets, _ = grid_onsets(grid(tempo=120, steps_per_beat=2, pattern=[1, 1], swing=1 / 3, start=0.5), 2.0)
    assert np.allclose(onsets, [0.5, 0.5 + 0.25 + 0.25 / 3, 1.0, 1.0 + 0.25 + 0.25 / 3, 1.5, 1.5 + 0.25 + 0.25 / 3])


def test_a_grid_without_a_pattern_plays_every_beat_with_the_bars_first_accented():
    onsets, accents = grid_onsets(grid(tempo=90, beats_per_bar=3), 4.0)
    assert np.allclose(onsets, np.arange(6) * 60 / 90)
    assert np.allclose(accents, [1.0, 0.7, 0.7] * 2)


def test_a_short_reference_repeats_its_onsets_and_accents_to_fill_the_clip():
    onsets, accents = repeat_onsets(np.array([0.1, 0.6]), np.array([1.0, 0.4]), 1.0, 2.5)
    assert np.allclose(onsets, [0.1, 0.6, 1.1, 1.6, 2.1]) and np.allclose(accents, [1.0, 0.4, 1.0, 0.4, 1.0])


def clicks(times, seconds=3.0, levels=None) -> np.ndarray:
    rng = np.random.default_rng(1)
    audio = np.zeros(int(seconds * RATE))
    n = int(0.03 * RATE)
    for t, level in zip(times, levels if levels is not None else [0.5] * len(times)):
        start = round(t * RATE)
        audio[start:start + n] += level * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * RATE))
    return audio.astype(np.float32)


def control_for(frames: int, onsets=TARGET) -> RhythmControl:
    return RhythmControl(label="rhythm", weight=1.0, tolerance=0.2, onsets=onsets, accents=np.ones(len(onsets)),
                         window=0.05, spec=SPEC, frames=frames, end=frames)


def test_clicks_on_the_targets_meet_the_metric_and_shifted_clicks_miss_it():
    on = log_mel(torch.from_numpy(clicks(TARGET)), SPEC)[None]
    late = log_mel(torch.from_numpy(clicks(TARGET + 0.1)), SPEC)[None]
    control = control_for(on.shape[-1])
    assert float(control.metric(on)[0]) == 0.0
    assert float(control.metric(late)[0]) == 1.0
    assert float(control.loss(on)[0]) < 0.5 * float(control.loss(late)[0])


def test_extra_onsets_between_the_targets_raise_the_loss_and_the_metric():
    clean = log_mel(torch.from_numpy(clicks(TARGET)), SPEC)[None]
    busy = log_mel(torch.from_numpy(clicks(np.sort(np.r_[TARGET, TARGET[:-1] + 0.22]))), SPEC)[None]
    control = control_for(clean.shape[-1])
    assert float(control.loss(busy)[0]) > float(control.loss(clean)[0]) + 0.2
    assert float(control.metric(busy)[0]) > 0.2


@pytest.fixture(scope="module")
def tiny():
    return load_model("builtin-tiny", torch.device("cpu"))


def test_a_reference_recordings_onsets_and_accents_are_found_and_repeated_over_the_clip(tmp_path, tiny):
    path = tmp_path / "loop.wav"
    sf.write(path, clicks([0.1, 0.5, 0.8], seconds=1.0, levels=[0.6, 0.03, 0.2]), RATE)
    job = Job.from_dict({"duration": 3.0, "model": "builtin-tiny",
                         "controls": [{"type": "rhythm", "reference": str(path)}]})
    [control] = build_controls(job, tiny)
    expected = np.array([0.1, 0.5, 0.8, 1.1, 1.5, 1.8, 2.1, 2.5, 2.8])
    assert len(control.onsets) == len(expected)
    assert np.abs(control.onsets - expected).max() <= 0.015  # a frame is 11.6 ms
    loud, soft, middle = control.accents[:3]
    assert loud == 1.0 and soft < middle < loud  # the recording's own accents, repeated with it
    assert np.allclose(control.accents[3:6], control.accents[:3])


def test_a_silent_reference_is_refused_naming_the_field(tmp_path, tiny):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(RATE, dtype=np.float32), RATE)
    job = Job.from_dict({"duration": 2.0, "model": "builtin-tiny",
                         "controls": [{"type": "rhythm", "reference": str(path)}]})
    with pytest.raises(JobError, match=r"controls\[0\].reference: no onset found"):
        build_controls(job, tiny)
