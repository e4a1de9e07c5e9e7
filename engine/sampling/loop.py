"""The differentiable sampling loop: x_T -> x_0 through a diffusers scheduler, with per-step checkpointing.

Unlike a diffusers pipeline's `__call__` (always under `no_grad`), this loop lets gradients flow from x_0 back
to x_T, so DITTO can optimize the initial noise. The model call of each step runs inside
`torch.utils.checkpoint` (`use_reentrant=False`): its activations are dropped after the forward pass and
recomputed during backward, so memory stays flat in the number of steps. For the stateless DDIM and DDPM the
scheduler's `step()` is checkpointed with the model call (only x_t is kept per step); for stateful schedulers
(DPM-Solver++ keeps `model_outputs` and `_step_index`) it stays outside the checkpoint, so a recompute never
re-steps them. Stochastic steps get fixed noise: DDIM's drawn once, up front, from `noise_seed`; DDPM's from a
generator seeded per step (the same noise in every pass and every recompute, so optimization sees one fixed
sampler).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils.checkpoint import checkpoint

from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.anchor import Anchor
from engine.sampling.levels import step_levels

ProgressHook = Callable[[dict[str, Any]], None]
STATELESS = ("ddim", "ddpm")
"""Schedulers whose `step()` reads no state it changes, so a recompute inside a checkpoint repeats it exactly
(DDPM's noise comes from a generator seeded per step, DDIM's from precomputed tensors)."""


def checkpointed(checkpointing: bool | int, index: int) -> bool:
    """Whether step `index` recomputes its activations: `checkpointing` True (every step), False (none) or an
    int k (the first k steps; the rest keep theirs: a memory budget between the two, `engine.sampling.budget`)."""
    if isinstance(checkpointing, bool):
        return checkpointing
    return index < checkpointing


def step_noise(shape: torch.Size, steps: int, seed: int, device: torch.device, dtype: torch.dtype) -> list:
    """Fixed per-step variance noise `steps x shape`, drawn on the CPU for the same numbers on every device."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator).to(device, dtype) for _ in range(steps)]


def sample(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning,
           sampler: SamplerSpec = SamplerSpec(), *, noise_seed: int = 0, checkpointing: bool | int = True,
           callback: ProgressHook | None = None, anchor: Anchor | None = None) -> torch.Tensor:
    """Run `sampler` from `x_T` `(batch, *latent)` and return the clean latent x_0 (same shape).

    `noise_seed` fixes the noise of stochastic steps; `checkpointing` as in `checkpointed` (only with gradients).

    With `anchor`, its frames are held to its reference after every step (`engine.sampling.anchor`).
    Differentiable with respect to `x_T` unless called under `torch.no_grad()`.
    """
    scheduler = model.make_scheduler(sampler.name, sampler.steps)
    timesteps = scheduler.timesteps
    stochastic = sampler.name == "ddim" and sampler.eta > 0
    noise = step_noise(x_T.shape, len(timesteps), noise_seed, x_T.device, x_T.dtype) if stochastic else None
    x = x_T * scheduler.init_noise_sigma
    if anchor is not None:
        levels = step_levels(scheduler)
        held = anchor.noise(x_T.shape, len(levels), x_T.device, x_T.dtype)
        x = anchor.hold(x, levels[0].alpha_bar, held[0])
    for i, t in enumerate(timesteps):
        x_in = scheduler.scale_model_input(x, t)
        t_batch = torch.full((x.shape[0],), int(t), device=x.device, dtype=torch.long)
        step_noise_i = None if noise is None else noise[i]
        if checkpointed(checkpointing, i) and torch.is_grad_enabled():
            if sampler.name in STATELESS:
                # the whole step is recomputed in backward: only x is kept per step, so memory stays flat in T
                x = checkpoint(_whole_step, model, scheduler, sampler, noise_seed, x_in, x, t, t_batch,
                               conditioning, step_noise_i, use_reentrant=False)
            else:
                output = checkpoint(_guided_call, model, x_in, t_batch, conditioning, use_reentrant=False)
                x = scheduler_step(scheduler, sampler, noise_seed, output, t, x, step_noise_i)
        else:
            output = model.guided(x_in, t_batch, conditioning)
            x = scheduler_step(scheduler, sampler, noise_seed, output, t, x, step_noise_i)
        if anchor is not None:
            x = anchor.hold(x, levels[i].alpha_bar_prev, held[i + 1])
        if callback is not None:
            callback({"i": i, "t": int(t), "x": x, "steps": len(timesteps)})
    return x


def _whole_step(model, scheduler, sampler, noise_seed, x_in, x, t, t_batch, conditioning, noise):
    return scheduler_step(scheduler, sampler, noise_seed, model.guided(x_in, t_batch, conditioning), t, x, noise)


def _guided_call(model: DiffusionModel, x_in: torch.Tensor, t: torch.Tensor, conditioning: Conditioning):
    return model.guided(x_in, t, conditioning)


def scheduler_step(scheduler, sampler: SamplerSpec, noise_seed: int, output, t, x, noise):
    """One scheduler step, repeatable: DDIM with the given variance noise, DDPM with a generator seeded per step."""
    if sampler.name == "ddim":
        return scheduler.step(output, t, x, eta=sampler.eta, variance_noise=noise).prev_sample
    if sampler.name == "ddpm":
        # DDPM's step takes no precomputed noise, only a generator: seed one per step so every pass draws the same.
        generator = torch.Generator(device="cpu").manual_seed(noise_seed * 100_003 + int(t))
        return scheduler.step(output, t, x, generator=generator).prev_sample
    return scheduler.step(output, t, x).prev_sample
