"""The committed evaluation set: held-out sources, valid jobs, reproducible reference renders."""

import numpy as np
import pytest
import soundfile as sf

from engine.evaluation.evalset import FORMS, load_evalset, render_references
from engine.evaluation.runner import RunConfig, job_data
from engine.job import Job
from engine.training.corpus_melodies import is_heldout


@pytest.fixture(scope="module")
def evalset():
    return load_evalset()


def test_the_set_has_every_task_with_fixed_seeds(evalset):
    assert len(evalset.intensity) >= 8 and len(evalset.melody) >= 8
    assert [s.name for s in evalset.structure] == list(FORMS)
    assert min(len(evalset.inpaint), len(evalset.outpaint), len(evalset.loop)) >= 4
    assert len(set(evalset.seeds)) == len(evalset.seeds) >= 8


def test_melodies_and_references_come_from_held_out_pieces_stored_in_the_set(evalset):
    pieces = [m.piece_id for m in evalset.melody] + [r.piece_id for r in evalset.references]
    assert all(is_heldout(p) for p in pieces)
    assert set(pieces) <= set(evalset.pieces)
    assert all(len(m.notes) >= 6 and all(0 <= n.start < n.end <= evalset.duration for n in m.notes)
               for m in evalset.melody)


def test_gaps_and_overlaps_span_the_papers_ranges(evalset):
    assert all(2.0 <= i.gap_end - i.gap_start <= 4.0 for i in evalset.inpaint)
    assert all(1.0 <= i.overlap <= 3.0 for i in evalset.outpaint + evalset.loop)


def test_every_item_is_a_valid_engine_job(evalset, tmp_path):
    references = {}
    for clip in evalset.references:
        references[clip.name] = tmp_path / f"{clip.name}.wav"
        sf.write(str(references[clip.name]), np.zeros(1024, dtype=np.float32), 22050)
    config = RunConfig(model="builtin-tiny")
    for task in ("intensity", "melody", "structure", "inpaint", "outpaint", "loop"):
        for index in range(len(getattr(evalset, task))):
            job = Job.from_dict(job_data(task, index, evalset, references, config))
            assert job.controls[0].type == task and job.seed == evalset.seeds[index]


def test_a_reference_renders_at_the_stored_level(evalset, tmp_path):
    clip = evalset.references[0]
    path = render_references(evalset, tmp_path, names=[clip.name])[clip.name]
    audio, rate = sf.read(str(path))
    assert rate == 22050 and audio.size == 131072
    level = 10 * np.log10(np.mean(audio ** 2))
    assert level == pytest.approx(clip.rms_db, abs=0.5)
