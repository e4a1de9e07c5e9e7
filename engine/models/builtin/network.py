"""The built-in denoiser: a frequency-aware 2D stem folded into a fully convolutional 1D UNet over time.

Input and output are normalized log-mel latents `(batch, n_mels, frames)`; `frames` must be a multiple of
`NetworkConfig.frame_multiple`. The stem convolves over (frequency, time) at the full mel resolution, so harmonic
patterns that repeat across pitch are learned once; it then halves frequency and folds the 2D feature map into
the channels of a 1D trunk that runs over time at three resolutions. No attention: any clip length works.
Conditioning: a sinusoidal timestep embedding plus a tag embedding (multi-hot `(batch, n_tags)`; all zeros means
"no tags", used for classifier-free guidance) modulate every residual block (scale and shift).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class NetworkConfig:
    n_mels: int = 80
    n_tags: int = 16
    stem_channels: int = 32
    channels: tuple[int, ...] = (256, 384, 512)
    blocks_per_level: int = 2
    mid_dilations: tuple[int, ...] = (1, 2, 4, 8)
    embed_dim: int = 256
    full_res_skip: bool = True

    @property
    def frame_multiple(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "NetworkConfig":
        data = dict(data)
        data["channels"] = tuple(data["channels"])
        data["mid_dilations"] = tuple(data["mid_dilations"])
        data.setdefault("full_res_skip", False)
        return cls(**data)


TINY = NetworkConfig(stem_channels=4, channels=(32, 48), blocks_per_level=1, mid_dilations=(1, 2), embed_dim=32)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps `(batch,)` -> `(batch, dim)`."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _groups(channels: int) -> int:
    for groups in (32, 16, 8, 4, 2, 1):
        if channels % groups == 0 and channels // groups >= 2:
            return groups
    return 1


class ResBlock1d(nn.Module):
    """GroupNorm-SiLU-conv twice, with scale/shift from the embedding after the second norm."""

    def __init__(self, in_ch: int, out_ch: int, embed_dim: int, dilation: int = 1):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_ch), in_ch)
        self.conv1 = nn.Conv1d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)
        self.film = nn.Linear(embed_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch), out_ch)
        self.conv2 = nn.Conv1d(out_ch, out_ch, 3, padding=dilation, dilation=dilation)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb).unsqueeze(-1).chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class ResBlock2d(nn.Module):
    """2D residual block over (frequency, time) with embedding scale/shift."""

    def __init__(self, ch: int, embed_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(ch), ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.film = nn.Linear(embed_dim, 2 * ch)
        self.norm2 = nn.GroupNorm(_groups(ch), ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return x + h


class MelUNet(nn.Module):
    """Denoiser `(batch, n_mels, frames)`, t `(batch,)`, tags `(batch, n_tags)` -> `(batch, n_mels, frames)`."""

    def __init__(self, config: NetworkConfig = NetworkConfig()):
        super().__init__()
        self.config = config
        c, e, s = config.channels, config.embed_dim, config.stem_channels
        half_mels = (config.n_mels + 1) // 2
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.tag_mlp = nn.Sequential(nn.Linear(config.n_tags, e), nn.SiLU(), nn.Linear(e, e))
        # stem: (B, 1, F, T) -> (B, s, F/2, T) -> fold -> (B, c0, T)
        self.stem_in = nn.Conv2d(1, s, 3, padding=1)
        self.stem_down = nn.Conv2d(s, s, (4, 3), stride=(2, 1), padding=(1, 1))
        self.stem_block = ResBlock2d(s, e)
        self.fold_in = nn.Conv1d(s * half_mels, c[0], 1)
        # trunk
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for level, ch in enumerate(c):
            prev = c[level - 1] if level else c[0]
            blocks = [ResBlock1d(prev if i == 0 else ch, ch, e) for i in range(config.blocks_per_level)]
            self.down.append(nn.ModuleList(blocks))
            if level < len(c) - 1:
                self.downsample.append(nn.Conv1d(ch, ch, 4, stride=2, padding=1))
        self.mid = nn.ModuleList([ResBlock1d(c[-1], c[-1], e, dilation=d) for d in config.mid_dilations])
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(c))):
            ch = c[level]
            above = c[level + 1] if level < len(c) - 1 else c[-1]
            blocks = [ResBlock1d((above if i == 0 else ch) + ch, ch, e) for i in range(config.blocks_per_level)]
            self.up.append(nn.ModuleList(blocks))
            if level > 0:
                self.upsample.append(nn.ConvTranspose1d(ch, ch, 4, stride=2, padding=1))
        # head: unfold -> (B, s, F/2, T) -> up in frequency -> (B, 1, F, T)
        self.fold_out = nn.Conv1d(c[0], s * half_mels, 1)
        self.head_block = ResBlock2d(s, e)
        self.head_up = nn.ConvTranspose2d(s, s, (4, 3), stride=(2, 1), padding=(1, 1))
        # full-resolution skip: the stem's 80-bin features join the head, so fine detail (a partial is one or two
        # mel bins wide) need not pass through the halved-frequency trunk
        self.head_merge = nn.Conv2d(2 * s, s, 3, padding=1) if config.full_res_skip else None
        self.head_norm = nn.GroupNorm(_groups(s), s)
        self.head_out = nn.Conv2d(s, 1, 3, padding=1)
        nn.init.zeros_(self.head_out.weight)
        nn.init.zeros_(self.head_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        config = self.config
        batch, n_mels, frames = x.shape
        if frames % config.frame_multiple:
            raise ValueError(f"frames ({frames}) must be a multiple of {config.frame_multiple}")
        emb = self.time_mlp(timestep_embedding(t, config.embed_dim).to(x.dtype)) + self.tag_mlp(tags.to(x.dtype))
        emb = F.silu(emb)

        full = self.stem_in(x.unsqueeze(1))
        h2 = self.stem_block(self.stem_down(F.silu(full)), emb)
        stem_shape = h2.shape
        h = self.fold_in(h2.reshape(batch, -1, frames))

        skips = []
        for level, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        for block in self.mid:
            h = block(h, emb)
        for i, blocks in enumerate(self.up):
            skip = skips.pop()
            for block in blocks:
                h = block(torch.cat([h, skip], dim=1), emb)
            if i < len(self.upsample):
                h = self.upsample[i](h)

        h2 = self.fold_out(h).reshape(stem_shape)
        h2 = self.head_up(self.head_block(h2, emb))[:, :, :n_mels]
        if self.head_merge is not None:
            h2 = self.head_merge(torch.cat([h2, full], dim=1))
        h2 = self.head_out(F.silu(self.head_norm(h2)))
        return h2[:, 0, :n_mels, :]
