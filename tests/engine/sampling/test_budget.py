"""Choosing checkpointed steps from a memory budget, and measuring one step's activations."""

import math

import pytest
import torch

from engine.job import SamplerSpec
from engine.sampling import sample
from engine.sampling.budget import MemoryBudgetError, estimated_peak_mib, step_activation_mib, steps_to_checkpoint


def test_estimated_peak_counts_the_fixed_part_plus_each_step_that_keeps_its_activations():
    assert estimated_peak_mib(20, True, 100.0) == 100.0
    assert estimated_peak_mib(20, False, 100.0) == 2100.0
    assert estimated_peak_mib(20, 15, 100.0, fixed_mib=40.0) == 540.0
    assert estimated_peak_mib(20, 25, 100.0) == estimated_peak_mib(20, True, 100.0)
    assert estimated_peak_mib(20, 0, 100.0) == estimated_peak_mib(20, False, 100.0)


@pytest.mark.parametrize("budget, expected", [
    (50.0, True),       # below even the all-checkpointed peak: the least memory there is
    (100.0, True),      # exactly the all-checkpointed peak
    (199.9, True),
    (200.0, 19),        # room for one step's activations
    (1099.0, 11),
    (1100.0, 10),
    (2099.0, 1),
    (2100.0, False),    # everything fits
    (math.inf, False),
])
def test_steps_to_checkpoint_at_the_boundaries(budget, expected):
    assert steps_to_checkpoint(20, budget, 100.0) == expected


def test_the_chosen_k_fits_the_budget_and_one_fewer_would_not():
    total, per_step, fixed = 17, 37.5, 12.0
    for budget in [fixed + 0.5 * i for i in range(0, 1400)]:
        choice = steps_to_checkpoint(total, budget, per_step, fixed_mib=fixed)
        k = total if choice is True else 0 if choice is False else choice
        assert isinstance(choice, bool) or 0 < choice < total
        assert estimated_peak_mib(total, k, per_step, fixed_mib=fixed) <= budget + 1e-6
        if k > 0:
            assert estimated_peak_mib(total, k - 1, per_step, fixed_mib=fixed) > budget


@pytest.mark.parametrize("kwargs, field", [
    ({"total_steps": 0}, "total_steps"),
    ({"total_steps": True}, "total_steps"),
    ({"per_step_activation_mib": 0.0}, "per_step_activation_mib"),
    ({"per_step_activation_mib": math.nan}, "per_step_activation_mib"),
    ({"fixed_mib": -1.0}, "fixed_mib"),
    ({"budget_mib": math.nan}, "budget_mib"),
])
def test_unusable_inputs_raise_an_error_naming_the_field(kwargs, field):
    arguments = {"total_steps": 20, "budget_mib": 500.0, "per_step_activation_mib": 100.0, **kwargs}
    with pytest.raises(MemoryBudgetError, match=field):
        steps_to_checkpoint(**arguments)


def _noise(model, seconds):
    return torch.randn((1, *model.latent_shape(seconds)), generator=torch.Generator().manual_seed(0))


def _saved_mib_without_checkpointing(model, x_T, conditioning, steps):
    """MiB of distinct non-parameter storages autograd keeps through `steps` DDIM steps, none checkpointed."""
    storages = {}

    def pack(tensor):
        if not isinstance(tensor, torch.nn.Parameter):
            storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    x = x_T.clone().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        sample(model, x, conditioning, SamplerSpec("ddim", steps), checkpointing=False)
    return sum(storages.values()) / 2 ** 20


def test_measured_step_activations_match_what_each_extra_sampling_step_keeps(tiny_model):
    conditioning = tiny_model.condition(tags=["piano"], guidance_scale=2.0, batch=1)
    x_T = _noise(tiny_model, 1.0)
    per_step = step_activation_mib(tiny_model, x_T, conditioning)
    growth = (_saved_mib_without_checkpointing(tiny_model, x_T, conditioning, 8)
              - _saved_mib_without_checkpointing(tiny_model, x_T, conditioning, 4)) / 4
    assert per_step > 0
    assert abs(per_step - growth) <= 0.05 * growth


def test_step_activations_grow_with_frames_and_double_with_guidance(tiny_model):
    guided = tiny_model.condition(tags=["piano"], guidance_scale=2.0, batch=1)
    unguided = tiny_model.condition(tags=["piano"], guidance_scale=1.0, batch=1)
    one_second = step_activation_mib(tiny_model, _noise(tiny_model, 1.0), unguided)
    two_seconds = step_activation_mib(tiny_model, _noise(tiny_model, 2.0), unguided)
    with_guidance = step_activation_mib(tiny_model, _noise(tiny_model, 1.0), guided)
    assert 1.8 <= two_seconds / one_second <= 2.2
    assert 1.8 <= with_guidance / one_second <= 2.2


def test_measuring_step_activations_leaves_no_gradient_on_the_caller_noise(tiny_model):
    x_T = _noise(tiny_model, 0.5)
    with torch.no_grad():
        assert step_activation_mib(tiny_model, x_T, tiny_model.condition(batch=1)) > 0
    assert not x_T.requires_grad and x_T.grad is None
