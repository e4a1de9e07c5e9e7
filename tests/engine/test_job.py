"""Job validation names the field at fault before any computation."""

import math

import pytest

from engine.errors import JobError
from engine.job import Job, IntensityControl


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
