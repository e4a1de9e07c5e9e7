"""What a take did with each control, in numbers and in words: the sidecar's `controls` entry, the daemon's
`/ditto/done` summary and the device's status line all come from here.

For an intensity control the figures are measured on the written audio (after gain) against what the producer
asked for, and on the music alone (before gain) against what the music was asked for; the words say where the
target left the model's range and what gain did about it. Other controls report their metric on the best
render, as the optimizer judged it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from engine.controls.base import Control
from engine.controls.intensity import IntensityControl, audio_levels_db

UNITS = {"intensity": "dB RMS", "melody": "error rate", "structure": "MSE", "rhythm": "1 - onset F", "inpaint": "log-mel MSE",
         "outpaint": "log-mel MSE", "loop": "log-mel MSE",
         "seam": "x typical change"}
MIN_GAIN_DB = 0.5
"""Gains smaller than this are not worth a sentence."""


@dataclass
class ControlReport:
    """One control of one take. `metric` is compared with `tolerance`; `missed_by` is how far above it the take
    stayed (0 when met); `failures` fail the control whatever its metric. Intensity only: `music_metric` (the
    music before gain against the music's target), `gain_db` (largest gain applied, signed), `limited_db`, `words`."""

    label: str
    type: str
    metric: float
    unit: str
    tolerance: float
    met: bool
    missed_by: float
    failures: list[str] = field(default_factory=list)
    music_metric: float | None = None
    gain_db: float | None = None
    limited_db: float | None = None
    words: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def control_type(control: Control) -> str:
    return control.label.rstrip("0123456789")


def split_words(control: IntensityControl, gain_on: bool) -> str | None:
    """Where the producer's target left the model's range, in words, at the frame where it left furthest
    ("asked -45 dB at 0.0 s; the music reaches -39.5 dB; 5.5 dB applied as gain"); None when it never did."""
    if control.requested_db is None:
        return None
    inside = control.mask.numpy() > 0
    gap = (control.requested_db - control.target_db).numpy() * inside
    frame = int(np.argmax(np.abs(gap)))
    if abs(gap[frame]) < MIN_GAIN_DB:
        return None
    asked, reached = float(control.requested_db[frame]), float(control.target_db[frame])
    seconds = frame / control.spec.frame_rate
    tail = (f"{abs(gap[frame]):.1f} dB applied as gain" if gain_on
            else f"gain is off, so the take misses by up to {abs(gap[frame]):.1f} dB there")
    return f"asked {asked:.1f} dB at {seconds:.1f} s; the music reaches {reached:.1f} dB; {tail}"


def _rms_error(levels: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    return float(np.sqrt(((levels - target) ** 2 * mask).sum() / mask.sum()))


def intensity_report(control: IntensityControl, final_audio: np.ndarray, music_audio: np.ndarray,
                     limited_db: float) -> ControlReport:
    """Intensity measured on the take `(channels, samples)` after gain and on the music before it."""
    frames = control.target_db.shape[-1]
    mask = control.mask.numpy()
    requested = (control.requested_db if control.requested_db is not None else control.target_db).numpy()
    heard = audio_levels_db(final_audio[None], control.spec, frames)[0]
    music = audio_levels_db(music_audio[None], control.spec, frames)[0]
    metric = _rms_error(heard, requested, mask)
    failures = control.failures(final_audio[None])[0]
    gain = control.gain_db.numpy() * mask
    met = metric <= control.tolerance and not failures
    return ControlReport(control.label, "intensity", metric, UNITS["intensity"], control.tolerance, met,
                         max(0.0, metric - control.tolerance), failures,
                         music_metric=_rms_error(music, control.target_db.numpy(), mask),
                         gain_db=float(gain[np.argmax(np.abs(gain))]), limited_db=limited_db,
                         words=split_words(control, control.gain))


def take_reports(controls: Sequence[Control], metrics: dict[str, float], failures: dict[str, list[str]],
                 final_audio: np.ndarray, music_audio: np.ndarray, limited_db: float = 0.0) -> list[ControlReport]:
    """Every control of one take: `metrics`/`failures` are the best render's (`DittoResult.best_metrics[i]`),
    `final_audio`/`music_audio` the take `(channels, samples)` after and before gain."""
    reports = []
    for control in controls:
        if isinstance(control, IntensityControl):
            reports.append(intensity_report(control, final_audio, music_audio, limited_db))
            continue
        value, reasons = metrics[control.label], failures.get(control.label, [])
        met = value <= control.tolerance and not reasons
        kind = control_type(control)
        reports.append(ControlReport(control.label, kind, value, UNITS.get(kind, ""), control.tolerance, met,
                                     max(0.0, value - control.tolerance), list(reasons)))
    return reports


def summary(reports: Sequence[ControlReport]) -> str:
    """One line for a status bar: each control met or missed by how much, and any gain in words."""
    parts = []
    for report in reports:
        figure = f"{report.metric:.3g} {report.unit}".strip()
        if report.met:
            text = f"{report.label} within tolerance ({figure})"
        else:
            text = f"{report.label} missed by {report.missed_by:.3g} ({figure} against {report.tolerance:g})"
        if report.failures:
            text += f"; {report.failures[0]}"
        if report.words:
            text += f"; {report.words}"
        parts.append(text)
    return " | ".join(parts) if parts else "no controls"
