"""The onset envelope and its picked onsets, checked against known times and against librosa's detector."""

import numpy as np
import pytest
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.evaluation.onsets import detect_onsets, onset_f_measure
from engine.evaluation.rhythm_set import merge_onsets
from engine.features.rhythm import (beat_contrast, frames_to_onset_seconds, onset_envelope, onset_frame_position,
                                    onset_seconds)
from engine.training import compose
from engine.training.corpus_dynamics import Envelope
from engine.training.corpus_render import bundled_soundfont, render_parts

SPEC = MelSpec()
RATE = SPEC.sample_rate


def clicks(times, *, seconds=4.0, noise=0.0, seed=0) -> np.ndarray:
    """Short noise bursts (5 ms decay) at `times` over optional background noise, float32 `(samples,)`."""
    rng = np.random.default_rng(seed)
    audio = noise * rng.standard_normal(int(seconds * RATE))
    n = int(0.03 * RATE)
    for t in times:
        start = int(round(t * RATE))
        audio[start:start + n] += 0.5 * rng.standard_normal(n)[: len(audio) - start] * np.exp(-np.arange(n) / (0.005 * RATE))[: len(audio) - start]
    return audio.astype(np.float32)


def ours(audio: np.ndarray) -> np.ndarray:
    return onset_seconds(log_mel(torch.from_numpy(audio), SPEC), SPEC)


def nearest_offsets(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([found[np.argmin(np.abs(found - t))] - t for t in truth])


CLICK_TIMES = np.array([0.31, 0.62, 0.9, 1.27, 1.5, 1.83, 2.2, 2.41, 2.95, 3.3, 3.62])


@pytest.mark.parametrize("noise", [0.0, 0.001])
def test_clicks_are_found_at_their_times(noise):
    found = ours(clicks(CLICK_TIMES, noise=noise))
    assert len(found) == len(CLICK_TIMES)
    assert np.abs(nearest_offsets(found, CLICK_TIMES)).max() <= 0.015  # a frame is 11.6 ms


def test_clicks_agree_with_librosas_detector():
    audio = clicks(CLICK_TIMES, noise=0.001)
    f, _, _ = onset_f_measure(ours(audio), detect_onsets(audio, RATE), 0.05)
    assert f == 1.0


@pytest.fixture(scope="module")
def drum_loop():
    """Two bars of a GM backbeat at 110 BPM, rendered with the bundled soundfont: audio and merged note onsets."""
    timeline = compose.Timeline(bpm=110.0, meter=compose.Meter(4.0, 1.0), start_q=0.0, clip_seconds=4.0)
    part = compose.drum_part(timeline, style="backbeat", kit=0, base_velocity=90, fill_bars=set(), crash_bars=set(),
                             rng=np.random.default_rng(3))
    audio = render_parts([part], Envelope((0.0,), (127.0,)), soundfont=bundled_soundfont(), sample_rate=RATE,
                         n_samples=4 * RATE)
    onsets, _ = merge_onsets(part.notes)
    return audio.astype(np.float32), np.asarray(onsets)


def test_a_rendered_drum_loop_is_found_at_its_notes_and_where_librosa_finds_it(drum_loop):
    audio, truth = drum_loop
    found = ours(audio)
    later = truth[truth >= 0.05]  # librosa cannot see a clip's first 30 ms
    assert onset_f_measure(found, truth, 0.05)[0] >= 0.9
    assert np.median(np.abs(nearest_offsets(found, truth))) <= 0.01
    assert onset_f_measure(found[found >= 0.05], detect_onsets(audio, RATE), 0.05)[0] >= 0.9
    assert onset_f_measure(detect_onsets(audio, RATE), later, 0.05)[0] >= 0.9


def test_a_held_tone_has_one_onset_and_the_envelope_is_flat_after_it():
    t = np.arange(3 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 330 * t) * (t >= 1.0)).astype(np.float32)
    envelope = onset_envelope(log_mel(torch.from_numpy(tone), SPEC))
    found = ours(tone)
    assert len(found) == 1 and abs(found[0] - 1.0) <= 0.015
    assert float(envelope[round(1.5 * SPEC.frame_rate):round(2.8 * SPEC.frame_rate)].max()) < 0.01


def test_silence_has_no_onsets():
    assert len(ours(np.zeros(2 * RATE, dtype=np.float32))) == 0


def test_seconds_and_frames_convert_back_and_forth():
    seconds = np.array([0.0, 0.25, 1.3])
    assert np.allclose(frames_to_onset_seconds(onset_frame_position(seconds, SPEC), SPEC), seconds)


def test_the_envelope_is_differentiable_in_every_rising_band():
    logmel = log_mel(torch.from_numpy(clicks([0.5, 1.0], seconds=1.5)), SPEC).requires_grad_(True)
    onset_envelope(logmel).sum().backward()
    assert torch.isfinite(logmel.grad).all() and logmel.grad.abs().sum() > 0


def test_beat_contrast_is_high_at_the_clicks_and_near_one_between_them():
    envelope = onset_envelope(log_mel(torch.from_numpy(clicks(CLICK_TIMES)), SPEC))
    frames = envelope.shape[-1]

    def near(times):
        mask = torch.zeros(frames)
        for position in onset_frame_position(np.asarray(times), SPEC):
            mask[max(0, round(position) - 2):round(position) + 3] = 1.0
        return mask

    assert float(beat_contrast(envelope, near(CLICK_TIMES))) > 20.0
    assert float(beat_contrast(envelope, near(CLICK_TIMES + 0.13))) < 1.0
