"""MIDI notes (from the device, a .mid file or a MIDI input) to a monophonic melody in seconds.

The engine's melody control wants one pitch class per frame, so polyphony is reduced to one line:

* muted notes and notes of velocity 0 are ignored;
* at every instant the **highest sounding note** wins (a melody usually rides on top of its chords);
* when two sounding notes have the same pitch, the one with the **latest onset** wins (a re-struck note
  restarts the line);
* the winning stretches become segments ``[start, end)``; instants where no note sounds stay free (the engine
  leaves those frames unconstrained).

Times come in beats from the rendered clip's start and leave in seconds; everything is cut to ``[0, length]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import mido

from ditto_bridge.errors import RequestError
from ditto_bridge.translate import fields
from ditto_bridge.translate.time import SongTime
from engine.job import MelodyNote

MAX_NOTES = 20_000


@dataclass(frozen=True)
class Note:
    """A note as Live's ``get_notes_extended`` gives it: times in beats."""

    pitch: int
    start_time: float
    duration: float
    velocity: float = 100.0
    mute: bool = False


def notes_from_live(raw: Any, path: str = "notes") -> list[Note]:
    """Parse ``[{pitch, start_time, duration, velocity, mute}, ...]`` (Live's JSON), naming the field at fault."""
    items = fields.get_list({"notes": raw}, "notes", "") if raw is not None else []
    if len(items) > MAX_NOTES:
        raise fields.fail(path, f"has too many notes ({len(items)}, at most {MAX_NOTES})")
    notes = []
    for i, item in enumerate(items):
        where = fields.join(path, i)
        item = fields.mapping(item, where)
        notes.append(Note(
            pitch=fields.get_integer(item, "pitch", where, minimum=0, maximum=127),
            start_time=fields.get_number(item, "start_time", where),
            duration=fields.get_number(item, "duration", where, positive=True),
            velocity=fields.get_number(item, "velocity", where, 100.0, minimum=0.0, maximum=127.0),
            mute=fields.get_bool(item, "mute", where, False),
        ))
    return notes


def notes_from_midi_file(path: Path | str) -> list[Note]:
    """Every note of a Standard MIDI File, all tracks merged, in beats (ticks / ticks per beat).

    The file's own tempo is ignored on purpose: positions are musical (beats), and the set's tempo turns them
    into seconds. A note-on without its note-off ends at the end of the file.
    """
    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise RequestError(f"midi_file: cannot read {str(path)!r} as a MIDI file ({error})") from None
    if midi.type == 2:
        raise RequestError(f"midi_file: {str(path)!r} is a type 2 MIDI file (independent songs); save it as type 0 or 1")
    ticks_per_beat = midi.ticks_per_beat
    return notes_from_messages(_absolute_ticks(midi), ticks_per_beat)


def _absolute_ticks(midi: mido.MidiFile) -> Iterable[tuple[float, mido.Message]]:
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            yield tick, message


def notes_from_messages(timed: Iterable[tuple[float, Any]], units_per_beat: float = 1.0) -> list[Note]:
    """Pair note-ons and note-offs of ``(time, mido message)`` pairs into `Note`s; times / `units_per_beat`.

    Per (channel, pitch) overlapping note-ons stack: each note-off ends the oldest open one.
    """
    events = sorted(timed, key=lambda pair: pair[0])
    open_notes: dict[tuple[int, int], list[tuple[float, int]]] = {}
    notes: list[Note] = []
    last = 0.0
    for time, message in events:
        last = max(last, time)
        kind = getattr(message, "type", None)
        if kind not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if kind == "note_on" and message.velocity > 0:
            open_notes.setdefault(key, []).append((time, message.velocity))
        elif open_notes.get(key):
            start, velocity = open_notes[key].pop(0)
            if time > start:
                notes.append(Note(message.note, start / units_per_beat, (time - start) / units_per_beat, velocity))
    for (_, pitch), stack in open_notes.items():
        for start, velocity in stack:
            if last > start:
                notes.append(Note(pitch, start / units_per_beat, (last - start) / units_per_beat, velocity))
    notes.sort(key=lambda n: (n.start_time, n.pitch))
    return notes


def monophonic(notes: Sequence[Note], *, length_beats: float) -> list[tuple[float, float, int]]:
    """The reduction described in the module docstring: ``[(start_beat, end_beat, pitch), ...]`` in time order.

    A sweep over note starts and ends; the set of sounding notes at any instant stays small, so this is about
    O(n log n) for a melody with chords.
    """
    sounding = [n for n in notes if not n.mute and n.velocity > 0
                and n.start_time < length_beats and n.start_time + n.duration > 0.0]
    events: dict[float, list[tuple[int, int]]] = {}  # beat -> [(+1 start / -1 end, note index)]
    for index, n in enumerate(sounding):
        events.setdefault(max(n.start_time, 0.0), []).append((1, index))
        events.setdefault(min(n.start_time + n.duration, length_beats), []).append((-1, index))
    active: set[int] = set()
    segments: list[tuple[float, float, int, int]] = []  # start, end, pitch, index of the winning note
    cuts = sorted(events)
    for position, following in zip(cuts, cuts[1:] + [None]):
        for kind, index in events[position]:
            if kind < 0:
                active.discard(index)
        for kind, index in events[position]:
            if kind > 0:
                active.add(index)
        if following is None or not active:
            continue
        index = max(active, key=lambda i: (sounding[i].pitch, sounding[i].start_time, i))
        pitch = sounding[index].pitch
        if segments and segments[-1][1] == position and segments[-1][3] == index:
            segments[-1] = (segments[-1][0], following, pitch, index)
        else:
            segments.append((position, following, pitch, index))
    return [(a, b, p) for a, b, p, _ in segments]


def melody_segments(notes: Sequence[Note], *, song: SongTime, length_beats: float) -> list[MelodyNote]:
    """Notes in beats -> the monophonic line as the engine's `MelodyNote`s in seconds, cut to the rendered clip."""
    line = monophonic(notes, length_beats=length_beats)
    if not line:
        raise RequestError(f"notes: no unmuted note sounds inside the rendered length (0 to {length_beats:g} beats)")
    return [MelodyNote(song.beats_to_seconds(a), song.beats_to_seconds(b), p) for a, b, p in line]


def melody_control(segments: Sequence[MelodyNote]) -> dict:
    """The engine job's melody control (JSON form)."""
    return {"type": "melody", "notes": [{"start": s.start, "end": s.end, "pitch": s.pitch} for s in segments]}
