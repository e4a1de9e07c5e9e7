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

from engine.job import RENDER_CHAIN, Job, SamplerSpec
from engine.sampling.loop import SamplerSettings


@dataclass(frozen=True)
class Preset:
    """`chain[control type]`: the sampler optimized through; `render_steps`: a cap on the render sampler's steps
    (None: the job's own); `optimizer_steps` K and Adam's `lr` when the job leaves them unset; `extra_steps`:
    how many more steps a job may take when its best render is close to tolerance at K."""

    chain: dict[str, SamplerSpec]
    optimizer_steps: int
    lr: float
    render_steps: int | None = None
    extra_steps: int = 0


def _every_task(spec: SamplerSpec) -> dict[str, SamplerSpec]:
    return {task: spec for task in ("intensity", "melody", "structure", "inpaint", "outpaint", "loop")}


# Why DPM-Solver++ 4 for every task: on the built-in model's previous weights (cosine schedule; docs/RESULTS.md,
# "surrogate"; one item per task) it kept the most control of the short chains measured, corrected toward the
# render. Not yet re-measured on the shifted-schedule weights (docs/MODEL_CARD.md, "DITTO on these weights"),
# where a 6-step chain looked safer on one intensity job. On the previous weights: output intensity MSE
# 1.33 dB² (DDIM 4: 7.95; plain DPM-Solver++ 4: 3.23; full DITTO 0.11 with K = 70), melody accuracy 100 % (as full
# DITTO), outpaint overlap MSE 0.59 (DDIM 4: 0.68; full DITTO 0.28). Structure, inpaint and loop were not
# measured separately and share the choice.
PRESETS: dict[str, Preset] = {
    "final": Preset(chain=_every_task(SamplerSpec("dpmsolver++", 4)), optimizer_steps=40, lr=0.02, extra_steps=20),
    "draft": Preset(chain=_every_task(SamplerSpec("dpmsolver++", 4)), optimizer_steps=20, lr=0.02, render_steps=10),
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

    @property
    def surrogate(self) -> bool:
        """True when the optimized chain is not the render sampler (early stop must then check the render)."""
        a, b = self.optimize_with, self.render_with
        return (a.name, a.steps, a.eta) != (b.name, b.steps, b.eta)


def plan_for(job: Job) -> Plan:
    """The plan of `job`: its explicit settings, the rest from its quality's preset."""
    preset = PRESETS[job.quality]
    render = job.sampler
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
    )


def _chain(job: Job, preset: Preset, render: SamplerSpec) -> SamplerSpec:
    if job.optimize_through == RENDER_CHAIN:
        return render
    if isinstance(job.optimize_through, SamplerSpec):
        return job.optimize_through
    specs = [preset.chain[control.type] for control in job.controls]
    return max(specs, key=lambda s: s.steps) if specs else render
