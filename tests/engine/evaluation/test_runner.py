"""The runner on builtin-tiny: every method of every task runs, metrics of a perfect output, the report."""

from dataclasses import replace

import numpy as np
import pytest

from engine.evaluation import report
from engine.evaluation.evalset import load_evalset
from engine.evaluation.metrics import mono
from engine.evaluation.runner import METHODS, RunConfig, initial_noise, job_data, run, run_method, task_metrics
from engine.job import Job

CONFIG = RunConfig(model="builtin-tiny", n=1, n_uncontrolled=2, sampler_steps=2,
                   optimizer_steps={t: 1 for t in METHODS}, tasks=("intensity",), fd_references=2,
                   vocoder="griffinlim-fast")


@pytest.fixture(scope="module")
def evalset():
    return load_evalset()


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("refs")


@pytest.fixture(scope="module")
def references(evalset, reference_dir):
    from engine.evaluation.evalset import render_references

    names = [evalset.inpaint[0].reference, evalset.outpaint[0].reference, evalset.loop[0].reference]
    return render_references(evalset, reference_dir, names=names)


@pytest.mark.parametrize("task", list(METHODS))
def test_every_method_returns_a_latent_of_the_clip(tiny_model, evalset, references, task):
    job = Job.from_dict(job_data(task, 0, evalset, references, CONFIG))
    x_T = initial_noise(tiny_model, job.duration, job.seed)
    for method in METHODS[task]:
        output = run_method(method, task, tiny_model, job, x_T, CONFIG)
        assert output.latent.shape == x_T.shape, method
        assert np.isfinite(output.latent.numpy()).all()


def _reference(job, references):
    from engine.audio.io import read_audio

    name = job.controls[0].reference.rsplit("/", 1)[-1][:-4]
    audio, rate = read_audio(references[name])
    return name, mono(audio, rate), rate


def test_the_reference_itself_is_a_perfect_inpainting(tiny_model, evalset, references):
    job = Job.from_dict(job_data("inpaint", 0, evalset, references, CONFIG))
    name, ref, rate = _reference(job, references)
    values, _ = task_metrics("inpaint", ref[: int(job.duration * rate)], rate, job, tiny_model, {name: ref}, None)
    assert values["overlap_mse"] < 1e-3  # only the last frame differs: the clip is cut 4 ms short
    assert values["seam"] == pytest.approx(1.0, abs=0.5)


def test_a_continuation_that_matches_the_overlap_then_stops_dead_is_a_seam(tiny_model, evalset, references):
    job = Job.from_dict(job_data("outpaint", 0, evalset, references, CONFIG))
    name, ref, rate = _reference(job, references)
    overlap = int(round(job.controls[0].overlap * tiny_model.mel.frame_rate)) * tiny_model.mel.hop_length
    output = np.zeros(int(job.duration * rate))
    output[:overlap] = ref[ref.size - overlap:]
    values, _ = task_metrics("outpaint", output, rate, job, tiny_model, {name: ref}, None)
    assert values["overlap_mse"] < 0.5
    assert values["seam"] > 3.0


def test_a_small_run_fills_every_table_it_covers(tiny_model, evalset, reference_dir):
    config = replace(CONFIG, reference_dir=reference_dir)
    result = run(config, model=tiny_model, evalset=evalset, progress=lambda line: None,
                 memory=lambda method: {"ditto": 10.0, "doodl": 20.0, "freedom": 5.0}[method])
    assert {(r.task, r.method) for r in result.items} == {("intensity", m) for m in METHODS["intensity"]}
    assert all(np.isfinite(r.metrics["mse_db2"]) for r in result.items)
    text = report.markdown(result)
    assert "| DITTO | " in report.table_feature_controls(result)
    assert "peak memory per step **0.50**" in text
    assert "RANDOM WEIGHTS" in text
