"""The independent rhythm meter: onsets of clicks and a rendered drum loop, F-measure on hand-made lists, tempo."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from engine.evaluation import onsets as meter
from engine.evaluation.metrics import MetricInputError
from engine.evaluation.onsets import beat_tempo, clip_onset_f_measure, detect_onsets, onset_f_measure, tempo_matches

RATE = 22050


def click_track(times, seconds: float, rate: int = RATE) -> np.ndarray:
    """Silence with a 10-ms decaying noise burst starting at each of `times` (seconds)."""
    audio = np.zeros(int(seconds * rate))
    rng = np.random.default_rng(7)
    length = int(0.01 * rate)
    decay = np.exp(-np.arange(length) / (0.002 * rate))
    for t in times:
        start = round(t * rate)
        audio[start:start + length] += 0.5 * rng.normal(size=length)[: audio.size - start] * decay[: audio.size - start]
    return audio


# ----------------------------------------------------------------------------------------------- onsets


@pytest.mark.parametrize("rate", [22050, 44100])
def test_clicks_are_found_within_10_ms(rate):
    times = np.array([0.1, 0.5, 0.77, 1.2, 1.9, 2.05, 3.3, 4.0, 4.25, 5.5])
    found = detect_onsets(click_track(times, 6.0, rate), rate)
    assert found.size == times.size
    assert np.abs(found - times).max() <= 0.010


def test_stereo_audio_is_averaged_over_channels():
    times = [0.3, 0.9, 1.4]
    mono_clicks = click_track(times, 2.0)
    found = detect_onsets(np.stack([mono_clicks, mono_clicks]), RATE)
    np.testing.assert_allclose(found, detect_onsets(mono_clicks, RATE))


def test_silence_has_no_onsets():
    assert detect_onsets(np.zeros(2 * RATE), RATE).size == 0


def test_audio_with_nan_is_refused():
    audio = click_track([0.5], 1.0)
    audio[100] = np.nan
    with pytest.raises(MetricInputError, match="NaN"):
        detect_onsets(audio, RATE)


def test_a_drum_loop_rendered_from_the_corpus_recipe_is_found_at_its_notes():
    from engine.training.compose import Meter, Timeline, drum_part
    from engine.training.corpus_dynamics import Envelope
    from engine.training.corpus_render import bundled_soundfont, render_parts

    seconds = 5.94
    timeline = Timeline(bpm=120.0, meter=Meter(4.0, 1.0), start_q=0.0, clip_seconds=seconds)
    part = drum_part(timeline, style="backbeat", kit=0, base_velocity=95.0, fill_bars=set(), crash_bars=set(),
                     rng=np.random.default_rng(3))
    audio = render_parts([part], Envelope((0.0,), (110.0,)), soundfont=bundled_soundfont(), sample_rate=RATE,
                         n_samples=int(seconds * RATE))
    notes = sorted(n.start for n in part.notes)
    onsets = [t for i, t in enumerate(notes) if i == 0 or t - notes[i - 1] > 0.010]  # a kick and a hat together
    scores = clip_onset_f_measure(audio, RATE, onsets)
    assert scores["targets"] == sum(t >= meter.BLIND_SECONDS for t in onsets)
    assert scores["f"] >= 0.9


def test_onsets_in_the_blind_start_are_not_scored():
    """A click at 0 s cannot be found; scored from meter.BLIND_SECONDS, the clip scores as if it were not asked for."""
    later = [0.5, 1.0, 1.5]
    scores = clip_onset_f_measure(click_track([0.0] + later, 2.0), RATE, [0.0] + later)
    assert scores["targets"] == len(later)
    assert scores["f"] == 1.0
    assert onset_f_measure(detect_onsets(click_track([0.0] + later, 2.0), RATE), [0.0] + later)[2] < 1.0


# ----------------------------------------------------------------------------------------------- F-measure


TARGET = [0.25, 0.75, 1.25, 1.75, 2.25, 2.75]


def test_the_target_itself_scores_one():
    assert onset_f_measure(TARGET, TARGET) == (1.0, 1.0, 1.0)


def test_onsets_30_ms_late_hit_a_50_ms_window():
    assert onset_f_measure([t + 0.03 for t in TARGET], TARGET, window=0.05) == (1.0, 1.0, 1.0)
    assert onset_f_measure([t - 0.03 for t in TARGET], TARGET, window=0.05) == (1.0, 1.0, 1.0)


def test_onsets_80_ms_late_miss_a_50_ms_window():
    assert onset_f_measure([t + 0.08 for t in TARGET], TARGET, window=0.05) == (0.0, 0.0, 0.0)


def test_extra_onsets_lower_precision_only():
    extra = TARGET + [0.5, 1.0, 1.5]
    f, precision, recall = onset_f_measure(extra, TARGET)
    assert recall == 1.0
    assert precision == pytest.approx(6 / 9)
    assert f == pytest.approx(2 * precision * recall / (precision + recall))


def test_missing_onsets_lower_recall_only():
    f, precision, recall = onset_f_measure(TARGET[::2], TARGET)
    assert precision == 1.0
    assert recall == pytest.approx(0.5)
    assert f == pytest.approx(2 / 3)


def test_one_found_onset_hits_at_most_one_target():
    """Two targets 40 ms apart and one onset between them: one hit, one miss."""
    _, precision, recall = onset_f_measure([1.02], [1.0, 1.04], window=0.05)
    assert (precision, recall) == (1.0, 0.5)


def test_the_match_is_the_largest_not_the_nearest():
    """Matching 0.06 to its nearest target 0.04 would leave 0.0 and 0.1 unmatched; the largest matching pairs
    0.0-0.04 and 0.06-0.1."""
    assert onset_f_measure([0.0, 0.06], [0.04, 0.1], window=0.05) == (1.0, 1.0, 1.0)


def test_the_order_of_the_lists_does_not_matter():
    found = [1.26, 0.24, 2.76, 0.9]
    assert onset_f_measure(found, TARGET[::-1]) == onset_f_measure(sorted(found), TARGET)


@pytest.mark.parametrize("seed", range(20))
def test_the_in_order_match_is_as_large_as_a_maximum_bipartite_matching(seed):
    rng = np.random.default_rng(seed)
    found = np.sort(rng.uniform(0.0, 3.0, int(rng.integers(1, 40))))
    target = np.sort(rng.uniform(0.0, 3.0, int(rng.integers(1, 40))))
    window = float(rng.uniform(0.02, 0.15))
    reach = np.abs(found[:, None] - target[None, :]) <= window
    best = int((maximum_bipartite_matching(csr_matrix(reach), perm_type="column") >= 0).sum())
    _, precision, _ = onset_f_measure(found, target, window)
    assert round(precision * found.size) == best


def test_an_empty_list_scores_zero():
    assert onset_f_measure([], TARGET) == (0.0, 0.0, 0.0)
    assert onset_f_measure(TARGET, []) == (0.0, 0.0, 0.0)


def test_a_nan_onset_is_refused_naming_its_index():
    with pytest.raises(MetricInputError, match=r"estimated\[1\]: must be a finite number"):
        onset_f_measure([0.1, float("nan")], TARGET)


def test_a_window_of_zero_is_refused():
    with pytest.raises(MetricInputError, match="window"):
        onset_f_measure(TARGET, TARGET, window=0.0)


# ----------------------------------------------------------------------------------------------- tempo


@pytest.mark.parametrize("bpm", [100.0, 140.0])
def test_the_tempo_of_a_click_track_is_found_within_4_percent(bpm):
    audio = click_track(np.arange(0.0, 8.0, 60.0 / bpm), 8.0)
    found = beat_tempo(audio, RATE)
    assert tempo_matches(found, bpm)


def test_silence_has_no_tempo():
    assert beat_tempo(np.zeros(4 * RATE), RATE) == 0.0


def test_a_tempo_within_4_percent_matches():
    assert tempo_matches(123.0, 120.0)
    assert tempo_matches(116.0, 120.0)
    assert not tempo_matches(125.5, 120.0)
    assert not tempo_matches(0.0, 120.0)


def test_half_or_double_the_tempo_does_not_match():
    assert not tempo_matches(60.0, 120.0)
    assert not tempo_matches(240.0, 120.0)


def test_a_target_tempo_of_zero_is_refused():
    with pytest.raises(MetricInputError, match="target"):
        tempo_matches(120.0, 0.0)
