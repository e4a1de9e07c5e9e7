"""A job in Live units -> the engine's job in seconds, with hand-checked numbers."""

from pathlib import Path

import pytest
import soundfile as sf
from bridge_testkit import RAMP_RATE, ramp_clip, rendered

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.live_job import parse_json_text, translate_request
from ditto_bridge.translate.references import ReferenceWindow


def song(tempo=120.0, **extra):
    return {"tempo": tempo, "signature_numerator": 4, "signature_denominator": 4, **extra}


def test_an_intensity_job_becomes_seconds_and_db(ctx):
    live = {"task": "generate", "song": song(120.0, sample_rate=48000), "length_bars": 1, "seed": 7, "steps": 3,
            "sampler_steps": 4, "intensity": {"breakpoints": [[0, -40], [2, -10], [4, -10]], "min": -60, "max": 0}}
    t = translate_request(live, ctx, "job1")
    # 1 bar of 4/4 at 120 BPM = 2.0 s; beat 2 = 1.0 s
    assert t.job["duration"] == pytest.approx(2.0)
    control = t.job["controls"][0]
    assert control["type"] == "intensity"
    assert control["times"] == pytest.approx([0.0, 0.0, 1.0, 2.0, 2.0])
    assert control["db"] == pytest.approx([-40.0, -40.0, -10.0, -10.0, -10.0])
    assert t.job["seed"] == 7 and t.job["optimizer"]["steps"] == 3 and t.job["sampler"]["steps"] == 4
    assert t.job["model"] == "builtin-tiny"
    assert (t.output.sample_rate, t.output.channels, t.output.task) == (48000, 2, "generate")


def test_a_melody_job_reduces_chords_to_the_top_line(ctx):
    notes = [{"pitch": 60, "start_time": 0, "duration": 2, "velocity": 100, "mute": False},
             {"pitch": 64, "start_time": 1, "duration": 2, "velocity": 100, "mute": False},
             {"pitch": 72, "start_time": 0, "duration": 4, "velocity": 100, "mute": True}]
    t = translate_request({"task": "melody", "song": song(120.0), "length_bars": 1, "notes": notes}, ctx, "j")
    assert t.job["controls"] == [{"type": "melody", "weight": 1.0, "tolerance": 0.1,
                                  "notes": [{"start": 0.0, "end": 0.5, "pitch": 60},
                                            {"start": 0.5, "end": 1.5, "pitch": 64}]}]


def test_a_melody_can_come_from_a_midi_file_in_the_inbox(ctx):
    import mido
    midi = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack([mido.Message("note_on", note=67, velocity=100, time=0),
                            mido.Message("note_off", note=67, time=192)])
    midi.tracks.append(track)
    midi.save(ctx.inbox / "line.mid")
    t = translate_request({"task": "melody", "song": song(60.0), "length_bars": 1, "midi_file": "line.mid"},
                          ctx, "j")
    assert t.job["controls"][0]["notes"] == [{"start": 0.0, "end": 2.0, "pitch": 67}]  # 2 beats at 60 BPM


def test_a_structure_job_takes_sections_from_locators(ctx):
    live = {"task": "structure", "song": song(120.0), "length_bars": 4, "range": {"start": 8, "end": 24},
            "cue_points": [{"name": "A", "time": 8}, {"name": "B", "time": 16}, {"name": "A 2", "time": 20}]}
    sections = translate_request(live, ctx, "j").job["controls"][0]["sections"]
    assert [(s["start"], s["end"], s["label"]) for s in sections] == [(0.0, 4.0, "a"), (4.0, 6.0, "b"),
                                                                       (6.0, 8.0, "a")]


def test_inpainting_an_unwarped_clip_centres_the_gap_in_a_window_of_whole_bars(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    live = {"task": "inpaint", "song": song(120.0), "length_bars": 2,
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False,
                     "loop_start": 5.0, "loop_end": 6.0}}
    t = rendered(translate_request(live, ctx, "jobA"))
    # 2 bars = 4 s; the 1 s gap sits 1.5 s into a window from 3.5 s to 7.5 s of the file
    control = t.job["controls"][0]
    assert control["gap"] == pytest.approx([1.5, 2.5])
    assert t.output.placement["axis"] == "clip_seconds" and t.output.placement["start"] == pytest.approx(3.5)
    reference, rate = sf.read(control["reference"], dtype="float64")
    assert rate == RAMP_RATE and len(reference) == 4 * RAMP_RATE
    assert reference[0] * 100 == pytest.approx(3.5, abs=1e-6)  # the window starts at 3.5 s of the file
    assert reference[-1] * 100 == pytest.approx(7.5 - 1 / RAMP_RATE, abs=1e-6)


def test_inpainting_a_warped_clip_reads_the_file_through_its_warp_markers(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    # the file runs at 96 BPM until beat 4 (2.5 s), then at 120 BPM (beat 12 at 6.5 s)
    markers = [{"beat_time": 0, "sample_time": 0.0}, {"beat_time": 4, "sample_time": 2.5},
               {"beat_time": 12, "sample_time": 6.5}]
    live = {"task": "inpaint", "song": song(120.0), "length_bars": 2, "range": {"start": 6, "end": 10},
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": True, "warp_markers": markers}}
    t = rendered(translate_request(live, ctx, "jobB"))
    # window of 8 beats centred on beats 6-10: beats 4 to 12, i.e. output 0 s is beat 4
    assert t.output.placement == {"axis": "clip_beats", "start": 4.0, "length_beats": 8.0, "tempo": 120.0}
    assert t.job["controls"][0]["gap"] == pytest.approx([1.0, 3.0])
    reference, _ = sf.read(t.job["controls"][0]["reference"], dtype="float64")
    # output 2 s = beat 8, which the warp map puts at 4.5 s of the file (sample 36000 at 8 kHz)
    assert reference[2 * RAMP_RATE] * 100 == pytest.approx(4.5, abs=1e-4)
    assert reference[0] * 100 == pytest.approx(2.5, abs=1e-4)


def test_continue_starts_one_overlap_before_the_range_end(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    live = {"task": "continue", "song": song(120.0), "length_bars": 2, "overlap_beats": 2,
            "range": {"start": 0, "end": 8},
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": True,
                     "warp_markers": [{"beat_time": 0, "sample_time": 0.0}, {"beat_time": 8, "sample_time": 4.0}]}}
    t = rendered(translate_request(live, ctx, "jobC"))
    assert t.job["controls"][0]["type"] == "outpaint"
    assert t.job["controls"][0]["overlap"] == pytest.approx(1.0)  # 2 beats at 120 BPM
    assert t.output.placement["start"] == pytest.approx(6.0)
    reference, _ = sf.read(t.job["controls"][0]["reference"], dtype="float64")
    assert reference[-1] * 100 == pytest.approx(4.0 - 1 / RAMP_RATE, abs=1e-4)  # it ends where the range ends


def test_a_loop_without_audio_is_rendered_one_overlap_longer_and_cut_to_whole_bars(ctx):
    t = translate_request({"task": "loop", "song": song(120.0), "length_bars": 2, "overlap_beats": 2}, ctx, "j")
    assert t.job["duration"] == pytest.approx(5.0) and t.output.keep_seconds == pytest.approx(4.0)
    assert t.job["controls"][0] == {"type": "loop", "overlap": 1.0, "reference": None, "weight": 1.0,
                                    "tolerance": 0.05}


@pytest.mark.parametrize("change, fragment", [
    ({"song": {"tempo": -3}}, "song.tempo: must be a number greater than 0, got -3"),
    ({"song": {"tempo": 120, "sample_rate": "x"}}, "song.sample_rate: must be an integer"),
    ({"length_bars": -2}, "length_bars: must be a number greater than 0, got -2"),
    ({"task": "dance"}, "task: must be one of"),
    ({"seed": 1.5}, "seed: must be an integer"),
    ({"bogus": 1}, "bogus: is not a known field"),
    ({"intensity": {"breakpoints": [[0, "loud"]]}}, r"intensity.breakpoints\[0\]\[1\]: must be a number"),
    ({"task": "inpaint"}, "clip: inpaint needs an audio clip"),
    ({"id": "../x"}, "id: must be 1 to 64"),
    ({"lineage": "a/b"}, "lineage: must be 1 to 64"),
    ({"lineage": "x" * 65}, "lineage: must be 1 to 64"),
    ({"lineage": 7}, "lineage: must be a non-empty string, got 7"),
])
def test_bad_requests_are_refused_naming_the_field(ctx, change, fragment):
    live = {"task": "generate", "song": song(), "length_bars": 1}
    live.update(change)
    with pytest.raises(RequestError, match=fragment):
        translate_request(live, ctx, "j")


def test_clip_audio_outside_the_allowed_folders_is_refused(ctx, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    clip = ramp_clip(outside)
    live = {"task": "inpaint", "song": song(), "clip": {"file_path": str(clip), "is_audio_clip": True,
                                                        "warping": False, "loop_start": 1, "loop_end": 2}}
    with pytest.raises(RequestError, match="clip.file_path: .* is outside the allowed folders"):
        translate_request(live, ctx, "j")


def test_a_midi_file_path_cannot_climb_out_of_the_inbox(ctx):
    with pytest.raises(RequestError, match="midi_file: .* outside the allowed folders"):
        translate_request({"task": "melody", "song": song(), "midi_file": "../../etc/passwd.mid"}, ctx, "j")


def test_an_engine_job_in_seconds_passes_through_validated(ctx):
    t = translate_request({"name": "x", "duration": 2.0, "controls": [{"type": "intensity", "times": [0, 2],
                                                                       "db": [-30, -10]}]}, ctx, "j")
    assert t.job["duration"] == 2.0 and t.job["model"] == "builtin-tiny" and t.output.task == "intensity"
    with pytest.raises(RequestError, match=r"engine job: controls\[0\].db\[1\]: must be a finite number"):
        translate_request({"duration": 2.0, "controls": [{"type": "intensity", "times": [0, 2],
                                                          "db": [-30, float("nan")]}]}, ctx, "j")


def test_a_lineage_travels_with_the_output_settings_and_never_reaches_the_engine(ctx):
    live = translate_request({"task": "generate", "song": song(), "lineage": "m4l-gen.1_a"}, ctx, "j")
    seconds = translate_request({"duration": 2.0, "lineage": "idea"}, ctx, "j")
    assert (live.output.lineage, seconds.output.lineage) == ("m4l-gen.1_a", "idea")
    assert "lineage" not in live.job and "lineage" not in seconds.job and live.job["warm_start"] is None
    assert translate_request({"task": "generate", "song": song()}, ctx, "j").output.lineage is None
    with pytest.raises(RequestError, match="lineage: must be 1 to 64"):
        translate_request({"duration": 2.0, "lineage": "a b"}, ctx, "j")


@pytest.mark.parametrize("text, fragment", [("{", "not valid JSON"), ('{"a": NaN}', "NaN is not allowed"),
                                            ("[" * 100_000, "nested too deeply|not valid JSON")])
def test_json_text_is_parsed_strictly(text, fragment):
    with pytest.raises(RequestError, match=fragment):
        parse_json_text(text)


def test_without_a_range_continue_goes_on_after_the_clips_end_marker(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    live = {"task": "continue", "song": song(120.0), "length_bars": 2, "overlap_beats": 2,
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False, "loop_start": 1.0,
                     "loop_end": 2.0, "start_marker": 0.0, "end_marker": 10.0}}
    t = rendered(translate_request(live, ctx, "jobD"))
    # unwarped: positions in seconds; 2 beats at 120 BPM = 1 s of overlap before the end marker at 10 s
    assert t.output.placement["axis"] == "clip_seconds" and t.output.placement["start"] == pytest.approx(9.0)
    reference, _ = sf.read(t.job["controls"][0]["reference"], dtype="float64")
    assert reference[-1] * 100 == pytest.approx(10.0 - 1 / RAMP_RATE, abs=1e-6)


def test_translation_writes_nothing_and_plans_the_reference_window_the_worker_renders(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    live = {"task": "inpaint", "song": song(120.0), "length_bars": 2,
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False,
                     "loop_start": 5.0, "loop_end": 6.0}}
    t = translate_request(live, ctx, "jobE")
    assert not ctx.reference_dir.exists()  # nothing written while the request is answered
    [plan] = t.output.renders
    assert t.job["controls"][0]["reference"] == plan["path"] == str(ctx.reference_dir.resolve() / "jobE-inpaint.wav")
    assert t.references == (plan["path"],)
    assert ReferenceWindow.from_dict(plan["window"]).file_path == str(clip.resolve())
    rendered(t)
    assert sf.info(plan["path"]).frames == 4 * RAMP_RATE  # the 4 s window, at the clip's own rate


def test_a_clip_gone_before_its_reference_is_rendered_is_named_in_the_error(ctx):
    clip = ramp_clip(ctx.audio_roots[0])
    live = {"task": "continue", "song": song(120.0), "length_bars": 2, "overlap_beats": 2,
            "clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False, "start_marker": 0.0,
                     "end_marker": 10.0}}
    t = translate_request(live, ctx, "jobF")
    clip.unlink()
    with pytest.raises(RequestError, match=r"clip.file_path: 'ramp.wav' cannot be read any more .*put the clip's "
                                           r"audio back and send the job again"):
        rendered(t)
    assert not Path(t.references[0]).exists()
