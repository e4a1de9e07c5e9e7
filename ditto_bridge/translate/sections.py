"""Locators (cue points) to labelled sections for the structure control.

A locator starts a section that lasts until the next locator. Its name is the section's label, compared
case-insensitively with a trailing number dropped, so "Verse 1" and "verse 2" sound alike; a name that is only a
number (Live's default names "1", "2", ...) stays as it is, so unnamed locators all differ. The stretch before
the first locator is labelled ``(before the first locator)``.

Positions come in song beats; `origin_beat` (the range's start) becomes 0 s of the rendered clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from ditto_bridge.errors import RequestError
from ditto_bridge.translate import fields
from ditto_bridge.translate.time import SongTime

BEFORE_FIRST = "(before the first locator)"


@dataclass(frozen=True)
class CuePoint:
    """A locator: its name and its song position in beats."""

    name: str
    time: float


@dataclass(frozen=True)
class SectionSpan:
    """A section of the rendered clip: [start, end) in seconds and its label."""

    start: float
    end: float
    label: str


def cue_points_from_live(raw: Any, path: str = "cue_points") -> list[CuePoint]:
    items = fields.get_list({"cue_points": raw}, "cue_points", "")
    cues = []
    for i, item in enumerate(items):
        where = fields.join(path, i)
        item = fields.mapping(item, where)
        cues.append(CuePoint(fields.get_string(item, "name", where, "", allow_empty=True),
                             fields.get_number(item, "time", where)))
    return cues


def label_of(name: str) -> str:
    """The comparable label of a locator name (see the module docstring)."""
    text = " ".join(name.split()).lower()
    if not text:
        return "(unnamed)"
    if text.isdigit():
        return text
    stripped = re.sub(r"[\s_-]*\d+$", "", text)
    return stripped or text


def sections_from_cues(cues: Sequence[CuePoint], *, song: SongTime, origin_beat: float,
                       length_beats: float) -> list[SectionSpan]:
    """Sections of the rendered clip ``[origin, origin + length)`` in seconds; at least two or `RequestError`."""
    ordered = sorted(cues, key=lambda c: c.time)
    starts: list[tuple[float, str]] = []  # (beat relative to origin, label)
    label_at_start = BEFORE_FIRST
    for cue in ordered:
        relative = cue.time - origin_beat
        if relative <= 0.0:
            label_at_start = label_of(cue.name)
        elif relative < length_beats:
            starts.append((relative, label_of(cue.name)))
    starts.insert(0, (0.0, label_at_start))
    spans = []
    for (a, label), (b, _) in zip(starts, starts[1:] + [(length_beats, "")]):
        if b > a:
            spans.append(SectionSpan(song.beats_to_seconds(a), song.beats_to_seconds(b), label))
    if len(spans) < 2:
        raise RequestError(f"cue_points: the rendered clip (beats {origin_beat:g} to {origin_beat + length_beats:g}) "
                           f"holds only one section; put a locator inside it or move range.start")
    return spans


def structure_control(spans: Sequence[SectionSpan]) -> dict:
    """The engine job's structure control (JSON form)."""
    return {"type": "structure", "sections": [{"start": s.start, "end": s.end, "label": s.label} for s in spans]}
