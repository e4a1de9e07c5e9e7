"""`ditto-bridge generate`: writes WAV + sidecar for a good job; a bad one exits non-zero and writes nothing."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

GOOD = {"name": "swell", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
        "optimizer": {"steps": 3}, "controls": [{"type": "intensity", "times": [0, 1], "db": [-40, -10]}]}


def _run(tmp_path, job):
    """The real console entry point in a subprocess."""
    path = tmp_path / "job.json"
    path.write_text(job if isinstance(job, str) else json.dumps(job))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "ditto_bridge.cli", "generate", str(path), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    return proc, out


def _run_in_process(tmp_path, job, capsys):
    """The same command through `main` (faster: no interpreter start-up); returns (exit status, stderr, out)."""
    from ditto_bridge.cli import main

    path = tmp_path / "job.json"
    path.write_text(job if isinstance(job, str) else json.dumps(job))
    out = tmp_path / "out"
    status = main(["generate", str(path), "--out", str(out), "--quiet"])
    return status, capsys.readouterr().err, out


def test_generate_writes_wav_and_sidecar_and_warns_about_random_weights(tmp_path):
    proc, out = _run(tmp_path, GOOD)
    assert proc.returncode == 0, proc.stderr
    audio, rate = sf.read(out / "swell.wav")
    assert rate == 22050 and len(audio) == 22050 and np.isfinite(audio).all()
    sidecar = json.loads((out / "swell.json").read_text())
    assert sidecar["job"]["controls"][0]["type"] == "intensity"
    assert len(sidecar["loss_history"]) == 4 and sidecar["seed"] == 0 and "timings" in sidecar
    assert "RANDOM WEIGHTS" in proc.stderr


def test_a_second_run_never_overwrites_the_first(tmp_path, capsys):
    _run_in_process(tmp_path, GOOD, capsys)
    status, _, out = _run_in_process(tmp_path, GOOD, capsys)
    assert status == 0
    assert (out / "swell.wav").exists() and (out / "swell-2.wav").exists()


@pytest.mark.parametrize("job, field", [
    ({**GOOD, "controls": [{"type": "intensity", "db": [-3]}]}, "controls[0].times: is required"),
    ({**GOOD, "controls": [{"type": "intensity", "times": [0, 1], "db": [-3, math.nan]}]}, "controls[0].db[1]"),
    ({**GOOD, "controls": [{"type": "intensity", "times": [0, 5], "db": [-3, -4]}]}, "lies outside the clip"),
    ({**GOOD, "controls": [{"type": "intensity", "times": [0, 1], "db": [-6, 2]}]}, "controls[0].db[1]: lies above full scale"),
    ({**GOOD, "controls": [{"type": "intensity", "times": [0], "db": [-6], "tolerance": 0}]}, "controls[0].tolerance"),
    ({**GOOD, "controls": [{"type": "intensity", "times": [0], "db": [-6], "gain": "no"}]}, "controls[0].gain"),
    ({**GOOD, "controls": [{"type": "melody", "notes": [{"start": 0, "end": 0.5, "pitch": 128}]}]},
     "controls[0].notes[0].pitch"),
    ({**GOOD, "controls": [{"type": "melody", "notes": [{"start": 0, "end": 0.5, "pitch": 60}], "tolerance": -0.1}]},
     "controls[0].tolerance"),
    ({**GOOD, "controls": [{"type": "reverse"}]}, "controls[0].type"),
    ({**GOOD, "controls": [{"type": "inpaint", "reference": "missing.wav", "gap": [0.2, 0.5]}]}, "no such audio file"),
    ("{not json", "not valid JSON"),
])
def test_bad_input_names_the_field_exits_nonzero_and_writes_nothing(tmp_path, job, field, capsys):
    status, stderr, out = _run_in_process(tmp_path, job, capsys)
    assert status != 0
    assert field in stderr
    assert not out.exists()


def test_an_unreadable_reference_file_is_reported_and_nothing_written(tmp_path):
    bad = tmp_path / "garbage.wav"
    bad.write_bytes(b"this is not audio")
    proc, out = _run(tmp_path, {**GOOD, "controls": [{"type": "outpaint", "reference": str(bad), "overlap": 0.3}]})
    assert proc.returncode != 0 and "cannot be read" in proc.stderr  # the console path, end to end
    assert not out.exists()


def test_quality_flag_overrides_the_job_and_the_sidecar_records_the_plan_that_ran(tmp_path, capsys):
    from ditto_bridge.cli import main

    path = tmp_path / "job.json"
    path.write_text(json.dumps({**GOOD, "sampler": {"steps": 20}}))
    assert main(["generate", str(path), "--out", str(tmp_path / "out"), "--quiet", "--quality", "draft"]) == 0
    sidecar = json.loads((tmp_path / "out" / "swell.json").read_text())
    assert sidecar["job"]["quality"] == "draft"
    assert sidecar["plan"]["rendered_with"]["steps"] == 6  # the draft preset's cap on the render
    assert sidecar["plan"]["optimized_through"]["steps"] <= 6 and sidecar["plan"]["optimizer_steps"] == 3
