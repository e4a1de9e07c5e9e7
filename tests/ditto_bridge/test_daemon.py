"""The daemon in this process, spoken to over real UDP: replies, cancel, busy, the inbox, MIDI without a backend."""

import json
import socket
import time
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
from bridge_testkit import OscPeer
from conftest import dumps, live_job

from ditto_bridge import __version__
from ditto_bridge.outbox import PARTIAL_SUFFIX
from ditto_bridge.protocol import decode_datagram

LONG = {"name": "long", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
        "optimizer": {"steps": 2000, "early_stop": False},
        "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}
"""An engine job (seconds) that optimizes for minutes: long enough to be cancelled or to fill the queue."""


def done_or_error(address, args):
    return address in ("/ditto/done", "/ditto/error")


def test_ping_answers_version_model_and_device(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/ping", reply="/ditto/pong") == ("/ditto/pong", [__version__, "builtin-tiny", "cpu"])
        assert peer.request("/ditto/status", reply="/ditto/status") == ("/ditto/status", [0, ""])


def test_replies_go_to_the_reply_port_on_the_senders_host(make_daemon):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    daemon = make_daemon(reply_port=listener.getsockname()[1])
    with OscPeer(daemon.address) as sender:
        sender.send("/ditto/ping")
        listener.settimeout(10)
        data, _ = listener.recvfrom(65535)
        assert data.startswith(b"/ditto/pong")
        assert sender.receive(0.2) is None  # nothing went back to the sending port
    listener.close()


def test_a_ping_that_announces_a_port_gets_that_sender_and_its_jobs_answered_there(make_daemon):
    """What the device does with a plain `ditto-bridge serve`: its udpsend sends, its udpreceive listens."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(60)
    daemon = make_daemon()

    def heard() -> tuple[str, list]:
        return decode_datagram(listener.recvfrom(65535)[0])[0]

    with OscPeer(daemon.address) as device, OscPeer(daemon.address) as script:
        device.send("/ditto/ping", listener.getsockname()[1])
        assert heard() == ("/ditto/pong", [__version__, "builtin-tiny", "cpu"])
        # another program on the same host keeps getting its replies where it sends from
        assert script.request("/ditto/status", reply="/ditto/status", timeout=10)[1] == [0, ""]
        device.send("/ditto/generate", dumps(live_job(name="announced", seed=3)))
        address, (job_id,) = heard()
        assert address == "/ditto/accepted"
        seen = [heard()]
        while seen[-1][0] not in ("/ditto/done", "/ditto/error"):
            seen.append(heard())
        assert seen[-1][0] == "/ditto/done" and seen[-1][1][0] == job_id, seen[-1]
        assert any(a == "/ditto/progress" for a, _ in seen)
        assert device.receive(0.2) is None and script.receive(0.2) is None  # nothing went anywhere else
    listener.close()


def test_a_job_runs_and_its_wav_appears_in_the_outbox(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        address, (job_id,) = peer.request("/ditto/generate", dumps(live_job(name="first take", seed=5)))
        assert address == "/ditto/accepted"
        seen = []
        address, args = peer.wait_for(done_or_error, 60, seen)
        assert address == "/ditto/done" and args[0] == job_id, args
        assert any(a == "/ditto/progress" for a, _ in seen)
        wav = Path(args[1])
        assert wav.name == "first_take_generate_s5_t1.wav" and wav.parent == Path(daemon.config.outbox)
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels, info.frames) == (44100, 2, 44100)  # 1 s at the set's rate
        sidecar = json.loads(wav.with_suffix(".json").read_text())
        assert sidecar["ditto_bridge"]["job_id"] == job_id and sidecar["ditto_bridge"]["seed"] == 5
        assert peer.request("/ditto/job", job_id, reply="/ditto/job")[1] == [job_id, "done", str(wav)]


def test_the_daemons_memory_budget_reaches_jobs_that_set_none(make_daemon):
    daemon = make_daemon(memory_budget_mib=1e6)  # room for every step's activations: nothing is checkpointed
    with OscPeer(daemon.address) as peer:
        peer.request("/ditto/generate", dumps(live_job(intensity={"breakpoints": [[0, -40], [4, -10]]})),
                     reply="/ditto/accepted")
        address, args = peer.wait_for(done_or_error, 60)
    assert address == "/ditto/done", args
    sidecar = json.loads(Path(args[1]).with_suffix(".json").read_text())
    assert sidecar["job"]["optimizer"]["memory_budget_mib"] == 1e6
    assert sidecar["plan"]["checkpointing"] is False


def test_a_job_reports_each_optimization_step_once_and_records_its_render_checks(make_daemon):
    daemon = make_daemon()
    job = live_job(steps=5, sampler_steps=8, intensity={"breakpoints": [[0, -40], [4, -10]]})
    with OscPeer(daemon.address) as peer:
        _, (job_id,) = peer.request("/ditto/generate", dumps(job), reply="/ditto/accepted")
        seen = []
        address, args = peer.wait_for(done_or_error, 60, seen)
    assert address == "/ditto/done", args
    steps = [a[2] for m, a in seen if m == "/ditto/progress" and a[0] == job_id and a[1] <= 0.9]
    sidecar = json.loads(Path(args[1]).with_suffix(".json").read_text())
    assert steps == list(range(sidecar["optimization_steps_run"] + 1))
    # the final preset optimizes through the render sampler itself, and judges it at render checks from step 0
    assert sidecar["plan"]["optimized_through"]["steps"] == sidecar["plan"]["rendered_with"]["steps"] == 8
    assert sidecar["render_checks"] and sidecar["render_checks"][0]["step"] == 0
    assert sidecar["plan"]["precision"] == "fp32"  # the tests' DITTO_BRIDGE_PRECISION (tests/conftest.py)


def test_a_seamless_loop_is_written_without_its_overlap_tail(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        peer.request("/ditto/generate", dumps(live_job(task="loop", overlap_beats=1)), reply="/ditto/accepted")
        address, args = peer.wait_for(done_or_error, 60)
    assert address == "/ditto/done", args
    # rendered 1 bar + 1 beat at 240 BPM (1.25 s); the WAV holds the bar: 1 s at 44.1 kHz
    assert sf.info(args[1]).frames == 44100
    sidecar = json.loads(Path(args[1]).with_suffix(".json").read_text())
    assert sidecar["job"]["duration"] == 1.25 and sidecar["job"]["controls"][0]["overlap"] == 0.25


def test_cancelling_a_waiting_and_a_running_job(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        _, (running,) = peer.request("/ditto/generate", dumps(LONG), reply="/ditto/accepted")
        _, (waiting,) = peer.request("/ditto/generate", dumps(LONG), reply="/ditto/accepted")
        peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == running, 60)
        assert peer.request("/ditto/cancel", waiting, reply="/ditto/cancelled")[1] == [waiting]
        peer.send("/ditto/cancel", running)
        peer.wait_for(lambda a, args: a == "/ditto/cancelled" and args[0] == running, 60)
        for job_id in (running, waiting):
            assert peer.request("/ditto/job", job_id, reply="/ditto/job")[1] == [job_id, "cancelled", ""]
        assert peer.request("/ditto/cancel", running, reply="/ditto/error")[1][1].endswith(
            "is already cancelled; nothing to cancel")
        assert peer.request("/ditto/cancel", "nope", reply="/ditto/error")[1] == [
            "nope", "no job 'nope' is known to this daemon"]
    assert not list(Path(daemon.config.outbox).glob("*.wav"))


def test_a_full_queue_answers_busy_and_keeps_serving(make_daemon):
    daemon = make_daemon(max_queue=2)
    accepted, busy = [], None
    with OscPeer(daemon.address) as peer:
        for _ in range(5):
            peer.send("/ditto/generate", dumps(LONG))
            address, args = peer.wait_for(lambda a, _: a in ("/ditto/accepted", "/ditto/error"), 30)
            if address == "/ditto/error":
                busy = args
                break
            accepted.append(args[0])
        # two wait, and at most one more runs
        assert busy is not None and 2 <= len(accepted) <= 3, accepted
        assert busy[1].startswith("busy: 2 jobs are waiting")
        # the worker may claim a waiting job at any moment, but every accepted job is waiting or running
        waiting, running = peer.request("/ditto/status", reply="/ditto/status")[1]
        assert waiting + (1 if running else 0) == len(accepted) and running in ("", *accepted)
        for job_id in accepted:
            peer.send("/ditto/cancel", job_id)
            peer.wait_for(lambda a, args: a == "/ditto/cancelled" and args[0] == job_id, 60)
        assert peer.request("/ditto/ping", reply="/ditto/pong")


def write_json(path: Path, data) -> None:
    """Write as the device should: a hidden temporary name, then a rename (an instant drop)."""
    temp = path.with_name("." + path.name + ".tmp")
    temp.write_text(json.dumps(data))
    temp.replace(path)


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_job_files_dropped_in_the_inbox_run_in_either_form(make_daemon):
    daemon = make_daemon()
    inbox, outbox = Path(daemon.config.inbox), Path(daemon.config.outbox)
    write_json(inbox / "live.json", live_job(name="dropped"))
    write_json(inbox / "seconds.json", {"name": "plain", "duration": 0.5, "model": "builtin-tiny",
                                        "sampler": {"steps": 3}})
    wait_until(lambda: len(list(outbox.glob("*.wav"))) == 2)
    assert sorted(p.name for p in outbox.glob("*.wav")) == ["dropped_generate_s0_t1.wav", "plain_generate_s0_t1.wav"]
    assert not (inbox / "live.json").exists() and len(list((inbox / "taken").glob("*.json"))) == 2


def test_a_bad_job_file_moves_to_failed_with_the_reason_beside_it(make_daemon):
    daemon = make_daemon()
    inbox = Path(daemon.config.inbox)
    write_json(inbox / "bad.json", live_job(song={"tempo": -3}))
    wait_until(lambda: (inbox / "failed" / "bad.json.error.txt").exists())
    assert "song.tempo: must be a number greater than 0, got -3" in (inbox / "failed" / "bad.json.error.txt").read_text()


def ramp(path: Path, seconds=4.0, rate=8000):
    sf.write(path, (np.arange(int(seconds * rate)) / (rate * 100.0)).astype(np.float32), rate, format="WAV",
             subtype="FLOAT")


def test_a_job_file_waits_for_the_reference_audio_it_names(make_daemon):
    daemon = make_daemon()
    inbox, outbox = Path(daemon.config.inbox), Path(daemon.config.outbox)
    job = live_job(task="inpaint", name="fill", clip={"file_path": "clip.wav", "is_audio_clip": True,
                                                      "warping": False, "loop_start": 1.5, "loop_end": 2.0})
    write_json(inbox / "fill.json", job)
    time.sleep(0.6)
    assert (inbox / "fill.json").exists() and not list(outbox.glob("*.wav"))  # waiting, not failed
    ramp(inbox / ".clip.wav.tmp")
    (inbox / ".clip.wav.tmp").replace(inbox / "clip.wav")
    wait_until(lambda: list(outbox.glob("fill_inpaint_*.wav")))
    sidecar = json.loads(next(outbox.glob("fill_inpaint_*.json")).read_text())
    assert sidecar["job"]["controls"][0]["gap"] == [0.25, 0.75]  # 1 s window centred on 1.5-2.0 s


def test_a_job_file_gives_up_when_its_audio_never_comes(make_daemon):
    daemon = make_daemon(reference_wait_seconds=0.5)
    inbox = Path(daemon.config.inbox)
    job = live_job(task="inpaint", clip={"file_path": "never.wav", "is_audio_clip": True, "warping": False,
                                         "loop_start": 0.5, "loop_end": 1.0})
    write_json(inbox / "orphan.json", job)
    wait_until(lambda: (inbox / "failed" / "orphan.json.error.txt").exists(), 30)
    assert "never.wav" in (inbox / "failed" / "orphan.json.error.txt").read_text()


def test_generate_accepts_the_path_of_a_job_file_in_the_inbox_only(make_daemon, tmp_path):
    daemon = make_daemon(settle_seconds=30.0)  # the watcher stays out of the way
    inbox = Path(daemon.config.inbox)
    write_json(inbox / "big.json", live_job(name="big", notes=[]))
    (tmp_path / "outside.json").write_text(json.dumps(live_job()))
    with OscPeer(daemon.address) as peer:
        address, args = peer.request("/ditto/generate", str(inbox / "big.json"))
        assert address == "/ditto/accepted"
        assert peer.wait_for(done_or_error, 60)[0] == "/ditto/done"
        _, args = peer.request("/ditto/generate", str(tmp_path / "outside.json"), reply="/ditto/error")
        assert "outside the allowed folders" in args[1]
        _, args = peer.request("/ditto/generate", "../outside.json", reply="/ditto/error")
        assert "outside the allowed folders" in args[1]


def test_a_path_sent_after_the_watcher_took_the_file_gets_the_same_job(make_daemon):
    daemon = make_daemon()
    inbox = Path(daemon.config.inbox)
    write_json(inbox / "race.json", live_job(name="race"))
    wait_until(lambda: list((inbox / "taken").glob("race-*.json")))
    watcher_id = next((inbox / "taken").glob("race-*.json")).stem.split("-", 1)[1]
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/generate", "race.json", reply="/ditto/accepted")[1] == [watcher_id]
        assert peer.request("/ditto/job", watcher_id, reply="/ditto/job")[1][1] in ("queued", "running", "done")


def test_without_a_midi_backend_the_daemon_says_so_and_played_notes_still_make_a_job(make_daemon):
    daemon = make_daemon(midi_in="ditto-test")
    assert daemon.midi_status.startswith("unavailable") and "OSC keeps working" in daemon.midi_status
    assert daemon.capture is not None
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/ping", reply="/ditto/pong")
    # play C4 then E4 (0.5 s each at 120 BPM: one beat each), then the trigger note 0
    played = [(0.0, mido.Message("note_on", note=60, velocity=90)), (0.5, mido.Message("note_off", note=60)),
              (0.5, mido.Message("note_on", note=64, velocity=90)), (1.0, mido.Message("note_off", note=64)),
              (1.2, mido.Message("note_on", note=0, velocity=90))]
    daemon.capture.settings.template = {"song": {"tempo": 120.0}, "steps": 2, "sampler_steps": 3}
    for at, message in played:
        daemon.capture.handle(message, now=100.0 + at)
    outbox = Path(daemon.config.outbox)
    wait_until(lambda: list(outbox.glob("midi_melody_*.wav")))
    sidecar = json.loads(next(outbox.glob("midi_melody_*.json")).read_text())
    notes = sidecar["job"]["controls"][0]["notes"]
    assert [(n["start"], n["end"], n["pitch"]) for n in notes] == [(0.0, 0.5, 60), (0.5, 1.0, 64)]
    assert sidecar["ditto_bridge"]["source"] == "midi"


def test_no_partial_file_is_left_in_the_outbox(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        peer.request("/ditto/generate", dumps(live_job(variations=2)), reply="/ditto/accepted")
        peer.wait_for(lambda a, _: a == "/ditto/done", 60)
        peer.wait_for(lambda a, _: a == "/ditto/done", 60)
    names = sorted(p.name for p in Path(daemon.config.outbox).iterdir())
    assert names == ["generate_generate_s0_t1.json", "generate_generate_s0_t1.wav", "generate_generate_s1_t2.json",
                     "generate_generate_s1_t2.wav"]
    assert not any(n.endswith(PARTIAL_SUFFIX) for n in names)
