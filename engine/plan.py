"""The plan: the one frozen configuration a job runs with, saved as its sidecar's `plan` and read back from it.

A job names what it wants (`engine.job`: its `quality`, and any `sampler`, `optimize_through` or `optimizer`
setting); `engine.quality.plan_for` resolves that into a `Plan`, and `engine.api.generate` fills in what only
the run can know (the steps a memory budget lets keep their activations, the denoiser's precision). Everything
that runs the job reads this one object: the sampler (`engine.sampling.loop.sample` takes its `SamplerSpec`s), the
optimizer (`engine.ditto.optimize`) and the sidecar (`Plan.to_dict`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from engine.job import SamplerSpec


@dataclass(frozen=True)
class Plan:
    """How a job runs. Defaults are the paper's DITTO: Adam on x_T (lr 5e-3, K = 70) through DDIM 20.

    `optimized_through`: the sampler the optimizer differentiates (the render itself for the paper's DITTO, or
    a shorter chain); `rendered_with`: the sampler that makes the audio. `extra_steps`: how many more steps a job
    may take when its best render is close to tolerance at K; `time_budget_s`: seconds of optimization after
    which the best render so far is the take (None: no limit); `max_lr_boost`: how much further a take far from
    tolerance may step (`engine.ditto.optimize.lr_boost`; 1: exactly `lr`). `checkpointing`: True recomputes
    every step's activations in the backward pass, False none, k the first k steps (`memory_budget_mib` decides k
    at run time, `engine.sampling.budget`). `noise_seed`: the fixed noise of stochastic sampler steps.
    `precision`: the denoiser's compute precision (`engine.precision`). `level_start_renders`: at most this many
    renders move x_T's frame means toward an intensity curve before Adam starts (`engine.ditto.level_start`;
    0: none, the paper's start). `melody_start_amplitude`: how far x_T leans toward a melody control's tune before
    Adam starts (`engine.ditto.melody_start`; 0: not at all); `structure_start_amplitude`, how far each section
    leans toward its label's spectral shape (`engine.ditto.structure_start`; 0: not at all).
    """

    optimized_through: SamplerSpec = SamplerSpec()
    rendered_with: SamplerSpec = SamplerSpec()
    optimizer_steps: int = 70
    lr: float = 5e-3
    early_stop: bool = True
    extra_steps: int = 0
    time_budget_s: float | None = None
    memory_budget_mib: float | None = None
    max_lr_boost: float = 1.0
    level_start_renders: int = 0
    melody_start_amplitude: float = 0.0
    structure_start_amplitude: float = 0.0
    checkpointing: bool | int = True
    noise_seed: int = 0
    precision: str = "fp32"

    @property
    def surrogate(self) -> bool:
        """True when the optimized chain is not the render sampler (early stop must then check the render)."""
        return self.optimized_through != self.rendered_with

    def to_dict(self) -> dict[str, Any]:
        """The JSON form saved in the sidecar (what `from_dict` reads back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Plan":
        """The plan a sidecar's `plan` holds."""
        samplers = {key: SamplerSpec(**data[key]) for key in ("optimized_through", "rendered_with") if key in data}
        return cls(**{**data, **samplers})
