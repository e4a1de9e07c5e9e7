"""FreeDoM (Yu et al., 2023): training-free energy guidance at every sampling step.

At step t the model's clean estimate x0|t (from the same model call the sampler uses) is decoded and scored by the
controls; the gradient g of that loss with respect to x_t is subtracted from the DDIM update:

    x_{t-1} = DDIM(x_t) - rho_t * g,    rho_t = strength * sqrt(1 - alpha_bar_{t-1}) / rms(g)   (per item)

so the guidance moves each item by `strength` times the noise level it lands on, whatever the loss's scale (the
step size comes from the gradient norm), and fades to nothing at the last step. Optionally "time travel"
(FreeDoM's resampling): a guided step is re-noised back to x_t and repeated `time_travel` times in total during
the first `travel_fraction` of the steps. The gradient only sees one model call, never the rest of the chain: that
approximation is what DITTO's full-chain gradient replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from engine.baselines.schedule import BaselineDivergedError, BaselineError, noised, step_levels, timestep_batch, to_x0
from engine.controls.base import Control
from engine.ditto.optimize import control_losses, total_loss
from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.loop import ProgressHook


@dataclass(frozen=True)
class FreedomSettings:
    """Guidance strength (fraction of the landing noise level moved per step) and time travel."""

    strength: float = 0.5
    time_travel: int = 1
    travel_fraction: float = 0.5
    noise_seed: int = 0


def freedom_sample(model: DiffusionModel, controls: Sequence[Control], x_T: torch.Tensor,
                   conditioning: Conditioning, sampler: SamplerSpec = SamplerSpec(),
                   guidance: FreedomSettings = FreedomSettings(), *,
                   callback: ProgressHook | None = None) -> torch.Tensor:
    """Guided DDIM sampling from `x_T` `(batch, *latent)`; returns x_0 (no gradient attached)."""
    if sampler.name != "ddim" or sampler.eta != 0:
        raise BaselineError("FreeDoM here guides deterministic DDIM (eta 0); use sampler ddim")
    if guidance.time_travel < 1:
        raise BaselineError(f"time_travel must be at least 1, got {guidance.time_travel}")
    scheduler = model.make_scheduler(sampler.name, sampler.steps)
    levels = step_levels(scheduler)
    generator = torch.Generator().manual_seed(guidance.noise_seed)
    travel_steps = int(round(guidance.travel_fraction * len(levels)))
    x = (x_T * scheduler.init_noise_sigma).detach()
    for level in levels:
        t = scheduler.timesteps[level.index]
        repeats = guidance.time_travel if level.index < travel_steps else 1
        for repeat in range(repeats):
            x_prev = _guided_step(model, controls, conditioning, scheduler, level, t, x, guidance.strength)
            if repeat + 1 < repeats:  # time travel: back to level t with fresh noise, then again
                ratio = level.alpha_bar / level.alpha_bar_prev
                eps = torch.randn(x.shape, generator=generator).to(x)
                x = noised(x_prev, eps, ratio)
        x = x_prev
        if not torch.isfinite(x).all():
            raise BaselineDivergedError(f"FreeDoM diverged at t = {level.t}: the guided sample is no longer finite "
                                        f"(strength {guidance.strength:g} too strong for this case)")
        if callback is not None:
            callback({"i": level.index, "t": level.t, "x": x, "steps": len(levels)})
    return x


def _guided_step(model, controls, conditioning, scheduler, level, t, x, strength):
    x_in = x.detach().requires_grad_(True)
    with torch.enable_grad():
        output = model.guided(scheduler.scale_model_input(x_in, t), timestep_batch(level.t, x.shape[0], x.device),
                              conditioning)
        x0 = to_x0(output, x_in, level.alpha_bar, model.info.prediction_type)
        if not torch.isfinite(x0).all():
            raise BaselineDivergedError(f"FreeDoM diverged at t = {level.t}: the guided sample is no longer finite "
                                        f"(strength {strength:g} too strong for this case)")
        loss = total_loss(controls, control_losses(controls, model.decode_mel(x0)))
        gradient, = torch.autograd.grad(loss.sum(), x_in)
    with torch.no_grad():
        x_prev = scheduler.step(output.detach(), t, x, eta=0.0).prev_sample
        rms = gradient.pow(2).flatten(1).mean(dim=1).sqrt().clamp(min=1e-12)
        rho = strength * (1.0 - level.alpha_bar_prev) ** 0.5 / rms
        return x_prev - rho.view(-1, *([1] * (x.ndim - 1))) * gradient
