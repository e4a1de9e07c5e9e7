"""The shipped built-in model makes music-like audio: not silence, not noise, and tags steer it."""

import json

import numpy as np
import pytest
import torch

from engine.models.builtin.model import load_builtin
from engine.job import SamplerSpec
from engine.sampling import sample
from engine.training.data_stats import STATS_PATH, clip_flatness, clip_rms_db

SECONDS = 3.0


@pytest.fixture(scope="module")
def model():
    model = load_builtin()
    if not model.info.trained:
        pytest.fail("the package ships no trained built-in weights")
    return model


def _latents(model, tags, seeds, guidance=2.0):
    out = []
    for seed in seeds:
        cond = model.condition(tags=tags, guidance_scale=guidance, batch=1)
        x_T = torch.randn((1, *model.latent_shape(SECONDS)), generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            out.append(sample(model, x_T, cond, SamplerSpec("ddim", 12), checkpointing=False))
    return torch.cat(out)


def test_a_generated_clip_is_neither_silence_nor_noise(model):
    stats = json.loads(STATS_PATH.read_text())
    audio = model.decode_audio(_latents(model, ["piano", "mid"], [0]))[0, 0].numpy()
    rms, flatness = clip_rms_db(audio), clip_flatness(audio)
    white = np.random.default_rng(0).standard_normal(len(audio)) * 10 ** (rms / 20)
    assert stats["rms_db"]["p1"] - 6 <= rms <= stats["rms_db"]["p99"] + 6
    assert flatness <= stats["flatness"]["p99"]
    assert flatness < 0.5 * clip_flatness(white)


def _onset_strength(logmel):
    """Mean positive frame-to-frame change of the log-mel (nats per frame)."""
    return torch.relu(torch.diff(logmel, dim=-1)).mean().item()


def test_a_drums_tag_gives_more_onset_energy_than_a_strings_tag(model):
    seeds = [1, 2, 3]
    drums = _onset_strength(model.decode_mel(_latents(model, ["drums"], seeds, guidance=3.0)))
    strings = _onset_strength(model.decode_mel(_latents(model, ["strings", "calm"], seeds, guidance=3.0)))
    assert drums > 1.2 * strings
