"""Compare the vocoders on held-out rendered music: re-synthesis distance and speed.

For each clip: log-mel of the original (`engine.audio.mel.log_mel`), vocoder, then the multi-resolution STFT
distance (`engine.audio.stft_loss`) between original and re-synthesis, plus the log-mel L1 between the two
log-mels. Speed is the real-time factor (synthesis seconds / audio seconds, lower is faster) on this machine's CPU
with `--threads` torch threads, measured in the same run for every vocoder (ratios between rows are what count).

Clips come from `<corpus>/heldout/shard_*.npz` (`audio`: float16 (N, samples) at 22,050 Hz). When there are none,
the script renders its own: seeded random MIDI parts through tinysoundfont and pretty_midi's TimGM6mb.sf2.

    python benchmarks/vocoder.py                      # prints the table, rewrites its section of docs/VOCODER.md
    python benchmarks/vocoder.py --no-write --clips 4
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import glob
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio.griffinlim import GriffinLimConfig, GriffinLimVocoder  # noqa: E402
from engine.audio.hifigan import HifiGanVocoder  # noqa: E402
from engine.audio.mel import MelSpec, log_mel  # noqa: E402
from engine.audio.stft_loss import DEFAULT_RESOLUTIONS, multi_resolution_stft_distance  # noqa: E402
from engine.audio.vocoder import Vocoder  # noqa: E402
from engine.features.intensity import waveform_intensity_db  # noqa: E402

SPEC = MelSpec()
CLIP_SAMPLES = 131072          # 512 frames, 5.94 s: the built-in model's clip length
DOC = Path(__file__).resolve().parents[1] / "docs" / "VOCODER.md"
BEGIN, END = "<!-- benchmarks/vocoder.py: begin -->", "<!-- benchmarks/vocoder.py: end -->"

# (program, is_drum, pitch range, notes per second) of the rendered parts; one to three parts per clip.
PARTS = [(0, False, (48, 84), 4.0), (24, False, (45, 76), 3.0), (33, False, (28, 52), 2.0), (48, False, (48, 79), 1.0),
         (56, False, (55, 82), 2.0), (73, False, (60, 90), 3.0), (80, False, (48, 84), 4.0), (0, True, (35, 51), 6.0)]


@dataclass(frozen=True)
class Row:
    name: str
    mr_stft: float
    spectral_convergence: float
    log_magnitude: float
    mr_stft_in_band: float
    logmel_l1: float
    rtf: float
    intensity_mse: float


def load_heldout(corpus: Path, clips: int) -> tuple[np.ndarray, str] | None:
    """`clips` clips spread evenly over all held-out shards, (clips, CLIP_SAMPLES) float32; None without shards."""
    shards = sorted(glob.glob(str(corpus / "heldout" / "shard_*.npz")))
    if not shards:
        return None
    audio: list[np.ndarray] = []
    for shard in shards:
        with np.load(shard) as data:
            audio.extend(data["audio"])
    picks = np.unique(np.linspace(0, len(audio) - 1, num=min(clips, len(audio))).round().astype(int))
    picked = np.stack([np.asarray(audio[i][:CLIP_SAMPLES], dtype=np.float32) for i in picks])
    return picked, (f"{len(picked)} clips spread evenly over the {len(audio)} held-out clips of "
                    f"{corpus / 'heldout'} ({len(shards)} shards)")


def render_clips(clips: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Seeded random multi-part MIDI rendered with TimGM6mb.sf2: (clips, CLIP_SAMPLES) float32 at 22,050 Hz."""
    import pretty_midi
    import tinysoundfont

    soundfont = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    rng = np.random.default_rng(seed)
    seconds = CLIP_SAMPLES / SPEC.sample_rate
    out = np.zeros((clips, CLIP_SAMPLES), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for c in range(clips):
            midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
            for p in rng.choice(len(PARTS), size=int(rng.integers(1, 4)), replace=False):
                program, is_drum, (low, high), rate = PARTS[p]
                instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
                t = 0.0
                while t < seconds:
                    length = float(rng.exponential(1.0 / rate)) + 0.05
                    instrument.notes.append(pretty_midi.Note(velocity=int(rng.integers(60, 120)),
                                                             pitch=int(rng.integers(low, high + 1)),
                                                             start=t, end=min(t + length * 1.5, seconds + 1.0)))
                    t += length
                midi.instruments.append(instrument)
            path = os.path.join(tmp, f"clip{c}.mid")
            midi.write(path)
            synth = tinysoundfont.Synth(samplerate=SPEC.sample_rate)
            synth.sfload(str(soundfont))
            sequencer = tinysoundfont.Sequencer(synth)
            sequencer.midi_load(path)
            stereo = np.frombuffer(synth.generate(CLIP_SAMPLES), dtype=np.float32).reshape(-1, 2)
            mono = stereo.mean(axis=1)
            out[c] = 0.5 * mono / max(float(np.abs(mono).max()), 1e-6)   # peak at -6 dBFS
    return out, f"{clips} clips rendered from seeded random MIDI with TimGM6mb.sf2 (no corpus held-out shards)"


def intensity_error_db2(original: torch.Tensor, resynthesis: torch.Tensor) -> float:
    """Mean square difference (dB^2) of the smoothed 20*log10 frame-RMS curves of two waveforms, measured on the
    waveforms themselves (what the intensity control is judged on), edge frames excluded."""
    a = waveform_intensity_db(original.double().cpu().numpy(), SPEC)
    b = waveform_intensity_db(resynthesis.double().cpu().numpy(), SPEC)
    n = min(len(a), len(b))
    return float(np.mean((a[10:n - 10] - b[10:n - 10]) ** 2))


def measure_all(candidates: list[tuple[str, Vocoder]], audio: torch.Tensor) -> list[Row]:
    """Run every vocoder on every clip, taking turns clip by clip so that load from other processes falls on all
    rows alike; the real-time factor is the best (lowest) over clips, as `timeit` reports, since other processes
    only ever slow a run down."""
    per = {name: {"sc": [], "lm": [], "band": [], "mel": [], "rtf": [], "int": []} for name, _ in candidates}
    clip_seconds = audio.shape[1] / SPEC.sample_rate
    with torch.inference_mode():
        for _, vocoder in candidates:                                     # warm-up (allocations, kernels)
            vocoder(log_mel(audio[:1, : 16 * SPEC.hop_length], SPEC))
        for clip in audio:
            clip = clip.unsqueeze(0)
            logmel = log_mel(clip, SPEC)
            for name, vocoder in candidates:
                start = time.perf_counter()
                out = vocoder(logmel)
                per[name]["rtf"].append((time.perf_counter() - start) / clip_seconds)
                distance = multi_resolution_stft_distance(clip, out)
                per[name]["sc"].append(distance.spectral_convergence.item())
                per[name]["lm"].append(distance.log_magnitude.item())
                per[name]["band"].append(multi_resolution_stft_distance(
                    clip, out, max_frequency_hz=SPEC.fmax, sample_rate=SPEC.sample_rate).total.item())
                per[name]["mel"].append((log_mel(out, SPEC) - logmel).abs().mean().item())
                per[name]["int"].append(intensity_error_db2(clip[0], out[0]))
            print(".", end="", flush=True)
    print()
    rows = []
    for name, _ in candidates:
        m = {key: float(np.mean(values)) for key, values in per[name].items()}
        rows.append(Row(name, m["sc"] + m["lm"], m["sc"], m["lm"], m["band"], m["mel"],
                        float(np.min(per[name]["rtf"])), m["int"]))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| vocoder | MR-STFT distance | spectral convergence | log-magnitude L1 | MR-STFT ≤ fmax | log-mel L1 "
             "| real-time factor | intensity error dB² |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.mr_stft:.3f} | {r.spectral_convergence:.3f} | {r.log_magnitude:.3f} | "
                     f"{r.mr_stft_in_band:.3f} | {r.logmel_l1:.3f} | {r.rtf:.3f} | {r.intensity_mse:.2f} |")
    return "\n".join(lines)


def write_section(doc: Path, body: str) -> None:
    text = doc.read_text() if doc.exists() else "# Vocoders\n"
    section = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads for the timing")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/VOCODER.md alone")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    loaded = load_heldout(args.corpus, args.clips)
    if loaded is None:
        print(f"note: no held-out shards under {args.corpus / 'heldout'}; rendering test clips instead")
        loaded = render_clips(args.clips)
    clips, source = loaded
    audio = torch.from_numpy(clips).to(args.device)
    print(f"clips: {source}; {audio.shape[1] / SPEC.sample_rate:.2f} s each")

    gl = GriffinLimConfig()
    candidates: list[tuple[str, Vocoder]] = [
        ("hifigan (universal V1)", HifiGanVocoder.from_installed_weights(device=args.device)),
        (f"griffinlim (fast, momentum {gl.momentum}, {gl.n_iter} it)", GriffinLimVocoder(gl, device=args.device)),
        (f"griffinlim (classic, momentum 0, {gl.n_iter} it)",
         GriffinLimVocoder(dataclasses.replace(gl, momentum=0.0), device=args.device)),
    ]
    load_before = os.getloadavg()[0]
    rows = measure_all(candidates, audio)
    load_after = os.getloadavg()[0]
    best = min(rows, key=lambda r: r.mr_stft)
    rendered = table(rows)
    print(rendered)
    print(f"lowest MR-STFT distance: {best.name}")

    where = (f"{args.device}, {args.threads} torch threads" if args.device == "cpu"
             else f"{torch.cuda.get_device_name(args.device)}")
    resolutions = ", ".join(f"({n}, {h})" for n, h in DEFAULT_RESOLUTIONS)
    body = "\n".join([
        f"Measured {dt.date.today().isoformat()} by `python benchmarks/vocoder.py` on {where} "
        f"({platform.machine()}, torch {torch.__version__}; {os.cpu_count()} CPUs, 1-minute load average "
        f"{load_before:.1f} before and {load_after:.1f} after).",
        f"Clips: {source}.",
        f"MR-STFT distance = spectral convergence + log-magnitude L1, averaged over (n_fft, hop) = {resolutions}; "
        f"MR-STFT ≤ fmax is the same distance over STFT bins up to the mel's fmax ({SPEC.fmax:.0f} Hz) only; "
        "log-mel L1 compares the engine's log-mel of the original and of the re-synthesis; "
        "real-time factor = synthesis seconds / audio seconds, best clip of the run, vocoders taking turns clip by "
        "clip (lower is faster; the machine is shared with other work, so compare rows, not runs).",
        "",
        rendered,
        "",
        f"Lowest MR-STFT distance: **{best.name}**. Lowest intensity error (the loudness curve a producer "
        f"asked for, measured on the WAV): **{min(rows, key=lambda r: r.intensity_mse).name}**.",
    ])
    if not args.no_write:
        write_section(args.doc, body)
        print(f"wrote the table into {args.doc}")


if __name__ == "__main__":
    main()
