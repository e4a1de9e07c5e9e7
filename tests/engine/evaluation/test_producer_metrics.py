"""The WAV measures of the producer-scale evaluation, on known signals."""

import numpy as np
import pytest

from engine.evaluation import producer_metrics as pm

RATE = 22050


def sine(seconds: float, amplitude: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * np.pi * hz * t)


@pytest.mark.parametrize("rms_db", [-40.0, -20.0, -6.0])
def test_a_sine_reads_its_rms_in_db(rms_db):
    amplitude = np.sqrt(2) * 10 ** (rms_db / 20)
    curve = pm.loudness_db(sine(2.0, amplitude), RATE)
    inner = curve[10:-10]  # away from the zero-padded edges
    assert np.allclose(inner, rms_db, atol=0.05)
    assert curve.size == 1 + int(2.0 * RATE) // pm.HOP


def test_mse_against_a_flat_target_is_the_offset_squared():
    audio = sine(2.0, np.sqrt(2) * 10 ** (-20 / 20))
    frames = pm.frame_db(audio, RATE).size
    target = pm.target_curve([0.0], [-23.0], frames, RATE)
    curve = pm.loudness_db(audio, RATE)
    assert pm.loudness_mse(audio, RATE, target) == pytest.approx(np.mean((curve + 23.0) ** 2))
    assert pm.loudness_mse(audio[..., :], RATE, pm.target_curve([0.0], [-20.0], frames, RATE)) < 1.0


def test_target_curve_interpolates_and_holds_the_ends():
    frames = 1 + 4 * RATE // pm.HOP
    curve = pm.target_curve([1.0, 3.0], [-40.0, -20.0], frames, RATE)
    t = pm.frame_times(frames, RATE)
    assert np.all(curve[t <= 1.0] == -40.0) and np.all(curve[t >= 3.0] == -20.0)
    middle = np.argmin(np.abs(t - 2.0))
    assert curve[middle] == pytest.approx(-30.0, abs=0.3)


def test_stereo_is_averaged():
    mono = sine(1.0, 0.1)
    assert np.allclose(pm.frame_db(np.stack([mono, mono]), RATE), pm.frame_db(mono, RATE))


def test_silence_is_flagged_as_a_silent_stretch():
    audio = np.zeros(2 * RATE)
    frames = pm.frame_db(audio, RATE).size
    assert pm.frame_db(audio, RATE).max() == pm.FLOOR_DB
    assert pm.silent_stretch(audio, RATE, np.full(frames, -20.0))


def test_the_silent_stretch_rule():
    loud = sine(3.0, 0.1)
    frames = pm.frame_db(loud, RATE).size
    audible = np.full(frames, -20.0)
    assert not pm.silent_stretch(loud, RATE, audible)
    gap = loud.copy()
    gap[RATE: RATE + int(0.5 * RATE)] = 0.0  # 0.5 s of digital silence
    assert pm.silent_stretch(gap, RATE, audible)
    short = loud.copy()
    short[RATE: RATE + int(0.15 * RATE)] = 0.0  # shorter than 0.25 s: not a stretch
    assert not pm.silent_stretch(short, RATE, audible)
    assert not pm.silent_stretch(gap, RATE, np.full(frames, -60.0))  # the target itself asks for near silence
    quiet = gap.copy()
    quiet[RATE: RATE + int(0.5 * RATE)] = sine(0.5, 1e-4)[: int(0.5 * RATE)]  # -83 dB: quiet, not silent
    assert not pm.silent_stretch(quiet, RATE, audible)


def test_longest_run():
    assert pm.longest_run(np.array([0, 1, 1, 0, 1, 1, 1, 0], dtype=bool)) == 3
    assert pm.longest_run(np.zeros(4, dtype=bool)) == 0


def test_clipped_target_and_normalization():
    target = np.array([-50.0, -30.0, -5.0])
    assert np.array_equal(pm.clipped_target(target, (-33.0, -14.0)), [-33.0, -30.0, -14.0])
    assert np.array_equal(pm.clipped_target(target, None), target)
    louder = pm.normalized(sine(1.0, 0.01))
    assert 20 * np.log10(np.sqrt(np.mean(louder ** 2))) == pytest.approx(pm.NORMALIZED_RMS_DB)
    assert pm.rms_db(louder) == pytest.approx(pm.NORMALIZED_RMS_DB)
    assert not pm.normalized(np.zeros(100)).any()


def test_melody_target_on_the_frame_grid():
    notes = [{"start": 0.0, "end": 0.5, "pitch": 60}, {"start": 1.0, "end": 1.5, "pitch": 71}]
    target = pm.melody_target(notes, 200, RATE)
    t = np.arange(200) * 256 / RATE
    assert np.all(target[t < 0.5] == 0) and np.all(target[(t >= 1.0) & (t < 1.5)] == 11)
    assert np.all(target[(t >= 0.5) & (t < 1.0)] == -1)


def test_summary_on_known_numbers():
    stats = pm.summary([float(v) for v in range(1, 11)])
    assert stats["n"] == 10
    assert stats["median"] == pytest.approx(5.5)
    assert stats["p90"] == pytest.approx(9.1)
    assert stats["p10"] == pytest.approx(1.9)
    assert stats["mean"] == pytest.approx(5.5)
    assert pm.summary([3.0, None, float("nan")])["n"] == 1
    assert np.isnan(pm.summary([])["median"])


def test_bad_audio_is_refused():
    with pytest.raises(pm.MeasureError, match="NaN"):
        pm.frame_db(np.array([0.0, np.nan] * 2000), RATE)
    with pytest.raises(pm.MeasureError, match="shape"):
        pm.frame_db(np.zeros((2, 2, 2)), RATE)


def test_a_takes_level_is_its_whole_rms_in_db_and_silence_is_minus_infinity():
    assert pm.rms_db(sine(1.0, np.sqrt(2) * 0.1)) == pytest.approx(-20.0, abs=0.01)
    assert pm.rms_db(np.zeros(100)) == float("-inf")


def test_a_take_given_another_takes_dynamics_follows_its_loudness_contour():
    steady = sine(3.0, np.sqrt(2) * 10 ** (-20 / 20))
    t = np.arange(steady.size) / RATE
    ramp = sine(3.0, 1.0) * 10 ** ((-40 + 10 * t) / 20)  # -43 dB at 0 s to -13 dB at 3 s
    shaped = pm.with_dynamics_of(steady, ramp, RATE)
    inner = slice(20, -20)
    assert np.allclose(pm.loudness_db(shaped, RATE)[inner], pm.loudness_db(ramp, RATE)[inner], atol=0.5)
    assert shaped.shape == steady.shape


def test_a_take_given_its_own_dynamics_is_unchanged():
    take = sine(1.0, 0.3) * np.linspace(0.2, 1.0, RATE)
    assert np.allclose(pm.with_dynamics_of(take, take, RATE), take)
