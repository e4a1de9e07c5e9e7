"""What a job's tag set reaches: the loudness range an intensity target is split against.

The model's range (`DiffusionModel.loudness_range`) spans all of its music; one tag set spans less. Drums alone
play 15-20 dB under the range's top (`benchmarks/tag_loudness.py`), so a curve inside the model's range can still
be out of reach for the job's tags, and DITTO then trades the music for the number. Before an intensity job, the
tag set's own reach is measured once: REACH_TAKES uncontrolled takes of REACH_SECONDS (fixed seeds, the job's
render sampler, tags, prompt and guidance), their smoothed frame levels from the 5th to the 95th percentile,
widened by REACH_MARGIN_DB (DITTO moves a take that far without strain), at least MIN_WIDTH_DB wide.
Measurements are kept per model object, so a daemon pays for a tag set once.

The top never passes the model's range: louder than its training music, the model trades the music for the
number. The bottom follows the tag set down, under the model's range where the tag set plays there (down to
QUIETEST_DB): drums alone sit at a median of -55 dB between their hits, and a floor at the model's range made
every drum take play 15 dB louder than it does by itself before the curve's own shape was even started on.
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from engine.audio.resample import mono_at
from engine.controls.intensity import audio_levels_db
from engine.job import SamplerSpec
from engine.models.base import DiffusionModel
from engine.models.loudness import LoudnessRange
from engine.sampling.loop import sample

REACH_TAKES = 3
REACH_SECONDS = 4.0
REACH_MARGIN_DB = 6.0
MIN_WIDTH_DB = 6.0
QUIETEST_DB = -80.0
"""The lowest level a reach goes down to: quieter than this is silence for a listener, not music to shape."""
REACH_SEED = 90_001
PERCENTILES = (5.0, 95.0)

_measured: "weakref.WeakKeyDictionary[DiffusionModel, dict]" = weakref.WeakKeyDictionary()


def reach_from_levels(levels_db: np.ndarray, model_range: LoudnessRange, label: str) -> LoudnessRange:
    """The tag set's range from the frame levels `(frames,)` (dB) of its uncontrolled takes (module docstring)."""
    low, high = np.percentile(np.asarray(levels_db, dtype=np.float64), PERCENTILES)
    low = max(QUIETEST_DB, float(low) - REACH_MARGIN_DB)
    high = min(model_range.high_db, float(high) + REACH_MARGIN_DB)
    if high - low < MIN_WIDTH_DB:
        # a tag set that plays louder than the model's range (or barely at all): keep its own level, that wide
        centre = float(np.median(levels_db))
        low, high = centre - MIN_WIDTH_DB / 2, centre + MIN_WIDTH_DB / 2
        low, high = max(-120.0, low), min(0.0, high)
    return LoudnessRange(low, high, f"measured on {REACH_TAKES} uncontrolled takes of {label}")


def uncontrolled_levels(model: DiffusionModel, tags: tuple[str, ...], prompt: str | None, guidance_scale: float,
                        render: SamplerSpec) -> np.ndarray:
    """Smoothed frame levels (dB) of REACH_TAKES uncontrolled takes of REACH_SECONDS, concatenated `(frames,)`."""
    shape = model.latent_shape(REACH_SECONDS)
    generator = torch.Generator().manual_seed(REACH_SEED)
    x_T = torch.randn(REACH_TAKES, *shape, generator=generator).to(model.device, model.dtype)
    conditioning = model.condition(tags=tags, prompt=prompt, guidance_scale=guidance_scale, batch=REACH_TAKES)
    with torch.no_grad():
        audio = model.decode_audio(sample(model, x_T, conditioning, render))
    audio = audio[..., : int(round(REACH_SECONDS * model.info.sample_rate))].float().cpu()
    frames = model.mel.frames_for(REACH_SECONDS)
    heard = mono_at(audio, model.info.sample_rate, model.mel.sample_rate)
    return audio_levels_db(heard, model.mel, frames).reshape(-1)


def tag_set_reach(model: DiffusionModel, tags: tuple[str, ...], prompt: str | None, guidance_scale: float,
                  render: SamplerSpec) -> LoudnessRange:
    """The loudness range of `tags` (and prompt, guidance) on `model`, measured on first use and kept."""
    key = (tuple(tags), prompt, float(guidance_scale), render.name, render.steps)
    known = _measured.setdefault(model, {})
    if key not in known:
        label = ", ".join(tags) if tags else (f'"{prompt}"' if prompt else "no tags")
        known[key] = reach_from_levels(uncontrolled_levels(model, tags, prompt, guidance_scale, render),
                                       model.loudness_range(), label)
    return known[key]
