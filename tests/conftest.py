"""Shared test settings: one torch thread (tests run on 2-core CI machines), deterministic seeds, and float32
model calls whatever the CPU (bfloat16 is chosen by hardware; tests/engine/test_precision.py covers it apart),
so a test gives the same numbers on every machine."""

import os

import numpy as np
import pytest
import soundfile as sf
import torch

os.environ["DITTO_BRIDGE_PRECISION"] = "fp32"


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_model():
    from engine.models.builtin.model import load_builtin

    return load_builtin(tiny=True)


@pytest.fixture(scope="module")
def reference_wav(tmp_path_factory):
    """Two seconds of a decaying A3/E4 dyad at 22,050 Hz."""
    rate = 22050
    t = np.arange(2 * rate) / rate
    audio = 0.3 * np.exp(-t) * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))
    path = tmp_path_factory.mktemp("refs") / "reference.wav"
    sf.write(str(path), audio.astype(np.float32), rate)
    return str(path)


@pytest.fixture
def noise(tiny_model):
    def draw(seconds: float, seed: int = 0, batch: int = 1) -> torch.Tensor:
        return torch.randn(batch, *tiny_model.latent_shape(seconds), generator=torch.Generator().manual_seed(seed))
    return draw
