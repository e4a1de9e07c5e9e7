"""What each adapter promises the engine: shapes in seconds, guidance, the schedule, decoder checkpointing,
precision, encoding and its error messages."""

import math

import numpy as np
import pytest
import torch

from engine.errors import JobError
from engine.job import SamplerSpec
from engine.models.adapters.common import PrecomputedPrompts, pick_compute_dtype
from engine.models.adapters.stable_audio import v_diffusion_betas, v_diffusion_taus
from engine.models.adapters.tiny import KINDS, tiny_adapter
from engine.sampling.loop import sample

SECONDS = 0.5


def _noise(model, seconds=SECONDS, seed=0):
    return torch.randn(1, *model.latent_shape(seconds), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kind", KINDS)
def test_decoded_features_and_audio_cover_the_requested_seconds(kind, tiny_adapters):
    model = tiny_adapters[kind]
    latent = _noise(model)
    with torch.no_grad():
        logmel = model.decode_mel(latent)
        audio = model.decode_audio(latent)
    assert logmel.shape == (1, model.mel.n_mels, model.feature_frames(SECONDS))
    assert model.feature_frames(SECONDS) >= model.mel.frames_for(SECONDS)
    assert audio.shape[:2] == (1, model.info.audio_channels)
    assert audio.shape[-1] >= SECONDS * model.info.sample_rate
    assert audio.abs().max() <= 1.0 and torch.isfinite(logmel).all()


@pytest.mark.parametrize("kind", KINDS)
def test_guidance_is_unconditional_plus_scale_times_the_difference(kind, tiny_adapters):
    model = tiny_adapters[kind]
    conditioning = model.condition(prompt="fast techno drums", guidance_scale=3.0, batch=2)
    x = torch.cat([_noise(model, seed=1), _noise(model, seed=2)])
    t = torch.tensor([700, 700])
    with torch.no_grad():
        guided = model.guided(x, t, conditioning)
        cond = model.denoise(x, t, conditioning.cond)
        uncond = model.denoise(x, t, conditioning.uncond)
    assert (cond - uncond).abs().max() > 1e-4, "the prompt does not reach the denoiser"
    torch.testing.assert_close(guided, uncond + 3.0 * (cond - uncond), atol=1e-4, rtol=1e-4)


def test_prompts_give_different_conditioning_and_variations_share_it(tiny_adapters):
    model = tiny_adapters["musicldm"]
    a = model.condition(prompt="calm ambient pad", batch=3).cond["clap"]
    b = model.condition(prompt="fast techno drums", batch=1).cond["clap"]
    assert a.shape == (3, 32) and torch.equal(a[0], a[2])
    assert not torch.allclose(a[0], b[0])


def _saved_bytes(fn):
    """Bytes of tensors autograd keeps for backward while `fn` runs (tensors saved inside a non-reentrant
    checkpoint are dropped by it and not seen here)."""
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = fn()
    return total, out


@pytest.mark.parametrize("kind", KINDS)
def test_decoder_checkpointing_keeps_gradients_and_stores_less(kind, tiny_adapters):
    model = tiny_adapters[kind]
    results = {}
    try:
        for enabled in (False, True):
            model.checkpoint_decode = enabled
            latent = _noise(model, seed=4).requires_grad_(True)
            saved, logmel = _saved_bytes(lambda: model.decode_mel(latent))
            logmel.pow(2).mean().backward()
            results[enabled] = (saved, latent.grad)
    finally:
        model.checkpoint_decode = True
    torch.testing.assert_close(results[True][1], results[False][1], atol=1e-5, rtol=1e-4)
    assert results[True][0] < 0.7 * results[False][0]


def test_stable_audio_schedule_is_the_cosine_v_diffusion_in_discrete_steps():
    taus = v_diffusion_taus(500.0)
    alpha_bar = np.cumprod(1.0 - v_diffusion_betas(500.0))
    np.testing.assert_allclose(alpha_bar, np.cos(np.pi / 2 * taus) ** 2, rtol=1e-9, atol=1e-15)
    sigma_last = math.sqrt(1 - alpha_bar[-1]) / math.sqrt(alpha_bar[-1])
    assert sigma_last == pytest.approx(500.0, rel=1e-6)  # the pipeline's sigma_max
    assert taus[0] > 0 and np.all(np.diff(taus) > 0)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm", "dpmsolver++"])
def test_stable_audio_samples_with_every_engine_scheduler(sampler, tiny_adapters):
    model = tiny_adapters["stable-audio-open"]
    scheduler = model.make_scheduler(sampler, 4)
    assert int(scheduler.timesteps[0]) == 999  # starts at sigma_max ("trailing" spacing)
    conditioning = model.condition(prompt="calm ambient pad", guidance_scale=1.0)
    with torch.no_grad():
        x0 = sample(model, _noise(model), conditioning, SamplerSpec(name=sampler, steps=4))
    assert x0.shape == _noise(model).shape and torch.isfinite(x0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_encode_audio_gives_a_latent_of_the_clip_length(kind, tiny_adapters):
    model = tiny_adapters[kind]
    rate = model.info.sample_rate
    t = torch.arange(int(rate * SECONDS)) / rate
    audio = (0.3 * torch.sin(2 * math.pi * 440 * t)).view(1, 1, -1)
    latent = model.encode_audio(audio, rate)
    assert latent.shape == (1, *model.latent_shape(SECONDS)) and torch.isfinite(latent).all()
    assert model.audio_to_mel(audio, rate).shape == (1, model.mel.n_mels, model.mel.frames_for(SECONDS))


def test_bfloat16_compute_keeps_latents_and_gradients_in_float32():
    model = tiny_adapter("stable-audio-open", compute_dtype=torch.bfloat16)
    assert model.dtype == torch.float32 and next(model.transformer.parameters()).dtype == torch.bfloat16
    conditioning = model.condition(prompt="calm ambient pad", guidance_scale=2.0)
    x_T = _noise(model).requires_grad_(True)
    logmel = model.decode_mel(sample(model, x_T, conditioning, SamplerSpec(steps=2)))
    assert logmel.dtype == torch.float32
    logmel.mean().backward()
    assert x_T.grad.dtype == torch.float32 and torch.isfinite(x_T.grad).all() and x_T.grad.abs().sum() > 0


def test_compute_dtype_follows_the_device_unless_named():
    assert pick_compute_dtype("cpu") == torch.float32
    assert pick_compute_dtype("cpu", "bf16") == torch.bfloat16
    assert pick_compute_dtype("cuda", "float16") == torch.float16
    with pytest.raises(JobError, match="dtype: unknown 'int8'"):
        pick_compute_dtype("cpu", "int8")


def test_unknown_precomputed_prompt_names_the_known_ones(tiny_adapters):
    with pytest.raises(JobError, match="'jazz trio' has no precomputed embedding.*'calm ambient pad'"):
        tiny_adapters["audioldm2-music"].condition(prompt="jazz trio")


def test_guidance_without_the_empty_prompts_embedding_says_what_is_missing(tiny_adapters):
    model = tiny_adapters["musicldm"]
    table = PrecomputedPrompts({"piano": {"clap": torch.randn(1, 32)}})
    with pytest.raises(JobError, match="negative prompt ''"):
        table("piano", negative=True)
    embeddings, _ = table("piano", negative=False)
    with pytest.raises(JobError, match="guidance_scale: 3.0 needs the empty prompt"):
        model.condition_from_embeddings(embeddings, None, guidance_scale=3.0)
    assert model.condition_from_embeddings(embeddings, None, guidance_scale=1.0).uncond is None


def test_audioldm2_pads_t5_states_of_different_lengths_for_guidance(tiny_adapters):
    model = tiny_adapters["audioldm2-music"]
    prompt = {"generated": torch.randn(1, 8, 16), "t5": torch.randn(1, 7, 32)}
    empty = {"generated": torch.randn(1, 8, 16), "t5": torch.randn(1, 2, 32),
             "t5_mask": torch.ones(1, 2, dtype=torch.long)}
    conditioning = model.condition_from_embeddings(prompt, empty, guidance_scale=2.5, batch=2)
    assert conditioning.uncond["t5"].shape == (2, 7, 32)
    assert conditioning.uncond["t5_mask"].tolist() == [[1, 1, 0, 0, 0, 0, 0]] * 2
    with torch.no_grad():
        out = model.guided(torch.cat([_noise(model)] * 2), torch.tensor([500, 500]), conditioning)
    assert torch.isfinite(out).all()


def test_stable_audio_refuses_clips_longer_than_its_window(tiny_adapters):
    model = tiny_adapters["stable-audio-open"]
    assert model.max_seconds == pytest.approx(1024 * 64 / 8000)
    assert model.latent_shape(model.max_seconds) == (3, 1024)
    with pytest.raises(JobError, match="duration: 9 s is longer than stable-audio-open-tiny's window of 8.19 s"):
        model.latent_shape(9.0)


@pytest.mark.parametrize("scale, guided", [(0.0, False), (0.5, True), (1.0, False), (4.0, True)])
def test_guidance_is_off_only_at_scales_0_and_1(scale, guided, tiny_adapters):
    assert (tiny_adapters["musicldm"].condition(prompt="calm ambient pad", guidance_scale=scale).uncond
            is not None) == guided


def test_the_precision_environment_variable_reaches_the_adapters_too(monkeypatch):
    monkeypatch.setenv("DITTO_BRIDGE_PRECISION", "bf16")
    assert pick_compute_dtype("cpu") == torch.bfloat16
    assert pick_compute_dtype("cpu", "float32") == torch.float32  # a named dtype still wins
    monkeypatch.setenv("DITTO_BRIDGE_PRECISION", "fp32")
    assert pick_compute_dtype("cpu") == torch.float32
