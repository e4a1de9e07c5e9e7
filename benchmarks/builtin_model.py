"""Quality and speed of the built-in model: FD-mel against held-out music, loudness and flatness ranges, timing.

    python benchmarks/builtin_model.py                 # 32 generated clips; about 10 minutes on 2 cores
    python benchmarks/builtin_model.py --clips 8 --no-write
    python benchmarks/builtin_model.py --no-write --weights runs/builtin/builtin.safetensors   # another file

FD-mel (engine/evaluation/fdmel.py, a Fréchet distance on the project's own window statistics; not FAD) of
generated clips against held-out half A, next to two references from the same run: held-out half B vs half A
(the floor: two samples of real music) and the same architecture with random weights (and the trained weights'
noise schedule) vs half A (the ceiling).
Generated clips use tag sets drawn from held-out clips, guidance 2, 20 DDIM steps, the default vocoder.
Timing: one unconditional 512-frame clip, 20 DDIM steps, model time and vocoder time measured apart, median of 3.
Writes a spectrogram PNG (docs/builtin_spectrograms.png) and the "quality" section of docs/MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_doc import markdown_table, provenance, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL_CARD = ROOT / "docs" / "MODEL_CARD.md"
PNG = ROOT / "docs" / "builtin_spectrograms.png"


def spectral_flatness(audio: np.ndarray) -> float:
    """Median over frames of the geometric / arithmetic mean of the power spectrum (0 tonal ... 1 white noise)."""
    from engine.evaluation.metrics import audio_logmel

    power = np.exp(2 * audio_logmel(audio, 22050).numpy())
    flat = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (np.mean(power, axis=0) + 1e-12)
    return float(np.median(flat))


def rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-9))


def generate_clips(model, tag_sets: list[list[str]], seed: int) -> list[np.ndarray]:
    from engine.sampling import SamplerSettings, sample

    clips = []
    for i, tags in enumerate(tag_sets):
        conditioning = model.condition(tags=tags, guidance_scale=2.0, batch=1)
        shape = model.latent_shape(512 * 256 / 22050)
        x_T = torch.randn((1, *shape), generator=torch.Generator().manual_seed(seed + i))
        with torch.no_grad():
            latent = sample(model, x_T, conditioning, SamplerSettings("ddim", 20, checkpointing=False))
            clips.append(model.decode_audio(latent)[0, 0].numpy())
    return clips


def time_unconditional(model, repeats: int = 3) -> tuple[float, float]:
    """Median seconds of model time (20 DDIM steps, no guidance) and of vocoder time for one 512-frame clip."""
    from engine.sampling import SamplerSettings, sample

    conditioning = model.condition(batch=1)
    shape = model.latent_shape(512 * 256 / 22050)
    model_times, vocoder_times = [], []
    for i in range(repeats + 1):
        x_T = torch.randn((1, *shape), generator=torch.Generator().manual_seed(100 + i))
        t0 = time.perf_counter()
        with torch.no_grad():
            latent = sample(model, x_T, conditioning, SamplerSettings("ddim", 20, checkpointing=False))
        t1 = time.perf_counter()
        model.decode_audio(latent)
        t2 = time.perf_counter()
        if i:  # the first run warms up
            model_times.append(t1 - t0)
            vocoder_times.append(t2 - t1)
    return statistics.median(model_times), statistics.median(vocoder_times)


def save_spectrograms(real: list[np.ndarray], generated: list[np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from engine.evaluation.metrics import audio_logmel

    columns = min(len(real), len(generated), 4)
    fig, axes = plt.subplots(2, columns, figsize=(3.2 * columns, 5.2), sharey=True)
    for row, (title, clips) in enumerate((("held-out (rendered)", real), ("generated", generated))):
        for col in range(columns):
            ax = axes[row, col]
            ax.imshow(audio_logmel(clips[col], 22050).numpy(), origin="lower", aspect="auto", vmin=-11.5, vmax=2,
                      cmap="magma", extent=(0, len(clips[col]) / 22050, 0, 80))
            ax.set_title(f"{title} {col + 1}", fontsize=9)
            ax.set_xlabel("seconds", fontsize=8)
            if col == 0:
                ax.set_ylabel("mel bin", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--weights", type=Path, default=None,
                        help="measure another weights file instead of the packaged one (use with --no-write)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from engine.evaluation.fdmel import fd_mel
    from engine.models.builtin.model import load_builtin, random_model
    from engine.training.corpus import load_corpus, load_heldout_audio
    from engine.models.builtin.tags import TAGS

    heldout = load_heldout_audio(args.corpus).astype(np.float32)
    _, heldout_tags = load_corpus(args.corpus, "heldout")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(heldout))
    half_a = [heldout[i] for i in order[: len(order) // 2]]
    half_b = [heldout[i] for i in order[len(order) // 2:][: args.clips]]
    tag_sets = [[TAGS[j] for j in np.flatnonzero(heldout_tags[i])] for i in order[-args.clips:]]

    model = load_builtin(weights_path=args.weights)
    if not model.info.trained:
        raise SystemExit("no trained weights in the package: train first (python -m engine.training.train)")
    untrained = random_model(model.network.config, name="builtin-random", vocoder="hifigan")
    untrained._mean, untrained._std, untrained.schedule = model._mean, model._std, model.schedule

    model_s, vocoder_s = time_unconditional(model)
    t0 = time.perf_counter()
    generated = generate_clips(model, tag_sets, seed=1000)
    generation_s = time.perf_counter() - t0
    random_clips = generate_clips(untrained, tag_sets[: max(8, args.clips // 4)], seed=1000)

    fd_generated = fd_mel(generated, half_a, 22050)
    fd_floor = fd_mel(half_b, half_a, 22050)
    fd_ceiling = fd_mel(random_clips, half_a, 22050)
    position = (fd_generated - fd_floor) / (fd_ceiling - fd_floor)

    def ranges(clips):
        loud = [rms_db(c) for c in clips]
        flat = [spectral_flatness(c) for c in clips]
        return (f"{np.percentile(loud, 5):.1f} / {np.median(loud):.1f} / {np.percentile(loud, 95):.1f}",
                f"{np.percentile(flat, 5):.3f} / {np.median(flat):.3f} / {np.percentile(flat, 95):.3f}")

    rows = [["held-out half B (floor)", len(half_b), f"{fd_floor:.2f}", *ranges(half_b)],
            ["generated (trained model)", len(generated), f"{fd_generated:.2f}", *ranges(generated)],
            ["random weights (ceiling)", len(random_clips), f"{fd_ceiling:.2f}", *ranges(random_clips)]]
    table = markdown_table(["clips vs held-out half A", "N", "FD-mel", "RMS dBFS p5 / median / p95",
                            "spectral flatness p5 / median / p95"], rows)
    steps = model.training.get("steps", "?")
    wall = model.training.get("wall_seconds", 0)
    body = "\n".join([
        "## Quality and speed (`python benchmarks/builtin_model.py`)", "", provenance(), "",
        f"Weights: {steps} training steps, {wall / 3600:.2f} h of training wall time. "
        f"Held-out half A: {len(half_a)} clips.", "", table, "",
        f"Generated clips sit at **{100 * position:.0f} %** of the way from the floor to the ceiling "
        "(0 % = as close to held-out music as other held-out music, 100 % = as far as random weights).", "",
        f"Speed: one unconditional ~5.9 s clip (512 frames), 20 DDIM steps: **{model_s:.2f} s of model time**, "
        f"plus {vocoder_s:.2f} s of vocoder ({model.vocoder().name}; {args.threads} threads; median of 3). "
        f"{len(generated)} conditional clips with guidance took {generation_s:.0f} s including the vocoder.", "",
        f"![held-out and generated spectrograms]({PNG.name})",
    ])
    print(body)
    if not args.no_write:
        save_spectrograms(half_b, generated, PNG)
        update_section("quality", body, MODEL_CARD)


if __name__ == "__main__":
    main()
