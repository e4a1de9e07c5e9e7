"""A take that is digitally silent for 0.25 s or more where sound was asked fails its intensity control."""

import numpy as np
import torch

from engine.audio.mel import MelSpec
from engine.controls.intensity import IntensityControl

SPEC = MelSpec()
RATE = SPEC.sample_rate


def _control(target_db: float, seconds: float = 2.0, tolerance: float = 1.5) -> IntensityControl:
    frames = SPEC.frames_for(seconds)
    return IntensityControl(label="intensity", weight=1.0, tolerance=tolerance,
                            target_db=torch.full((frames,), target_db, dtype=torch.float64),
                            mask=torch.ones(frames), spec=SPEC)


def _take(silent_from: float, silent_to: float, seconds: float = 2.0) -> torch.Tensor:
    """(1, 1, samples): a 0.1-amplitude noise burst with digital silence in [silent_from, silent_to) seconds."""
    audio = 0.1 * np.random.default_rng(0).standard_normal(int(seconds * RATE))
    audio[int(silent_from * RATE):int(silent_to * RATE)] = 0.0
    return torch.from_numpy(audio).view(1, 1, -1)


def test_a_half_second_of_silence_where_minus_20_db_was_asked_fails_and_says_where():
    control = _control(-20.0)
    (reasons,) = control.failures(_take(0.5, 1.0))
    assert len(reasons) == 1 and "digitally silent from 0.5" in reasons[0] and "-20 dB was asked" in reasons[0]
    # whatever its RMS error, the take scores at least twice the tolerance: never within it, never the best render
    assert control.audio_metric(torch.zeros(1, SPEC.n_mels, 2), _take(0.5, 1.0)) >= 2 * control.tolerance


def test_a_short_gap_or_silence_where_silence_was_asked_is_not_a_failure():
    assert _control(-20.0).failures(_take(0.5, 0.6)) == [[]]  # 0.1 s: a rest, not a dropout
    assert _control(-60.0).failures(_take(0.5, 1.5)) == [[]]  # the producer asked for (near) silence there
