"""The ``rhythm`` object of a job in Live units -> the engine's rhythm control (`docs/JOB_SCHEMA.md`).

A rhythm comes from exactly one source:

* ``notes``: a MIDI drum clip's notes in beats from the rendered clip's start (Live's ``get_notes_extended``).
  Every unmuted note of velocity above 0 that starts inside the render is an onset; with ``loop_beats`` the notes
  that start inside ``[0, loop_beats)`` repeat every ``loop_beats`` (as a looped clip plays; notes past the loop
  do not play) to fill the render. Notes starting at most ``MERGE_SECONDS`` after a hit's first note belong to
  that hit (a kick and a hat played together): one onset, at the first note, whose accent is the loudest
  velocity / 127. They leave as the control's ``onsets`` (seconds) and ``accents``.
* ``clip``: an audio drum clip. Its ``range`` (default: the loop brace) is rendered as it plays in the set and
  becomes the control's ``reference``; the engine finds the onsets itself. Only the window is planned here
  (`reference_window`); opening the clip's file is the caller's.
* ``steps``: an accent 0-1 per step, drawn in the device. It becomes the control's ``grid`` at the song's tempo,
  starting at 0 s.

Beats become seconds through `SongTime` only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ditto_bridge.errors import RequestError
from ditto_bridge.translate import fields
from ditto_bridge.translate.notes import MAX_NOTES, Note, notes_from_live
from ditto_bridge.translate.references import ClipAudio, ReferenceWindow
from ditto_bridge.translate.time import SongTime
from engine.job import MAX_ONSETS, MAX_STEPS

SOURCES = ("notes", "clip", "steps")
ONLY_WITH = {"loop_beats": "notes", "range": "clip", "steps_per_beat": "steps", "swing": "steps"}
"""Keys that belong to one source: naming them with another is a mistake worth an error."""
KEYS = {*SOURCES, *ONLY_WITH, "weight", "window_ms"}
MERGE_SECONDS = 0.010
"""Notes starting at most this long after a hit's first note belong to the hit."""
DEFAULT_WINDOW_MS = 50.0
MAX_WINDOW_MS = 200.0
MAX_STEPS_PER_BEAT = 8
MAX_SWING = 0.75
MAX_GRID_BEATS_PER_BAR = 32
"""The engine's bound on a grid's bar (`engine.job.RhythmGrid`); only its default pattern (never sent) reads it."""
EPS = 1e-9


@dataclass(frozen=True)
class RhythmRequest:
    """A checked ``rhythm`` object: one source (`source` names it) and the control's common settings."""

    source: str
    weight: float
    window: float
    """Seconds: an output onset this close to a target hits it."""
    notes: tuple[Note, ...] = ()
    loop_beats: float | None = None
    clip: Mapping[str, Any] | None = None
    """The audio clip as the device sent it; the caller opens its file."""
    range: Mapping[str, Any] | None = None
    """The stretch of `clip` to render, on the clip's axis; None: its loop brace."""
    steps: tuple[float, ...] = ()
    steps_per_beat: int = 4
    swing: float = 0.0


def parse_rhythm(raw: Any) -> RhythmRequest:
    """Check a ``rhythm`` object (fields named ``rhythm.…`` in errors) and parse its source."""
    data = fields.mapping(raw, "rhythm")
    fields.unknown_keys(data, KEYS, "rhythm")
    given = [name for name in SOURCES if data.get(name) is not None]
    if len(given) != 1:
        found = f" (got {' and '.join(given)})" if given else ""
        raise fields.fail("rhythm", f"give exactly one of notes, clip or steps{found}")
    source = given[0]
    for key, owner in ONLY_WITH.items():
        if data.get(key) is not None and owner != source:
            raise fields.fail(f"rhythm.{key}", f"goes with rhythm.{owner}, not rhythm.{source}", data[key])
    common = {"source": source, "weight": fields.get_number(data, "weight", "rhythm", 1.0, minimum=0.0),
              "window": fields.get_number(data, "window_ms", "rhythm", DEFAULT_WINDOW_MS, positive=True,
                                          maximum=MAX_WINDOW_MS) / 1000.0}
    if source == "notes":
        items = fields.get_list(data, "notes", "rhythm")
        return RhythmRequest(**common, notes=tuple(notes_from_live(items, "rhythm.notes")),
                             loop_beats=fields.get_number(data, "loop_beats", "rhythm", None, positive=True))
    if source == "clip":
        clip = fields.mapping(data["clip"], "rhythm.clip")
        if not (fields.get_bool(clip, "is_audio_clip", "rhythm.clip", False) and clip.get("file_path")):
            raise fields.fail("rhythm.clip", "must be an audio clip (is_audio_clip true and its file_path); "
                              "send a MIDI drum clip's notes as rhythm.notes")
        span = data.get("range")
        if span is not None:
            fields.unknown_keys(fields.mapping(span, "rhythm.range"), {"start", "end", "unit"}, "rhythm.range")
        return RhythmRequest(**common, clip=clip, range=span)
    return RhythmRequest(**common, steps=_steps(data),
                         steps_per_beat=fields.get_integer(data, "steps_per_beat", "rhythm", 4, minimum=1,
                                                           maximum=MAX_STEPS_PER_BEAT),
                         swing=fields.get_number(data, "swing", "rhythm", 0.0, minimum=0.0, maximum=MAX_SWING))


def _steps(data: Mapping[str, Any]) -> tuple[float, ...]:
    """``rhythm.steps``: 1 to `MAX_STEPS` accents 0-1, at least one above 0."""
    items = fields.get_list(data, "steps", "rhythm")
    if not items:
        raise fields.fail("rhythm.steps", "needs at least one step (an accent 0-1 per step)")
    if len(items) > MAX_STEPS:
        raise fields.fail("rhythm.steps", f"has too many steps ({len(items)}, at most {MAX_STEPS})")
    steps = tuple(fields.number(v, fields.join("rhythm.steps", i), minimum=0.0, maximum=1.0)
                  for i, v in enumerate(items))
    if not any(steps):
        raise fields.fail("rhythm.steps", "has no step above 0: nothing would be played; set at least one step")
    return steps


def rhythm_control(request: RhythmRequest, *, song: SongTime, length_beats: float,
                   reference: str | None = None) -> dict[str, Any]:
    """The engine job's rhythm control (JSON form) for a render of `length_beats` beats.

    `reference` is the audio file of a ``clip`` source (required for it, ignored otherwise).
    """
    control: dict[str, Any] = {"type": "rhythm", "window": request.window, "weight": request.weight}
    if request.source == "notes":
        hits = onsets_from_notes(request.notes, song=song, length_beats=length_beats, loop_beats=request.loop_beats)
        control["onsets"] = [t for t, _ in hits]
        control["accents"] = [a for _, a in hits]
    elif request.source == "steps":
        control["grid"] = {"tempo": song.tempo, "pattern": list(request.steps),
                           "steps_per_beat": request.steps_per_beat, "beats_per_bar": grid_beats_per_bar(song),
                           "swing": request.swing, "start": 0.0}
    else:
        if reference is None:
            raise ValueError("a rhythm from a clip needs the reference file the clip's window is rendered to")
        control["reference"] = reference
    return control


def grid_beats_per_bar(song: SongTime) -> int:
    """The signature's beats (quarter notes) per bar rounded half up, 1 to `MAX_GRID_BEATS_PER_BAR`: 4/4 -> 4,
    6/8 -> 3, 5/8 -> 3, 1/8 -> 1."""
    return min(MAX_GRID_BEATS_PER_BAR, max(1, math.floor(song.beats_per_bar + 0.5)))


def onsets_from_notes(notes: Sequence[Note], *, song: SongTime, length_beats: float,
                      loop_beats: float | None = None) -> list[tuple[float, float]]:
    """Drum notes in beats -> ``[(onset_seconds, accent), ...]`` in time order, inside ``[0, duration)`` seconds
    where duration is `length_beats` at the song's tempo (see the module docstring for looping and merging)."""
    played = [n for n in notes if not n.mute and n.velocity > 0]
    if not notes:
        raise fields.fail("rhythm.notes", "is empty: the drum clip has no notes; draw some or pick another clip")
    if not played:
        raise fields.fail("rhythm.notes", "every note is muted or has velocity 0: nothing would be played")
    starts = _starts(played, length_beats=length_beats, loop_beats=loop_beats)
    duration = song.beats_to_seconds(length_beats)
    timed = sorted((song.beats_to_seconds(beat), velocity) for beat, velocity in starts)
    timed = [(t, v) for t, v in timed if 0.0 <= t < duration]
    if not timed:
        span = f"0 to {length_beats:g} beats" if loop_beats is None else f"the loop, 0 to {loop_beats:g} beats"
        raise fields.fail("rhythm.notes", f"no unmuted note starts inside {span}: notes are in beats from the "
                          "rendered clip's start")
    hits: list[tuple[float, float]] = []
    for t, velocity in timed:
        if hits and t - hits[-1][0] <= MERGE_SECONDS + EPS:
            hits[-1] = (hits[-1][0], max(hits[-1][1], velocity / 127.0))
        else:
            hits.append((t, velocity / 127.0))
    if len(hits) > MAX_ONSETS:
        raise fields.fail("rhythm.notes", f"makes {len(hits)} onsets in the rendered length, at most {MAX_ONSETS}; "
                          "lower length_bars or use a sparser clip")
    return hits


def _starts(notes: Sequence[Note], *, length_beats: float, loop_beats: float | None) -> list[tuple[float, float]]:
    """``[(start_beat, velocity), ...]`` of the notes, repeated every `loop_beats` up to `length_beats`."""
    if loop_beats is None:
        return [(n.start_time, n.velocity) for n in notes]
    looped = [n for n in notes if 0.0 <= n.start_time < loop_beats]
    repeats = max(1, math.ceil(length_beats / loop_beats - EPS))
    if len(looped) * repeats > MAX_NOTES:
        raise fields.fail("rhythm.loop_beats", f"filling the render repeats the loop {repeats} times "
                          f"({len(looped) * repeats} notes, at most {MAX_NOTES}); send the clip's loop length in beats",
                          loop_beats)
    return [(n.start_time + k * loop_beats, n.velocity) for k in range(repeats) for n in looped]


def reference_window(clip: ClipAudio, start: float, end: float, *, song: SongTime, duration: float,
                     where: str = "rhythm.range") -> ReferenceWindow:
    """The stretch of a drum clip to render as the reference: from `start` (clip axis: beats when warped, file
    seconds when not) to `end`, at most `duration` seconds of output. `where` names the selection in errors."""
    lo, hi = clip.axis_bounds()
    if start < lo - 1e-6 or end > hi + 1e-6:
        raise RequestError(f"{where}: {start:g} to {end:g} {clip.unit} lies outside the clip's audio "
                           f"({lo:g} to {hi:g} {clip.unit})")
    return ReferenceWindow.of(clip, start, min(clip.output_seconds(end - start, song), duration), song)
