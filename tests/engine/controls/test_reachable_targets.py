"""Intensity targets outside the job's loudness range (its tag set's reach, inside the model's range): the music
is asked for the clamped part, the rest is applied as gain on the written audio and reported in words; with gain
off the miss is reported, not hidden."""

import numpy as np
import pytest

from engine.api import generate, job_reach, plan_for
from engine.audio.gain import LIMIT, apply_gain_db
from engine.controls.intensity import split_target
from engine.features.intensity import waveform_intensity_db
from engine.job import Job
from engine.models.loudness import DEFAULT_RANGE, LoudnessRange, range_from_stats

REACH = LoudnessRange(-40.0, -12.0, "test")


def _job(db, **control):
    return Job.from_dict({"duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
                          "optimizer": {"steps": 2, "lr": 0.1},
                          "controls": [{"type": "intensity", "times": [0, 1.0], "db": db, **control}]})


def test_split_target_clamps_into_the_range_and_leaves_the_rest_to_gain():
    requested = np.array([-55.0, -40.0, -25.0, -12.0, -3.0])
    music, gain = split_target(requested, REACH)
    assert music.tolist() == [-40.0, -40.0, -25.0, -12.0, -12.0]
    assert gain.tolist() == [-15.0, 0.0, 0.0, 0.0, 9.0]


def test_the_built_in_model_reads_its_range_from_its_data_statistics(tiny_model, tmp_path):
    reach = tiny_model.loudness_range()
    assert reach.source.startswith("measured") and -45 < reach.low_db < reach.high_db < -10
    assert range_from_stats(tmp_path / "missing.json") == DEFAULT_RANGE


def test_gain_follows_the_curve_and_the_limiter_keeps_peaks_below_full_scale():
    rate, frame_rate = 22050, 22050 / 256
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)
    frames = int(frame_rate) + 1
    down = apply_gain_db(tone, np.full(frames, -20.0), frame_rate=frame_rate, sample_rate=rate)
    assert np.allclose(down.audio, tone * 0.1, atol=1e-9) and down.limited_db == 0.0
    up = apply_gain_db(tone, np.full(frames, 30.0), frame_rate=frame_rate, sample_rate=rate)  # peaks at 3.16
    assert LIMIT < np.abs(up.audio).max() <= 1.0
    assert up.limited_db == pytest.approx(20 * np.log10(0.1 * 10 ** 1.5), abs=0.05)


def _reach(model) -> LoudnessRange:
    """The range a job of `_job` is split against on `model` (its tag set's, measured the way generate does)."""
    job = _job([-30.0, -30.0])
    return job_reach(model, job, plan_for(job))


def test_a_target_below_the_range_is_clamped_for_the_music_and_the_rest_applied_as_gain(tiny_model):
    low = _reach(tiny_model).low_db
    result = generate(_job([low - 15.0, low - 15.0]))
    assert result.loudness_range[0] == pytest.approx(low)
    report = result.control_reports[0][0]
    assert report.gain_db == pytest.approx(-15.0, abs=1e-6)
    assert "applied as gain" in report.words and f"asked {low - 15.0:.1f} dB" in report.words
    music = waveform_intensity_db(result.music_audio[0, 0].astype(np.float64))
    heard = waveform_intensity_db(result.audio[0, 0].astype(np.float64))
    assert np.median(music - heard) == pytest.approx(15.0, abs=0.5)
    sidecar = result.to_sidecar()
    assert sidecar["controls_report"][0][0]["gain_db"] == pytest.approx(-15.0, abs=1e-6)
    assert "applied as gain" in sidecar["summary"][0]


def test_with_gain_off_the_audio_is_the_music_and_the_miss_is_reported(tiny_model):
    low = _reach(tiny_model).low_db
    result = generate(_job([low - 15.0, low - 15.0], gain=False))
    report = result.control_reports[0][0]
    assert np.array_equal(result.audio, result.music_audio)
    assert "gain is off" in report.words
    assert not report.met and report.missed_by > 0 and "missed by" in result.summaries[0]


def test_a_target_inside_the_range_gets_no_gain(tiny_model):
    reach = _reach(tiny_model)
    middle = (reach.low_db + reach.high_db) / 2
    result = generate(_job([middle, middle + 3]))
    assert np.array_equal(result.audio, result.music_audio)
    assert result.control_reports[0][0].words is None and result.control_reports[0][0].gain_db == 0.0
