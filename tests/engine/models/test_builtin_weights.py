"""Built-in weights: save/load round trip, and the shipped file loads offline from the installed package."""

import socket

import pytest
import torch

from engine.errors import ModelNotFoundError
from engine.models.builtin.model import from_weights, load_builtin
from engine.models.builtin.weights import BuiltinWeights, load_weights, packaged_weights_path, save_weights


def test_weights_round_trip_gives_the_same_denoiser_output(tmp_path, tiny_model):
    weights = BuiltinWeights(tiny_model.network.config, tiny_model.network.state_dict(), tiny_model._mean.view(-1),
                             tiny_model._std.view(-1), tiny_model.tags, tiny_model.schedule, {"trained": True})
    path = tmp_path / "w.safetensors"
    save_weights(path, weights)
    loaded = from_weights(load_weights(path))
    assert loaded.info.trained
    x = torch.randn(1, *tiny_model.latent_shape(0.3), generator=torch.Generator().manual_seed(0))
    t = torch.tensor([500])
    tags = torch.zeros(1, len(tiny_model.tags))
    with torch.no_grad():
        # weights are stored in fp16: outputs agree to fp16 precision
        assert torch.allclose(loaded.denoise(x, t, tags), tiny_model.denoise(x, t, tags), atol=1e-2, rtol=1e-2)


def test_missing_weights_file_names_the_path(tmp_path):
    with pytest.raises(ModelNotFoundError, match="nowhere.safetensors"):
        load_weights(tmp_path / "nowhere.safetensors")


def test_a_named_weights_file_that_is_missing_is_an_error_not_random_weights(tmp_path):
    from engine.models.builtin.model import load_builtin

    with pytest.raises(ModelNotFoundError, match="nowhere.safetensors"):
        load_builtin(weights_path=str(tmp_path / "nowhere.safetensors"))


def test_shipped_weights_load_from_the_installed_package_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("loading the built-in model tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = packaged_weights_path()
    assert path.is_file(), f"the package must ship trained weights at {path}"
    assert path.stat().st_size <= 60 * 2 ** 20
    model = load_builtin()
    assert model.info.trained
    assert model.training["steps"] > 0
