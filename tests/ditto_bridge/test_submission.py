"""The submission service, spoken to over real UDP: the queue's refusals come back naming the job, and a job's
reference audio is written by the worker when the job runs, never while the request is answered."""

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from bridge_testkit import OscPeer
from conftest import dumps, live_job

LONG = {"name": "long", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
        "optimizer": {"steps": 2000, "early_stop": False},
        "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}
"""An engine job (seconds) that keeps the worker busy until it is cancelled."""


def inpaint(clip: Path, **fields) -> dict:
    return live_job(task="inpaint", clip={"file_path": str(clip), "is_audio_clip": True, "warping": False,
                                          "loop_start": 1.5, "loop_end": 2.0}, **fields)


def ramp(path: Path) -> Path:
    sf.write(path, np.linspace(0, 0.5, 32000, dtype=np.float32), 8000, subtype="FLOAT")
    return path


def test_a_reused_id_and_a_full_queue_are_answered_with_the_queues_error_naming_the_job(make_daemon, tmp_path):
    daemon = make_daemon(max_queue=2)
    assert daemon.worker.stop(timeout=30)  # accepted jobs stay queued
    clip = ramp(tmp_path / "audio" / "loop.wav")
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/generate", dumps(inpaint(clip, id="first")))[1] == ["first"]
        assert peer.request("/ditto/generate", dumps(inpaint(clip, id="first")), reply="/ditto/error")[1] == [
            "first", "id: a job called 'first' exists already; send a new id"]
        assert peer.request("/ditto/generate", dumps(live_job(id="second")), reply="/ditto/accepted")[1] == ["second"]
        assert peer.request("/ditto/generate", dumps(inpaint(clip, id="third")), reply="/ditto/error")[1] == [
            "third", "busy: 2 jobs are waiting, the most this daemon takes (max_queue); wait for one to finish or "
                     "cancel one"]
        assert peer.request("/ditto/status", reply="/ditto/status")[1] == [2, ""]
    assert list(daemon.config.reference_dir.iterdir()) == []  # accepted or refused, nothing was rendered


def test_the_worker_not_the_osc_thread_writes_a_jobs_reference_audio(make_daemon, tmp_path):
    daemon = make_daemon()
    references = daemon.config.reference_dir
    clip = ramp(tmp_path / "audio" / "loop.wav")
    with OscPeer(daemon.address) as peer:
        _, (busy,) = peer.request("/ditto/generate", dumps(LONG), reply="/ditto/accepted")
        peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == busy, 60)
        assert peer.request("/ditto/generate", dumps(inpaint(clip, id="fill", name="fill")))[1] == ["fill"]
        assert list(references.iterdir()) == []  # accepted and queued: its reference is not written yet
        peer.send("/ditto/cancel", busy)
        address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == "fill", 60)
    assert address == "/ditto/done", args
    sidecar = json.loads(Path(args[1]).with_suffix(".json").read_text())
    control = sidecar["job"]["controls"][0]
    assert control["reference"] == str(references / "fill-inpaint.wav") and control["gap"] == [0.25, 0.75]
    assert list(references.iterdir()) == []  # rendered for the run, removed once the job is done
