"""`ditto-bridge serve` as a real subprocess, spoken to over real UDP: jobs in Live units, and a fuzz storm."""

from __future__ import annotations

import json
import random
import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge_testkit import DaemonProcess, OscPeer, frame_db
from ditto_bridge import __version__
from ditto_bridge.protocol import decode_datagram

pytestmark = pytest.mark.slow

SONG = {"tempo": 120.0, "signature_numerator": 4, "signature_denominator": 4, "sample_rate": 48000}
CURVE = [[0, -45], [2, -15], [4, -45]]  # beats, dB
CURVE_SECONDS = ([0.0, 1.0, 2.0], [-45.0, -15.0, -45.0])  # the same at 120 BPM, by hand: a beat is 0.5 s


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    (root / "audio").mkdir()
    process = DaemonProcess(root)
    yield process
    process.close()


def collect_until_done(peer: OscPeer, job_ids: list[str], timeout: float) -> list[tuple[str, list]]:
    """Every message until each job has its /ditto/done (or /ditto/error)."""
    seen: list[tuple[str, list]] = []
    waiting = set(job_ids)
    deadline = time.monotonic() + timeout
    while waiting:
        left = deadline - time.monotonic()
        assert left > 0, f"jobs {waiting} did not finish; got {seen[-5:]}"
        message = peer.receive(left)
        if message is None:
            continue
        seen.append(message)
        if message[0] in ("/ditto/done", "/ditto/error") and message[1][0] in waiting:
            waiting.discard(message[1][0])
    return seen


def test_a_plain_serve_answers_a_ping_at_the_port_it_announces_as_the_device_needs(daemon):
    """`ditto-bridge serve` with no --reply-port (README's first command): the device's udpreceive gets the pong."""
    assert "--reply-port" not in " ".join(daemon.proc.args)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener, OscPeer(daemon.address) as device:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(30)
        started = time.monotonic()
        device.send("/ditto/ping", listener.getsockname()[1])
        data, _ = listener.recvfrom(65535)
        assert decode_datagram(data)[0] == ("/ditto/pong", [__version__, "builtin-tiny", "cpu"])
        assert time.monotonic() - started < 2.0
        assert device.receive(0.2) is None


def test_intensity_and_melody_jobs_in_live_units_come_back_as_wavs_that_follow_the_curve(daemon):
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/ping", reply="/ditto/pong", timeout=30)[1] == [__version__, "builtin-tiny", "cpu"]
        one_bar = {"song": SONG, "length_bars": 1, "seed": 11, "sampler_steps": 4}
        jobs = {
            "plain": {"task": "generate", "name": "plain", **one_bar},
            "shaped": {"task": "generate", "name": "shaped", "steps": 12, **one_bar,
                       "intensity": {"breakpoints": CURVE, "min": -60, "max": 0}},
            "tune": {"task": "melody", "name": "tune", "steps": 4, **one_bar,
                     "notes": [{"pitch": 60, "start_time": 0, "duration": 1, "velocity": 100, "mute": False},
                               {"pitch": 64, "start_time": 1, "duration": 1, "velocity": 100, "mute": False},
                               {"pitch": 67, "start_time": 2, "duration": 2, "velocity": 100, "mute": False},
                               {"pitch": 48, "start_time": 0, "duration": 4, "velocity": 100, "mute": False}]},
        }
        ids = {}
        for key, job in jobs.items():
            address, args = peer.request("/ditto/generate", json.dumps(job), timeout=30)
            assert address == "/ditto/accepted", args
            ids[key] = args[0]
        seen = collect_until_done(peer, list(ids.values()), timeout=150)

    done = {args[0]: Path(args[1]) for address, args in seen if address == "/ditto/done"}
    assert set(done) == set(ids.values()), [m for m in seen if m[0] == "/ditto/error"]
    progress = [args for address, args in seen if address == "/ditto/progress" and args[0] == ids["shaped"]]
    assert [p[2] for p in progress if p[1] <= 0.9] == list(range(13))  # steps 0..12 of the optimization
    assert all(0.0 <= p[1] <= 1.0 for p in progress) and progress[-1][1] == pytest.approx(1.0)

    outbox = Path(daemon.root / "outbox")
    for key, path in ((k, done[ids[k]]) for k in ids):
        assert path.parent == outbox and path.name == f"{key}_{jobs[key]['task']}_s11_t1.wav"
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames) == (48000, 2, 96000)  # 2 s at the set's 48 kHz

    def curve_error(path: Path) -> float:
        audio, rate = sf.read(str(path), dtype="float64")
        db, centres = frame_db(audio, rate)
        return float(np.mean((db - np.interp(centres, *CURVE_SECONDS)) ** 2))

    controlled, uncontrolled = curve_error(done[ids["shaped"]]), curve_error(done[ids["plain"]])
    print(f"intensity MSE against the curve, measured on the WAVs: controlled {controlled:.1f} dB^2, "
          f"uncontrolled (same seed) {uncontrolled:.1f} dB^2")
    assert controlled < 0.95 * uncontrolled

    sidecar = json.loads(done[ids["tune"]].with_suffix(".json").read_text())
    melody = sidecar["job"]["controls"][0]
    # the bass C3 under the line is dropped (highest note wins); 120 BPM: a beat is 0.5 s
    assert [(n["start"], n["end"], n["pitch"]) for n in melody["notes"]] == [(0.0, 0.5, 60), (0.5, 1.0, 64),
                                                                            (1.0, 2.0, 67)]
    assert sidecar["ditto_bridge"]["placement"]["tempo"] == 120.0
    assert not list(outbox.glob(".*"))  # no temporary file left


# ------------------------------------------------------------------------------------------------------ fuzzing


def osc(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


VALID = {"task": "generate", "song": {"tempo": 120.0}, "length_bars": 1, "steps": 2, "sampler_steps": 3}


def invalid_jobs(outside: Path) -> list[dict]:
    """Jobs in Live units each wrong in one way (a value that cannot pass, never a valid job)."""
    bad_values = {
        "song": ["x", [], {"tempo": -3}, {"tempo": 0}, {"tempo": "fast"}, {"tempo": None}, {"tempo": 1e309},
                 {"tempo": 120, "signature_denominator": 3}, {"tempo": 120, "sample_rate": -44100},
                 {"tempo": 120, "channels": 0}],
        "length_bars": [-1, 0, -0.5, "4", 1000, True, [4]],
        "task": ["dance", 5, None, ""],
        "seed": [-1, 1.5, "x", 2 ** 40],
        "variations": [0, 17, -2],
        "steps": [-5, 10 ** 6, "many"],
        "sampler_steps": [0, -1, 5000],
        "quality": ["ultra", 1],
        "intensity": [{"breakpoints": []}, {"breakpoints": [[0]]}, {"breakpoints": [[0, "x"]]},
                      {"breakpoints": [[0, -10]], "min": 0, "max": -60}, {"breakpoints": [[0, 40]]},
                      {"breakpoints": [[2, -10], [1, -10]]}, {"breakpoints": "up"}, 7],
        "range": [{"start": 4, "end": 2}, {"start": "a", "end": 2}, {"start": 0, "end": 4, "unit": "bars"}, []],
        "bogus": [1],
        "id": ["../../x", "", "a" * 65, 12],
        "overlap_beats": [-1, 0],
        "model": ["/etc/passwd", "no-such-model"],
        "tags": [5, [1, 2]],
        "name": ["", 3],
        "device": [5, "x"],
        "prompt": [""],
    }
    jobs = []
    for key, values in bad_values.items():
        for value in values:
            jobs.append({**VALID, key: value})
    clip = {"is_audio_clip": True, "warping": False, "loop_start": 0.5, "loop_end": 1.0}
    for path in ("/etc/passwd", "../../etc/passwd", str(outside), "~/.bashrc", "", "nonexistent.wav"):
        jobs.append({**VALID, "task": "inpaint", "clip": {**clip, "file_path": path}})
    jobs.append({**VALID, "task": "inpaint"})
    jobs.append({**VALID, "task": "continue", "clip": {"is_audio_clip": False}})
    for notes in ([], [{"pitch": 200, "start_time": 0, "duration": 1}], [{"pitch": 60, "start_time": 0,
                                                                          "duration": -1}],
                  [{"pitch": 60, "start_time": 0, "duration": 1, "mute": True}], "C D E"):
        jobs.append({**VALID, "task": "melody", "notes": notes})
    jobs.append({**VALID, "task": "melody", "midi_file": "/etc/passwd.mid"})
    jobs.append({**VALID, "task": "melody", "midi_file": "../../../../etc/x.mid"})
    jobs.append({**VALID, "task": "structure", "cue_points": [{"name": "A", "time": 0}]})
    jobs.append({**VALID, "task": "structure", "cue_points": [{"name": "A", "time": "x"}]})
    jobs.append({k: v for k, v in VALID.items() if k != "song"})
    # jobs in seconds (the engine's form) are checked as strictly
    for reference in ("/etc/passwd", "../../etc/passwd", str(outside)):
        jobs.append({"duration": 1.0, "controls": [{"type": "inpaint", "reference": reference, "gap": [0, 0.5]}]})
    jobs.append({"duration": -1.0})
    jobs.append({"duration": 1.0, "controls": [{"type": "intensity", "times": [0, 1], "db": [-10, 1e300]}]})
    jobs.append({"duration": 1.0, "model": "../../weights.safetensors"})
    return jobs


def storm(rng: random.Random, inbox: Path, outside: Path) -> list[bytes]:
    """About three thousand datagrams, none of them a valid request."""
    valid_text = json.dumps(VALID)
    valid_dgram = osc("/ditto/generate", valid_text)
    out: list[bytes] = [b""]
    for _ in range(300):  # not OSC at all
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        out.append(data if data[:1] not in (b"/", b"#") else b"x" + data)
    for _ in range(300):  # a valid request cut short anywhere
        out.append(valid_dgram[: rng.randrange(1, len(valid_dgram))])
    for _ in range(150):  # unknown type tags
        tag = rng.choice("qQxyzWV&?")
        out.append(b"/ditto/generate\x00,%s\x00\x00" % tag.encode() + b"\x00" * 4)
    for _ in range(150):  # bundles whose element sizes lie
        size = rng.choice([-8, -1, 3, 5, 4096, 2 ** 31 - 1])
        out.append(b"#bundle\x00" + struct.pack(">q", 1) + struct.pack(">i", size) + valid_dgram[:16])
    for _ in range(150):  # unknown addresses
        out.append(osc(rng.choice(["/ditto/", "/ditto/gen", "/live/song", "/", "/DITTO/PING"])
                       + str(rng.randrange(10 ** 6))))
    wrong = [("/ditto/ping", ("x",)), ("/ditto/status", (1,)), ("/ditto/generate", ()),
             ("/ditto/generate", (1,)), ("/ditto/generate", (1.5,)), ("/ditto/generate", (valid_text, valid_text)),
             ("/ditto/generate", (True,)), ("/ditto/generate", (b"blob",)), ("/ditto/cancel", (7,)),
             ("/ditto/cancel", ()), ("/ditto/cancel", (float("nan"),)), ("/ditto/job", (None,)),
             ("/ditto/generate", ([1, 2],))]
    for i in range(390):
        address, args = wrong[i % len(wrong)]
        out.append(osc(address, *args))
    garbage = ["{", "{]", '{"task": }', "[1, 2", '{"a": NaN}', '{"a": Infinity}', "{'single': 1}", "[" * 5000,
               '{"task": "generate", "song": {"tempo": 120}, "length_bars": 1,}', "[]", "[{}]", "\ufffd{", "null", "42"]
    for i in range(390):
        out.append(osc("/ditto/generate", garbage[i % len(garbage)] + " " * rng.randrange(3)))
    jobs = invalid_jobs(outside)
    for i in range(900):
        out.append(osc("/ditto/generate", json.dumps(jobs[i % len(jobs)])))
    for size in (5_000, 20_000, 60_000):  # huge strings
        out.append(osc("/ditto/generate", json.dumps({**VALID, "name": "n" * size})))
        out.append(osc("/ditto/generate", json.dumps({**VALID, "tags": "t," * (size // 2)})))
        out.append(osc("/ditto/generate", "/" + "a" * size + ".json"))
        out.append(osc("/ditto/cancel", "c" * size))
        out.append(osc("/ditto/generate", "{" + '"x":' * (size // 4)))
    paths = ["/etc/passwd", "../../etc/passwd", "../outside.json", str(outside), str(inbox / "missing.json"),
             str(inbox / ".." / "outside.json"), str(inbox), "nul\x01.json", "~/x.json", "inbox.txt"]
    for i in range(200):
        out.append(osc("/ditto/generate", paths[i % len(paths)]))
    for i in range(100):
        out.append(osc("/ditto/cancel", f"no-such-job-{i}"))
    return out


def test_thousands_of_malformed_messages_are_each_answered_with_an_error_and_a_job_still_runs(daemon):
    outside = daemon.root / "outside.json"
    outside.write_text(json.dumps(VALID))
    datagrams = storm(random.Random(1234), daemon.root / "inbox", outside)
    assert len(datagrams) > 2500
    started = time.monotonic()
    with OscPeer(daemon.address) as peer:
        peer.request("/ditto/ping", reply="/ditto/pong", timeout=30)
        for index, data in enumerate(datagrams):
            peer.send_raw(data)
            reply = peer.receive(10.0)
            assert reply is not None, f"datagram {index} got no reply: {data[:80]!r}"
            address, args = reply
            assert address == "/ditto/error", f"datagram {index} {data[:80]!r} got {reply}"
            assert isinstance(args[1], str) and args[1]
        assert peer.receive(0.3) is None  # exactly one reply each
        elapsed = time.monotonic() - started
        print(f"{len(datagrams)} malformed datagrams answered in {elapsed:.1f} s")
        assert daemon.proc.poll() is None
        assert peer.request("/ditto/ping", reply="/ditto/pong")[1][0] == __version__
        assert peer.request("/ditto/status", reply="/ditto/status")[1] == [0, ""]
        address, (job_id,) = peer.request("/ditto/generate", json.dumps({**VALID, "name": "after_storm"}))
        assert address == "/ditto/accepted"
        assert peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == job_id,
                             60)[0] == "/ditto/done"
