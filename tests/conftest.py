"""Shared test settings: one torch thread (tests run on 2-core CI machines), deterministic seeds, and float32
model calls whatever the CPU (bfloat16 is chosen by hardware; tests/engine/test_precision.py covers it apart),
so a test gives the same numbers on every machine."""

import os

import pytest
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
