"""SIGKILL at the moment a take is published: after a restart every take exists exactly once, none is overwritten.

`ditto-bridge serve` runs as a real subprocess. The test hook ``DITTO_BRIDGE_TEST_HOLD=<point>:<marker>`` makes
the worker pause right after it publishes a sidecar (``sidecar-published``) or a WAV (``wav-published``), so the
kill lands exactly there. A watcher looks at the outbox every few milliseconds the whole time.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf

from bridge_testkit import DaemonProcess, OscPeer
from conftest import dumps, live_job
from ditto_bridge.config import load_config
from ditto_bridge.daemon import Daemon
from ditto_bridge.job_queue import JobQueue
from ditto_bridge.outbox import PARTIAL_SUFFIX, take_stem, write_take

WAV_FRAMES = 44100  # 1 s at the default 44.1 kHz
CURVE = {"breakpoints": [[0, -50], [2, -10], [4, -50]]}
FINAL = ("done", "failed", "cancelled")


class OutboxWatcher:
    """Looks at the outbox every `interval` s: a name ending in .wav must be a whole WAV with its sidecar, and a
    file once seen must never change (same inode, size, modification time and content)."""

    def __init__(self, outbox: Path, interval: float = 0.005, ignore: tuple[str, ...] = ()) -> None:
        self.outbox = outbox
        self.ignore = set(ignore)
        self.interval = interval
        self.problems: list[str] = []
        self.seen: dict[str, tuple[int, int, int, str]] = {}
        self.poll_times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_times.append(time.monotonic())
            if self.outbox.is_dir():
                for path in sorted(self.outbox.iterdir()):
                    if path.suffix == ".wav" and path.name not in self.ignore:
                        self._look(path)
            time.sleep(self.interval)

    def _look(self, wav: Path) -> None:
        try:
            frames = sf.info(str(wav)).frames
        except (RuntimeError, sf.LibsndfileError) as error:
            if wav.exists():
                self.problems.append(f"{wav.name}: unreadable ({error})")
            return
        if frames != WAV_FRAMES:
            self.problems.append(f"{wav.name}: {frames} frames")
        side = wav.with_suffix(".json")
        if not side.exists():
            self.problems.append(f"{wav.name}: no sidecar beside it")
            return
        for path in (wav, side):
            try:
                info = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                self.problems.append(f"{path.name}: disappeared")
                continue
            signature = (info.st_ino, info.st_size, info.st_mtime_ns, digest)
            if self.seen.setdefault(path.name, signature) != signature:
                self.problems.append(f"{path.name}: changed after it was published")

    def stop(self) -> float:
        """Stop; returns the median time between two looks, in seconds."""
        self._stop.set()
        self._thread.join(timeout=5)
        gaps = [b - a for a, b in zip(self.poll_times, self.poll_times[1:])]
        print(f"outbox looked at {len(self.poll_times)} times; gap median {statistics.median(gaps) * 1000:.1f} ms, "
              f"max {max(gaps) * 1000:.1f} ms")
        return statistics.median(gaps)


def states(peer: OscPeer, ids: list[str]) -> dict[str, list]:
    out = {}
    for job_id in ids:
        peer.send("/ditto/job", job_id)
        _, args = peer.wait_for(lambda a, args, j=job_id: a == "/ditto/job" and args[0] == j, 10)
        out[job_id] = args[1:]
    return out


def wait_for_final(peer: OscPeer, ids: list[str], timeout: float) -> dict[str, list]:
    deadline = time.monotonic() + timeout
    while True:
        now = states(peer, ids)
        if all(state in FINAL for state, _ in now.values()):
            return now
        assert time.monotonic() < deadline, now
        time.sleep(0.2)


def wait_for_file(path: Path, daemon: DaemonProcess, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert daemon.proc.poll() is None, daemon.log_text()[-3000:]
        assert time.monotonic() < deadline, daemon.log_text()[-3000:]
        time.sleep(0.01)


def job_of(name: str, **extra) -> str:
    return dumps(live_job(name=name, intensity=CURVE, **extra))


@pytest.mark.slow
def test_three_queued_jobs_killed_while_the_first_publishes_run_exactly_once_after_a_restart(tmp_path):
    (tmp_path / "audio").mkdir()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "j2_generate_s0_t1.wav").write_bytes(b"a file that was here first")  # never replaced
    marker = tmp_path / "held"
    watcher = OutboxWatcher(outbox, ignore=("j2_generate_s0_t1.wav",))
    first = DaemonProcess(tmp_path, env={"DITTO_BRIDGE_TEST_HOLD": f"sidecar-published:{marker}"})
    try:
        with OscPeer(first.address) as peer:
            ids = [peer.request("/ditto/generate", job_of(f"j{i}"), reply="/ditto/accepted")[1][0] for i in (1, 2, 3)]
            wait_for_file(marker, first)  # job 1's sidecar is out, its WAV not yet: the worker waits there
            assert marker.read_text() == "j1_generate_s0_t1.json"
            assert [s[0] for s in states(peer, ids).values()] == ["running", "queued", "queued"]
            first.kill()

            second = DaemonProcess(tmp_path)
            try:
                peer.target = second.address
                final = wait_for_final(peer, ids, timeout=150)
                assert second.terminate() == 0
            finally:
                second.close()
    finally:
        first.close()
        median_gap = watcher.stop()

    assert [state for state, _ in final.values()] == ["done", "done", "done"], final
    assert watcher.problems == [], watcher.problems
    assert median_gap <= 0.05 and len(watcher.poll_times) > 100
    wavs = sorted(p.name for p in outbox.glob("*.wav"))
    assert wavs == ["j1_generate_s0_t1.wav", "j2_generate_s0_t1.wav", "j2_generate_s0_t1_2.wav",
                    "j3_generate_s0_t1.wav"], wavs
    assert (outbox / "j2_generate_s0_t1.wav").read_bytes() == b"a file that was here first"
    for job_id, (_, wav) in final.items():  # each job's reported take is its own, with its sidecar
        assert json.loads(Path(wav).with_suffix(".json").read_text())["ditto_bridge"]["job_id"] == job_id
    assert not [p for p in outbox.iterdir() if p.name.endswith(PARTIAL_SUFFIX)]
    assert sorted(p.name for p in outbox.glob("*.json")) == [w[:-4] + ".json" for w in wavs if w != wavs[1]]


@pytest.mark.slow
def test_sigkill_right_after_a_wav_is_published_leaves_exactly_one_wav_per_take(tmp_path):
    (tmp_path / "audio").mkdir()
    outbox = tmp_path / "outbox"
    marker = tmp_path / "held"
    first = DaemonProcess(tmp_path, env={"DITTO_BRIDGE_TEST_HOLD": f"wav-published:{marker}"})
    try:
        with OscPeer(first.address) as peer:
            _, (job_id,) = peer.request("/ditto/generate", job_of("pair", variations=2), reply="/ditto/accepted")
            wait_for_file(marker, first)
            assert marker.read_text() == "pair_generate_s0_t1.wav"  # take 1 is out, the job not yet marked done
            take_1 = (outbox / "pair_generate_s0_t1.wav").stat()
            first.kill()
            second = DaemonProcess(tmp_path)
            try:
                peer.target = second.address
                final = wait_for_final(peer, [job_id], timeout=120)
                assert second.terminate() == 0
                messages = [e.get("message", "") for e in second.events()]
            finally:
                second.close()
    finally:
        first.close()
    assert final[job_id] == ["done", str(outbox / "pair_generate_s0_t1.wav")]
    assert sorted(p.name for p in outbox.glob("*.wav")) == ["pair_generate_s0_t1.wav", "pair_generate_s1_t2.wav"]
    after = (outbox / "pair_generate_s0_t1.wav").stat()
    assert (after.st_ino, after.st_mtime_ns) == (take_1.st_ino, take_1.st_mtime_ns)  # kept, not written again
    assert any("take 1 was published before the daemon stopped" in m for m in messages), messages[-10:]
    queue = JobQueue(tmp_path / "data" / "jobs.sqlite3")
    try:
        record = queue.get(job_id)
        assert record.outputs == [str(outbox / "pair_generate_s0_t1.wav"), str(outbox / "pair_generate_s1_t2.wav")]
    finally:
        queue.close()


def test_a_job_whose_takes_were_all_published_is_marked_done_at_start_without_running_again(tmp_path):
    """The daemon died between publishing the last take and marking the job done: the next start finds the take."""
    (tmp_path / "c.toml").write_text("")
    settings = {"port": 0, "data_dir": tmp_path / "data", "outbox": tmp_path / "outbox", "audio_dirs": [],
                "model": "builtin-tiny", "device": "cpu", "torch_threads": 1}
    config = load_config(tmp_path / "c.toml", settings)
    queue = JobQueue(config.queue_path)
    output = {"name": "solo", "task": "generate", "sample_rate": 44100, "channels": 1}
    queue.submit("solo-1", job={"seed": 7, "variations": 1, "duration": 1.0}, output=output)
    assert queue.claim_next().id == "solo-1"  # running when the daemon died
    queue.close()
    import numpy as np

    wav = write_take(config.outbox, take_stem("solo", "generate", 7, 1), np.zeros((1, 22050), np.float32),
                     in_rate=22050, out_rate=44100, channels=1,
                     sidecar={"ditto_bridge": {"job_id": "solo-1", "take": 1}})
    before = wav.stat()
    with Daemon(config) as daemon:
        record = daemon.queue.get("solo-1")
        assert (record.state, record.attempts, record.outputs) == ("done", 1, [str(wav)])
        with OscPeer(daemon.address) as peer:
            assert peer.request("/ditto/job", "solo-1", reply="/ditto/job")[1] == ["solo-1", "done", str(wav)]
    assert sorted(p.name for p in Path(config.outbox).iterdir()) == ["solo_generate_s7_t1.json",
                                                                       "solo_generate_s7_t1.wav"]
    assert wav.stat().st_mtime_ns == before.st_mtime_ns
