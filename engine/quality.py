"""Quality presets: the plan (`engine.plan.Plan`) of a "final" and of a "draft" job, and how a job's own settings
override them (`plan_for`).

DITTO as published optimizes x_T through the whole sampler (T = 20 DDIM steps, K = 70 Adam steps): about
4 x T model calls per step. Optimizing through a short deterministic chain instead (a few DDIM steps from the
same x_T, an approximation of the same probability-flow ODE) and rendering x_T* with the full sampler keeps
most of the control at a fraction of the cost; early stop then ends the job as soon as the *rendered* output
is within every control's tolerance. `benchmarks/surrogate.py` measures what survives the switch per task and
`benchmarks/time_to_audio.py` the end-to-end time; the numbers behind the presets are in docs/RESULTS.md.

A job picks a preset by its `quality`; anything it sets explicitly (`sampler`, `optimize_through`, `optimizer`)
wins over the preset. `optimize_through: "render"` is the paper's full DITTO.
"""

from __future__ import annotations

import dataclasses

from engine.ditto.melody_start import AMPLITUDE as MELODY_LEAN
from engine.ditto.optimize import MAX_LR_BOOST
from engine.ditto.structure_start import AMPLITUDE as STRUCTURE_LEAN
from engine.job import Job, SamplerSpec
from engine.plan import Plan

# Why the final preset optimizes through its render sampler, DPM-Solver++ 10, and no shorter chain (measured on
# the shipped shifted-schedule weights, intensity ramp -40 -> -10 dB and drop -10 -> -35 dB, 5.94 s, full tag set,
# seed 11, 2 threads; docs/RESULTS.md, "evaluation", has the held-out figures): a short chain corrected toward a
# DDIM 20 render drifted away from the render between checks (the render's error rose from 9.0 to 17.9 and
# 12.6 dB RMS a few steps after the first check, with DPM-Solver++ 4 and 6 chains at lr 0.01 and 0.02) and neither
# reached 2 dB RMS in 40 steps on both curves; optimizing through the 10-step render itself fell monotonically
# and met 2 dB RMS in 15 (lr 0.01) to 25 (lr 0.02) steps, 60-90 s. Ten DPM-Solver++ steps cost half of DDIM 20's
# model calls per render. The draft preset does the same with 6 steps and a smaller budget (not measured apart).
# The time budgets cap a job that neither converges nor gives up on its own (a 6-s job runs about 3-4 s per step
# on 2 threads in float32, 1.5-2 s where the model runs in bfloat16, `engine/precision.py`): the take is then the
# best render so far, and its report says by how much it missed. Keeping the
# activations of the 10 steps (about 1.3 GB for a 6-s clip) instead of recomputing them is about a third faster
# per step (docs/RESULTS.md, "checkpointing budget"); lr 0.03 against 0.01 on a 7.7-s tune-split curve: 25 steps
# and 94 s to 2.03 dB RMS against 15 steps and 44 s to 1.96 dB RMS.
# An intensity job first runs up to 12 level renders (`engine/ditto/level_start.py`, its figures there; the draft
# preset 6, not measured apart). The tune split settled two more things: a DPM-Solver++ 5 chain corrected toward
# the 10-step render missed again (the first 5 tune takes at 7.6-18 dB^2, against a median of 1.55 dB^2 for the
# same takes optimizing through the render itself; stopped there), and Adam with beta2 0.9 instead of 0.999 took
# as many steps (30.5 against 32 median). A melody job's x_T first leans toward its tune
# (`engine/ditto/melody_start.py`, amplitude 0.5, its figures there); a structure job's sections lean toward
# their labels' spectral shapes (`engine/ditto/structure_start.py`, its figures there).
PRESETS: dict[str, Plan] = {
    "final": Plan(optimized_through=SamplerSpec("dpmsolver++", 10), rendered_with=SamplerSpec("dpmsolver++", 10),
                  optimizer_steps=40, lr=0.01, extra_steps=20, time_budget_s=90.0, memory_budget_mib=2048.0,
                  max_lr_boost=MAX_LR_BOOST, level_start_renders=12, melody_start_amplitude=MELODY_LEAN,
                  structure_start_amplitude=STRUCTURE_LEAN),
    "draft": Plan(optimized_through=SamplerSpec("dpmsolver++", 6), rendered_with=SamplerSpec("dpmsolver++", 6),
                  optimizer_steps=20, lr=0.02, time_budget_s=30.0, max_lr_boost=MAX_LR_BOOST,
                  level_start_renders=6, melody_start_amplitude=MELODY_LEAN,
                  structure_start_amplitude=STRUCTURE_LEAN),
}
"""A preset is the plan of a job that sets nothing but its quality (seed 0)."""
RENDER_STEP_CAPS: dict[str, int] = {"draft": 6}
"""The most render steps a quality allows, whatever sampler the job names."""


def plan_for(job: Job) -> Plan:
    """The plan of `job`: its explicit settings, the rest from its quality's preset.

    The chain is the render itself unless the job names another sampler to optimize through. A job that sets its
    own K gets exactly K steps (no extra steps, no time budget, no level, melody or structure start); one that
    sets its own lr, exactly that lr."""
    preset = PRESETS[job.quality]
    render = job.sampler if job.sampler is not None else preset.rendered_with
    cap = RENDER_STEP_CAPS.get(job.quality)
    if cap is not None and render.steps > cap:
        render = SamplerSpec(render.name, cap, render.eta)
    chosen = job.optimizer
    return dataclasses.replace(
        preset,
        optimized_through=job.optimize_through if isinstance(job.optimize_through, SamplerSpec) else render,
        rendered_with=render,
        optimizer_steps=preset.optimizer_steps if chosen.steps is None else chosen.steps,
        lr=preset.lr if chosen.lr is None else chosen.lr,
        early_stop=chosen.early_stop,
        extra_steps=preset.extra_steps if chosen.steps is None else 0,
        level_start_renders=preset.level_start_renders if chosen.steps is None else 0,
        melody_start_amplitude=preset.melody_start_amplitude if chosen.steps is None else 0.0,
        structure_start_amplitude=preset.structure_start_amplitude if chosen.steps is None else 0.0,
        time_budget_s=preset.time_budget_s if chosen.steps is None else None,
        memory_budget_mib=preset.memory_budget_mib if chosen.memory_budget_mib is None else chosen.memory_budget_mib,
        max_lr_boost=preset.max_lr_boost if chosen.lr is None else 1.0,
        checkpointing=chosen.checkpointing,
        noise_seed=job.seed,
    )
