"""Compare GM renderers for the corpus: TinySoundFont with pretty_midi's TimGM6mb vs FluidSynth with FluidR3_GM.

    python -m engine.training.corpus_soundfonts [--fluid-soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2]

Prints two tables (the figures docs/CORPUS.md quotes):
1. single held notes of the programs the recipe uses, each renderer (TinySoundFont also with FluidR3_GM): harmonic-to-noise ratio of the sustain,
   spectral flatness, attack time, loudness wobble of the sustain (sample-loop artefacts) and energy above 4 kHz;
2. whole corpus clips rendered by both (the same MIDI): spectral flatness and render time per clip.
FluidSynth needs the Debian packages `fluidsynth` and `fluid-soundfont-gm`; without them only TinySoundFont runs.
FluidSynth renders with its reverb and chorus off (`-R 0 -C 0`) so both renderers are dry.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.training.compose import INSTRUMENTS, Note, Part
from engine.training.corpus_dynamics import Envelope
from engine.training.corpus_render import CONTROL_INTERVAL, DRUM_CHANNEL, _events, bundled_soundfont, render_parts

SAMPLE_RATE = 22050
TICKS_PER_SECOND = 1920  # 960 ticks per beat at 120 BPM


def write_midi(parts: list[Part], expression: Envelope, path: Path, *, n_samples: int) -> None:
    """A type-1 MIDI file of `parts` with the same events `render_parts` plays (CC11 every 256 samples)."""
    import mido

    events, channels = _events(parts, SAMPLE_RATE, n_samples)
    timed = []
    for channel, part in channels.items():
        timed.append((0, 0, mido.Message("program_change", channel=channel, program=part.program)))
        timed.append((0, 0, mido.Message("control_change", channel=channel, control=7, value=int(part.volume))))
        timed.append((0, 0, mido.Message("control_change", channel=channel, control=10, value=64)))
    last = -1
    for sample in range(0, n_samples, CONTROL_INTERVAL):
        value = int(round(float(expression.at(sample / SAMPLE_RATE))))
        if value != last:
            for channel in channels:
                timed.append((sample, 1, mido.Message("control_change", channel=channel, control=11, value=value)))
            last = value
    for sample, order, kind, channel, pitch, velocity in events:
        if kind == "on":
            timed.append((sample, 3, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        elif kind == "off":
            timed.append((sample, 2, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    for channel in channels:  # notes still held at the end would keep a file renderer going
        timed.append((n_samples, 4, mido.Message("control_change", channel=channel, control=120, value=0)))
    timed.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    now = 0
    for sample, _order, message in timed:
        tick = int(round(sample / SAMPLE_RATE * TICKS_PER_SECOND))
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=960)
    midi.tracks.append(track)
    midi.save(str(path))


def render_fluidsynth(midi_path: Path, soundfont: Path, n_samples: int) -> np.ndarray:
    """Mono float32 [shape=(n_samples,)] of a MIDI file rendered by the `fluidsynth` command (dry)."""
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5", "-r", str(SAMPLE_RATE),
                        "-F", str(wav), "-T", "wav", str(soundfont), str(midi_path)],
                       check=True, capture_output=True, timeout=120)
        audio, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth wrote {rate} Hz, asked for {SAMPLE_RATE}")
    audio = audio.mean(axis=1)
    out = np.zeros(n_samples, dtype=np.float32)
    out[:min(n_samples, len(audio))] = audio[:n_samples]
    return out


# --- measures ------------------------------------------------------------------------------------------------------


def harmonic_to_noise_db(audio: np.ndarray, f0: float, *, start: float, end: float) -> float:
    """Energy within 3 % of the harmonics of `f0` (up to 8 kHz) over the rest, dB, on audio[start:end] seconds."""
    x = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / SAMPLE_RATE)
    band = (freqs > 30) & (freqs < 8000)
    harmonic = np.zeros_like(band)
    for k in range(1, int(8000 // f0) + 1):
        harmonic |= np.abs(freqs - k * f0) < 0.03 * k * f0
    h = spectrum[band & harmonic].sum()
    n = spectrum[band & ~harmonic].sum()
    return float(10 * np.log10((h + 1e-20) / (n + 1e-20)))


def spectral_flatness(audio: np.ndarray, *, floor_db: float = -60.0) -> float:
    """Median over frames louder than `floor_db` (below the peak frame) of geometric/arithmetic mean of the
    power spectrum up to 8 kHz (n_fft 1024, hop 256); 0 = pure tones, 1 = white noise."""
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), 1024)[::256]
    power = np.abs(np.fft.rfft(frames * np.hanning(1024), axis=1)) ** 2
    power = power[:, 1:372] + 1e-20  # up to 8 kHz
    level = 10 * np.log10(power.sum(axis=1))
    loud = level > level.max() + floor_db
    flat = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    return float(np.median(flat[loud]))


def attack_ms(audio: np.ndarray) -> float:
    """Milliseconds from the first sample above 1 % of the peak envelope to 90 % of it (hop 64 RMS envelope)."""
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), 128)[::64]
    env = np.sqrt(np.mean(frames ** 2, axis=1))
    peak = env.max()
    first = int(np.argmax(env > 0.01 * peak))
    reach = int(np.argmax(env > 0.9 * peak))
    return float((reach - first) * 64 / SAMPLE_RATE * 1000)


def sustain_wobble_db(audio: np.ndarray, *, start: float, end: float) -> float:
    """Std of frame level (dB, hop 256) over [start, end) s after removing a linear trend (the decay)."""
    x = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)].astype(np.float64)
    frames = x[: len(x) // 256 * 256].reshape(-1, 256)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    t = np.arange(len(db))
    residual = db - np.polyval(np.polyfit(t, db, 1), t)
    return float(np.std(residual))


def high_band_share(audio: np.ndarray) -> float:
    """Share of the energy (up to Nyquist) above 4 kHz."""
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1.0 / SAMPLE_RATE)
    return float(spectrum[freqs > 4000].sum() / (spectrum.sum() + 1e-20))


# --- the comparison -----------------------------------------------------------------------------------------------

NOTE_PROGRAMS = (0, 4, 11, 19, 24, 27, 33, 40, 42, 48, 56, 60, 65, 68, 71, 73, 81, 89)


def _note_part(program: int) -> tuple[Part, int]:
    instrument = INSTRUMENTS[program]
    pitch = int(round((instrument.low + instrument.high) / 2))
    return Part("note", instrument.family, program, (Note(0.05, 1.6, pitch, 100),), 110), pitch


def compare_notes(fluid_soundfont: Path | None) -> list[dict]:
    n = int(2.2 * SAMPLE_RATE)
    flat = Envelope((0.0,), (127.0,))
    rows = []
    for program in NOTE_PROGRAMS:
        part, pitch = _note_part(program)
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        renders = {"tsf+TimGM6mb": render_parts([part], flat, soundfont=bundled_soundfont(),
                                                 sample_rate=SAMPLE_RATE, n_samples=n)}
        if fluid_soundfont is not None:
            renders["tsf+FluidR3"] = render_parts([part], flat, soundfont=fluid_soundfont, sample_rate=SAMPLE_RATE,
                                                  n_samples=n)
            with tempfile.TemporaryDirectory() as tmp:
                mid = Path(tmp) / "note.mid"
                write_midi([part], flat, mid, n_samples=n)
                renders["fluidsynth+FluidR3"] = render_fluidsynth(mid, fluid_soundfont, n)
        for name, audio in renders.items():
            rows.append({"program": program, "name": INSTRUMENTS[program].name, "renderer": name,
                         "hnr_db": harmonic_to_noise_db(audio, f0, start=0.4, end=1.5),
                         "flatness": spectral_flatness(audio[: int(1.6 * SAMPLE_RATE)]),
                         "attack_ms": attack_ms(audio), "wobble_db": sustain_wobble_db(audio, start=0.4, end=1.5),
                         "above_4k": high_band_share(audio[: int(1.6 * SAMPLE_RATE)])})
    return rows


def compare_clips(fluid_soundfont: Path | None, clips: int, cache: Path) -> list[dict]:
    from engine.training.corpus_melodies import load_melody_cache
    from engine.training.corpus_recipe import CLIP_SAMPLES, plan_clip

    pieces = load_melody_cache(cache)
    rows = []
    for index in range(clips):
        plan = plan_clip(0, index, pieces)
        started = time.perf_counter()
        tsf = render_parts(list(plan.parts), plan.dynamics.expression, soundfont=bundled_soundfont(),
                           sample_rate=SAMPLE_RATE, n_samples=CLIP_SAMPLES)
        rows.append({"index": index, "archetype": plan.archetype, "renderer": "tsf+TimGM6mb",
                     "seconds": time.perf_counter() - started, "flatness": spectral_flatness(tsf)})
        if fluid_soundfont is not None:
            started = time.perf_counter()
            tsf_fluid = render_parts(list(plan.parts), plan.dynamics.expression, soundfont=fluid_soundfont,
                                     sample_rate=SAMPLE_RATE, n_samples=CLIP_SAMPLES)
            rows.append({"index": index, "archetype": plan.archetype, "renderer": "tsf+FluidR3",
                         "seconds": time.perf_counter() - started, "flatness": spectral_flatness(tsf_fluid)})
            with tempfile.TemporaryDirectory() as tmp:
                mid = Path(tmp) / "clip.mid"
                started = time.perf_counter()
                write_midi(list(plan.parts), plan.dynamics.expression, mid, n_samples=CLIP_SAMPLES)
                fluid = render_fluidsynth(mid, fluid_soundfont, CLIP_SAMPLES)
                rows.append({"index": index, "archetype": plan.archetype, "renderer": "fluidsynth+FluidR3",
                             "seconds": time.perf_counter() - started, "flatness": spectral_flatness(fluid)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fluid-soundfont", type=Path, default=Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"))
    parser.add_argument("--cache", type=Path, default=Path("data/corpus/melody_cache.json"))
    parser.add_argument("--clips", type=int, default=24)
    args = parser.parse_args(argv)
    fluid = args.fluid_soundfont if (shutil.which("fluidsynth") and args.fluid_soundfont.exists()) else None
    if fluid is None:
        print("fluidsynth or its soundfont is missing: TinySoundFont only")
    notes = compare_notes(fluid)
    print("held notes (median over programs; per-program rows below)")
    print(f"{'renderer':22s} {'HNR dB':>8s} {'flatness':>9s} {'attack ms':>10s} {'wobble dB':>10s} {'>4 kHz':>8s}")
    for renderer in sorted({r["renderer"] for r in notes}):
        rs = [r for r in notes if r["renderer"] == renderer]
        print(f"{renderer:22s} {np.median([r['hnr_db'] for r in rs]):8.1f} "
              f"{np.median([r['flatness'] for r in rs]):9.4f} {np.median([r['attack_ms'] for r in rs]):10.1f} "
              f"{np.median([r['wobble_db'] for r in rs]):10.2f} {np.median([r['above_4k'] for r in rs]):8.4f}")
    for r in notes:
        print(f"  {r['program']:3d} {r['name'][:24]:24s} {r['renderer']:20s} hnr {r['hnr_db']:6.1f} "
              f"flat {r['flatness']:.4f} attack {r['attack_ms']:6.1f} wobble {r['wobble_db']:5.2f} "
              f">4k {r['above_4k']:.4f}")
    clips = compare_clips(fluid, args.clips, args.cache)
    print(f"\nwhole clips ({args.clips}, seed 0)")
    for renderer in sorted({r["renderer"] for r in clips}):
        rs = [r for r in clips if r["renderer"] == renderer]
        print(f"{renderer:22s} flatness median {np.median([r['flatness'] for r in rs]):.4f}  "
              f"seconds per clip {np.mean([r['seconds'] for r in rs]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
