"""Tiny random-weight adapters (built once per session) and a reference clip at their 8 kHz rate."""

import numpy as np
import pytest
import soundfile as sf

from engine.models.adapters.tiny import KINDS, TINY_SAMPLE_RATE, tiny_adapter


@pytest.fixture(scope="session")
def tiny_adapters():
    """{kind: adapter with precomputed prompt embeddings} for the three pipelines."""
    return {kind: tiny_adapter(kind) for kind in KINDS}


@pytest.fixture(scope="session")
def reference_wav(tmp_path_factory):
    """Half a second of a fading-in 440 Hz tone plus a quieter 990 Hz partial, 8 kHz mono."""
    t = np.arange(TINY_SAMPLE_RATE // 2) / TINY_SAMPLE_RATE
    audio = 0.3 * np.sin(2 * np.pi * 440 * t) * np.minimum(1.0, 4 * t) + 0.05 * np.sin(2 * np.pi * 990 * t)
    path = tmp_path_factory.mktemp("adapters") / "reference.wav"
    sf.write(path, audio, TINY_SAMPLE_RATE)
    return str(path)
