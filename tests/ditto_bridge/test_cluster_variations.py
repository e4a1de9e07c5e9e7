"""A job's variations split into parts of consecutive takes, and the parts' results joined in take order."""

import numpy as np
import pytest
import torch

from ditto_bridge.cluster.variations import join_results, part_sizes, split_job
from engine.api import GenerationResult
from engine.job import Job
from engine.models.base import ModelInfo


@pytest.mark.parametrize("takes, parts, sizes", [(5, 2, [3, 2]), (4, 2, [2, 2]), (2, 4, [1, 1]), (1, 3, [1]),
                                                 (7, 3, [3, 2, 2])])
def test_takes_split_as_evenly_as_possible_larger_parts_first(takes, parts, sizes):
    assert part_sizes(takes, parts) == sizes


def test_each_part_keeps_the_seeds_its_takes_would_have_had_in_one_batch():
    job = {"name": "x", "seed": 40, "variations": 5, "duration": 1.0}
    parts = split_job(job, 2)
    assert [(p["seed"], p["variations"]) for p in parts] == [(40, 3), (43, 2)]
    seeds = [p["seed"] + i for p in parts for i in range(p["variations"])]
    assert seeds == [40 + i for i in range(5)]
    assert all(Job.from_dict(p).name == "x" for p in parts)


def result(seeds, *, steps, converged, level):
    takes = len(seeds)
    return GenerationResult(
        audio=np.full((takes, 1, 8), level, dtype=np.float32), sample_rate=22050, job=Job.from_dict({}),
        model_info=ModelInfo("builtin-tiny", 22050, 1, "epsilon", False, "tags"), seeds=list(seeds),
        x_T=torch.full((takes, 2, 3), level), loss_history=[{"total": level}] * steps,
        render_checks=[{"step": steps - 1}], output_metrics=[{"take": s} for s in seeds], steps_run=steps,
        converged=converged, timings={"total_s": steps * 1.0}, warnings=["random weights"])


def test_joined_results_keep_every_take_in_order_and_every_parts_history_marked():
    first, second = result([40, 41, 42], steps=5, converged=True, level=1.0), result([43, 44], steps=8,
                                                                                       converged=False, level=2.0)
    joined = join_results([first, second])
    assert joined.seeds == [40, 41, 42, 43, 44]
    assert joined.audio.shape == (5, 1, 8) and joined.audio[:, 0, 0].tolist() == [1, 1, 1, 2, 2]
    assert joined.x_T.shape == (5, 2, 3) and joined.x_T[3].eq(2.0).all()
    assert [m["take"] for m in joined.output_metrics] == [40, 41, 42, 43, 44]
    assert [e["part"] for e in joined.loss_history] == [0] * 5 + [1] * 8
    assert joined.steps_run == 8 and joined.converged is False and joined.timings["total_s"] == 8.0
    assert joined.warnings[0] == "random weights" and "2 parts" in joined.warnings[-1]


def test_a_single_part_is_returned_as_it_is():
    only = result([1, 2], steps=3, converged=True, level=0.5)
    assert join_results([only]) is only
