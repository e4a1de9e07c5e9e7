import numpy as np
import pytest
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.features.chroma import chroma
from engine.features.pitch import LOWEST_NOTE, note_pitch_classes, note_salience

SR = 22050


def _tone(midi, seconds=0.5, harmonics=6, amplitude=0.3):
    freq = 440 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(SR * seconds)) / SR
    return sum(amplitude / k * np.sin(2 * np.pi * freq * k * t) for k in range(1, harmonics + 1))


def _mel(audio):
    return log_mel(torch.tensor(audio, dtype=torch.float64), MelSpec())


@pytest.mark.parametrize("midi", [55, 62, 69, 76, 83])
def test_note_salience_of_a_harmonic_tone_peaks_at_its_note(midi):
    salience = note_salience(_mel(_tone(midi)))
    assert int(salience.mean(dim=-1).argmax()) + LOWEST_NOTE == midi


@pytest.mark.parametrize("midi", [48, 53, 60, 67, 74])
def test_pitch_classes_of_a_harmonic_tone_favour_its_own_class_over_its_overtones(midi):
    classes = note_pitch_classes(_mel(_tone(midi, harmonics=8))).mean(dim=-1)
    fifth, third = (midi + 7) % 12, (midi + 4) % 12
    assert int(classes.argmax()) == midi % 12
    assert classes[midi % 12] > 2 * max(classes[fifth], classes[third])


def test_pitch_classes_hear_a_melody_over_a_bass_better_than_chroma_does():
    # a loud low C with its overtones under a softer E an octave and a third above: the E is the tune
    mix = _tone(36, harmonics=10, amplitude=0.5) + _tone(64, harmonics=4, amplitude=0.25)
    ours = note_pitch_classes(_mel(mix)).mean(dim=-1)
    theirs = chroma(_mel(mix)).mean(dim=-1)
    assert ours[4] / ours.sum() > theirs[4] / theirs.sum()


def test_pitch_classes_sum_to_one_per_frame_and_keep_the_batch_shape():
    mel = _mel(np.stack([_tone(60), _tone(67)]))
    classes = note_pitch_classes(mel)
    assert classes.shape == (2, 12, mel.shape[-1])
    assert torch.allclose(classes.sum(dim=-2), torch.ones(2, mel.shape[-1], dtype=classes.dtype))
