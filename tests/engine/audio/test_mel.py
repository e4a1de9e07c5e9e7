"""The mel front end agrees with librosa's: the Slaney mel scale, the filterbank, and the log-mel of a signal."""

import librosa  # in the test extra
import numpy as np
import torch

from engine.audio.mel import MelSpec, hz_to_mel, log_mel, mel_filterbank, mel_to_hz

SPEC = MelSpec()


def test_the_mel_scale_is_librosas_slaney_scale():
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0, 11025.0])
    assert np.allclose(hz_to_mel(hz), librosa.hz_to_mel(hz, htk=False))
    assert np.allclose(mel_to_hz(hz_to_mel(hz)), hz)


def test_the_filterbank_is_librosas():
    theirs = librosa.filters.mel(sr=SPEC.sample_rate, n_fft=SPEC.n_fft, n_mels=SPEC.n_mels, fmin=SPEC.fmin,
                                 fmax=SPEC.fmax, htk=False, norm="slaney")
    assert mel_filterbank(SPEC).shape == theirs.shape
    assert np.allclose(mel_filterbank(SPEC), theirs, rtol=1e-5, atol=1e-9)


def test_the_log_mel_of_a_signal_is_librosas_on_the_same_framing():
    rng = np.random.default_rng(0)
    t = np.arange(SPEC.sample_rate) / SPEC.sample_rate
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float64)
    ours = log_mel(torch.from_numpy(audio), SPEC).numpy()
    pad = (SPEC.n_fft - SPEC.hop_length) // 2  # reflect padding, then frames without centring
    padded = np.pad(audio, pad, mode="reflect")
    mel = librosa.feature.melspectrogram(y=padded, sr=SPEC.sample_rate, n_fft=SPEC.n_fft, hop_length=SPEC.hop_length,
                                         win_length=SPEC.win_length, window="hann", center=False, power=1.0,
                                         n_mels=SPEC.n_mels, fmin=SPEC.fmin, fmax=SPEC.fmax, htk=False,
                                         norm="slaney")
    theirs = np.log(np.maximum(mel, SPEC.log_floor))
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) < 1e-3
