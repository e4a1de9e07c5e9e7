"""The rhythm case generator: deterministic, disjoint splits, valid jobs, tempi in range, grids expanded right."""

import json

import numpy as np
import pytest

from engine.evaluation import rhythm_set as rs
from engine.job import Job
from engine.models.builtin.tags import TAGS, TEMPO_TAGS
from engine.training.compose import Note


@pytest.fixture(scope="module")
def heldout():
    return rs.rhythm_cases("heldout")


@pytest.fixture(scope="module")
def tune():
    return rs.rhythm_cases("tune")


def _canonical(case):
    return json.dumps({k: v for k, v in case.job.items() if k != "name"}, sort_keys=True)


def test_the_same_split_gives_the_same_cases(heldout):
    again = rs.rhythm_cases("heldout")
    assert [(c.id, c.job, c.onsets, c.accents, c.tempo, c.meta) for c in again] \
        == [(c.id, c.job, c.onsets, c.accents, c.tempo, c.meta) for c in heldout]


def test_a_split_has_the_default_count_half_from_each_source(heldout, tune):
    for cases in (heldout, tune):
        assert len(cases) == rs.DEFAULT_COUNT >= 24
        assert sum(c.source == "drums" for c in cases) == sum(c.source == "grid" for c in cases)
        assert len({c.id for c in cases}) == len(cases)


def test_a_smaller_count_is_a_prefix_with_both_sources(heldout):
    few = rs.rhythm_cases("heldout", 2)
    assert [c.job for c in few] == [c.job for c in heldout[:2]]
    assert [c.source for c in few] == ["drums", "grid"]


def test_splits_share_no_case_and_no_seed(heldout, tune):
    assert not {_canonical(c) for c in heldout} & {_canonical(c) for c in tune}
    assert not {c.job["seed"] for c in heldout} & {c.job["seed"] for c in tune}
    for split, cases in (("heldout", heldout), ("tune", tune)):
        low, high = rs.JOB_SEED_RANGE[split]
        assert all(low <= c.job["seed"] < high for c in cases)
        assert all(c.split == split and c.id.startswith(split + "-") for c in cases)


def test_tempi_are_whole_bpm_in_range_and_cover_every_band(heldout, tune):
    for cases in (heldout, tune):
        assert all(70 <= c.tempo <= 170 and float(c.tempo).is_integer() for c in cases)
        for source in rs.SOURCES:
            bands = [c.band for c in cases if c.source == source]
            assert {band: bands.count(band) for band in TEMPO_TAGS} == {band: len(bands) // 3 for band in TEMPO_TAGS}


def test_tags_are_the_models_and_both_drum_bearing_and_tonal(heldout):
    for source in rs.SOURCES:
        tags = [set(c.job["tags"]) for c in heldout if c.source == source]
        assert all(t <= set(TAGS) and not t & set(TEMPO_TAGS) for t in tags)
        assert any("drums" in t for t in tags) and any("drums" not in t for t in tags)


@pytest.mark.parametrize("split", rs.SPLITS)
def test_every_job_validates_and_carries_its_target(split, heldout, tune):
    for case in heldout if split == "heldout" else tune:
        job = Job.from_dict(case.job)
        control = job.controls[0]
        assert (job.duration, job.seed, list(job.tags)) == (rs.CLIP_SECONDS, case.job["seed"], case.job["tags"])
        assert control.type == "rhythm"
        assert len(case.onsets) == len(case.accents) >= 2
        assert all(0.0 <= t < job.duration for t in case.onsets)
        assert all(b > a for a, b in zip(case.onsets, case.onsets[1:]))
        assert all(0.0 < a <= 1.0 for a in case.accents)
        if case.source == "drums":
            assert control.onsets == case.onsets and control.accents == case.accents
            assert control.grid is None
        else:
            assert control.onsets is None and control.grid.tempo == case.tempo


def test_drum_onsets_are_the_parts_notes_merged_within_10_ms(heldout):
    for case in (c for c in heldout if c.source == "drums"):
        starts = sorted(n.start for n in case.part.notes)
        for start in starts:  # every note lies within 10 ms after one onset
            assert min(start - t for t in case.onsets if t <= start + 1e-4) <= rs.MERGE_SECONDS + 1e-4
        assert case.tempo == case.meta["bpm"]
        loudest = max(n.velocity for n in case.part.notes) / 127
        assert max(case.accents) == pytest.approx(loudest, abs=1e-4)


def test_notes_starting_together_are_one_onset_with_the_loudest_velocity():
    notes = [Note(0.0, 0.1, 36, 100), Note(0.004, 0.1, 42, 120), Note(0.5, 0.1, 38, 90), Note(0.509, 0.1, 42, 30),
             Note(0.52, 0.1, 42, 60)]
    onsets, accents = rs.merge_onsets(notes)
    assert onsets == [0.0, 0.5, 0.52]
    assert accents == [round(120 / 127, 4), round(90 / 127, 4), round(60 / 127, 4)]


def spec_expansion(grid: dict, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """The job schema's grid rule, written out in the test: the engine's own, when it exists, is checked too."""
    pattern = grid.get("pattern")
    if pattern is None:
        pattern = [1.0] + [0.7] * (grid["beats_per_bar"] - 1)
        step = 60.0 / grid["tempo"]
    else:
        step = 60.0 / (grid["tempo"] * grid["steps_per_beat"])
    times = grid["start"] + np.arange(int(duration / step) + 2) * step
    times[1::2] += grid["swing"] * step
    accents = np.resize(np.asarray(pattern, dtype=float), times.size)
    keep = (accents > 0) & (times < duration)
    return times[keep], accents[keep]


def engine_expansion():
    try:
        from engine.controls.rhythm import grid_onsets
    except ImportError:
        return None
    return grid_onsets


def test_a_swung_grid_expands_to_the_hand_computed_steps():
    """120 BPM, two steps a beat (0.25 s), swing 1/3: odd steps late by 1/12 s."""
    grid = {"tempo": 120, "pattern": [1.0, 0.5, 0.0, 0.5], "steps_per_beat": 2, "beats_per_bar": 4,
            "swing": 1 / 3, "start": 0.0}
    onsets, accents = rs.expand_grid(grid, 1.2)
    np.testing.assert_allclose(onsets, [0.0, 0.25 + 1 / 12, 0.75 + 1 / 12, 1.0])
    assert accents == [1.0, 0.5, 0.5, 1.0]


def test_a_grid_without_a_pattern_plays_every_beat_the_bars_first_accented():
    onsets, accents = rs.expand_grid({"tempo": 90, "beats_per_bar": 3, "start": 0.0}, 4.0)
    np.testing.assert_allclose(onsets, [0.0, 2 / 3, 4 / 3, 2.0, 8 / 3, 10 / 3])
    assert accents == [1.0, 0.7, 0.7, 1.0, 0.7, 0.7]


@pytest.mark.parametrize("split", rs.SPLITS)
def test_every_grid_case_is_expanded_as_the_schema_says(split, heldout, tune):
    grid_onsets = engine_expansion()
    grids = [c for c in (heldout if split == "heldout" else tune) if c.source == "grid"]
    assert {c.meta["kind"] for c in grids} == set(rs.GRID_KINDS)
    for case in grids:
        grid = case.job["controls"][0]["grid"]
        onsets, accents = spec_expansion(grid, case.duration)
        np.testing.assert_allclose(case.onsets, onsets, atol=1e-9)
        np.testing.assert_allclose(case.accents, accents)
        if grid_onsets is not None:
            engine_onsets, engine_accents = grid_onsets(Job.from_dict(case.job).controls[0].grid, case.duration)
            np.testing.assert_allclose(case.onsets, engine_onsets, atol=1e-9)
            np.testing.assert_allclose(case.accents, engine_accents)


def test_swung_grids_swing_and_the_others_do_not(heldout):
    for case in (c for c in heldout if c.source == "grid"):
        swing = case.job["controls"][0]["grid"]["swing"]
        if case.meta["kind"] == "swung":
            assert rs.SWING_RANGE[0] <= swing <= rs.SWING_RANGE[1]
        else:
            assert swing == 0.0


def test_short_clips_keep_every_onset_inside():
    for case in rs.rhythm_cases("tune", 6, clip_seconds=3.0):
        assert case.duration == 3.0
        assert max(case.onsets) < 3.0
        Job.from_dict(case.job)


def test_the_target_drums_of_a_grid_play_its_onsets():
    case = next(c for c in rs.rhythm_cases("tune", 4) if c.source == "grid")
    part = rs.target_drums(case)
    assert part.is_drums
    assert tuple(n.start for n in part.notes) == case.onsets

def test_a_fresh_draw_is_new_cases_from_the_same_split(heldout, tune):
    fresh = rs.rhythm_cases("heldout", draw=1)
    assert len(fresh) == len(heldout)
    assert not {_canonical(c) for c in fresh} & ({_canonical(c) for c in heldout} | {_canonical(c) for c in tune})
    low, high = rs.JOB_SEED_RANGE["heldout"]
    assert all(low <= c.job["seed"] < high and c.id.startswith("heldout-d1-") for c in fresh)
    assert [c.job for c in rs.rhythm_cases("heldout", 4, draw=1)] == [c.job for c in fresh[:4]]


@pytest.mark.parametrize("split, n, seconds, message", [("train", 4, None, "unknown split"),
                                                        ("tune", -1, None, "n: must be"),
                                                        ("tune", 4, 0.5, "clip_seconds: must be at least 1 s")])
def test_a_set_that_cannot_be_made_is_refused(split, n, seconds, message):
    with pytest.raises(rs.RhythmSetError, match=message):
        rs.rhythm_cases(split, n, clip_seconds=seconds)


def test_a_negative_draw_is_refused():
    with pytest.raises(rs.RhythmSetError, match="draw: must be 0"):
        rs.rhythm_cases("tune", 4, draw=-1)
