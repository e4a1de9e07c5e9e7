"""Every job in examples/ runs as README says (`ditto-bridge generate examples/NAME.json --out renders/`), here on
the tiny model with the draft preset, and writes a WAV of the job's duration and a sidecar that says how each
control did."""

import json
from pathlib import Path

import pytest
import soundfile as sf

from ditto_bridge.cli import main
from engine.job import Job

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
JOBS = sorted(EXAMPLES.glob("*.json"))
CONTROL_TYPES = {"intensity", "melody", "structure", "inpaint", "outpaint", "loop"}


def test_there_is_one_example_per_control_and_one_that_combines_them():
    types = [{c["type"] for c in json.loads(p.read_text()).get("controls", [])} for p in JOBS]
    assert set().union(*types) == CONTROL_TYPES
    assert any(len(t) > 1 for t in types)


@pytest.mark.parametrize("path", JOBS, ids=lambda p: p.stem)
def test_an_example_runs_and_writes_its_take(path, tmp_path):
    job = Job.from_dict(json.loads(path.read_text()), base_dir=EXAMPLES)
    out = tmp_path / "renders"
    assert main(["generate", str(path), "--out", str(out), "--quiet", "--model", "builtin-tiny",
                 "--quality", "draft"]) == 0
    audio, rate = sf.read(out / f"{job.name}.wav")
    assert audio.shape[0] == pytest.approx(job.duration * rate, abs=1)
    sidecar = json.loads((out / f"{job.name}.json").read_text())
    reported = {entry["type"] for take in sidecar["controls_report"] for entry in take}
    assert {c.type for c in job.controls} <= reported
