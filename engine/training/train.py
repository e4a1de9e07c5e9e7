"""Train the built-in mel diffusion model on the rendered corpus; resumable, with EMA and frequent checkpoints.

    python -m engine.training.train --corpus data/corpus --run runs/builtin --hours 2

Recipe (docs/MODEL_CARD.md): log-mel normalized per bin to zero mean and unit variance; v-prediction on a cosine
schedule (1000 steps) with every SNR divided by `--snr-shift` (engine/models/builtin/schedule.py); min-SNR-5 loss
weighting with a floor so the high-noise steps DITTO starts from still learn; Adam 5e-4 with a 500-step warmup and
gradient clipping at 1 (with `--cooldown-steps`, a cosine decay to 5 % once the loss has plateaued); EMA 0.999; random
crops of 64-512 frames at about 4,096 frames per step; tags dropped 15 % of the time for classifier-free guidance and
cut to one or two of the clip's own tags another `--partial-tags` of the time, so a request with few tags is a
request the model has seen (and plays at the loudness of the clips that carry those tags).
Every `--checkpoint-minutes` the full state (model, EMA, optimizer, step, RNG) goes to `RUN/ckpt.pt` and the EMA
weights are exported (fp16) to `RUN/builtin.safetensors` (and to the package with `--export-to-package`).
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DDPMScheduler
from diffusers.training_utils import compute_snr

from engine.models.builtin.network import MelUNet, NetworkConfig
from engine.models.builtin.schedule import COSINE_SCHEDULE, SNR_SHIFT, builtin_schedule
from engine.models.builtin.tags import TAGS
from engine.models.builtin.weights import BuiltinWeights, packaged_weights_path, save_weights
from engine.models.schedulers import diffusers_schedule
from engine.safe_files import write_file
from engine.training.corpus import load_corpus

CROP_CHOICES = (64, 128, 256, 512)
CROP_PROBS = (0.45, 0.3, 0.17, 0.08)


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 5e-4
    warmup_steps: int = 500
    frames_per_step: int = 4096
    ema_decay: float = 0.999
    min_snr_gamma: float = 5.0
    weight_floor: float = 0.2
    tag_dropout: float = 0.15
    partial_tags: float = 0.0
    grad_clip: float = 1.0
    seed: int = 0


def normalization(mel: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-bin mean and std `(n_mels,)` of log-mel clips `(clips, n_mels, frames)`."""
    sample = mel[:: max(1, len(mel) // 2000)].astype(np.float64)
    mean = sample.mean(axis=(0, 2))
    std = sample.std(axis=(0, 2))
    return torch.tensor(mean, dtype=torch.float32), torch.tensor(np.maximum(std, 1e-3), dtype=torch.float32)


def loss_weights(scheduler: DDPMScheduler, t: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """min-SNR-gamma weights for a v-prediction loss, floored: `(batch,)`."""
    snr = compute_snr(scheduler, t)
    return torch.clamp(torch.minimum(snr, torch.tensor(config.min_snr_gamma)) / (snr + 1), min=config.weight_floor)


def sample_batch(mel: np.ndarray, tags: np.ndarray, rng: np.random.Generator, config: TrainConfig,
                 mean: torch.Tensor, std: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops: normalized latents `(batch, n_mels, crop)` and multi-hot tags `(batch, n_tags)`."""
    crop = int(rng.choice(CROP_CHOICES, p=CROP_PROBS))
    batch = max(1, config.frames_per_step // crop)
    index = rng.integers(0, len(mel), size=batch)
    starts = rng.integers(0, mel.shape[-1] - crop + 1, size=batch)
    x = np.stack([mel[i, :, s:s + crop] for i, s in zip(index, starts)]).astype(np.float32)
    x = (torch.from_numpy(x) - mean[None, :, None]) / std[None, :, None]
    return x, torch.from_numpy(tags[index].astype(np.float32))


def drop_tags(tags: torch.Tensor, generator: torch.Generator, config: TrainConfig) -> torch.Tensor:
    """The tags a batch is conditioned on, `(batch, n_tags)` multi-hot: each clip's row is emptied with probability
    `tag_dropout` (the unconditional branch of guidance), cut to one or two of its own tags (equally likely, chosen
    uniformly) with probability `partial_tags`, and kept whole otherwise."""
    draw = torch.rand(tags.shape[0], generator=generator)
    keep_none = draw < config.tag_dropout
    keep_some = ~keep_none & (draw < config.tag_dropout + config.partial_tags)
    how_many = torch.randint(1, 3, (tags.shape[0],), generator=generator)
    scores = torch.where(tags > 0, torch.rand(tags.shape, generator=generator), torch.full_like(tags, -1.0))
    rank = scores.argsort(dim=1, descending=True).argsort(dim=1)
    cut = tags * (rank < how_many[:, None]).to(tags.dtype)
    kept = torch.where(keep_some[:, None], cut, tags)
    return kept * (~keep_none).to(tags.dtype)[:, None]


def train_step(model: MelUNet, scheduler: DDPMScheduler, x0: torch.Tensor, tags: torch.Tensor,
               generator: torch.Generator, config: TrainConfig) -> torch.Tensor:
    """One v-prediction loss on a batch (weighted mean square error)."""
    batch = x0.shape[0]
    t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    x_t = scheduler.add_noise(x0, noise, t)
    target = scheduler.get_velocity(x0, noise, t)
    prediction = model(x_t, t, drop_tags(tags, generator, config))
    per_example = (prediction - target).pow(2).mean(dim=(1, 2))
    return (per_example * loss_weights(scheduler, t, config)).mean()


@dataclass(frozen=True)
class Cooldown:
    """A cosine decay of the learning rate, from `origin` (a training step) over `steps` steps down to `floor` × lr,
    held there afterwards. A run that has plateaued at a constant lr settles into a sharper minimum this way."""

    origin: int
    steps: int
    floor: float = 0.05

    def scale(self, step: int) -> float:
        progress = min(1.0, max(0.0, (step - self.origin) / max(1, self.steps)))
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + np.cos(np.pi * progress))


def learning_rate(step: int, config: TrainConfig, warmup_origin: int = 0, cooldown: Cooldown | None = None) -> float:
    """Linear warm-up over `warmup_steps` counted from `warmup_origin` (the step a fresh optimizer started at), then
    constant, or decaying along `cooldown` once one has begun."""
    lr = config.lr * min(1.0, (step - warmup_origin + 1) / config.warmup_steps)
    return lr * cooldown.scale(step) if cooldown is not None else lr


def training_scheduler(schedule: dict) -> DDPMScheduler:
    """The diffusers scheduler that noises training batches under `schedule` (the dict stored in the weights)."""
    return DDPMScheduler(**diffusers_schedule(schedule), clip_sample=False)


def ema_update(ema: MelUNet, model: MelUNet, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)


def export(run: Path, ema: MelUNet, mean: torch.Tensor, std: torch.Tensor, schedule: dict, step: int, wall: float,
           frames_seen: int, to_package: bool) -> None:
    weights = BuiltinWeights(ema.config, ema.state_dict(), mean, std, TAGS, schedule,
                             {"steps": step, "wall_seconds": round(wall), "frames_seen": frames_seen,
                              "recipe": "engine/training/train.py", "trained": True})
    save_weights(run / "builtin.safetensors", weights)
    if to_package:
        save_weights(packaged_weights_path(), weights)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--run", type=Path, default=Path("runs/builtin"))
    parser.add_argument("--hours", type=float, default=2.0, help="stop after this much wall time")
    parser.add_argument("--max-steps", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--export-to-package", action="store_true")
    parser.add_argument("--channels", type=str, default="160,256,384")
    parser.add_argument("--stem-channels", type=int, default=16)
    parser.add_argument("--frames-per-step", type=int, default=4096)
    parser.add_argument("--no-full-res-skip", action="store_true")
    parser.add_argument("--snr-shift", type=float, default=SNR_SHIFT,
                        help="divide the cosine schedule's SNR by this (a new run only; a resumed run keeps its own)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start from shipped weights (e.g. the package's builtin.safetensors) when RUN has no "
                             "checkpoint: network and EMA from the file, a fresh optimizer (warmed up again), the step "
                             "count carried on, and the noise schedule of --snr-shift")
    parser.add_argument("--partial-tags", type=float, default=0.25,
                        help="share of clips trained on one or two of their own tags instead of all of them")
    parser.add_argument("--cooldown-steps", type=int, default=None,
                        help="decay the lr (cosine, to 5 %%) over this many steps, from the step this run is at; the "
                             "start is saved, so a resumed run continues the same decay")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    if not 0.0 <= args.partial_tags <= 1.0 - TrainConfig.tag_dropout:
        raise SystemExit(f"--partial-tags must lie in 0 … {1.0 - TrainConfig.tag_dropout:.2f}, got {args.partial_tags}")
    config = TrainConfig(frames_per_step=args.frames_per_step, partial_tags=args.partial_tags)
    args.run.mkdir(parents=True, exist_ok=True)
    mel, tags = load_corpus(args.corpus, "train")
    mean, std = normalization(mel)
    net_config = NetworkConfig(n_tags=len(TAGS), channels=tuple(int(c) for c in args.channels.split(",")),
                               stem_channels=args.stem_channels, full_res_skip=not args.no_full_res_skip)
    torch.manual_seed(config.seed)
    model = MelUNet(net_config)
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.99))
    schedule = builtin_schedule(args.snr_shift)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    step, wall, frames_seen, warmup_origin = 0, 0.0, 0, 0
    cooldown = None

    ckpt_path = args.run / "ckpt.pt"
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step, wall, frames_seen = state["step"], state["wall"], state["frames_seen"]
        rng.bit_generator.state = state["numpy_rng"]
        generator.set_state(state["torch_rng"])
        mean, std = state["mean"], state["std"]
        schedule = state.get("schedule", COSINE_SCHEDULE)
        warmup_origin = state.get("warmup_origin", 0)
        cooldown = Cooldown(**state["cooldown"]) if state.get("cooldown") else None
        print(f"resumed at step {step} ({wall / 3600:.2f} h trained)", flush=True)
    elif args.init_from is not None:
        step, wall, frames_seen, mean, std = _init_from(args.init_from, model, ema)
        warmup_origin = step
        print(f"initialized from {args.init_from} at step {step}", flush=True)
    if cooldown is None and args.cooldown_steps is not None:
        cooldown = Cooldown(origin=step, steps=args.cooldown_steps)
        print(f"lr cooldown from step {step} over {args.cooldown_steps} steps", flush=True)
    scheduler = training_scheduler(schedule)
    print(f"model {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, "
          f"{len(mel)} clips, {len(TAGS)} tags", flush=True)

    log_path = args.run / "train_log.csv"
    new_log = not log_path.exists()
    log = open(log_path, "a", newline="")
    writer = csv.writer(log)
    if new_log:
        writer.writerow(["step", "loss", "lr", "wall_seconds"])
    start = time.time() - wall
    session_start = time.time()
    last_ckpt = time.time()
    running = []
    while step < args.max_steps and time.time() - session_start < args.hours * 3600:
        x0, tag_batch = sample_batch(mel, tags, rng, config, mean, std)
        lr = learning_rate(step, config, warmup_origin, cooldown)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = train_step(model, scheduler, x0, tag_batch, generator, config)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        ema_update(ema, model, step, config.ema_decay)
        step += 1
        frames_seen += x0.shape[0] * x0.shape[-1]
        running.append(loss.item())
        if step % 25 == 0:
            wall = time.time() - start
            writer.writerow([step, f"{np.mean(running):.5f}", f"{lr:.2e}", f"{wall:.0f}"])
            log.flush()
            print(f"step {step} loss {np.mean(running):.4f} lr {lr:.1e} {wall / 60:.1f} min", flush=True)
            running = []
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            wall = time.time() - start
            _checkpoint(ckpt_path, model, ema, optimizer, step, wall, frames_seen, rng, generator, mean, std,
                        schedule, warmup_origin, cooldown)
            export(args.run, ema, mean, std, schedule, step, wall, frames_seen, args.export_to_package)
            last_ckpt = time.time()
    wall = time.time() - start
    _checkpoint(ckpt_path, model, ema, optimizer, step, wall, frames_seen, rng, generator, mean, std, schedule,
                warmup_origin, cooldown)
    export(args.run, ema, mean, std, schedule, step, wall, frames_seen, args.export_to_package)
    print(json.dumps({"step": step, "wall_hours": wall / 3600}), flush=True)


def _init_from(path: Path, model: MelUNet, ema: MelUNet):
    """Load shipped (fp16) weights into both the model and its EMA; returns step, wall, frames and normalization."""
    from engine.models.builtin.weights import load_weights

    weights = load_weights(path)
    if weights.network_config != model.config:
        raise SystemExit(f"{path} holds a network {weights.network_config}, not the requested {model.config}")
    model.load_state_dict(weights.state_dict)
    ema.load_state_dict(weights.state_dict)
    info = weights.training
    return (int(info.get("steps", 0)), float(info.get("wall_seconds", 0)), int(info.get("frames_seen", 0)),
            weights.mel_mean, weights.mel_std)


def _checkpoint(path: Path, model, ema, optimizer, step, wall, frames_seen, rng, generator, mean, std, schedule,
                warmup_origin, cooldown: Cooldown | None) -> None:
    state = {"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
             "step": step, "wall": wall, "frames_seen": frames_seen,
             "numpy_rng": rng.bit_generator.state, "torch_rng": generator.get_state(),
             "mean": mean, "std": std, "schedule": schedule, "warmup_origin": warmup_origin,
             "cooldown": dataclasses.asdict(cooldown) if cooldown is not None else None}
    write_file(path, lambda handle: torch.save(state, handle))


if __name__ == "__main__":
    main()
