"""Quality and speed of the built-in model: FD-mel against held-out music, loudness, flatness, held partials, timing.

    python benchmarks/builtin_model.py                 # 32 generated clips; about 10 minutes on 2 cores
    python benchmarks/builtin_model.py --clips 8 --no-write
    python benchmarks/builtin_model.py --weights runs/v2/builtin.safetensors   # another file
    python benchmarks/builtin_model.py --quick         # held partials only, 8 clips per row; prints only

FD-mel (engine/evaluation/fdmel.py, a Fréchet distance on the project's own window statistics; not FAD) of
generated clips against held-out half A, next to two references from the same run: held-out half B vs half A
(the floor: two samples of real music) and the same architecture with random weights (and the trained weights'
noise schedule) vs half A (the ceiling).
Generated clips use tag sets drawn from held-out clips, guidance 2, 20 DDIM steps, the default vocoder.
Timing: one unconditional 512-frame clip, 20 DDIM steps, model time and vocoder time measured apart, median of 3.
Writes a spectrogram PNG (docs/builtin_spectrograms.png) and the "quality" section of docs/MODEL_CARD.md (only for
the packaged weights: the card describes those).

Held-partial ratio (engine/evaluation/held_partials.py: the share of spectral peaks that stay on one mel bin for
8 frames, 93 ms, or more), each clip written to a WAV and measured from the file: the held-out clips' audio as the
corpus stores it, the same clips' stored log-mel through the default vocoder, and the generated clips. Median and
p10 / p90 over clips; updates the "builtin-held-partials" section of docs/RESULTS.md, or with `--weights`
"builtin-held-partials-<folder of the file>" (e.g. `-v2`), so the weights files sit side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_doc import RESULTS, markdown_table, provenance, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL_CARD = ROOT / "docs" / "MODEL_CARD.md"
PNG = ROOT / "docs" / "builtin_spectrograms.png"
QUICK_CLIPS = 8


def spectral_flatness(audio: np.ndarray) -> float:
    """Median over frames of the geometric / arithmetic mean of the power spectrum (0 tonal ... 1 white noise)."""
    from engine.evaluation.metrics import audio_logmel

    power = np.exp(2 * audio_logmel(audio, 22050).numpy())
    flat = np.exp(np.mean(np.log(power + 1e-12), axis=0)) / (np.mean(power, axis=0) + 1e-12)
    return float(np.median(flat))


def rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-9))


def generate_clips(model, tag_sets: list[list[str]], seed: int) -> list[np.ndarray]:
    from engine.job import SamplerSpec
    from engine.sampling import sample

    clips = []
    for i, tags in enumerate(tag_sets):
        conditioning = model.condition(tags=tags, guidance_scale=2.0, batch=1)
        shape = model.latent_shape(512 * 256 / 22050)
        x_T = torch.randn((1, *shape), generator=torch.Generator().manual_seed(seed + i))
        with torch.no_grad():
            latent = sample(model, x_T, conditioning, SamplerSpec("ddim", 20), checkpointing=False)
            clips.append(model.decode_audio(latent)[0, 0].numpy())
    return clips


def time_unconditional(model, repeats: int = 3) -> tuple[float, float]:
    """Median seconds of model time (20 DDIM steps, no guidance) and of vocoder time for one 512-frame clip."""
    from engine.job import SamplerSpec
    from engine.sampling import sample

    conditioning = model.condition(batch=1)
    shape = model.latent_shape(512 * 256 / 22050)
    model_times, vocoder_times = [], []
    for i in range(repeats + 1):
        x_T = torch.randn((1, *shape), generator=torch.Generator().manual_seed(100 + i))
        t0 = time.perf_counter()
        with torch.no_grad():
            latent = sample(model, x_T, conditioning, SamplerSpec("ddim", 20), checkpointing=False)
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


def vocode(mels: np.ndarray) -> list[np.ndarray]:
    """Stored log-mels [shape=(N, 80, frames)] in nats through the default vocoder -> N clips at 22,050 Hz."""
    from engine.audio.vocoders import load_vocoder

    vocoder = load_vocoder("default")
    with torch.no_grad():
        return [vocoder(torch.from_numpy(mel[None].astype(np.float32)))[0].clamp(-1, 1).numpy() for mel in mels]


def held_partial_ratios(clips: list[np.ndarray], folder: Path, name: str) -> list[float]:
    """Held-partial ratio of each 22,050-Hz clip `(samples,)`, measured from the 24-bit WAV it is written to."""
    from engine.audio.io import write_wav
    from engine.evaluation.held_partials import held_partial_ratio_wav

    return [held_partial_ratio_wav(write_wav(folder / f"{name}-{i:03d}.wav", clip[None], 22050))
            for i, clip in enumerate(clips)]


def held_partial_body(args, model, heldout: list[np.ndarray], heldout_mels: np.ndarray,
                      generated: list[np.ndarray]) -> str:
    """The "builtin-held-partials" section: the ratio's median and p10 / p90 per source of clips."""
    sources = (("held-out audio (as the corpus stores it)", heldout),
               ("held-out log-mel -> default vocoder", vocode(heldout_mels)),
               ("generated (guidance 2, 20 DDIM steps)", generated))
    rows = []
    with tempfile.TemporaryDirectory(prefix="held-partials-") as folder:
        for n, (label, clips) in enumerate(sources):
            ratios = held_partial_ratios(clips, Path(folder), f"source{n}")
            rows.append([label, len(clips), f"{np.nanmedian(ratios):.3f}",
                         f"{np.nanpercentile(ratios, 10):.3f} / {np.nanpercentile(ratios, 90):.3f}"])
    table = markdown_table(["clips", "N", "held-partial ratio, median", "p10 / p90"], rows)
    weights = args.weights or "the packaged weights"
    command = "python benchmarks/builtin_model.py" + (f" --weights {args.weights}" if args.weights else "")
    return "\n".join([
        f"## Held partials of the built-in model (`{command}`)" + (" (smoke run: `--quick`)" if args.quick else ""),
        "", provenance(), "",
        f"Weights: {weights}, {model.training.get('steps', '?')} training steps. Held-partial ratio "
        "(`engine/evaluation/held_partials.py`): the share of spectral peaks of librosa's log-mel that stay on one "
        "mel bin for 8 frames (93 ms) or more; 1 = every partial held, 0 = none. Each clip is written to a 24-bit "
        "WAV and measured from the file; generated clips use tag sets of held-out clips.", "", table])


def quality_body(args, model, half_a: list[np.ndarray], half_b: list[np.ndarray],
                 tag_sets: list[list[str]]) -> tuple[str, list[np.ndarray]]:
    """The model card's "quality" section, and the generated clips it measured."""
    from engine.evaluation.fdmel import fd_mel
    from engine.models.builtin.model import random_model

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
    return body, generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help=f"held partials only, {QUICK_CLIPS} clips per row (a smoke run); never writes")
    parser.add_argument("--weights", type=Path, default=None,
                        help="measure another weights file instead of the packaged one (the model card is left alone)")
    args = parser.parse_args()
    args.clips = QUICK_CLIPS if args.quick else args.clips
    torch.set_num_threads(args.threads)

    from engine.models.builtin.model import load_builtin
    from engine.models.builtin.tags import TAGS
    from engine.training.corpus import load_corpus, load_heldout_audio

    heldout = load_heldout_audio(args.corpus).astype(np.float32)
    heldout_mels, heldout_tags = load_corpus(args.corpus, "heldout")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(heldout))
    half_a = [heldout[i] for i in order[: len(order) // 2]]
    half_b_index = order[len(order) // 2:][: args.clips]
    half_b = [heldout[i] for i in half_b_index]
    tag_sets = [[TAGS[j] for j in np.flatnonzero(heldout_tags[i])] for i in order[-args.clips:]]

    model = load_builtin(weights_path=args.weights)
    if not model.info.trained:
        raise SystemExit("no trained weights in the package: train first (python -m engine.training.train)")

    if args.quick:
        quality, generated = None, generate_clips(model, tag_sets, seed=1000)
    else:
        quality, generated = quality_body(args, model, half_a, half_b, tag_sets)
        print(quality)
    held = held_partial_body(args, model, half_b, heldout_mels[half_b_index], generated)
    print(held)
    if args.no_write or args.quick:
        return
    update_section("builtin-held-partials" + (f"-{args.weights.resolve().parent.name}" if args.weights else ""),
                   held, RESULTS)
    if args.weights is None:
        save_spectrograms(half_b, generated, PNG)
        update_section("quality", quality, MODEL_CARD)


if __name__ == "__main__":
    main()
