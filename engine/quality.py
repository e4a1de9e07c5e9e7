"""Quality presets: the short chain the optimizer differentiates, its step budget, and the render sampler.

DITTO as published optimizes x_T through the whole sampler (T = 20 DDIM steps, K = 70 Adam steps): about
4 x T model calls per step. Optimizing through a short deterministic chain instead (a few DDIM steps from the
same x_T, an approximation of the same probability-flow ODE) and rendering x_T* with the full sampler keeps
most of the control at a fraction of the cost; early stop then ends the job as soon as the *rendered* output
is within every control's tolerance. `benchmarks/surrogate.py` measures what survives the switch per task and
`benchmarks/time_to_audio.py` the end-to-end time; the numbers behind the presets are in docs/RESULTS.md.

A job picks a preset by its `quality` ("final" or "draft"); anything it sets explicitly (`optimize_through`,
`optimizer.steps`, `optimizer.lr`) wins over the preset. `optimize_through: "render"` is the paper's full DITTO.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.ditto.optimize import MAX_LR_BOOST
from engine.job import RENDER_CHAIN, Job, SamplerSpec
from engine.sampling.loop import SamplerSettings


@dataclass(frozen=True)
class Preset:
    """`render`: the sampler that makes the audio when the job names none; `chain[control type]`: the sampler
    optimized through (`RENDER_CHAIN`: the render itself); `render_steps`: a cap on the render sampler's steps;
    `optimizer_steps` K and Adam's `lr` when the job leaves them unset; `extra_steps`: how many more steps a job
    may take when its best render is close to tolerance at K; `time_budget_s`: seconds of optimization after
    which the job returns its best render so far (None: no limit); `memory_budget_mib`: activations kept instead
    of recomputed when the job sets no budget of its own (`engine/sampling/budget.py`; None: recompute all);
    `max_lr_boost`: how much further a take far from tolerance may step when the job leaves lr unset
    (`engine.ditto.optimize.lr_boost`)."""

    render: SamplerSpec
    chain: dict[str, SamplerSpec | str]
    optimizer_steps: int
    lr: float
    render_steps: int | None = None
    extra_steps: int = 0
    time_budget_s: float | None = None
    memory_budget_mib: float | None = None
    max_lr_boost: float = 1.0


def _every_task(spec: SamplerSpec | str) -> dict[str, SamplerSpec | str]:
    return {task: spec for task in ("intensity", "melody", "structure", "inpaint", "outpaint", "loop")}


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
PRESETS: dict[str, Preset] = {
    "final": Preset(render=SamplerSpec("dpmsolver++", 10), chain=_every_task(RENDER_CHAIN), optimizer_steps=40,
                    lr=0.01, extra_steps=20, time_budget_s=90.0, memory_budget_mib=2048.0, max_lr_boost=MAX_LR_BOOST),
    "draft": Preset(render=SamplerSpec("dpmsolver++", 6), chain=_every_task(RENDER_CHAIN), optimizer_steps=20,
                    lr=0.02, render_steps=6, time_budget_s=30.0, max_lr_boost=MAX_LR_BOOST),
}


@dataclass(frozen=True)
class Plan:
    """What `engine.api.generate` runs: optimize through `optimize_with` for up to `optimizer_steps` Adam steps
    at `lr`, render with `render_with`."""

    optimize_with: SamplerSettings
    render_with: SamplerSettings
    optimizer_steps: int
    lr: float
    extra_steps: int = 0
    time_budget_s: float | None = None
    memory_budget_mib: float | None = None
    max_lr_boost: float = 1.0

    @property
    def surrogate(self) -> bool:
        """True when the optimized chain is not the render sampler (early stop must then check the render)."""
        a, b = self.optimize_with, self.render_with
        return (a.name, a.steps, a.eta) != (b.name, b.steps, b.eta)


def plan_for(job: Job) -> Plan:
    """The plan of `job`: its explicit settings, the rest from its quality's preset."""
    preset = PRESETS[job.quality]
    render = job.sampler if job.sampler is not None else preset.render
    if preset.render_steps is not None and render.steps > preset.render_steps:
        render = SamplerSpec(render.name, preset.render_steps, render.eta)
    chain = _chain(job, preset, render)
    if chain.steps >= render.steps and job.optimize_through is None:
        chain = render  # a preset's chain is a shortcut: never as long as the render itself
    return Plan(
        optimize_with=SamplerSettings(chain.name, chain.steps, chain.eta, job.seed, job.optimizer.checkpointing),
        render_with=SamplerSettings(render.name, render.steps, render.eta, job.seed, False),
        optimizer_steps=preset.optimizer_steps if job.optimizer.steps is None else job.optimizer.steps,
        lr=preset.lr if job.optimizer.lr is None else job.optimizer.lr,
        extra_steps=preset.extra_steps if job.optimizer.steps is None else 0,
        time_budget_s=preset.time_budget_s if job.optimizer.steps is None else None,
        memory_budget_mib=(preset.memory_budget_mib if job.optimizer.memory_budget_mib is None
                           else job.optimizer.memory_budget_mib),
        max_lr_boost=preset.max_lr_boost if job.optimizer.lr is None else 1.0,
    )


def _chain(job: Job, preset: Preset, render: SamplerSpec) -> SamplerSpec:
    if job.optimize_through == RENDER_CHAIN:
        return render
    if isinstance(job.optimize_through, SamplerSpec):
        return job.optimize_through
    specs = [render if preset.chain[c.type] == RENDER_CHAIN else preset.chain[c.type] for c in job.controls]
    return max(specs, key=lambda s: s.steps) if specs else render
