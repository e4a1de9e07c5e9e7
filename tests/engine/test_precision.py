"""The denoiser's precision: chosen from the CPU's flags or by name, and bfloat16 calls that stay close to float32
and keep gradients flowing to x_T."""

import pytest
import torch

from engine.job import SamplerSpec
from engine.models.builtin.model import load_builtin
from engine.precision import PrecisionError, cpu_has_native_bf16, precision_name, resolve_precision
from engine.sampling.loop import sample

CPU = torch.device("cpu")


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 {flags}\n\nprocessor\t: 1\n"
                    f"flags\t\t: fpu sse2 {flags}\n", encoding="ascii")
    return path


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    assert cpu_has_native_bf16(_cpuinfo(tmp_path, "avx512f avx512_bf16"))
    assert cpu_has_native_bf16(_cpuinfo(tmp_path, "amx_bf16 amx_tile"))
    assert not cpu_has_native_bf16(_cpuinfo(tmp_path, "avx2 avx512f avx512bw"))


def test_unreadable_cpu_flags_mean_float32(tmp_path):
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_named_precisions_win_over_the_hardware():
    assert resolve_precision(CPU, "fp32") == torch.float32
    assert resolve_precision(CPU, "BF16") == torch.bfloat16
    assert precision_name(torch.bfloat16) == "bf16" and precision_name(torch.float32) == "fp32"


def test_the_environment_variable_chooses_when_the_model_does_not(monkeypatch):
    monkeypatch.setenv("DITTO_BRIDGE_PRECISION", "bf16")
    assert resolve_precision(CPU) == torch.bfloat16
    monkeypatch.setenv("DITTO_BRIDGE_PRECISION", "fp32")
    assert resolve_precision(CPU) == torch.float32


def test_an_unknown_precision_names_the_choices(monkeypatch):
    with pytest.raises(PrecisionError, match="half.*auto, fp32, bf16"):
        resolve_precision(CPU, "half")
    monkeypatch.setenv("DITTO_BRIDGE_PRECISION", "fp8")
    with pytest.raises(PrecisionError, match="DITTO_BRIDGE_PRECISION"):
        resolve_precision(CPU)


def test_bf16_is_refused_where_the_device_has_none():
    with pytest.raises(PrecisionError, match="mps"):
        resolve_precision(torch.device("mps"), "bf16")


@pytest.fixture()
def model():
    model = load_builtin(tiny=True)
    yield model
    model.use_precision("fp32")


def test_bf16_renders_stay_close_to_float32_and_come_back_as_float32(model):
    conditioning = model.condition(tags=["piano"], guidance_scale=2.0)
    x_T = torch.randn((1, *model.latent_shape(1.0)), generator=torch.Generator().manual_seed(0))
    sampler = SamplerSpec("dpmsolver++", 6)
    with torch.no_grad():
        model.use_precision("fp32")
        reference = sample(model, x_T, conditioning, sampler, checkpointing=False)
        model.use_precision("bf16")
        assert model.compute_dtype == torch.bfloat16
        half = sample(model, x_T, conditioning, sampler, checkpointing=False)
    assert half.dtype == torch.float32
    assert not torch.equal(half, reference)  # the switch did change the arithmetic
    assert (half - reference).pow(2).mean() < 1e-3 * reference.var()


def test_gradients_reach_x_T_through_a_bf16_chain(model):
    model.use_precision("bf16")
    conditioning = model.condition(tags=["piano"], guidance_scale=2.0)
    x_T = torch.randn((1, *model.latent_shape(1.0)), generator=torch.Generator().manual_seed(1)).requires_grad_()
    latent = sample(model, x_T, conditioning, SamplerSpec("dpmsolver++", 4), checkpointing=True)
    latent.pow(2).mean().backward()
    assert x_T.grad is not None and x_T.grad.dtype == torch.float32
    assert torch.isfinite(x_T.grad).all() and x_T.grad.abs().sum() > 0
