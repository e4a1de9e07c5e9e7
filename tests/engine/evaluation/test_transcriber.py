"""basic-pitch's ONNX model as an independent transcriber: framing facts and a pure-tone melody."""

import numpy as np
import pytest

from engine.evaluation import transcriber as bp

RATE = 22050


def test_windows_and_unwrap_keep_one_frame_per_hop():
    audio = np.zeros(5 * RATE, dtype=np.float32)
    windows = bp.windows(audio)
    assert windows.shape[1:] == (bp.WINDOW_SAMPLES, 1)
    assert windows.shape[0] == int(np.ceil((audio.size + bp.OVERLAP_SAMPLES // 2) / bp.WINDOW_HOP))
    fake = np.arange(windows.shape[0] * 172, dtype=float).reshape(windows.shape[0], 172, 1)
    frames = bp.unwrap(fake, audio.size)
    assert frames.shape == (audio.size // 256, 1)
    # the first kept frame is the 16th of the first window; the next window picks up where it stopped
    assert frames[0, 0] == 15 and frames[172 - 30, 0] == 172 + 15


@pytest.fixture(scope="module")
def transcriber():
    try:
        return bp.BasicPitchTranscriber()
    except bp.TranscriberUnavailableError as error:
        pytest.skip(str(error))


def test_a_pure_tone_melody_is_transcribed_right(transcriber):
    notes = [60, 62, 64, 67, 65, 69]
    seconds = 0.5
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * 440.0 * 2 ** ((n - 69) / 12) * np.arange(int(seconds * RATE))
                                          / RATE) for n in notes])
    midi = transcriber.midi_pitches(audio, RATE)
    assert midi.shape == (audio.size // 256,)
    expected = np.array([notes[min(int(i * 256 / RATE / seconds), len(notes) - 1)] for i in range(midi.size)])
    assert (midi == expected).mean() > 0.85
    from engine.evaluation.metrics import melody_accuracy_transcribed

    assert melody_accuracy_transcribed(audio, RATE, expected % 12, transcriber) > 0.85


def test_silence_has_no_note(transcriber):
    assert (transcriber.pitch_classes(np.zeros(RATE), RATE) == -1).all()
