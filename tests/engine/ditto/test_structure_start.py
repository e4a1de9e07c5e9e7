"""The structure start: each section of x_T leans toward a spectral shape of its label."""

import numpy as np
import torch

from engine.api import initial_noise
from engine.controls import build_controls
from engine.ditto import optimize
from engine.ditto.structure_start import UNLABELLED, block_labels, label_shapes, structure_lean
from engine.job import Job, SamplerSpec
from engine.plan import Plan
from engine.quality import plan_for


def _structure_job(sections, duration=2.0):
    return Job.from_dict({"duration": duration, "model": "builtin-tiny", "seed": 3,
                          "controls": [{"type": "structure", "sections": [
                              {"start": a, "end": b, "label": label} for a, b, label in sections]}]})


def test_block_labels_are_read_back_from_the_target_in_order_of_first_appearance(tiny_model):
    job = _structure_job([(0.0, 0.6, "B"), (0.6, 1.2, "A"), (1.2, 1.6, "B")])
    control = build_controls(job, tiny_model)[0]
    labels = block_labels(control)
    frames = tiny_model.latent_shape(job.duration)[-1]
    centres = tiny_model.mel.frame_times(frames)[np.minimum(np.arange(len(labels)) * control.pool + control.pool // 2,
                                                            frames - 1)]
    expected = np.where(centres < 0.6, 0, np.where(centres < 1.2, 1, np.where(centres < 1.6, 0, UNLABELLED)))
    assert np.array_equal(labels, expected)


def test_label_shapes_are_a_simplex_of_unit_rms_spectral_shapes_without_a_level_change():
    for k in (2, 3, 4):
        shapes = label_shapes(k, 80)
        assert np.allclose(np.sqrt((shapes ** 2).mean(axis=1)), 1.0)
        assert np.allclose(shapes.mean(axis=1), 0.0, atol=1e-9)  # no loudness in them
        cosine = shapes @ shapes.T / 80
        off_diagonal = cosine[~np.eye(k, dtype=bool)]
        assert np.allclose(off_diagonal, -1.0 / (k - 1), atol=1e-9)  # every pair equally far apart
    assert not label_shapes(1, 80).any()


def test_frames_of_one_label_share_a_shape_and_uncovered_frames_get_none(tiny_model):
    job = _structure_job([(0.0, 0.6, "A"), (0.6, 1.2, "B"), (1.2, 1.6, "A")])
    control = build_controls(job, tiny_model)[0]
    frames = tiny_model.latent_shape(job.duration)[-1]
    lean = structure_lean(control, tiny_model.mel.n_mels, frames)
    times = tiny_model.mel.frame_times(frames)
    first_a, first_b, second_a = (int(np.searchsorted(times, seconds)) for seconds in (0.3, 0.9, 1.4))
    assert torch.equal(lean[:, first_a], lean[:, second_a])
    assert float(torch.dot(lean[:, first_a], lean[:, first_b])) < 0
    assert float(lean[:, -1].abs().sum()) == 0.0  # after 1.6 s no section covers the frame


def test_optimize_starts_from_x_T_leaned_toward_the_sections(tiny_model):
    job = _structure_job([(0.0, 1.0, "A"), (1.0, 2.0, "B")])
    x_T, _ = initial_noise(tiny_model, job, tiny_model.device)
    controls = build_controls(job, tiny_model)
    render = SamplerSpec("ddim", 2)
    plan = Plan(optimized_through=render, rendered_with=render, optimizer_steps=1, lr=0.0, early_stop=False,
                structure_start_amplitude=0.6)
    result = optimize(tiny_model, controls, x_T, tiny_model.condition(batch=1), plan)
    lean = structure_lean(controls[0], x_T.shape[-2], x_T.shape[-1])
    assert torch.allclose(result.x_T - x_T, 0.6 * lean.unsqueeze(0), atol=1e-6)
    assert float(lean.abs().sum()) > 0


def test_a_preset_job_leans_toward_its_sections_and_a_job_with_its_own_steps_does_not():
    assert plan_for(Job.from_dict({"duration": 2.0})).structure_start_amplitude > 0
    assert plan_for(Job.from_dict({"duration": 2.0, "optimizer": {"steps": 5}})).structure_start_amplitude == 0
