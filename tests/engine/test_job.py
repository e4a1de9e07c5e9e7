"""Job validation names the field at fault before any computation."""

import dataclasses
import json
import math

import pytest

from engine.errors import JobError
from engine.job import IntensityControl, Job, LoopControl, MelodyControl, MelodyNote, SamplerSpec


def test_defaults_give_a_valid_six_second_job():
    job = Job.from_dict({})
    assert job.duration == pytest.approx(5.94) and job.sampler is None  # the quality preset renders
    assert job.optimizer.steps is None and job.optimizer.lr is None and job.optimize_through is None  # preset


def test_optimize_through_takes_render_or_a_sampler_and_names_anything_else():
    assert Job.from_dict({"optimize_through": "render"}).optimize_through == "render"
    assert Job.from_dict({"optimize_through": {"name": "dpmsolver++", "steps": 3}}).optimize_through.steps == 3
    with pytest.raises(JobError, match="optimize_through: must be 'render' or a sampler object"):
        Job.from_dict({"optimize_through": "full"})
    with pytest.raises(JobError, match="optimize_through.steps"):
        Job.from_dict({"optimize_through": {"steps": 0}})


def test_round_trip_through_json_form(tmp_path):
    ref = tmp_path / "r.wav"
    ref.write_bytes(b"")
    data = {"name": "x", "duration": 4.0, "tags": ["piano"], "seed": 3, "variations": 2,
            "controls": [{"type": "intensity", "times": [0, 4], "db": [-30, -10]},
                         {"type": "melody", "notes": [{"start": 0, "end": 1, "pitch": 60}]},
                         {"type": "inpaint", "reference": str(ref), "gap": [1, 2]},
                         {"type": "loop", "overlap": 1.0}],
            "optimize_through": {"name": "ddim", "steps": 3}, "optimizer": {"steps": 9, "lr": 0.1}}
    job = Job.from_dict(data)
    assert Job.from_dict(job.to_dict()) == job
    assert isinstance(job.controls[0], IntensityControl)


RHYTHM = {"type": "rhythm", "onsets": [0.0, 0.5, 1.0]}


@pytest.mark.parametrize("control, message", [
    ({**RHYTHM, "onsets": [0.0, 6.5]}, "controls[0].onsets[1]: lies outside the clip (0 to 5.94 s), got 6.5"),
    ({**RHYTHM, "onsets": [0.0, 1.0, 0.5]},
     "controls[0].onsets[2]: must be later than the onset before it (sort the onsets; merge equal ones), got 0.5"),
    ({**RHYTHM, "onsets": [0.0, math.nan]}, "controls[0].onsets[1]: must be a finite number, got nan"),
    ({**RHYTHM, "onsets": []}, "controls[0].onsets: needs at least one onset, got 0"),
    ({**RHYTHM, "accents": [1.0, 0.5]}, "controls[0].accents: must have one entry per onset (3), got 2"),
    ({**RHYTHM, "accents": [1.0, 0.5, 1.5]}, "controls[0].accents[2]: must be at most 1, got 1.5"),
    ({"type": "rhythm", "grid": {"tempo": 0}}, "controls[0].grid.tempo: must be at least 20, got 0"),
    ({"type": "rhythm", "grid": {"tempo": 120, "pattern": [0, 0]}},
     "controls[0].grid.pattern: has no step above 0: nothing would be played, got [0.0, 0.0]"),
    ({"type": "rhythm", "grid": {"tempo": 120, "pattern": []}}, "controls[0].grid.pattern: needs at least one step, got 0"),
    ({"type": "rhythm"}, "controls[0].onsets: give exactly one of onsets, grid or reference"),
    ({**RHYTHM, "grid": {"tempo": 120}},
     "controls[0].onsets: give exactly one of onsets, grid or reference (got onsets, grid)"),
    ({**RHYTHM, "window": 0}, "controls[0].window: must be a number greater than 0, got 0"),
])
def test_a_bad_rhythm_is_refused_naming_the_field_rule_and_value(control, message):
    with pytest.raises(JobError) as info:
        Job.from_dict({"controls": [control]})
    assert str(info.value) == message


def test_a_rhythm_round_trips_through_its_json_form():
    job = Job.from_dict({"controls": [{"type": "rhythm", "grid": {"tempo": 96, "pattern": [1, 0, 0.5, 0], "swing": 0.2}},
                                      {**RHYTHM, "accents": [1, 0.5, 0.5], "window": 0.03}]})
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job


@pytest.mark.parametrize("data, field", [
    ({"controls": [{"type": "intensity", "times": [0, 1], "db": [0, math.nan]}]}, "controls[0].db[1]"),
    ({"controls": [{"type": "intensity", "times": [0, 9], "db": [0, -1]}]}, "controls[0].times[1]"),
    ({"controls": [{"type": "intensity", "db": [0]}]}, "controls[0].times"),
    ({"controls": [{"type": "sparkle"}]}, "controls[0].type"),
    ({"controls": [{"type": "outpaint", "reference": "/nope/missing.wav", "overlap": 1}]}, "controls[0].reference"),
    ({"duration": -2}, "duration"),
    ({"variations": 0}, "variations"),
    ({"sampler": {"name": "euler"}}, "sampler.name"),
    ({"colour": "blue"}, "colour"),
    ({"controls": [{"type": "melody", "notes": [{"start": 1, "end": 0.5, "pitch": 60}]}]}, "controls[0].notes[0].end"),
])
def test_bad_fields_are_named_in_the_error(data, field):
    with pytest.raises(JobError) as info:
        Job.from_dict(data)
    assert str(info.value).startswith(field)


INTENSITY = {"type": "intensity", "times": [0, 1, 2, 3], "db": [-20, -10, -10, -20]}


@pytest.mark.parametrize("data, message", [
    ({"controls": [{**INTENSITY, "db": [-20, -10, -10, math.nan]}]},
     "controls[0].db[3]: must be a finite number, got nan"),
    ({"controls": [INTENSITY, {**INTENSITY, "times": [0, 1, 7.0, 8]}]},
     "controls[1].times[2]: lies outside the clip (0 to 5.94 s), got 7.0"),
    ({"controls": [{"type": "sparkle"}]},
     "controls[0].type: must be one of intensity, melody, structure, rhythm, inpaint, outpaint, loop, got 'sparkle'"),
    ({"controls": [{"type": "melody", "notes": [{"start": 0, "end": 1, "pitch": 60, "velocity": 90}]}]},
     "controls[0].notes[0].velocity: is not a known field (known: end, pitch, start)"),
    ({"controls": [{"type": "inpaint", "reference": __file__, "gap": [1, "x"]}]},
     "controls[0].gap[1]: must be a number, got 'x'"),
    ({"controls": [{"type": "loop", "overlap": 1, "gap": [0, 1]}]},
     "controls[0].gap: is not a known field (known: overlap, reference, tolerance, type, weight)"),
    ({"optimize_through": {"steps": 0}}, "optimize_through.steps: must be at least 1, got 0"),
    ({"seed": 2**31}, "seed: must be at most 2147483647, got 2147483648"),
    ({"quality": "best"}, "quality: must be one of draft, final, got 'best'"),
    ([], "job: must be an object, got []"),
])
def test_the_whole_message_names_the_field_the_rule_and_the_value(data, message):
    with pytest.raises(JobError) as info:
        Job.from_dict(data)
    assert str(info.value) == message


def test_null_means_the_default_and_tags_may_be_one_comma_separated_string():
    job = Job.from_dict({"name": None, "seed": None, "sampler": None, "tags": " Piano, strings,", "variations": 2.0})
    assert job == dataclasses.replace(Job(), tags=("piano", "strings"), variations=2)


def test_jobs_built_in_code_are_frozen_hashable_dataclasses_held_to_the_same_rules():
    melody = MelodyControl((MelodyNote(0, 9.0, 60),))
    job = Job(duration=2.0, controls=(melody, LoopControl(0.5)), sampler=SamplerSpec("ddim", 4))
    assert job.controls[0].notes[0].end == 2.0  # cut to the clip, as from_dict does
    assert Job.from_dict(job.to_dict()) == job and hash(Job.from_dict(job.to_dict())) == hash(job)
    assert dataclasses.asdict(job)["sampler"] == {"name": "ddim", "steps": 4, "eta": 0.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.seed = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="at most half the clip"):
        dataclasses.replace(job, duration=0.8)
