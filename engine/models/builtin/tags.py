"""The tag vocabulary of the built-in music model: what a clip of the training corpus is conditioned on.

The order of `TAGS` is the order of the multi-hot vector the model sees; appending a tag changes the model's input
size, so a trained model records the vocabulary it was trained with (the corpus manifest holds a copy).

Groups (a clip carries any number of tags, several per group where that makes sense):
- instrument families present in the clip: piano, mallet, organ, guitar, bass, strings, brass, reed, flute, synth,
  drums;
- tempo band (exactly one): slow (< 100 BPM), mid (100-134 BPM), fast (>= 135 BPM);
- mode of the key (at most one; drums-only clips have none): major, minor;
- feel (derived from the recipe, see `engine.training.compose.feel_tags`): calm, energetic, sparse, dense.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FAMILY_TAGS: tuple[str, ...] = (
    "piano", "mallet", "organ", "guitar", "bass", "strings", "brass", "reed", "flute", "synth", "drums",
)
TEMPO_TAGS: tuple[str, ...] = ("slow", "mid", "fast")
MODE_TAGS: tuple[str, ...] = ("major", "minor")
FEEL_TAGS: tuple[str, ...] = ("calm", "energetic", "sparse", "dense")

TAGS: tuple[str, ...] = FAMILY_TAGS + TEMPO_TAGS + MODE_TAGS + FEEL_TAGS
"""Every tag, in the order of the multi-hot vector."""

N_TAGS: int = len(TAGS)
_INDEX: dict[str, int] = {tag: i for i, tag in enumerate(TAGS)}

SLOW_BELOW_BPM = 100.0
FAST_FROM_BPM = 135.0


def tempo_band(bpm: float) -> str:
    """The tempo tag of a tempo in beats per minute: 'slow' below 100, 'fast' from 135, 'mid' between."""
    if not np.isfinite(bpm) or bpm <= 0:
        raise ValueError(f"tempo_band: bpm must be a positive finite number, got {bpm!r}")
    if bpm < SLOW_BELOW_BPM:
        return "slow"
    if bpm >= FAST_FROM_BPM:
        return "fast"
    return "mid"


def tags_to_multi_hot(tags: Iterable[str]) -> np.ndarray:
    """Multi-hot vector of a set of tags, [shape=(n_tags,)] float32 in the order of `TAGS`.

    Raises ValueError naming every tag that is not in the vocabulary.
    """
    if isinstance(tags, str):
        raise ValueError(f"tags_to_multi_hot: expected a collection of tags, got the single string {tags!r}; "
                         f"wrap it in a list")
    tags = list(tags)
    unknown = sorted({t for t in tags if t not in _INDEX}, key=str)
    if unknown:
        raise ValueError(f"unknown tag(s) {unknown}; the vocabulary is {list(TAGS)}")
    vector = np.zeros(N_TAGS, dtype=np.float32)
    for tag in tags:
        vector[_INDEX[tag]] = 1.0
    return vector


def multi_hot_to_tags(vector: np.ndarray, *, threshold: float = 0.5) -> list[str]:
    """Tags whose entry exceeds `threshold`, in vocabulary order; `vector` [shape=(n_tags,)]."""
    vector = np.asarray(vector)
    if vector.shape != (N_TAGS,):
        raise ValueError(f"multi_hot_to_tags: expected shape ({N_TAGS},), got {vector.shape}")
    return [tag for tag, value in zip(TAGS, vector) if float(value) > threshold]
