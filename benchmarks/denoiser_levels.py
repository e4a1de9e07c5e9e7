"""How much of a clip the built-in denoiser recovers at each noise level: the check behind the shifted schedule.

    python benchmarks/denoiser_levels.py                          # the packaged weights
    python benchmarks/denoiser_levels.py --weights OTHER.safetensors

Held-out clips (normalized log-mel, 512 frames) are noised to timestep t under the weights' own schedule and
denoised in one call; the table gives the mean square error of the predicted x0 (normalized units) next to the
error of the same call fed pure noise, which knows nothing of the clip. Where the two columns meet, the clip can
no longer be read from x_t. If they part only in the last few timesteps, the choice of notes and rhythm is made
in those few timesteps, in training and in sampling alike (docs/MODEL_CARD.md, "noise schedule").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_doc import markdown_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMESTEPS = (200, 500, 800, 900, 950, 970, 985, 993, 999)


def x0_errors(model, scheduler, x0: torch.Tensor, tags: torch.Tensor, t: int,
              generator: torch.Generator) -> tuple[float, float]:
    """x0 mean square error from x_t and from pure noise at timestep `t`; x0 `(clips, n_mels, frames)`."""
    alpha_bar = scheduler.alphas_cumprod[t]
    timesteps = torch.full((len(x0),), t)
    noise = torch.randn(x0.shape, generator=generator)
    errors = []
    for x_t in (scheduler.add_noise(x0, noise, timesteps), noise):
        with torch.no_grad():
            v = model.denoise(x_t, timesteps, tags)
        x0_hat = alpha_bar.sqrt() * x_t - (1 - alpha_bar).sqrt() * v
        errors.append(float((x0_hat - x0).pow(2).mean()))
    return errors[0], errors[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--weights", type=Path, default=None, help="a weights file (default: the packaged one)")
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from engine.models.builtin.model import load_builtin
    from engine.training.corpus import load_corpus
    from engine.training.train import training_scheduler

    model = load_builtin(weights_path=args.weights)
    mel, tags = load_corpus(args.corpus, "heldout")
    x0 = model.encode_mel(torch.from_numpy(mel[: args.clips].astype(np.float32)))
    tag_batch = torch.from_numpy(tags[: args.clips].astype(np.float32))
    scheduler = training_scheduler(model.schedule)
    generator = torch.Generator().manual_seed(0)
    rows = []
    for t in TIMESTEPS:
        from_clip, from_noise = x0_errors(model, scheduler, x0, tag_batch, t, generator)
        alpha_bar = float(scheduler.alphas_cumprod[t])
        rows.append([t, f"{alpha_bar / (1 - alpha_bar):.1e}", f"{from_clip:.3f}", f"{from_noise:.3f}"])
    shift = model.schedule.get("snr_shift", 1)
    print(f"weights: {model.training.get('steps', '?')} steps, schedule SNR shift {shift}, {args.clips} held-out clips")
    print(markdown_table(["t", "SNR", "x0 MSE from x_t", "x0 MSE from pure noise"], rows))


if __name__ == "__main__":
    main()
