"""An independent melody transcriber: basic-pitch's note model (ICASSP 2022) run with onnxruntime.

Only the model file `saved_models/icassp_2022/nmp.onnx` of the installed `basic-pitch` package is used (install it
with `pip install --no-deps basic-pitch`: its TensorFlow dependencies are not needed, and nothing of the package
is imported). Pre- and post-processing are written here from the model's input/output contract:

- input: mono float32 audio at 22,050 Hz in windows of 43,844 samples (2 s less one 256-sample hop), shape
  `(windows, 43844, 1)`; consecutive windows overlap by 30 frames (7,680 samples), and the signal is preceded by
  half an overlap (3,840 samples) of silence;
- output per window: 172 frames (hop 256) of "note" activations over 88 piano keys (MIDI 21-108), with "onset"
  and "contour" beside them; the 15 frames at each end of every window are dropped and the rest concatenated
  (as basic-pitch itself does: 142 frames kept per window hop of 141.3 frames, a drift under one frame per 2 s).

Its frames therefore share the project's mel grid (hop 256 at 22,050 Hz): frame i is centred near sample i * 256.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from engine.audio.resample import resample_array
from engine.errors import EngineError

SAMPLE_RATE = 22050
HOP = 256
WINDOW_SAMPLES = 2 * SAMPLE_RATE - HOP
OVERLAP_FRAMES = 30
OVERLAP_SAMPLES = OVERLAP_FRAMES * HOP
WINDOW_HOP = WINDOW_SAMPLES - OVERLAP_SAMPLES
LOWEST_MIDI = 21
INPUT_NAME = "serving_default_input_2:0"
NOTE_OUTPUT = "StatefulPartitionedCall:1"


class TranscriberUnavailableError(EngineError):
    """basic-pitch's model file or onnxruntime is missing; the message says what to install."""


def model_path() -> Path:
    """Path of `nmp.onnx` inside the installed basic-pitch package (found without importing the package)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise TranscriberUnavailableError("basic-pitch is not installed; run `pip install --no-deps basic-pitch` "
                                          "(only its ONNX model file is used)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "saved_models" / "icassp_2022" / "nmp.onnx"
        if path.is_file():
            return path
    raise TranscriberUnavailableError("basic-pitch is installed but has no saved_models/icassp_2022/nmp.onnx; "
                                      "reinstall it with `pip install --no-deps --force-reinstall basic-pitch`")


@functools.lru_cache(maxsize=1)
def _session(path: str):
    try:
        import onnxruntime
    except ImportError as error:
        raise TranscriberUnavailableError("onnxruntime is not installed; run `pip install onnxruntime`") from error
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def windows(audio: np.ndarray) -> np.ndarray:
    """Model input `(windows, WINDOW_SAMPLES, 1)` float32 from mono audio `(samples,)` at 22,050 Hz."""
    padded = np.concatenate([np.zeros(OVERLAP_SAMPLES // 2, dtype=np.float32), audio.astype(np.float32)])
    starts = range(0, padded.size, WINDOW_HOP)
    out = np.zeros((len(starts), WINDOW_SAMPLES, 1), dtype=np.float32)
    for row, start in enumerate(starts):
        chunk = padded[start:start + WINDOW_SAMPLES]
        out[row, : chunk.size, 0] = chunk
    return out


def unwrap(output: np.ndarray, samples: int) -> np.ndarray:
    """Per-window frames `(windows, frames, bins)` -> `(samples // HOP, bins)` with the overlaps removed."""
    half = OVERLAP_FRAMES // 2
    kept = output[:, half:-half, :]
    return kept.reshape(-1, kept.shape[-1])[: samples // HOP]


class BasicPitchTranscriber:
    """Note activations and the most active pitch class per frame, from basic-pitch's ONNX model."""

    name = "basic-pitch"

    def __init__(self, path: str | Path | None = None, *, threshold: float = 0.3):
        self.path = Path(path) if path is not None else model_path()
        self.threshold = threshold
        self.session = _session(str(self.path))

    def note_activations(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Note activations in [0, 1] `(samples // 256, 88)` (column k is MIDI note 21 + k)."""
        signal = np.asarray(audio, dtype=np.float64)
        if signal.ndim == 2:
            signal = signal.mean(axis=0)
        if sample_rate != SAMPLE_RATE:
            signal = resample_array(signal[None], sample_rate, SAMPLE_RATE)[0]
        notes = self.session.run([NOTE_OUTPUT], {INPUT_NAME: windows(signal)})[0]
        return unwrap(notes, signal.size)

    def midi_pitches(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Most active MIDI note per frame `(frames,)`, -1 where no note reaches `threshold`."""
        notes = self.note_activations(audio, sample_rate)
        best = notes.argmax(axis=1)
        return np.where(notes.max(axis=1) >= self.threshold, best + LOWEST_MIDI, -1)

    def pitch_classes(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Pitch class 0-11 of the most active note per frame `(frames,)`, -1 where none is active."""
        midi = self.midi_pitches(audio, sample_rate)
        return np.where(midi >= 0, midi % 12, -1)
