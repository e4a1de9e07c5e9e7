"""`docs/job.schema.json` is the job types' own JSON Schema, and every example job is valid under it."""

import json
from pathlib import Path

import jsonschema
import pytest

from engine.errors import JobError
from engine.job import Job, json_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def test_the_committed_schema_is_what_the_types_generate():
    committed = json.loads((ROOT / "docs" / "job.schema.json").read_text())
    assert committed == json_schema(), "regenerate it: python -m engine.job --schema > docs/job.schema.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_job_is_valid_under_the_schema(path):
    jsonschema.Draft202012Validator(json_schema()).validate(json.loads(path.read_text()))


@pytest.mark.parametrize("job", [
    {"colour": "blue"},
    {"controls": [{"type": "intensity", "times": [0], "db": [3]}]},
    {"controls": [{"type": "inpaint", "reference": "r.wav", "gap": [1]}]},
    {"controls": [{"type": "melody", "notes": [{"start": 0, "end": 1, "pitch": 60, "velocity": 90}]}]},
    {"optimize_through": "full"},
    {"seed": 1.5},
    {"name": " "},
])
def test_the_schema_rejects_what_the_engine_rejects(job):
    assert not jsonschema.Draft202012Validator(json_schema()).is_valid(job)
    with pytest.raises(JobError):
        Job.from_dict(job)
