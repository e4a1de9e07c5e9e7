"""The built-in model's shifted cosine schedule, as the real diffusers schedulers see it."""

import numpy as np
import pytest
from diffusers import DDIMScheduler, DDPMScheduler

from engine.models.builtin.model import load_builtin
from engine.models.builtin.schedule import SNR_SHIFT, builtin_schedule, cosine_alphas_cumprod, shifted_cosine_betas
from engine.models.schedulers import build_scheduler, diffusers_schedule


def _snr(alphas_cumprod) -> np.ndarray:
    alpha_bar = np.asarray(alphas_cumprod, dtype=np.float64)
    return alpha_bar / (1 - alpha_bar)


def test_cosine_alpha_bar_matches_diffusers_squaredcos_cap_v2():
    reference = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2").alphas_cumprod
    np.testing.assert_allclose(cosine_alphas_cumprod(), reference.double().numpy(), rtol=1e-4)


@pytest.mark.parametrize("shift", [4.0, 32.0])
def test_every_snr_is_the_cosine_snr_divided_by_the_shift(shift):
    shifted = DDPMScheduler(num_train_timesteps=1000, trained_betas=shifted_cosine_betas(shift)).alphas_cumprod
    ratio = _snr(cosine_alphas_cumprod())[:-1] / _snr(shifted.double().numpy())[:-1]
    np.testing.assert_allclose(ratio, shift, rtol=2e-3)


def test_sampling_starts_from_pure_noise_at_the_last_timestep():
    for name in ("ddim", "ddpm", "dpmsolver++"):
        scheduler = build_scheduler(name, builtin_schedule(), 20)
        assert int(scheduler.timesteps[0]) == 999
    alpha_bar = DDIMScheduler(**diffusers_schedule(builtin_schedule())).alphas_cumprod
    assert _snr(alpha_bar)[-1] < 1e-9


def test_a_shift_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="snr_shift"):
        shifted_cosine_betas(0.0)


def test_the_shipped_weights_carry_the_shifted_schedule():
    model = load_builtin()
    assert model.schedule["snr_shift"] == SNR_SHIFT
    assert int(model.make_scheduler("ddim", 20).timesteps[0]) == 999
