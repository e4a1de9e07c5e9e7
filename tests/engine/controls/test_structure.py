"""The structure control judges a render on its waveform, as the WAV will be heard, and corrects toward it."""

import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.controls.structure import StructureControl, sections_to_similarity
from engine.evaluation import metrics
from engine.job import Section

SPEC = MelSpec()


def _control(seconds: float) -> StructureControl:
    frames = SPEC.frames_for(seconds)
    sections = [Section(start=0.0, end=seconds / 2, label="A"), Section(start=seconds / 2, end=seconds, label="B")]
    same, covered = sections_to_similarity(sections, SPEC, frames, 16)
    return StructureControl(label="structure", weight=1.0, tolerance=0.015, target=torch.from_numpy(same),
                            block_mask=torch.from_numpy(covered), pool=16, spec=SPEC)


def _tone_then_noise(seconds: float) -> np.ndarray:
    rate = SPEC.sample_rate
    t = np.arange(int(seconds * rate)) / rate
    half = t.size // 2
    audio = 0.2 * np.sin(2 * np.pi * 440 * t)
    audio[half:] = 0.05 * np.random.default_rng(0).standard_normal(t.size - half)
    return audio.astype(np.float32)


def test_a_render_check_reads_the_waveform_as_the_evaluation_reads_the_wav():
    control = _control(3.0)
    audio = _tone_then_noise(3.0)
    frames = SPEC.frames_for(3.0)
    unrelated_mel = torch.zeros(1, SPEC.n_mels, frames)  # what the render's log-mel says does not count here
    judged = float(control.audio_metric(unrelated_mel, torch.from_numpy(audio)[None, None]))
    independent = metrics.structure_mse(audio, SPEC.sample_rate, control.target.numpy(), control.block_mask.numpy())
    assert abs(judged - independent) < 1e-4
    assert judged < 0.2  # a tone then noise is two sections; the same sound throughout would score about 0.25


def test_after_a_check_the_loss_of_that_render_is_its_waveforms_metric():
    control = _control(3.0)
    audio = torch.from_numpy(_tone_then_noise(3.0))[None, None]
    heard = log_mel(audio[:, 0], SPEC)
    render_mel = heard + torch.randn(heard.shape, generator=torch.Generator().manual_seed(0))  # the vocoder's changes
    before = float(control.loss(render_mel))
    control.correct_toward(render_mel, audio)
    after = float(control.loss(render_mel))
    assert abs(after - float(control.audio_metric(render_mel, audio))) < 1e-5
    assert abs(after - before) > 1e-4
    moved = render_mel.clone().requires_grad_(True)
    control.loss(moved).backward()
    assert float(moved.grad.abs().sum()) > 0  # the corrected loss still steers the render's log-mel


def test_different_labels_are_asked_to_be_as_far_apart_as_that_many_labels_can_be():
    from engine.controls.structure import apart_similarity

    frames = SPEC.frames_for(4.0)
    two = [Section(start=0.0, end=2.0, label="A"), Section(start=2.0, end=4.0, label="B")]
    three = [Section(start=0.0, end=1.0, label="A"), Section(start=1.0, end=2.0, label="B"),
             Section(start=2.0, end=3.0, label="A"), Section(start=3.0, end=4.0, label="C")]
    same2, _ = sections_to_similarity(two, SPEC, frames, 16)
    same3, covered3 = sections_to_similarity(three, SPEC, frames, 16)
    assert set(np.unique(same2)) == {0.0, 1.0}
    assert set(np.unique(same3[covered3 > 0][:, covered3 > 0])) == {0.25, 1.0}
    # three unit vectors 120 degrees apart: cosine -1/2, similarity 0.25, the most three labels can be apart
    assert abs(apart_similarity(3) - 0.5 * (1 + np.cos(2 * np.pi / 3))) < 1e-12
    assert abs(apart_similarity(4) - 0.5 * (1 - 1 / 3)) < 1e-12
