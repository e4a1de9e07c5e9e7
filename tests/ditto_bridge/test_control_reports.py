"""What a take reports, and defaults the model can reach.

A job whose takes miss a tolerance still succeeds and says by how much, per control, in `/ditto/done` (third
argument), in the take's sidecar and in `ditto-bridge generate`'s output; a target outside the levels the model's
music reaches is reported with the gain in words. The device's Intensity dial, the daemon's default for 0-1 values
and the MIDI CC range all lie inside the built-in model's loudness range. Real UDP on 127.0.0.1, the tiny model.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bridge_testkit import REPO, OscPeer
from conftest import dumps, live_job
from ditto_bridge.config import load_config
from ditto_bridge.daemon import Daemon
from ditto_bridge.job_queue import JobQueue
from ditto_bridge.midi import MidiSettings
from ditto_bridge.outbox import published_summary, take_stem, write_take
from ditto_bridge.protocol import MAX_SUMMARY_CHARS, load_table, summary_argument
from ditto_bridge.translate.live_job import TranslateContext, translate_request

MISSES = {"name": "tight", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
          "optimizer": {"steps": 1},
          "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-30.0, -20.0], "tolerance": 0.01}]}
"""An engine job (seconds) whose tolerance one optimization step of a random-weight model cannot meet."""
MISSED = re.compile(r"^intensity missed by ([0-9.e+-]+) \(([0-9.e+-]+) dB RMS against 0\.01\)")


def done_or_error(address, args):
    return address in ("/ditto/done", "/ditto/error")


def run_job(daemon, job):
    """Send `job`; its /ditto/done arguments and the take's sidecar."""
    with OscPeer(daemon.address) as peer:
        _, (job_id,) = peer.request("/ditto/generate", dumps(job), reply="/ditto/accepted")
        address, args = peer.wait_for(lambda a, args: done_or_error(a, args) and args[0] == job_id, 120)
        assert address == "/ditto/done", args
        assert peer.request("/ditto/job", job_id, reply="/ditto/job")[1][:2] == [job_id, "done"]
    return args, json.loads(Path(args[1]).with_suffix(".json").read_text())


def test_the_done_reply_carries_a_third_string_in_the_one_protocol_table():
    assert load_table().replies["/ditto/done"].args == ("s", "s", "s")


def test_a_job_that_misses_its_tolerance_succeeds_and_says_by_how_much(make_daemon):
    args, sidecar = run_job(make_daemon(), MISSES)
    assert len(args) == 3
    summary = args[2]
    found = MISSED.match(summary)
    assert found, summary
    missed_by, metric = float(found[1]), float(found[2])
    assert missed_by > 0 and metric == pytest.approx(missed_by + 0.01, rel=0.01, abs=0.01)
    own = sidecar["ditto_bridge"]
    assert own["summary"] == summary
    [report] = own["controls_report"]
    assert (report["label"], report["type"], report["met"], report["tolerance"]) == ("intensity", "intensity",
                                                                                     False, 0.01)
    assert report["missed_by"] > 0 and report["missed_by"] == pytest.approx(report["metric"] - 0.01)
    assert report["missed_by"] == pytest.approx(missed_by, rel=0.01)
    assert sidecar["converged"] is False
    assert sidecar["controls_report"][0] == [report] and sidecar["summary"] == [summary]


def test_a_target_below_what_the_music_reaches_reports_the_gain_in_words(make_daemon):
    # a curve drawn in dB below the model's reach (Live units, the dB unit's bounds are -60 .. 0)
    args, sidecar = run_job(make_daemon(), live_job(intensity={"breakpoints": [[0, -55], [4, -55]]}))
    summary = args[2]
    low, high = sidecar["loudness_range_db"]  # the job's tag set's reach, inside the model's range
    assert -39.52 - 1e-6 <= low < high <= -13.34 + 1e-6
    assert "uncontrolled takes" in sidecar["loudness_range_source"]
    words = f"asked -55.0 dB at [0-9.]+ s; the music reaches {low:.1f} dB; {low + 55:.1f} dB applied as gain"
    assert re.search(words, summary), summary
    [report] = sidecar["ditto_bridge"]["controls_report"]
    assert report["words"] in summary and "applied as gain" in report["words"]
    assert report["gain_db"] == pytest.approx(-55 - low, abs=0.1)  # attenuation: the take is quieter than its music
    assert sidecar["ditto_bridge"]["summary"] == summary


def test_with_gain_off_the_miss_is_reported_not_hidden(make_daemon):
    job = {**MISSES, "name": "nogain", "optimizer": {"steps": 2},
           "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-55.0, -55.0], "gain": False}]}
    args, sidecar = run_job(make_daemon(), job)
    low = sidecar["loudness_range_db"][0]
    assert f"gain is off, so the take misses by up to {low + 55:.1f} dB there" in args[2], args[2]
    [report] = sidecar["ditto_bridge"]["controls_report"]
    assert report["met"] is False and report["missed_by"] > 0 and args[2].startswith("intensity missed by ")


def test_a_job_without_controls_sends_an_empty_summary(make_daemon):
    args, sidecar = run_job(make_daemon(), live_job())
    assert args[2] == ""
    assert sidecar["ditto_bridge"]["summary"] == "" and sidecar["ditto_bridge"]["controls_report"] == []


def test_a_take_published_before_a_restart_is_announced_with_the_summary_its_sidecar_holds(tmp_path):
    (tmp_path / "c.toml").write_text("")
    settings = {"port": 0, "data_dir": tmp_path / "data", "outbox": tmp_path / "outbox", "audio_dirs": [],
                "model": "builtin-tiny", "device": "cpu", "torch_threads": 1}
    config = load_config(tmp_path / "c.toml", settings)
    words = "intensity missed by 1.3 (3.3 dB RMS against 2); " + "x" * 700  # longer than a reply carries
    with OscPeer(("127.0.0.1", 9)) as peer:  # only listens: the daemon answers the address the jobs name
        queue = JobQueue(config.queue_path)
        output = {"name": "solo", "task": "generate", "sample_rate": 44100, "channels": 1}
        wavs = {}
        for job_id, summary in (("said", words), ("older", None)):
            queue.submit(job_id, job={"seed": 7, "variations": 1, "duration": 1.0}, output=output,
                         reply_to=peer.address)
            assert queue.claim_next().id == job_id  # running when the daemon died
            own = {"job_id": job_id, "take": 1, **({"summary": summary} if summary is not None else {})}
            wavs[job_id] = write_take(config.outbox, take_stem("solo", "generate", 7, 1),
                                      np.zeros((1, 22050), np.float32), in_rate=22050, out_rate=44100, channels=1,
                                      sidecar={"ditto_bridge": own})
        queue.close()
        with Daemon(config):
            replies = {}
            while len(replies) < 2:
                _, args = peer.wait_for(lambda a, _: a == "/ditto/done", 30)
                replies[args[0]] = args
    assert replies["said"] == ["said", str(wavs["said"]), words[: MAX_SUMMARY_CHARS - 1] + "…"]
    assert replies["older"] == ["older", str(wavs["older"]), ""]  # a sidecar written without a summary


def test_summaries_are_bounded_and_read_back_safely(tmp_path):
    assert summary_argument(None) == "" and summary_argument("short") == "short"
    cut = summary_argument("y" * 1000)
    assert len(cut) == MAX_SUMMARY_CHARS and cut.endswith("…")
    assert published_summary(tmp_path / "missing.wav") == ""
    (tmp_path / "bad.json").write_text("{not json")
    assert published_summary(tmp_path / "bad.wav") == ""
    (tmp_path / "odd.json").write_text(json.dumps({"ditto_bridge": {"summary": 3}}))
    assert published_summary(tmp_path / "odd.wav") == ""
    (tmp_path / "target.json").write_text(json.dumps({"ditto_bridge": {"summary": "planted"}}))
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    assert published_summary(tmp_path / "link.wav") == ""  # never read through a link


def test_the_cli_prints_each_takes_summary_under_its_path(tmp_path, capsys):
    from ditto_bridge.cli import main

    path = tmp_path / "job.json"
    path.write_text(json.dumps({**MISSES, "variations": 2}))
    assert main(["generate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [Path(line).name for line in lines[::2]] == ["tight-take1.wav", "tight-take2.wav"]
    for line in lines[1::2]:
        assert line.startswith("    ") and MISSED.match(line.strip()), lines


# ------------------------------------------------------------------------------- defaults inside the model's reach


@pytest.fixture(scope="module")
def reach():
    from engine.models.registry import load_model

    return load_model("builtin").loudness_range()


def inside(reach, low, high):
    return reach.low_db <= low < high <= reach.high_db


def test_the_devices_intensity_range_lies_inside_what_the_builtin_model_reaches(reach):
    source = (REPO / "max_for_live" / "device" / "ditto_device.js").read_text()
    low = float(re.search(r"^var INTENSITY_MIN_DB = (-?[0-9.]+);$", source, re.M)[1])
    high = float(re.search(r"^var INTENSITY_MAX_DB = (-?[0-9.]+);$", source, re.M)[1])
    assert inside(reach, low, high), (low, high, reach)
    initial = float(re.search(r"intensityDb: (-?[0-9.]+)", source)[1])
    assert low <= initial <= high
    # the patcher's dial and breakpoint editor use the same range
    patcher = json.loads((REPO / "max_for_live" / "src" / "DittoBridge.maxpat").read_text())["patcher"]
    boxes = [b["box"] for b in patcher["boxes"]]
    dial = next(b for b in boxes if b.get("varname") == "Intensity")["saved_attribute_attributes"]["valueof"]
    assert (dial["parameter_mmin"], dial["parameter_mmax"], dial["parameter_initial"]) == (low, high, [initial])
    assert next(b for b in boxes if b["maxclass"] == "function")["range"] == [low, high]


def test_a_normalized_curve_without_min_and_max_maps_inside_what_the_model_reaches(reach, tmp_path):
    ctx = TranslateContext(model="builtin-tiny", audio_roots=(), inbox=tmp_path, reference_dir=tmp_path / "refs")
    live = {"task": "generate", "song": {"tempo": 120.0}, "length_bars": 1,
            "intensity": {"unit": "normalized", "breakpoints": [[0, 0.0], [4, 1.0]]}}
    db = translate_request(live, ctx, "j").job["controls"][0]["db"]
    assert inside(reach, min(db), max(db)), (db, reach)
    assert (min(db), max(db)) == (-39.0, -14.0)


def test_the_midi_cc_range_lies_inside_what_the_model_reaches(reach, tmp_path):
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {})
    assert inside(reach, config.midi_min_db, config.midi_max_db), (config.midi_min_db, config.midi_max_db, reach)
    settings = MidiSettings()
    assert (settings.min_db, settings.max_db) == (config.midi_min_db, config.midi_max_db)
