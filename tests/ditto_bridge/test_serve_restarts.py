"""Killing and stopping `ditto-bridge serve`: no job is lost, no partial WAV is ever visible in the outbox."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf

from bridge_testkit import DaemonProcess, OscPeer
from ditto_bridge.job_queue import JobQueue
from ditto_bridge.outbox import PARTIAL_SUFFIX

pytestmark = pytest.mark.slow

ONE_SECOND = {"song": {"tempo": 240.0}, "length_bars": 1, "sampler_steps": 3}  # 1 bar at 240 BPM: 1 s
CURVE = {"breakpoints": [[0, -50], [2, -10], [4, -50]]}
WAV_FRAMES = 44100  # 1 s at the default 44.1 kHz
ENDLESS = {"name": "endless", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
           "optimizer": {"steps": 2000, "early_stop": False},
           "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}


class OutboxWatcher:
    """Looks at the outbox every few milliseconds: every name ending in .wav must be a whole WAV."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self.problems: list[str] = []
        self.partials_seen: set[str] = set()
        self.looks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.outbox.is_dir():
                for path in list(self.outbox.iterdir()):
                    if path.name.endswith(PARTIAL_SUFFIX):
                        self.partials_seen.add(path.name)
                    elif path.suffix == ".wav":
                        try:
                            frames = sf.info(str(path)).frames
                        except (RuntimeError, sf.LibsndfileError) as error:
                            if path.exists():
                                self.problems.append(f"{path.name}: unreadable ({error})")
                            continue
                        if frames != WAV_FRAMES:
                            self.problems.append(f"{path.name}: {frames} frames")
                        if not path.with_suffix(".json").exists():
                            self.problems.append(f"{path.name}: no sidecar beside it")
            self.looks += 1
            time.sleep(0.003)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def job_states(peer: OscPeer, ids: list[str]) -> dict[str, list]:
    """``/ditto/job`` for each id: ``{id: [state, detail]}``."""
    states = {}
    for job_id in ids:
        peer.send("/ditto/job", job_id)
        _, args = peer.wait_for(lambda a, args, j=job_id: a == "/ditto/job" and args[0] == j, 10)
        states[job_id] = args[1:]
    return states


def wait_for_final(peer: OscPeer, ids: list[str], timeout: float) -> dict[str, list]:
    deadline = time.monotonic() + timeout
    while True:
        states = job_states(peer, ids)
        if all(state in ("done", "failed", "cancelled") for state, _ in states.values()):
            return states
        assert time.monotonic() < deadline, states
        time.sleep(0.2)


def test_sigkill_with_jobs_queued_and_running_loses_nothing_and_leaves_no_partial_wav(tmp_path):
    (tmp_path / "audio").mkdir()
    outbox = tmp_path / "outbox"
    watcher = OutboxWatcher(outbox)
    first = DaemonProcess(tmp_path)
    try:
        with OscPeer(first.address) as peer:
            running_job = {"task": "generate", "name": "long", "steps": 12, "intensity": CURVE, **ONE_SECOND}
            _, (long_id,) = peer.request("/ditto/generate", json.dumps(running_job), reply="/ditto/accepted")
            queued_ids = [peer.request("/ditto/generate", json.dumps({"task": "generate", "name": f"q{i}", "steps": 2,
                                                                       "intensity": CURVE, **ONE_SECOND}),
                                       reply="/ditto/accepted")[1][0] for i in range(3)]
            peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == long_id and args[2] >= 2, 120)
            first.kill()  # mid-optimization, with three jobs waiting
            ids = [long_id, *queued_ids]

            second = DaemonProcess(tmp_path)  # same folders, same queue
            try:
                peer.target = second.address
                states = wait_for_final(peer, ids, timeout=150)
                assert all(state == "done" for state, _ in states.values()), states  # one more attempt each
                assert any("was interrupted; it runs again" in e.get("message", "") for e in second.events())

                # now kill it during a job that can never finish, and restart allowing one attempt only
                _, (endless_id,) = peer.request("/ditto/generate", json.dumps(ENDLESS), reply="/ditto/accepted")
                peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == endless_id, 60)
                second.kill()
            finally:
                second.close()
            (tmp_path / "config.toml").write_text("max_attempts = 1\n")
            third = DaemonProcess(tmp_path)
            try:
                peer.target = third.address
                _, args = peer.wait_for(lambda a, args: a == "/ditto/error" and args[0] == endless_id, 30)
                assert "interrupted 1 time(s)" in args[1]  # failed explicitly, and the sender is told
                assert job_states(peer, [endless_id])[endless_id][0] == "failed"
                assert third.terminate() == 0
            finally:
                third.close()
    finally:
        first.close()
        watcher.stop()

    assert watcher.looks > 100
    assert watcher.problems == []
    wavs = sorted(p.name for p in outbox.glob("*.wav"))
    assert len(wavs) == 4 and {w.split("_")[0] for w in wavs} == {"long", "q0", "q1", "q2"}, wavs
    assert not [p for p in outbox.iterdir() if p.name.endswith(PARTIAL_SUFFIX)]


def test_sigterm_persists_the_running_job_and_exits_cleanly(tmp_path):
    (tmp_path / "audio").mkdir()
    daemon = DaemonProcess(tmp_path)
    try:
        with OscPeer(daemon.address) as peer:
            _, (running,) = peer.request("/ditto/generate", json.dumps(ENDLESS), reply="/ditto/accepted")
            _, (waiting,) = peer.request("/ditto/generate", json.dumps({**ENDLESS, "name": "next"}),
                                         reply="/ditto/accepted")
            peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == running and args[2] >= 1, 60)
            started = time.monotonic()
            assert daemon.terminate(timeout=60) == 0
            print(f"SIGTERM to exit: {time.monotonic() - started:.1f} s")
        messages = [e.get("message", "") for e in daemon.events()]
        assert any(m == f"job {running} put back in the queue (shutdown)" for m in messages), messages[-10:]
        assert messages[-1] == "stopped"
    finally:
        daemon.close()
    queue = JobQueue(tmp_path / "data" / "jobs.sqlite3")
    records = {r.id: r for r in queue.all()}
    assert (records[running].state, records[running].attempts) == ("queued", 0)  # the attempt is not counted
    assert records[waiting].state == "queued"
    assert queue.claim_next().id == running  # it runs first at the next start
    queue.close()
