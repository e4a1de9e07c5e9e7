"""Differentiable music features on log-mel frames `(..., n_mels, frames)`."""

from engine.features.chroma import chroma
from engine.features.intensity import intensity_db, waveform_intensity_db
from engine.features.pitch import note_pitch_classes, note_salience
from engine.features.rhythm import onset_envelope
from engine.features.structure import mfcc, self_similarity

__all__ = ["chroma", "intensity_db", "mfcc", "note_pitch_classes", "note_salience", "onset_envelope", "self_similarity",
           "waveform_intensity_db"]
