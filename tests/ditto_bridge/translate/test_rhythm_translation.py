"""The ``rhythm`` object of a job in Live units -> the engine's rhythm control, through `translate_request`."""

import pytest
import soundfile as sf
from bridge_testkit import RAMP_RATE, ramp_clip, rendered

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.live_job import translate_request
from ditto_bridge.translate.references import ReferenceWindow
from ditto_bridge.translate.rhythm import MERGE_SECONDS
from engine.job import Job


def song(tempo=120.0, numerator=4, denominator=4):
    return {"tempo": tempo, "signature_numerator": numerator, "signature_denominator": denominator}


def hit(start, velocity=100, pitch=36, mute=False):
    return {"pitch": pitch, "start_time": start, "duration": 0.25, "velocity": velocity, "mute": mute}


def rhythm_job(rhythm, tempo=120.0, length_bars=1, task="rhythm", **extra):
    return {"task": task, "song": song(tempo, extra.pop("numerator", 4), extra.pop("denominator", 4)),
            "length_bars": length_bars, "rhythm": rhythm, **extra}


def rhythm_of(translation):
    [control] = [c for c in translation.job["controls"] if c["type"] == "rhythm"]
    return control


BEATS = [0.0, 1.0, 1.5, 2.0, 3.0, 3.75]  # a drum bar of 4/4, in beats


def test_drum_notes_become_onsets_in_seconds_at_the_songs_tempo(ctx):
    control = rhythm_of(translate_request(rhythm_job({"notes": [hit(b) for b in BEATS]}, 120.0), ctx, "j"))
    assert control["onsets"] == pytest.approx([b * 60 / 120 for b in BEATS])
    assert control["accents"] == pytest.approx([100 / 127] * len(BEATS))
    assert control["window"] == pytest.approx(0.05) and control["weight"] == 1.0


def test_after_a_tempo_change_the_same_clip_gives_onsets_scaled_by_the_tempo_ratio(ctx):
    clip = {"notes": [hit(b) for b in BEATS]}
    at_120 = rhythm_of(translate_request(rhythm_job(clip, 120.0), ctx, "a"))["onsets"]
    at_90 = rhythm_of(translate_request(rhythm_job(clip, 90.0), ctx, "b"))["onsets"]
    assert len(at_90) == len(at_120) == len(BEATS)
    assert at_90 == pytest.approx([t * 120 / 90 for t in at_120])


def test_in_six_eight_a_bar_is_three_beats_and_later_notes_are_cut(ctx):
    eighths = [i * 0.5 for i in range(8)]  # 4 beats of eighth notes; a bar of 6/8 holds the first 6
    t = translate_request(rhythm_job({"notes": [hit(b) for b in eighths]}, 120.0, numerator=6, denominator=8),
                          ctx, "j")
    assert t.job["duration"] == pytest.approx(3 * 60 / 120)
    assert rhythm_of(t)["onsets"] == pytest.approx([b * 60 / 120 for b in eighths if b < 3])


def test_loop_beats_repeats_the_loop_to_fill_the_render(ctx):
    loop = [0.0, 0.5, 1.0]  # in a loop of 2 beats
    past_the_loop = hit(2.5)  # a looped clip does not play notes past its loop end
    rhythm = {"notes": [hit(b) for b in loop] + [past_the_loop], "loop_beats": 2}
    control = rhythm_of(translate_request(rhythm_job(rhythm, 120.0, length_bars=2), ctx, "j"))
    beats = [b + k * 2 for k in range(4) for b in loop]  # 8 beats of render
    assert control["onsets"] == pytest.approx([b * 60 / 120 for b in beats])


def test_hits_played_together_are_one_onset_with_the_loudest_accent(ctx):
    beats_apart = MERGE_SECONDS / 2 * 120 / 60  # half the merge distance, in beats at 120 BPM
    notes = [hit(0.0, 90, pitch=36), hit(beats_apart, 120, pitch=42), hit(0.0, 60, pitch=38),
             hit(1.0, 80, pitch=36), hit(1.0 + 2 * beats_apart * 1.5, 127, pitch=42)]  # 1.5 merge distances apart
    control = rhythm_of(translate_request(rhythm_job({"notes": notes}, 120.0), ctx, "j"))
    assert control["onsets"] == pytest.approx([0.0, 0.5, 0.5 + 1.5 * MERGE_SECONDS])
    assert control["accents"] == pytest.approx([120 / 127, 80 / 127, 127 / 127])


def test_muted_and_silent_notes_are_not_onsets(ctx):
    notes = [hit(0.0), hit(1.0, mute=True), hit(2.0, velocity=0), hit(3.0, 127)]
    control = rhythm_of(translate_request(rhythm_job({"notes": notes}, 120.0), ctx, "j"))
    assert control["onsets"] == pytest.approx([0.0, 3.0 * 60 / 120])
    assert control["accents"] == pytest.approx([100 / 127, 1.0])


@pytest.mark.parametrize("numerator, denominator, beats_per_bar", [(4, 4, 4), (6, 8, 3), (7, 8, 4), (1, 16, 1)])
def test_steps_become_a_grid_at_the_songs_tempo_with_its_bar(ctx, numerator, denominator, beats_per_bar):
    steps = [1, 0, 0.5, 0, 1, 0, 0.5, 0.25]
    rhythm = {"steps": steps, "steps_per_beat": 2, "swing": 1 / 3}
    t = translate_request(rhythm_job(rhythm, 97.0, numerator=numerator, denominator=denominator), ctx, "j")
    assert rhythm_of(t)["grid"] == {"tempo": 97.0, "pattern": pytest.approx(steps), "steps_per_beat": 2,
                                    "beats_per_bar": beats_per_bar, "swing": pytest.approx(1 / 3), "start": 0.0}
    assert "onsets" not in rhythm_of(t) and "reference" not in rhythm_of(t)


def test_steps_default_to_sixteenths_played_straight(ctx):
    grid = rhythm_of(translate_request(rhythm_job({"steps": [1, 0, 0, 0]}), ctx, "j"))["grid"]
    assert (grid["steps_per_beat"], grid["swing"]) == (4, 0.0)


def test_an_unwarped_audio_drum_clip_is_rendered_from_its_loop_brace_as_the_reference(ctx):
    clip = ramp_clip(ctx.audio_roots[0], 12.0)
    rhythm = {"clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False,
                       "loop_start": 3.0, "loop_end": 9.0}, "window_ms": 30}
    t = translate_request(rhythm_job(rhythm, 120.0, length_bars=1), ctx, "jobR")
    assert not ctx.reference_dir.exists()  # planned, not written
    [plan] = t.output.renders
    control = rhythm_of(t)
    assert control["reference"] == plan["path"] == str(ctx.reference_dir.resolve() / "jobR-rhythm.wav")
    assert t.references == (plan["path"],) and control["window"] == pytest.approx(0.03)
    window = ReferenceWindow.from_dict(plan["window"])
    assert window.file_path == str(clip.resolve()) and window.warp_markers is None
    rendered(t)
    reference, rate = sf.read(plan["path"], dtype="float64")
    assert rate == RAMP_RATE and len(reference) == round(t.job["duration"] * RAMP_RATE)  # the 6 s brace, cut to the render
    assert reference[0] * 100 == pytest.approx(3.0, abs=1e-6)  # it starts at the loop brace's start
    Job.from_dict(t.job)


def test_a_warped_audio_drum_clip_is_read_through_its_warp_markers_over_its_range(ctx):
    clip = ramp_clip(ctx.audio_roots[0], 12.0)
    # the file plays at 80 BPM: 0.75 s of file per beat
    markers = [{"beat_time": 0, "sample_time": 0.0}, {"beat_time": 8, "sample_time": 6.0}]
    rhythm = {"clip": {"file_path": str(clip), "is_audio_clip": True, "warping": True, "warp_markers": markers,
                       "loop_start": 0, "loop_end": 8}, "range": {"start": 2, "end": 4, "unit": "beats"}}
    t = rendered(translate_request(rhythm_job(rhythm, 120.0, length_bars=2), ctx, "jobW"))
    [plan] = t.output.renders
    assert rhythm_of(t)["reference"] == plan["path"]
    reference, _ = sf.read(plan["path"], dtype="float64")
    assert len(reference) == round(2 * 60 / 120 * RAMP_RATE)  # two beats at the song's tempo, shorter than the render
    assert reference[0] * 100 == pytest.approx(2 * 0.75, abs=1e-4)  # beat 2 of the clip
    assert reference[RAMP_RATE // 2] * 100 == pytest.approx(3 * 0.75, abs=1e-4)  # beat 3, half a second later
    Job.from_dict(t.job)


def test_a_melody_job_carries_a_rhythm_as_its_second_control_with_its_own_reference(ctx):
    clip = ramp_clip(ctx.audio_roots[0], 12.0)
    live = rhythm_job({"clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False,
                                "loop_start": 0.0, "loop_end": 2.0}},
                      120.0, task="melody", notes=[hit(0.0, pitch=60), hit(1.0, pitch=67)],
                      intensity={"breakpoints": [[0, -30], [4, -20]]})
    t = rendered(translate_request(live, ctx, "jobM"))
    assert [c["type"] for c in t.job["controls"]] == ["melody", "rhythm", "intensity"]
    [plan] = t.output.renders
    assert t.job["controls"][1]["reference"] == plan["path"] == str(ctx.reference_dir.resolve() / "jobM-rhythm.wav")
    assert t.output.task == "melody"
    job = Job.from_dict(t.job)
    assert job.controls[1].reference == plan["path"]


def test_generate_and_structure_jobs_may_carry_drum_notes(ctx):
    generate = translate_request(rhythm_job({"notes": [hit(0.0)]}, task="generate"), ctx, "g")
    structure = translate_request(rhythm_job({"steps": [1, 0]}, task="structure", length_bars=2,
                                             range={"start": 0, "end": 8}, cue_points=[{"name": "A", "time": 0},
                                                                                       {"name": "B", "time": 4}]),
                                  ctx, "s")
    assert [c["type"] for c in generate.job["controls"]] == ["rhythm"]
    assert [c["type"] for c in structure.job["controls"]] == ["structure", "rhythm"]


def test_the_rhythm_tasks_output_starts_at_the_range_start(ctx):
    t = translate_request(rhythm_job({"notes": [hit(0.0)]}, range={"start": 16, "end": 20}), ctx, "j")
    assert t.output.placement == {"axis": "song_beats", "start": 16.0, "length_beats": 4.0, "tempo": 120.0}
    assert t.output.task == "rhythm"


@pytest.mark.parametrize("change, fragment", [
    ({"rhythm": {"notes": [hit(4.0), hit(6.5)]}}, r"rhythm.notes: no unmuted note starts inside 0 to 4 beats"),
    ({"rhythm": {"notes": [hit(-0.5)]}}, r"rhythm.notes: no unmuted note starts inside 0 to 4 beats"),
    ({"rhythm": {"notes": [hit(3.0), hit(2.5)], "loop_beats": 2}},
     r"rhythm.notes: no unmuted note starts inside the loop, 0 to 2 beats"),
    ({"rhythm": {"notes": [hit(1.0, mute=True), hit(2.0, velocity=0)]}},
     r"rhythm.notes: every note is muted or has velocity 0"),
    ({"rhythm": {"notes": []}}, r"rhythm.notes: is empty: the drum clip has no notes"),
    ({"rhythm": {"notes": [hit(0.0), hit(float("nan"))]}},
     r"rhythm.notes\[1\].start_time: must be a finite number, got nan"),
    ({"rhythm": {"notes": "kick"}}, r"rhythm.notes: must be a list, got 'kick'"),
    ({"rhythm": {"steps": []}}, r"rhythm.steps: needs at least one step"),
    ({"rhythm": {"steps": [0, 0, 0, 0]}}, r"rhythm.steps: has no step above 0: nothing would be played"),
    ({"rhythm": {"steps": [1, 1.5]}}, r"rhythm.steps\[1\]: must be at most 1, got 1.5"),
    ({"rhythm": {"steps": [1] * 257}}, r"rhythm.steps: has too many steps \(257, at most 256\)"),
    ({"rhythm": {"steps": [1], "steps_per_beat": 9}}, r"rhythm.steps_per_beat: must be between 1 and 8, got 9"),
    ({"rhythm": {"steps": [1], "swing": 0.8}}, r"rhythm.swing: must be at most 0.75, got 0.8"),
    ({"rhythm": {"steps": [1], "loop_beats": 4}}, r"rhythm.loop_beats: goes with rhythm.notes, not rhythm.steps"),
    ({"rhythm": {"notes": [hit(0.0)], "loop_beats": 0}}, r"rhythm.loop_beats: must be a number greater than 0"),
    ({"rhythm": {"notes": [hit(0.0)], "loop_beats": 1e-4}},
     r"rhythm.loop_beats: filling the render repeats the loop \d+ times"),
    ({"song": {"tempo": 0}}, r"song.tempo: must be a number greater than 0, got 0"),
    ({"rhythm": {"steps": [1], "groove": 1}}, r"rhythm.groove: is not a known field"),
    ({"rhythm": {"steps": [1], "notes": [hit(0.0)]}}, (r"rhythm: give exactly one of notes, clip or steps "
                                                      r"\(got notes and steps\)")),
    ({"rhythm": {"weight": 2}}, r"rhythm: give exactly one of notes, clip or steps$"),
    ({"rhythm": {"steps": [1], "window_ms": 0}}, r"rhythm.window_ms: must be a number greater than 0, got 0"),
    ({"rhythm": {"steps": [1], "window_ms": 250}}, r"rhythm.window_ms: must be at most 200, got 250"),
    ({"rhythm": {"steps": [1], "weight": -1}}, r"rhythm.weight: must be at least 0, got -1"),
    ({"rhythm": [1, 0, 1, 0]}, r"rhythm: must be an object"),
    ({"rhythm": None}, r"rhythm: the rhythm task needs a rhythm object"),
    ({"task": "inpaint"}, r"rhythm: inpaint jobs cannot carry a rhythm"),
    ({"task": "loop"}, r"rhythm: loop jobs cannot carry a rhythm"),
    ({"rhythm": {"clip": {"is_audio_clip": False, "notes": []}}},
     r"rhythm.clip: must be an audio clip .*send a MIDI drum clip's notes as rhythm.notes"),
])
def test_bad_rhythms_are_refused_naming_the_field_and_nothing_is_written(ctx, change, fragment):
    live = rhythm_job({"notes": [hit(0.0)]})
    live.update(change)
    if live["rhythm"] is None:
        del live["rhythm"]
    with pytest.raises(RequestError, match=fragment):
        translate_request(live, ctx, "j")
    assert not ctx.reference_dir.exists()


@pytest.mark.parametrize("clip_change, fragment", [
    ({"range": {"start": 8, "end": 14}}, (r"rhythm.range: 8 to 14 seconds lies outside the clip's audio "
                                         r"\(0 to 12 seconds\)")),
    ({"clip": {"loop_start": 10, "loop_end": 20}}, r"rhythm.clip \(its loop brace\): 10 to 20 seconds lies outside"),
    ({"range": {"start": 0, "end": 4, "unit": "beats"}}, r"rhythm.range.unit: the clip's positions are in seconds"),
    ({"range": {"start": 4, "end": 2}}, r"rhythm.range.end: must be after the start \(4\), got 2"),
    ({"range": {"start": 0, "end": 2, "bar": 1}}, r"rhythm.range.bar: is not a known field"),
    ({"clip": {"loop_end": None}}, r"rhythm.clip.loop_end: is required"),
    ({"clip": {"warping": True}}, r"rhythm.clip.warp_markers: a warped clip needs its warp markers"),
    ({"clip": {"warping": True, "warp_markers": [{"beat_time": 0, "sample_time": 0},
                                                 {"beat_time": 0, "sample_time": 1}]}},
     r"rhythm.clip.warp_markers\[1\].beat_time: must be after the marker before it"),
    ({"clip": {"file_path": "../../elsewhere/drums.wav"}}, r"rhythm.clip.file_path: .*outside the allowed folders"),
])
def test_bad_drum_clips_are_refused_naming_the_field_and_nothing_is_written(ctx, clip_change, fragment):
    clip = ramp_clip(ctx.audio_roots[0], 12.0)
    rhythm = {"clip": {"file_path": str(clip), "is_audio_clip": True, "warping": False,
                       "loop_start": 0.0, "loop_end": 2.0}}
    rhythm["clip"].update(clip_change.get("clip", {}))
    if "range" in clip_change:
        rhythm["range"] = clip_change["range"]
    with pytest.raises(RequestError, match=fragment):
        translate_request(rhythm_job(rhythm), ctx, "j")
    assert not ctx.reference_dir.exists()


def test_a_drum_clip_file_that_is_not_audio_is_named_under_rhythm(ctx):
    fake = ctx.audio_roots[0] / "drums.wav"
    fake.write_text("not audio")
    rhythm = {"clip": {"file_path": str(fake), "is_audio_clip": True, "warping": False,
                       "loop_start": 0.0, "loop_end": 2.0}}
    with pytest.raises(RequestError, match=r"^rhythm.clip.file_path: cannot read 'drums.wav' as audio"):
        translate_request(rhythm_job(rhythm), ctx, "j")
