"""One job's variations spread over several actors: the job split into parts, the parts' results joined.

Take `i` of a job uses seed ``seed + i`` (`engine.job.Job`), so a part of `n` takes starting at take `first` is
the same job with ``seed + first`` and ``variations = n``: each take gets the seed it would have had in one batch.
The parts' results join in take order. What is per take (audio, seeds, x_T, output metrics, control reports)
is concatenated; what describes a run (loss and metric histories, render checks) keeps every part's entries, each
marked with its ``part``; the joined run has converged when every part has, ran as many steps as its longest part,
and took as long as its slowest part (they run side by side).

A part's early stop and time budget see only its own takes, so a take can stop at a different step than it would
have in one batch; each take still meets or misses its controls on its own, as the report says.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch


def part_sizes(takes: int, parts: int) -> list[int]:
    """`takes` split into at most `parts` sizes, as even as possible, larger first: (5, 2) -> [3, 2]."""
    parts = max(1, min(parts, takes))
    return [takes // parts + (1 if i < takes % parts else 0) for i in range(parts)]


def split_job(job: dict[str, Any], parts: int) -> list[dict[str, Any]]:
    """The engine job's JSON form split into at most `parts` jobs of consecutive takes (module docstring)."""
    takes = int(job.get("variations", 1))
    seed = int(job.get("seed", 0))
    pieces, first = [], 0
    for size in part_sizes(takes, parts):
        pieces.append({**job, "seed": seed + first, "variations": size})
        first += size
    return pieces


def join_results(results: list[Any]) -> Any:
    """The `GenerationResult`s of a job's parts, in take order, as one result (module docstring)."""
    if len(results) == 1:
        return results[0]
    first = results[0]

    def marked(name: str) -> list[dict[str, Any]]:
        return [{**entry, "part": index} for index, result in enumerate(results) for entry in getattr(result, name)]

    timings: dict[str, float] = {}
    for result in results:
        for key, value in result.timings.items():
            timings[key] = max(timings.get(key, value), value)
    music = [r.music_audio for r in results]
    return dataclasses.replace(
        first,
        audio=np.concatenate([r.audio for r in results]),
        seeds=[seed for r in results for seed in r.seeds],
        x_T=torch.cat([r.x_T for r in results]),
        output_metrics=[m for r in results for m in r.output_metrics],
        control_reports=[take for r in results for take in r.control_reports],
        music_audio=None if any(m is None for m in music) else np.concatenate(music),
        loss_history=marked("loss_history"),
        metric_history=marked("metric_history"),
        render_checks=marked("render_checks"),
        steps_run=max(r.steps_run for r in results),
        converged=all(r.converged for r in results),
        timings=timings,
        warnings=[*dict.fromkeys(w for r in results for w in r.warnings),
                  (f"the takes ran in {len(results)} parts on separate actors "
                   f"({' + '.join(str(len(r.seeds)) for r in results)} takes); histories are marked with their part")],
    )
