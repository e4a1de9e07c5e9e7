"""The melody start: x_T leans toward the tune, each frame by the harmonic comb of its target pitch class."""

import numpy as np
import torch

from engine.api import initial_noise
from engine.audio.mel import MelSpec
from engine.controls import build_controls
from engine.controls.melody import NO_PITCH
from engine.ditto import optimize
from engine.ditto.melody_start import mel_centres_hz, melody_lean, pitch_class_combs
from engine.job import Job, SamplerSpec
from engine.plan import Plan
from engine.quality import plan_for

SPEC = MelSpec()


def test_each_pitch_class_comb_peaks_on_its_fundamental_band_and_decays_up_the_harmonics():
    combs = pitch_class_combs(SPEC)
    centres = mel_centres_hz(SPEC)
    for pitch_class in range(12):
        fundamental = 440.0 * 2 ** ((60 + pitch_class - 69) / 12)
        assert int(np.argmax(combs[pitch_class])) == int(np.argmin(np.abs(centres - fundamental)))
        octave_up = int(np.argmin(np.abs(centres - 2 * fundamental)))
        assert 0.7 < combs[pitch_class, octave_up] < 1.0  # the second harmonic, 0.8 (plus any band it shares)
    assert combs[0].argmax() != combs[7].argmax()  # C and G lean on different bands


def test_the_lean_follows_the_target_and_leaves_free_frames_alone():
    target = torch.tensor([0, 0, NO_PITCH, 9, 9])
    lean = melody_lean(target, SPEC)
    combs = torch.as_tensor(pitch_class_combs(SPEC), dtype=torch.float32)
    assert lean.shape == (SPEC.n_mels, 5)
    assert torch.allclose(lean[:, 0], combs[0] - combs[0].mean())
    assert torch.allclose(lean[:, 4], combs[9] - combs[9].mean())
    assert int(lean[:, 4].argmax()) == int(combs[9].argmax())
    assert float(lean[:, 2].abs().sum()) == 0.0


def test_the_lean_leaves_each_frames_mean_and_so_its_level_where_it_was():
    lean = melody_lean(torch.tensor([0, 4, 7, NO_PITCH, 11]), SPEC)
    assert torch.allclose(lean.mean(dim=0), torch.zeros(5), atol=1e-7)
    assert float(lean[:, 0].max()) > 0.9  # the fundamental still stands out


def test_optimize_starts_from_x_T_leaned_toward_the_tune(tiny_model):
    job = Job.from_dict({"duration": 1.0, "model": "builtin-tiny", "seed": 2,
                         "controls": [{"type": "melody", "notes": [{"pitch": 57, "start": 0.1, "end": 0.8}]}]})
    x_T, _ = initial_noise(tiny_model, job, tiny_model.device)
    controls = build_controls(job, tiny_model)
    render = SamplerSpec("ddim", 2)
    plan = Plan(optimized_through=render, rendered_with=render, optimizer_steps=1, lr=0.0, early_stop=False,
                melody_start_amplitude=1.5)
    result = optimize(tiny_model, controls, x_T, tiny_model.condition(batch=1), plan)
    lean = melody_lean(controls[0].target, controls[0].spec)
    assert torch.allclose(result.x_T - x_T, 1.5 * lean.unsqueeze(0), atol=1e-6)
    assert float(lean[:, controls[0].target == 9].sum()) > 0  # A (57 % 12 = 9) is where the note sounds


def test_a_preset_job_leans_toward_its_tune_and_a_job_with_its_own_steps_does_not():
    assert plan_for(Job.from_dict({"duration": 2.0})).melody_start_amplitude > 0
    assert plan_for(Job.from_dict({"duration": 2.0, "optimizer": {"steps": 5}})).melody_start_amplitude == 0
