"""No file outside the daemon's folders is ever read, written or moved: planted links, FIFOs, devices, big files.

The daemon runs in this process on real folders and a real UDP socket. Each test plants what a hostile local
process could (a link in the inbox, in ``inbox/failed``, a FIFO named as a job or a warm start) and checks that
files outside stay untouched, that nothing blocks, and that the producer is told what to fix.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from bridge_testkit import OscPeer
from conftest import dumps, live_job

from ditto_bridge.config import load_config

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links and FIFOs as on macOS and Linux")

ONE_SECOND = {"name": "warm", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
              "optimizer": {"steps": 1}, "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-40.0, -10.0]}]}


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def write_json(path: Path, data) -> None:
    temp = path.with_name("." + path.name + ".tmp")
    temp.write_text(json.dumps(data))
    temp.replace(path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def fifo_has_no_reader(path: Path) -> bool:
    """True when no process holds the FIFO open for reading (opening it for writing without blocking fails)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        return error.errno == errno.ENXIO
    os.close(fd)
    return False


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.json").write_text(json.dumps(live_job(name="secret")))
    (folder / "notes.json").write_text('{"not": "a job"}')
    (folder / "victim.txt").write_text("precious")
    return folder


# ------------------------------------------------------------------------------------------------ F2, F5: inbox


def test_a_linked_job_file_in_the_inbox_never_moves_or_runs_what_it_points_to(make_daemon, outside):
    before = snapshot(outside)
    daemon = make_daemon()
    inbox, outbox = Path(daemon.config.inbox), Path(daemon.config.outbox)
    os.symlink(outside / "secret.json", inbox / "evil.json")  # a valid job
    os.symlink(outside / "notes.json", inbox / "evil2.json")  # not a job
    names = ("evil.json", "evil2.json")
    # the link is moved aside first, its error note written just after: wait for the notes
    wait_until(lambda: all((inbox / "failed" / f"{n}.error.txt").exists() for n in names)
               or snapshot(outside) != before)
    assert snapshot(outside) == before
    for name in names:
        assert (inbox / "failed" / name).is_symlink()  # the link itself was moved aside, nothing it points to
        assert "is a symbolic link" in (inbox / "failed" / f"{name}.error.txt").read_text()
    assert not list((inbox / "taken").iterdir()) and not list(outbox.glob("secret*"))


def test_links_planted_in_the_failed_folder_never_receive_the_error_note(make_daemon, outside):
    daemon = make_daemon()
    inbox = Path(daemon.config.inbox)
    failed = inbox / "failed"
    os.symlink(outside / "victim.txt", failed / ".bad.json.error.txt.tmp")  # the note's old temporary name
    os.symlink(outside / "secret.json", failed / "bad.json.error.txt")  # the note's own name
    os.symlink(outside / "created.json", failed / "bad.json")  # where the job file would go (dangling)
    before = snapshot(outside)
    write_json(inbox / "bad.json", live_job(song={"tempo": -3}))
    wait_until(lambda: not (inbox / "bad.json").exists())
    time.sleep(0.3)
    assert snapshot(outside) == before and not (outside / "created.json").exists()
    wait_until(lambda: (failed / "bad-2.json.error.txt").exists())
    notes = [p for p in failed.iterdir() if p.name.endswith(".error.txt") and not p.is_symlink()]
    assert [p.name for p in notes] == ["bad-2.json.error.txt"]  # beside the job file, under a free name
    assert "song.tempo: must be a number greater than 0, got -3" in notes[0].read_text()
    assert not (failed / "bad-2.json").is_symlink() and json.loads((failed / "bad-2.json").read_text())


def test_a_link_planted_as_the_taken_folder_never_receives_a_job_file(make_daemon, outside):
    daemon = make_daemon()
    inbox = Path(daemon.config.inbox)
    shutil.rmtree(inbox / "taken")
    os.symlink(outside, inbox / "taken")
    before = snapshot(outside)
    write_json(inbox / "ok.json", live_job(name="ok"))
    wait_until(lambda: not (inbox / "ok.json").exists())
    assert snapshot(outside) == before
    assert not (inbox / "taken").is_symlink() and [p.name.split("-")[0] for p in (inbox / "taken").iterdir()] == ["ok"]


# -------------------------------------------------------------------------------------------- F4: job file reads


def test_fifos_links_to_devices_and_oversized_job_files_are_refused_without_blocking_the_inbox(make_daemon):
    daemon = make_daemon()
    inbox, outbox = Path(daemon.config.inbox), Path(daemon.config.outbox)
    os.mkfifo(inbox / "a-stall.json")  # nobody ever writes: reading it would block for ever
    os.mkfifo(inbox / "b-fed.json")  # a writer waits to feed 60 MB the moment someone reads
    fed = {"bytes": 0}
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            try:
                fd = os.open(inbox / "b-fed.json", os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet (or the entry was moved): try again
                time.sleep(0.01)
                continue
            try:
                chunk = b" " * 65536
                while fed["bytes"] < 60_000_000 and not stop.is_set():
                    try:
                        fed["bytes"] += os.write(fd, chunk)
                    except BlockingIOError:
                        time.sleep(0.001)
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)
            return

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    os.symlink("/dev/zero", inbox / "c-zero.json")
    (inbox / "d-big.json").write_bytes(b" " * 6_000_000)
    write_json(inbox / "e-ok.json", live_job(name="ok"))
    try:
        wait_until(lambda: list(outbox.glob("ok_generate_*.wav")), 60)  # the valid job behind them still runs
        notes = {name: inbox / "failed" / f"{name}.error.txt" for name in
                 ("a-stall.json", "b-fed.json", "c-zero.json", "d-big.json")}
        wait_until(lambda: all(p.exists() for p in notes.values()))
    finally:
        stop.set()
        writer.join(timeout=5)
    assert "is a FIFO, not a regular file" in notes["a-stall.json"].read_text()
    assert "is a FIFO, not a regular file" in notes["b-fed.json"].read_text()
    assert "is a symbolic link" in notes["c-zero.json"].read_text()
    assert "6000000 bytes is larger than the 5000000" in notes["d-big.json"].read_text()
    assert fed["bytes"] == 0  # the FIFO was never opened for reading


def test_a_fifo_named_by_osc_is_refused_at_once_and_the_daemon_keeps_answering(make_daemon):
    daemon = make_daemon(settle_seconds=30.0)  # the watcher stays out of the way
    inbox = Path(daemon.config.inbox)
    os.mkfifo(inbox / "pipe.json")
    with OscPeer(daemon.address) as peer:
        address, args = peer.request("/ditto/generate", "pipe.json", timeout=5)
        assert address == "/ditto/error" and "is a FIFO, not a regular file" in args[1], args
        assert peer.request("/ditto/ping", reply="/ditto/pong", timeout=5)
    assert fifo_has_no_reader(inbox / "pipe.json")


# ------------------------------------------------------------------------------------------------ F3: warm_start


def test_a_warm_start_outside_the_folders_is_refused_without_being_opened(make_daemon, outside):
    daemon = make_daemon()
    os.mkfifo(outside / "start.pt")  # opening it for reading would block the worker
    texts = {}
    with OscPeer(daemon.address) as peer:
        for path in ("/etc/passwd", "/etc/shadow", "/etc/no-such-file-here", str(outside / "start.pt"),
                     "../outside/start.pt", "~/.ssh/id_rsa"):
            address, args = peer.request("/ditto/generate", dumps({**ONE_SECOND, "warm_start": path}), timeout=10)
            assert address == "/ditto/error", (path, args)  # refused when it arrives, never queued
            assert args[1].startswith("warm_start: ") and "is outside the allowed folders" in args[1], args
            texts[path] = args[1].split(" is outside")[1]
        assert fifo_has_no_reader(outside / "start.pt")
        assert peer.request("/ditto/status", reply="/ditto/status", timeout=5)[1] == [0, ""]
    # an existing file, an unreadable one and a missing one get the same words: nothing is revealed
    assert texts["/etc/passwd"] == texts["/etc/shadow"] == texts["/etc/no-such-file-here"]


def test_a_relative_warm_start_resolves_against_the_inbox_and_a_fifo_inside_is_refused(make_daemon, tmp_path):
    daemon = make_daemon()
    inbox = Path(daemon.config.inbox)
    torch.save(torch.zeros(1, 80, 88), inbox / "start.pt")  # one take of 1 s of the tiny model
    os.mkfifo(tmp_path / "audio" / "stall.pt")
    with OscPeer(daemon.address) as peer:
        address, args = peer.request("/ditto/generate", dumps({**ONE_SECOND, "warm_start": str(tmp_path / "audio" /
                                                                                              "stall.pt")}), timeout=5)
        assert address == "/ditto/error" and "warm_start: is a FIFO, not a regular file" in args[1], args
        address, (job_id,) = peer.request("/ditto/generate", dumps({**ONE_SECOND, "warm_start": "start.pt"}))
        assert address == "/ditto/accepted"
        address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == job_id, 60)
        assert address == "/ditto/done", args
    sidecar = json.loads(Path(args[1]).with_suffix(".json").read_text())
    assert sidecar["job"]["warm_start"] == str(inbox / "start.pt")  # the inbox, never the daemon's working folder
    assert fifo_has_no_reader(tmp_path / "audio" / "stall.pt")


# ---------------------------------------------------------------------------------------- allowed audio folders


def test_by_default_audio_is_read_from_the_data_folder_not_the_home_folder(tmp_path):
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {"data_dir": tmp_path / "d"})
    assert config.audio_dirs == ((tmp_path / "d").resolve(),)
    assert load_config(tmp_path / "c.toml", {"data_dir": tmp_path / "d", "audio_dirs": [tmp_path / "x"]}
                       ).audio_dirs == ((tmp_path / "x").resolve(),)


def test_clip_audio_may_come_from_the_live_project_folder_the_device_reports(make_daemon, tmp_path):
    project = tmp_path / "Beat Project"
    (project / "Ableton Project Info").mkdir(parents=True)
    (project / "Samples").mkdir()
    not_a_project = tmp_path / "elsewhere"
    not_a_project.mkdir()
    for folder in (project / "Samples", not_a_project):
        sf.write(folder / "loop.wav", np.linspace(0, 0.5, 32000, dtype=np.float32), 8000, subtype="FLOAT")

    def job(folder: Path | None, clip_folder: Path) -> str:
        song = {"tempo": 240.0, **({"project_folder": str(folder)} if folder else {})}
        return dumps(live_job(task="inpaint", song=song, clip={"file_path": str(clip_folder / "loop.wav"),
                                                               "is_audio_clip": True, "warping": False,
                                                               "loop_start": 1.5, "loop_end": 2.0}))

    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        address, args = peer.request("/ditto/generate", job(None, project / "Samples"))
        assert address == "/ditto/error" and "outside the allowed folders" in args[1]
        address, args = peer.request("/ditto/generate", job(project, project / "Samples"))
        assert address == "/ditto/accepted", args
        address, args = peer.request("/ditto/generate", job(project, not_a_project))
        assert address == "/ditto/error" and "outside the allowed folders" in args[1]  # only that project
        for folder in (not_a_project, Path("/")):
            address, args = peer.request("/ditto/generate", job(folder, folder))
            assert address == "/ditto/error" and "is not a saved Live project folder" in args[1], args


def test_links_planted_at_the_lock_and_the_log_file_are_never_written_through(tmp_path, outside):
    from ditto_bridge.daemon import Daemon
    from ditto_bridge.errors import BridgeError
    from ditto_bridge.logging_setup import NoFollowRotatingFileHandler

    data = tmp_path / "data"
    data.mkdir()
    os.symlink(outside / "victim.txt", data / "daemon.lock")
    os.symlink(outside / "notes.json", data / "daemon.log")
    before = snapshot(outside)
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {"port": 0, "data_dir": data, "model": "builtin-tiny"})
    with pytest.raises(BridgeError, match="cannot open the lock file"):
        Daemon(config).start()
    with pytest.raises(OSError):
        NoFollowRotatingFileHandler(data / "daemon.log", encoding="utf-8")
    assert snapshot(outside) == before


def test_a_link_planted_as_the_references_folder_is_refused_in_words_and_never_written_through(make_daemon,
                                                                                              tmp_path, outside):
    sf.write(tmp_path / "audio" / "loop.wav", np.linspace(0, 0.5, 16000, dtype=np.float32), 8000, subtype="FLOAT")
    daemon = make_daemon()
    references = daemon.config.reference_dir
    shutil.rmtree(references)
    os.symlink(outside, references)
    before = snapshot(outside)
    job = live_job(task="inpaint", clip={"file_path": str(tmp_path / "audio" / "loop.wav"), "is_audio_clip": True,
                                         "warping": False, "loop_start": 0.5, "loop_end": 1.0})
    with OscPeer(daemon.address) as peer:
        address, args = peer.request("/ditto/generate", dumps(job), timeout=10)
        if address == "/ditto/accepted":  # refused where the reference is rendered: on arrival or before the run
            job_id = args[0]
            address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == job_id,
                                          60)
    assert address == "/ditto/error", args
    assert (f"{references}: is not a folder (a symbolic link or a file); remove it and let the daemon create the "
            f"folder") in args[1], args
    assert snapshot(outside) == before


def test_a_clip_folder_swapped_for_a_link_while_the_job_waits_is_not_read(make_daemon, tmp_path, outside):
    kit = tmp_path / "audio" / "kit"
    kit.mkdir()
    sf.write(kit / "loop.wav", np.linspace(0, 0.5, 16000, dtype=np.float32), 8000, subtype="FLOAT")
    sf.write(outside / "loop.wav", np.ones(16000, dtype=np.float32) * 0.9, 8000, subtype="FLOAT")
    daemon = make_daemon()
    slow = {**ONE_SECOND, "name": "slow", "optimizer": {"steps": 60, "early_stop": False}}
    clip_job = live_job(task="inpaint", clip={"file_path": str(kit / "loop.wav"), "is_audio_clip": True,
                                              "warping": False, "loop_start": 0.5, "loop_end": 1.0})
    with OscPeer(daemon.address) as peer:
        address, _ = peer.request("/ditto/generate", dumps(slow), timeout=10)
        assert address == "/ditto/accepted"
        address, args = peer.request("/ditto/generate", dumps(clip_job), timeout=10)
        assert address == "/ditto/accepted", args
        job_id = args[0]
        shutil.rmtree(kit)  # while the job waits behind the slow one, its folder now leads outside
        os.symlink(outside, kit)
        address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == job_id, 90)
    assert address == "/ditto/error", args
    assert "clip.file_path" in args[1] and "outside the allowed folders" in args[1], args
    assert not list(daemon.config.reference_dir.glob(f"{job_id}*"))
