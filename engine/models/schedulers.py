"""Real diffusers schedulers, configured for differentiable sampling.

DDIM (default, eta 0), DDPM and DPM-Solver++ (2nd order, multistep). `clip_sample` and thresholding are always
off: the clamp would zero the gradient with respect to x_T.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import JobError

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

SCHEDULERS = ("ddim", "ddpm", "dpmsolver++")
"""The sampler names a job may give, the one list of them (diffusers is imported only to build one)."""


SCHEDULE_KEYS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type", "trained_betas",
                 "timestep_spacing", "steps_offset", "rescale_betas_zero_snr")


def diffusers_schedule(model_schedule: dict[str, Any]) -> dict[str, Any]:
    """The entries of a model's schedule that diffusers' schedulers take (others, e.g. `snr_shift`, are notes)."""
    return {k: v for k, v in model_schedule.items() if k in SCHEDULE_KEYS}


def build_scheduler(name: str, model_schedule: dict[str, Any], steps: int) -> SchedulerMixin:
    """A fresh scheduler named `name` for a model trained with `model_schedule`, set to `steps` steps."""
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    base = diffusers_schedule(model_schedule)
    if name == "ddim":
        scheduler = DDIMScheduler(**base, clip_sample=False, set_alpha_to_one=True)
    elif name == "ddpm":
        scheduler = DDPMScheduler(**base, clip_sample=False, variance_type="fixed_small")
    elif name == "dpmsolver++":
        scheduler = DPMSolverMultistepScheduler(**base, algorithm_type="dpmsolver++", solver_order=2,
                                                thresholding=False, lower_order_final=True)
    else:
        raise JobError(f"sampler.name: unknown sampler {name!r}; choose one of {', '.join(SCHEDULERS)}")
    scheduler.set_timesteps(steps)
    return scheduler
