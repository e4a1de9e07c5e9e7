"""The producer-scale case generator: deterministic, disjoint splits, valid jobs, ranges as stated."""

import json

import pytest

from engine.evaluation import producer_set as ps
from engine.job import Job
from engine.models.builtin.tags import TAGS


@pytest.fixture(scope="module")
def heldout():
    return ps.producer_cases("heldout")


@pytest.fixture(scope="module")
def tune():
    return ps.producer_cases("tune")


def _canonical(case):
    return json.dumps({k: v for k, v in case.job.items() if k != "name"}, sort_keys=True)


def test_the_same_split_gives_the_same_cases(heldout):
    again = ps.producer_cases("heldout")
    assert [(c.id, c.job, c.meta, c.reference) for c in again] == [(c.id, c.job, c.meta, c.reference)
                                                                    for c in heldout]


def test_default_counts(heldout, tune):
    for cases in (heldout, tune):
        for task, n in ps.DEFAULT_COUNTS.items():
            assert sum(c.task == task for c in cases) == n


def test_a_smaller_count_is_a_prefix(heldout):
    few = ps.producer_cases("heldout", {"intensity": 5, "melody": 3, "structure": 0})
    assert [c.job for c in few if c.task == "intensity"] == [c.job for c in heldout if c.task == "intensity"][:5]
    assert [c.job for c in few if c.task == "melody"] == [c.job for c in heldout if c.task == "melody"][:3]
    assert not [c for c in few if c.task == "structure"]


def test_splits_share_no_case(heldout, tune):
    assert not {_canonical(c) for c in heldout} & {_canonical(c) for c in tune}
    assert not {c.job["seed"] for c in heldout} & {c.job["seed"] for c in tune}
    pieces = {split: {c.meta["piece_id"] for c in cases if c.task == "melody"}
              for split, cases in (("heldout", heldout), ("tune", tune))}
    assert not pieces["heldout"] & pieces["tune"]


def test_a_fresh_draw_gives_new_cases_from_the_same_split(heldout, tune):
    fresh = ps.producer_cases("heldout", {"intensity": 12, "melody": 6, "structure": 4, "inpaint": 3,
                                          "outpaint": 3, "loop": 3}, draw=1)
    assert all(c.id.startswith("heldout-d1-") for c in fresh)
    assert not {_canonical(c) for c in fresh} & {_canonical(c) for c in heldout}
    assert not {_canonical(c) for c in fresh} & {_canonical(c) for c in tune}
    low, high = ps.JOB_SEED_RANGE["heldout"]
    assert all(low <= c.job["seed"] < high for c in fresh)
    tune_pieces = {c.meta["piece_id"] for c in tune if c.task == "melody"}
    assert not {c.meta["piece_id"] for c in fresh if c.task == "melody"} & tune_pieces
    assert [c.job for c in ps.producer_cases("heldout", {"intensity": 3}, draw=0) if c.task == "intensity"] \
        == [c.job for c in heldout if c.task == "intensity"][:3]


@pytest.mark.parametrize("split", ps.SPLITS)
def test_every_job_validates(split, heldout, tune, tmp_path):
    cases = heldout if split == "heldout" else tune
    (tmp_path / "references").mkdir()
    for case in cases:
        if case.reference is not None:
            (tmp_path / case.reference.path).write_bytes(b"")
            assert case.job["controls"][0]["reference"] == case.reference.path
            Job.from_dict(case.reference.job("builtin"))
        job = Job.from_dict(case.job, base_dir=tmp_path)
        assert job.controls[0].type == case.task
        assert set(job.tags) <= set(TAGS)


def test_intensity_levels_durations_shapes_and_tags(heldout):
    cases = [c for c in heldout if c.task == "intensity"]
    for case in cases:
        control = case.job["controls"][0]
        assert ps.INTENSITY_SECONDS[0] <= case.job["duration"] <= ps.INTENSITY_SECONDS[1]
        assert all(-50.0 <= v <= -3.0 for v in control["db"])
        assert all(0.0 <= t <= case.job["duration"] for t in control["times"])
        if case.meta["shape"] == "random":
            assert 2 <= len(control["times"]) <= 8
    assert {c.meta["shape"] for c in cases} == set(ps.SHAPES)
    sizes = {len(c.job["tags"]) for c in cases}
    assert {1, 2} <= sizes and max(sizes) >= 5
    levels = [v for c in cases for v in c.job["controls"][0]["db"]]
    assert min(levels) < -40 and max(levels) > -10  # the range is used, not only its middle


def test_melodies_are_monophonic_phrases_in_several_keys_and_registers(heldout):
    cases = [c for c in heldout if c.task == "melody"]
    for case in cases:
        notes = case.job["controls"][0]["notes"]
        assert len(notes) >= 6
        assert all(a["end"] <= b["start"] + 1e-9 for a, b in zip(notes, notes[1:]))
        assert all(0 <= n["pitch"] <= 127 and n["end"] <= case.job["duration"] for n in notes)
        assert "drums" not in case.job["tags"] or len(case.job["tags"]) > 2
    assert {c.meta["register"] for c in cases} == set(ps.REGISTERS)
    assert len({c.meta["key_pc"] for c in cases}) >= 4
    assert {c.meta["pool"] for c in cases} == {"corpus_heldout", "music21"}


def test_held_out_pieces_follow_the_training_rule(heldout):
    from engine.training.corpus_melodies import default_sources, is_heldout

    training = {f for source in default_sources() for f in source.files}
    for case in heldout:
        if case.task == "melody":
            piece = case.meta["piece_id"]
            assert is_heldout(piece) if case.meta["pool"] == "corpus_heldout" else piece not in training


def test_structures_gaps_and_overlaps(heldout):
    forms = {c.meta["form"] for c in heldout if c.task == "structure"}
    assert forms == set(ps.FORMS)
    for case in heldout:
        control = case.job["controls"][0]
        if case.task == "inpaint":
            assert 2.0 - 1e-6 <= control["gap"][1] - control["gap"][0] <= 4.0 + 0.02
            assert case.reference.duration >= case.job["duration"]
        if case.task in ("outpaint", "loop"):
            assert 1.0 <= control["overlap"] <= 3.0
            assert case.reference.duration > control["overlap"]
        if case.reference is not None:
            assert tuple(case.job["tags"]) != case.reference.tags
            assert case.job["seed"] != case.reference.seed


def test_short_clips_for_smoke_runs(tmp_path):
    cases = ps.producer_cases("tune", {t: 1 for t in ps.TASKS}, clip_seconds=3.0)
    (tmp_path / "references").mkdir()
    for case in cases:
        assert case.job["duration"] == 3.0
        if case.reference is not None:
            (tmp_path / case.reference.path).write_bytes(b"")
        Job.from_dict(case.job, base_dir=tmp_path)


def test_bad_requests_name_the_problem():
    with pytest.raises(ps.ProducerSetError, match="split"):
        ps.producer_cases("train")
    with pytest.raises(ps.ProducerSetError, match="unknown task"):
        ps.producer_cases("tune", {"chords": 2})
    with pytest.raises(ps.ProducerSetError, match=">= 0"):
        ps.producer_cases("tune", {"melody": -1})
    with pytest.raises(ps.ProducerSetError, match="draw"):
        ps.producer_cases("tune", draw=-1)
