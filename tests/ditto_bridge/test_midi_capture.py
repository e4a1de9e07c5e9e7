"""MIDI input: mido messages fed to the capture (there is no MIDI system on test machines), .mid files, ports."""

from pathlib import Path

import mido
import pytest

from ditto_bridge.errors import MidiUnavailableError
from ditto_bridge.midi import MidiCapture, MidiSettings, backend_status, open_input
from ditto_bridge.translate.live_job import TranslateContext, translate_request


def capture(**settings):
    submitted = []
    return MidiCapture(MidiSettings(**settings), submitted.append), submitted


def test_played_notes_become_a_melody_job_in_beats_on_the_trigger_note():
    cap, submitted = capture(tempo=120.0)
    cap.handle(mido.Message("note_on", note=60, velocity=100), now=10.0)
    cap.handle(mido.Message("note_on", note=67, velocity=100), now=10.5)
    cap.handle(mido.Message("note_off", note=60), now=11.0)
    cap.handle(mido.Message("note_off", note=67), now=11.5)
    cap.handle(mido.Message("note_on", note=0, velocity=1), now=12.0)  # the trigger note
    (job,) = submitted
    # at 120 BPM 0.5 s is a beat: C4 beats 0-2, G4 beats 1-3, the take spans 4 beats = 1 bar
    assert job["task"] == "melody" and job["song"]["tempo"] == 120.0 and job["length_bars"] == 1
    assert [(n["pitch"], n["start_time"], n["duration"]) for n in job["notes"]] == [(60, 0.0, 2.0), (67, 1.0, 2.0)]
    assert cap.notes == [] and cap.origin is None  # the recording starts over


def test_a_cc_becomes_an_intensity_curve_and_a_cc_trigger_fires_on_its_rising_edge():
    cap, submitted = capture(tempo=60.0, trigger_note=None, trigger_cc=64, intensity_cc=11, min_db=-40.0,
                             max_db=0.0)
    cap.handle(mido.Message("control_change", control=11, value=0), now=1.0)
    cap.handle(mido.Message("control_change", control=11, value=127), now=3.0)
    cap.handle(mido.Message("control_change", control=64, value=127), now=4.0)  # rises: trigger
    cap.handle(mido.Message("control_change", control=64, value=120), now=4.1)  # still high: nothing
    assert len(submitted) == 1
    job = submitted[0]
    assert job["task"] == "generate"
    assert job["intensity"] == {"unit": "normalized", "min": -40.0, "max": 0.0, "breakpoints": [[0.0, 0.0],
                                                                                                 [2.0, 1.0]]}
    cap.handle(mido.Message("control_change", control=64, value=0), now=5.0)
    cap.handle(mido.Message("control_change", control=64, value=100), now=6.0)  # rises again
    assert len(submitted) == 2


def test_midi_clock_sets_the_tempo():
    clock_time = [0.0]
    cap = MidiCapture(MidiSettings(tempo=120.0), lambda job: None, clock=lambda: clock_time[0])
    for tick in range(49):  # 36 ticks per second at 24 ticks per beat: 1.5 beats per second, 90 BPM
        cap.handle(mido.Message("clock"), now=tick / 36.0)
    clock_time[0] = 48 / 36.0
    assert cap.tempo() == pytest.approx(90.0)


def test_a_midi_file_played_into_the_capture_gives_the_same_melody_as_reading_it(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    for note in (60, 62, 64):
        track.append(mido.Message("note_on", note=note, velocity=90, time=0))
        track.append(mido.Message("note_off", note=note, velocity=0, time=480))
    path = tmp_path / "line.mid"
    midi.save(path)

    cap, submitted = capture(tempo=120.0)
    now = 0.0
    for message in mido.MidiFile(path):  # iterating a file gives delta times in seconds at the file's tempo
        now += message.time
        if not message.is_meta:
            cap.handle(message, now=now)
    cap.handle(mido.Message("note_on", note=0, velocity=1), now=now)
    played = submitted[0]

    ctx = TranslateContext(model="builtin-tiny", audio_roots=(tmp_path,), inbox=tmp_path, reference_dir=tmp_path)
    from_capture = translate_request(played, ctx, "a").job["controls"][0]["notes"]
    from_file = translate_request({"task": "melody", "song": {"tempo": 120.0}, "length_bars": 1,
                                   "midi_file": str(path)}, ctx, "b").job["controls"][0]["notes"]
    assert from_capture == from_file == [{"start": 0.0, "end": 0.5, "pitch": 60},
                                         {"start": 0.5, "end": 1.0, "pitch": 62},
                                         {"start": 1.0, "end": 1.5, "pitch": 64}]


@pytest.mark.skipif(Path("/dev/snd/seq").exists(), reason="this machine has a MIDI system: the port would open")
def test_without_a_midi_system_opening_a_port_fails_with_a_clear_message():
    ok, text = backend_status()
    assert not ok and "MIDI" in text
    with pytest.raises(MidiUnavailableError, match="MIDI input 'ditto' could not be opened: .*ALSA"):
        open_input("ditto", virtual=True, callback=lambda message: None)
