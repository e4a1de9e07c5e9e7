import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.controls.melody import MelodyControl
from engine.features.chroma import chroma
from engine.features.pitch import note_pitch_classes

SR = 22050
SPEC = MelSpec()


def _tone(midi, seconds=0.6, harmonics=8, amplitude=0.3, decay=1.0):
    freq = 440 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(SR * seconds)) / SR
    return sum(amplitude * decay ** (k - 1) / k * np.sin(2 * np.pi * freq * k * t) for k in range(1, harmonics + 1))


def _control(pitch_class, frames):
    return MelodyControl("melody", 1.0, 0.1, target=torch.full((frames,), pitch_class, dtype=torch.long), spec=SPEC)


def _mel(audio):
    return log_mel(torch.tensor(audio, dtype=torch.float64), SPEC)[None]


def test_a_tone_of_the_target_pitch_class_meets_the_melody():
    mel = _mel(_tone(64))
    control = _control(4, mel.shape[-1])
    assert float(control.metric(mel)) < 0.05
    assert float(control.loss(mel)) < float(_control(5, mel.shape[-1]).loss(mel))


def test_a_frame_counts_only_when_chroma_and_note_salience_both_hear_the_target():
    # a bright low C: chroma can be pulled toward its overtones, the note salience credits them to C
    mel = _mel(_tone(43, harmonics=12, decay=1.25))
    frames = mel.shape[-1]
    by_chroma = chroma(mel, SPEC).argmax(dim=1)[0]
    by_salience = note_pitch_classes(mel, SPEC).argmax(dim=1)[0]
    for pitch_class in range(12):
        both = ((by_chroma == pitch_class) & (by_salience == pitch_class)).float().mean()
        assert float(_control(pitch_class, frames).metric(mel)) == float(1 - both)
    assert bool((by_chroma != by_salience).any())


def test_frames_without_a_target_are_free():
    mel = _mel(np.concatenate([_tone(60, 0.3), _tone(66, 0.3)]))
    frames = mel.shape[-1]
    target = torch.full((frames,), -1, dtype=torch.long)
    target[: frames // 2 - 3] = 0
    control = MelodyControl("melody", 1.0, 0.1, target=target, spec=SPEC)
    assert float(control.metric(mel)) < 0.05
