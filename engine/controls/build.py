"""Turn a job's seconds-based control specs into bound controls on the model's frames."""

from __future__ import annotations

import numpy as np
import torch

from engine import job as jobs
from engine.audio.io import read_audio
from engine.controls.base import Control
from engine.controls.intensity import IntensityControl, breakpoints_to_frames, split_target
from engine.controls.melody import MelodyControl, notes_to_frames
from engine.controls.reference import ReferenceMatch, SelfLoop
from engine.controls.rhythm import RhythmControl, grid_onsets, repeat_onsets
from engine.controls.structure import StructureControl, sections_to_similarity
from engine.errors import JobError
from engine.features.rhythm import onsets_and_strengths
from engine.models.base import DiffusionModel
from engine.models.loudness import LoudnessRange


def reference_mel(model: DiffusionModel, path: str) -> torch.Tensor:
    """Feature-domain log-mel `(1, n_mels, frames)` of a reference file."""
    return reference_mel_and_seconds(model, path)[0]


def reference_mel_and_seconds(model: DiffusionModel, path: str) -> tuple[torch.Tensor, float]:
    """Feature-domain log-mel `(1, n_mels, frames)` of a reference file, and the file's length in seconds."""
    audio, rate = read_audio(path)
    with torch.no_grad():
        mel = model.audio_to_mel(torch.from_numpy(audio).unsqueeze(0).to(model.device), rate).detach()
    return mel, audio.shape[-1] / rate


def fit_to_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """Crop, or pad by repeating the last frame, `(..., frames_in)` to `(..., frames)`."""
    if x.shape[-1] >= frames:
        return x[..., :frames]
    return torch.cat([x, x[..., -1:].expand(*x.shape[:-1], frames - x.shape[-1])], dim=-1)


def rhythm_targets(control: jobs.RhythmControl, model: DiffusionModel, duration: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Target onsets (seconds) and accents `(onsets,)` of a rhythm control over a clip of `duration` s: its list,
    its grid, or the onsets found in its reference (accents: how strong each is against the strongest), repeated
    when the reference is shorter than the clip."""
    if control.onsets is not None:
        accents = control.accents if control.accents is not None else np.ones(len(control.onsets))
        return np.asarray(control.onsets, float), np.asarray(accents, float)
    if control.grid is not None:
        return grid_onsets(control.grid, duration)
    reference, seconds = reference_mel_and_seconds(model, control.reference)
    onsets, strengths = onsets_and_strengths(reference[0], model.mel)
    return repeat_onsets(onsets, strengths, seconds, duration)


def build_controls(job: jobs.Job, model: DiffusionModel, reach: LoudnessRange | None = None) -> list[Control]:
    """Bind every control of `job` to the model's frame grid (frames of a clip of `job.duration`). Intensity
    targets are split against `reach` (the job's tag set's range, `engine.controls.reach`; default: the model's)."""
    reach = reach if reach is not None else model.loudness_range()
    spec = model.mel
    frames = model.feature_frames(job.duration)
    end = min(frames, spec.frames_for(job.duration))
    inside = torch.zeros(frames)
    inside[:end] = 1.0
    controls: list[Control] = []
    for index, control in enumerate(job.controls):
        label = f"{control.type}" if sum(c.type == control.type for c in job.controls) == 1 else f"{control.type}{index}"
        common = dict(label=label, weight=control.weight, tolerance=control.tolerance)
        if isinstance(control, jobs.IntensityControl):
            requested = breakpoints_to_frames(control.times, control.db, spec, frames)
            music, _ = split_target(requested, reach)
            controls.append(IntensityControl(**common, target_db=torch.tensor(music), mask=inside, spec=spec,
                                             requested_db=torch.tensor(requested), gain=control.gain))
        elif isinstance(control, jobs.MelodyControl):
            target = notes_to_frames(control.notes, spec, frames)
            if (target >= 0).sum() == 0:
                raise JobError(f"controls[{index}].notes: no note falls inside the clip")
            controls.append(MelodyControl(**common, target=torch.from_numpy(target), spec=spec))
        elif isinstance(control, jobs.StructureControl):
            pool = 16
            same, covered = sections_to_similarity(control.sections, spec, frames, pool)
            controls.append(StructureControl(**common, target=torch.from_numpy(same),
                                             block_mask=torch.from_numpy(covered), pool=pool, spec=spec))
        elif isinstance(control, jobs.RhythmControl):
            onsets, accents = rhythm_targets(control, model, job.duration)
            if len(onsets) == 0:
                raise JobError(f"controls[{index}].reference: no onset found in the reference audio")
            controls.append(RhythmControl(**common, onsets=onsets, accents=accents, window=control.window, spec=spec,
                                          frames=frames, end=end))
        elif isinstance(control, jobs.InpaintControl):
            reference = fit_to_frames(reference_mel(model, control.reference), frames)
            mask = inside.clone()
            gap = (spec.frame_times(frames) >= control.gap_start) & (spec.frame_times(frames) < control.gap_end)
            mask[torch.from_numpy(gap)] = 0.0
            controls.append(ReferenceMatch(**common, reference=reference, mask=mask))
        elif isinstance(control, jobs.OutpaintControl):
            source = reference_mel(model, control.reference)
            overlap = min(int(round(spec.seconds_to_frame(control.overlap))), source.shape[-1], end)
            reference = torch.zeros(1, spec.n_mels, frames)
            reference[..., :overlap] = source[..., source.shape[-1] - overlap:]
            mask = torch.zeros(frames)
            mask[:overlap] = 1.0
            controls.append(ReferenceMatch(**common, reference=reference, mask=mask))
        elif isinstance(control, jobs.LoopControl):
            overlap = max(1, int(round(spec.seconds_to_frame(control.overlap))))
            if control.reference is None:
                controls.append(SelfLoop(**common, overlap=overlap, end=end))
                continue
            source = reference_mel(model, control.reference)
            overlap = min(overlap, source.shape[-1] // 2)
            reference = torch.zeros(1, spec.n_mels, frames)
            reference[..., :overlap] = source[..., source.shape[-1] - overlap:]
            reference[..., end - overlap:end] = source[..., :overlap]
            mask = torch.zeros(frames)
            mask[:overlap] = 1.0
            mask[end - overlap:end] = 1.0
            controls.append(ReferenceMatch(**common, reference=reference, mask=mask))
    return controls
