"""Shared test settings: one torch thread (tests run on 2-core CI machines), deterministic seeds."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_model():
    from engine.models.builtin.model import load_builtin

    return load_builtin(tiny=True)
