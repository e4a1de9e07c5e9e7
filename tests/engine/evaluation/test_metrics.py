"""Metrics on hand-made signals: sines, clicks, envelopes, alternating sections."""

import numpy as np
import pytest

from engine.evaluation import metrics
from engine.evaluation.metrics import MetricInputError

RATE = 22050


def tone(freq: float, seconds: float, amplitude: float = 0.3, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * RATE))) / RATE
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def melody(midi_notes, note_seconds: float = 0.5) -> np.ndarray:
    return np.concatenate([tone(440.0 * 2 ** ((n - 69) / 12), note_seconds) for n in midi_notes])


def test_intensity_mse_is_zero_for_the_audio_own_curve_and_the_square_of_an_offset():
    audio = tone(330, 2.0) * np.linspace(0.05, 1.0, 2 * RATE)
    curve = metrics.intensity_curve(audio, RATE)
    assert curve.shape == (2 * RATE // 256,)
    assert metrics.intensity_mse(audio, RATE, curve) == pytest.approx(0.0, abs=1e-9)
    assert metrics.intensity_mse(audio, RATE, curve + 6.0) == pytest.approx(36.0, rel=1e-6)


def test_intensity_of_a_sine_is_its_rms_level():
    curve = metrics.intensity_curve(tone(440, 1.0, amplitude=0.5), RATE)
    assert np.median(curve) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.2)


def test_a_seamless_sine_loop_scores_near_one_and_a_click_far_above():
    loop = tone(441.0, 1.0)  # 441 whole periods: the wrap continues the wave
    seamless = metrics.loop_seam_score(loop, RATE)
    clicked = loop.copy()
    clicked[-8:] += 0.8
    jumped = tone(441.0, 1.0, phase=0.0)[: RATE - 37]  # cut mid-period: a phase jump at the wrap
    assert seamless == pytest.approx(1.0, abs=0.15)
    assert metrics.loop_seam_score(clicked, RATE) > 5 * seamless
    assert metrics.loop_seam_score(jumped, RATE) > 5 * seamless


def test_a_boundary_inside_steady_music_is_no_seam_and_a_hard_cut_is():
    steady = tone(220, 3.0) + tone(330, 3.0, amplitude=0.2)
    assert metrics.seam_scores(steady, RATE, [1.5])[0] == pytest.approx(1.0, abs=0.15)
    cut = np.concatenate([steady[: int(1.5 * RATE)], tone(523, 1.5)])
    assert metrics.seam_scores(cut, RATE, [1.5])[0] > 5.0


def test_a_pure_tone_melody_is_read_right_from_chroma():
    notes = [60, 62, 64, 65, 67, 69]
    audio = melody(notes)
    frames = audio.size // 256
    target = np.array([notes[min(int(i * 256 / RATE / 0.5), len(notes) - 1)] % 12 for i in range(frames)])
    assert metrics.melody_accuracy_chroma(audio, RATE, target) > 0.9
    wrong = (target + 1) % 12
    assert metrics.melody_accuracy_chroma(audio, RATE, wrong) < 0.1


def test_structure_mse_prefers_the_form_the_audio_has():
    from engine.audio.mel import MelSpec
    from engine.controls.structure import sections_to_similarity
    from engine.job import Section

    a, b = tone(220, 1.0) + tone(660, 1.0, amplitude=0.1), np.random.default_rng(0).normal(0, 0.1, RATE)
    audio = np.concatenate([a, b, a, b])
    frames = audio.size // 256

    def target(form):
        edges = np.linspace(0, 4.0, len(form) + 1)
        return sections_to_similarity([Section(s, e, l) for s, e, l in zip(edges[:-1], edges[1:], form)],
                                      MelSpec(), frames, 16)

    right = metrics.structure_mse(audio, RATE, *target("ABAB"))
    wrong = metrics.structure_mse(audio, RATE, *target("AABB"))
    assert right < 0.5 * wrong


def test_overlap_mse_is_zero_against_the_audio_own_mel_in_the_masked_frames():
    audio = tone(300, 1.0)
    reference = metrics.audio_logmel(audio, RATE).numpy()
    mask = np.zeros(reference.shape[-1])
    mask[:20] = 1
    assert metrics.overlap_mse(audio, RATE, reference, mask) == pytest.approx(0.0, abs=1e-9)
    other = metrics.audio_logmel(tone(600, 1.0), RATE).numpy()
    assert metrics.overlap_mse(audio, RATE, other, mask) > 1.0


def test_audio_at_another_rate_is_resampled_before_measuring():
    at_44k = np.sin(2 * np.pi * 440 * np.arange(44100) / 44100) * 0.3
    assert metrics.intensity_curve(at_44k, 44100).shape == (RATE // 256,)


@pytest.mark.parametrize("audio, message", [(np.full(4096, np.nan), "NaN"), (np.zeros((2, 2, 10)), "shape"),
                                            (np.zeros(100), "shorter")])
def test_bad_audio_is_refused_with_the_reason(audio, message):
    with pytest.raises(MetricInputError, match=message):
        metrics.intensity_curve(audio, RATE)
