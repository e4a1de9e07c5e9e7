import pytest
import torch

from engine.baselines.schedule import BaselineError, noised, step_levels, to_epsilon, to_x0


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_prediction_conversions_recover_the_clean_latent_and_noise(prediction_type):
    generator = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(2, 8, generator=generator), torch.randn(2, 8, generator=generator)
    alpha_bar = 0.3
    x_t = noised(x0, eps, alpha_bar)
    a, s = alpha_bar ** 0.5, (1 - alpha_bar) ** 0.5
    output = {"epsilon": eps, "v_prediction": a * eps - s * x0, "sample": x0}[prediction_type]
    assert torch.allclose(to_x0(output, x_t, alpha_bar, prediction_type), x0, atol=1e-5)
    assert torch.allclose(to_epsilon(output, x_t, alpha_bar, prediction_type), eps, atol=1e-5)


def test_step_levels_land_on_the_next_timestep_and_end_clean(tiny_model):
    levels = step_levels(tiny_model.make_scheduler("ddim", 5))
    assert [lv.t for lv in levels] == [800, 600, 400, 200, 0]
    assert [lv.t_prev for lv in levels] == [600, 400, 200, 0, None]
    assert levels[-1].alpha_bar_prev == 1.0
    assert all(a.alpha_bar < a.alpha_bar_prev for a in levels)


def test_unknown_prediction_type_is_refused():
    with pytest.raises(BaselineError, match="prediction_type"):
        to_x0(torch.zeros(1), torch.zeros(1), 0.5, "score")
