"""The one WAV encoding: 24-bit by default, clipped, to a path (atomically) or an open file."""

import io

import numpy as np
import soundfile as sf

from engine.audio.io import encode_wav, read_audio, write_wav


def test_write_wav_clips_and_reads_back_within_24_bit_precision(tmp_path):
    audio = np.array([[0.25, -0.5, 2.0, -3.0]], dtype=np.float32)
    path = write_wav(tmp_path / "take.wav", audio, 22050)
    back, rate = read_audio(path)
    assert rate == 22050 and sf.info(str(path)).subtype == "PCM_24"
    assert np.allclose(back, [[0.25, -0.5, 1.0, -1.0]], atol=2 ** -22)
    assert [p.name for p in tmp_path.iterdir()] == ["take.wav"]  # no partial file left behind


def test_encode_wav_writes_to_an_open_file_in_the_subtype_asked():
    buffer = io.BytesIO()
    encode_wav(buffer, np.zeros((2, 100), np.float32), 44100, "PCM_16")
    buffer.seek(0)
    info = sf.info(buffer)
    assert (info.channels, info.frames, info.samplerate, info.subtype) == (2, 100, 44100, "PCM_16")
