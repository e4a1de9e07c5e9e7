import numpy as np
import pytest

from engine.evaluation.fdmel import EMBEDDING_DIM, embed, fd_mel, frechet_distance
from engine.evaluation.metrics import MetricInputError

RATE = 22050


def clips(shift_semitones: float = 0.0, gain: float = 1.0, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for k in range(count):
        t = np.arange(2 * RATE) / RATE
        base = 220 * 2 ** ((k * 2 + shift_semitones) / 12)
        signal = sum(0.2 / h * np.sin(2 * np.pi * base * h * t) for h in (1, 2, 3))
        signal *= 0.6 + 0.4 * np.sin(2 * np.pi * (1 + k) * t) ** 2
        out.append(gain * (signal + 0.01 * rng.normal(size=t.size)))
    return out


def test_embedding_has_one_row_per_window():
    rows = embed(clips()[0], RATE)
    assert rows.shape == (3, EMBEDDING_DIM)  # 2 s, 1 s windows every 0.5 s


def test_fd_mel_of_a_set_with_itself_is_zero():
    assert fd_mel(clips(), clips(), RATE) == pytest.approx(0.0, abs=1e-3)


def test_fd_mel_grows_with_the_shift_of_the_set():
    reference = clips()
    small = fd_mel(reference, clips(shift_semitones=1.0), RATE)
    large = fd_mel(reference, clips(shift_semitones=5.0), RATE)
    quieter = fd_mel(reference, clips(gain=0.25), RATE)
    assert 0.0 < small < large
    assert quieter > 1.0


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(20000, 2))
    b = rng.normal(0.0, 2.0, size=(20000, 2)) + np.array([3.0, 0.0])
    # |mu|^2 + tr(I + 4I - 2 * 2I) = 9 + 2
    assert frechet_distance(a, b) == pytest.approx(11.0, rel=0.03)


def test_frechet_distance_needs_two_rows_per_set():
    with pytest.raises(MetricInputError):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
