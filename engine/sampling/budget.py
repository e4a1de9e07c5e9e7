"""How many sampling steps to checkpoint for a memory budget, and what one uncheckpointed step costs.

Memory model of one optimization step through T sampling steps of which the first k are checkpointed
(`checkpointing = k`, `engine.sampling.loop.checkpointed`): each of the T - k steps that is not checkpointed keeps its activations,
`a` MiB, until backward reaches it; a checkpointed step keeps only its input latent and rebuilds its activations
during backward, one step at a time. The peak above the loaded model is then about

    peak(k) = fixed + (T - k) * a,        fixed ~ a

(`fixed`: one step's activations, alive while a step is recomputed or back-propagated; it is what T steps all
checkpointed cost). `a` grows linearly with the clip's frames and the batch (classifier-free guidance doubles it);
`step_activation_mib` measures it for a model and a shape. `benchmarks/checkpoint_budget.py` checks the model
against measured peaks.
"""

from __future__ import annotations

import math

import torch

from engine.errors import EngineError
from engine.job import SamplerSpec
from engine.models.base import Conditioning, DiffusionModel
from engine.sampling.loop import sample

MIB = 2 ** 20


class MemoryBudgetError(EngineError, ValueError):
    """A memory-budget computation got a value it cannot use (steps below 1, a non-positive or non-finite size)."""


def _check(total_steps: int, per_step_activation_mib: float, fixed_mib: float | None) -> float:
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise MemoryBudgetError(f"total_steps: expected a whole number of sampling steps >= 1, got {total_steps!r}")
    if not (math.isfinite(per_step_activation_mib) and per_step_activation_mib > 0):
        raise MemoryBudgetError("per_step_activation_mib: expected a finite size > 0 MiB, got "
                                f"{per_step_activation_mib!r} (measure it with step_activation_mib)")
    fixed = per_step_activation_mib if fixed_mib is None else fixed_mib
    if not (math.isfinite(fixed) and fixed >= 0):
        raise MemoryBudgetError(f"fixed_mib: expected a finite size >= 0 MiB, got {fixed_mib!r}")
    return fixed


def estimated_peak_mib(total_steps: int, checkpointing: bool | int, per_step_activation_mib: float, *,
                       fixed_mib: float | None = None) -> float:
    """Estimated peak MiB of one optimization step above the loaded model (see the module's memory model).

    `checkpointing` as in `engine.sampling.loop.checkpointed`: True (all T steps), False (none) or k (the first k; clipped to
    [0, T]). `fixed_mib` defaults to `per_step_activation_mib`.
    """
    fixed = _check(total_steps, per_step_activation_mib, fixed_mib)
    if isinstance(checkpointing, bool):
        k = total_steps if checkpointing else 0
    else:
        k = min(max(int(checkpointing), 0), total_steps)
    return fixed + (total_steps - k) * per_step_activation_mib


def steps_to_checkpoint(total_steps: int, budget_mib: float, per_step_activation_mib: float, *,
                        fixed_mib: float | None = None) -> bool | int:
    """The fewest checkpointed steps k whose estimated peak fits `budget_mib`, as a `checkpointing` value.

    Fewer checkpointed steps means less recomputation, so the fastest setting that fits is chosen. Returns False
    when nothing needs checkpointing, True when every step must be (also when even that does not fit: it is the
    least memory the sampler can use; compare `estimated_peak_mib(T, True, a)` with the budget to warn), else
    k in 1..T-1.
    """
    fixed = _check(total_steps, per_step_activation_mib, fixed_mib)
    if math.isnan(budget_mib):
        raise MemoryBudgetError("budget_mib: expected a number of MiB, got NaN")
    if budget_mib < fixed:
        return True
    if math.isinf(budget_mib):
        return False
    kept = math.floor((budget_mib - fixed) / per_step_activation_mib + 1e-9)  # steps that may keep activations
    k = total_steps - min(kept, total_steps)
    if k == 0:
        return False
    if k == total_steps:
        return True
    return k


def step_activation_mib(model: DiffusionModel, x_T: torch.Tensor, conditioning: Conditioning,
                        sampler: str = "ddim") -> float:
    """MiB autograd keeps for backward through one sampling step that is not checkpointed, measured.

    Runs one step of `sampler` from `x_T` `(batch, *latent)` with gradients on and adds up the distinct storages
    the saved-tensor hooks receive, leaving out the model's parameters (resident anyway, shared by all steps).
    Costs one model call (two batches' worth with classifier-free guidance); the result is for this shape only.
    """
    storages: dict[int, tuple[int, bool]] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        size, is_parameter = storages.get(key, (storage.nbytes(), False))
        storages[key] = (size, is_parameter or isinstance(tensor, torch.nn.Parameter))
        return tensor

    x = x_T.detach().clone().requires_grad_(True)
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        sample(model, x, conditioning, SamplerSpec(sampler, 1), checkpointing=False)
    return sum(size for size, is_parameter in storages.values() if not is_parameter) / MIB
