import mido
import pytest

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.notes import (Note, melody_segments, monophonic, notes_from_live, notes_from_midi_file,
                                          notes_from_messages)
from ditto_bridge.translate.time import SongTime


def test_the_highest_sounding_note_wins_and_muted_notes_are_ignored():
    notes = [Note(60, 0.0, 2.0), Note(64, 1.0, 2.0), Note(79, 0.0, 4.0, mute=True)]
    # 120 BPM: C4 alone for beat 0-1 (0-0.5 s), then E4 above it until beat 3 (1.5 s)
    segments = melody_segments(notes, song=SongTime(120.0), length_beats=4.0)
    assert [(s.start, s.end, s.pitch) for s in segments] == [(0.0, 0.5, 60), (0.5, 1.5, 64)]


def test_equal_pitches_go_to_the_latest_onset_and_the_older_note_resumes():
    notes = [Note(67, 0.0, 4.0), Note(67, 2.0, 1.0)]
    assert monophonic(notes, length_beats=4.0) == [(0.0, 2.0, 67), (2.0, 3.0, 67), (3.0, 4.0, 67)]


def test_notes_are_cut_to_the_rendered_length():
    assert monophonic([Note(62, -1.0, 3.0), Note(65, 3.0, 5.0)], length_beats=4.0) == [(0.0, 2.0, 62),
                                                                                        (3.0, 4.0, 65)]


def test_zero_velocity_notes_do_not_sound():
    with pytest.raises(RequestError, match="notes: no unmuted note"):
        melody_segments([Note(60, 0.0, 1.0, velocity=0.0)], song=SongTime(120.0), length_beats=4.0)


def test_live_notes_are_validated_field_by_field():
    with pytest.raises(RequestError, match=r"notes\[1\].pitch: must be between 0 and 127, got 200"):
        notes_from_live([{"pitch": 60, "start_time": 0, "duration": 1}, {"pitch": 200, "start_time": 0,
                                                                          "duration": 1}])


def test_a_midi_file_is_read_in_beats_whatever_its_tempo(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=0))  # 60 BPM in the file
    track.append(mido.Message("note_on", note=60, velocity=90, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    track.append(mido.Message("note_on", note=62, velocity=90, time=0))
    track.append(mido.Message("note_on", note=62, velocity=0, time=960))  # note-on with velocity 0 ends it
    path = tmp_path / "line.mid"
    midi.save(path)
    notes = notes_from_midi_file(path)
    assert [(n.pitch, n.start_time, n.duration) for n in notes] == [(60, 0.0, 1.0), (62, 1.0, 2.0)]
    # at the set's 120 BPM the second note is 0.5 s to 1.5 s
    segments = melody_segments(notes, song=SongTime(120.0), length_beats=4.0)
    assert [(s.start, s.end, s.pitch) for s in segments] == [(0.0, 0.5, 60), (0.5, 1.5, 62)]


def test_a_file_that_is_not_midi_is_refused_clearly(tmp_path):
    path = tmp_path / "fake.mid"
    path.write_bytes(b"not a midi file at all")
    with pytest.raises(RequestError, match="midi_file: cannot read"):
        notes_from_midi_file(path)


def test_messages_pair_note_ons_with_their_note_offs():
    timed = [(0.0, mido.Message("note_on", note=60, velocity=80)), (1.5, mido.Message("note_off", note=60)),
             (2.0, mido.Message("note_on", note=64, velocity=80)), (3.0, mido.Message("control_change", value=3))]
    notes = notes_from_messages(timed, units_per_beat=0.5)  # 0.5 s per beat
    assert [(n.pitch, n.start_time, n.duration) for n in notes] == [(60, 0.0, 3.0), (64, 4.0, 2.0)]
