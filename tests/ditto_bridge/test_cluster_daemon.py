"""The daemon with ``cluster`` set: jobs run on Ray actors, the queue, the outbox and the replies stay local.

One local Ray per module (127.0.0.1, 2 CPUs), the tiny random-weight model, real UDP sockets: four jobs spread
over two actors and reach the outbox with their progress streamed back (one reads reference audio, sent as bytes;
two of one lineage run in turn, the second from the first's x_T*); a cancel stops a running remote job; an
actor killed mid-job is replaced and the job completes once; a daemon killed while its remote job runs completes
it once after a restart, and a SIGTERM puts a running remote job back in the queue; `doctor` reports the cluster.
"""

import json
import os
import signal
import time

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read when Ray is imported: bind 127.0.0.1 only
ray = pytest.importorskip("ray")

from bridge_testkit import DaemonProcess, OscPeer  # noqa: E402
from conftest import dumps, live_job  # noqa: E402

from ditto_bridge.cli import main  # noqa: E402
from ditto_bridge.job_queue import JobQueue  # noqa: E402

pytestmark = pytest.mark.slow

CURVE = {"breakpoints": [[0, -50], [2, -10], [4, -50]]}
"""An intensity curve over the 4 beats of `live_job`: the job optimizes, so its steps report progress."""


def engine_job(name: str, steps: int) -> dict:
    """A 1-second engine job (seconds) that optimizes exactly `steps` steps: a seamless loop, a control that needs no
    loudness reach measured first (a fresh actor measures one for an intensity control: seconds on this machine)."""
    return {"name": name, "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
            "optimizer": {"steps": steps, "early_stop": False}, "controls": [{"type": "loop", "overlap": 0.25}]}


@pytest.fixture(scope="module")
def cluster_address():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def wavs(outbox, name):
    return sorted(outbox.glob(f"{name}_*.wav"))


def sidecar(wav):
    return json.loads(wav.with_suffix(".json").read_text())


def test_doctor_reports_the_cluster_its_actors_and_the_model_they_loaded(cluster_address, tmp_path, capsys):
    (tmp_path / "config.toml").write_text("")
    status = main(["doctor", "--config", str(tmp_path / "config.toml"), "--data-dir", str(tmp_path / "data"),
                   "--port", "0", "--model", "builtin-tiny", "--device", "cpu", "--cluster", cluster_address,
                   "--cluster-actors", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "OK    cluster " in out and f"{cluster_address} reachable" in out and "2 CPU(s), 0 GPU(s)" in out, out
    assert "cluster actor 0" in out and "models loaded: builtin-tiny" in out, out
    assert "cpu (2 torch thread(s))" in out, out  # one actor takes both CPUs
    assert "WARN  cluster GPUs" in out and "run on CPUs" in out, out
    assert "compute device" not in out  # the devices are the actors'


def test_four_jobs_spread_over_two_actors_stream_progress_and_reach_the_outbox(cluster_address, make_daemon,
                                                                                 tmp_path):
    daemon = make_daemon(cluster=cluster_address, cluster_actors=2)
    rate = 22050
    reference = tmp_path / "audio" / "reference.wav"
    sf.write(str(reference), (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32), rate)
    inpaint = {**engine_job("four1", 3), "seed": 1,
               "controls": [{"type": "inpaint", "reference": str(reference), "gap": [0.25, 0.75]}]}
    jobs = [live_job(name="four0", seed=0, steps=3, intensity=CURVE), inpaint,
            live_job(name="four2", seed=2, steps=3, intensity=CURVE, lineage="idea"),
            live_job(name="four3", seed=3, steps=3, intensity=CURVE, lineage="idea")]
    with OscPeer(daemon.address) as peer:
        assert peer.request("/ditto/ping", reply="/ditto/pong")[1][2] == "ray:cpux2"
        ids = [peer.request("/ditto/generate", dumps(job), reply="/ditto/accepted")[1][0] for job in jobs]
        seen: list = []
        done = set()
        while done != set(ids):
            address, args = peer.wait_for(lambda a, _: a in ("/ditto/done", "/ditto/error"), 240, seen)
            assert address == "/ditto/done", args
            done.add(args[0])
    metas = []
    for i, job_id in enumerate(ids):
        steps = [args[2] for address, args in seen if address == "/ditto/progress" and args[0] == job_id
                 and args[1] < 0.9]  # optimization steps, streamed from the actor while the job ran
        assert steps and max(steps) >= 1, (job_id, seen)
        first_done = next(n for n, (a, args) in enumerate(seen) if a == "/ditto/done" and args[0] == job_id)
        assert any(a == "/ditto/progress" and args[0] == job_id for a, args in seen[:first_done])
        (wav,) = wavs(tmp_path / "outbox", f"four{i}")
        meta = sidecar(wav)
        assert meta["ditto_bridge"]["job_id"] == job_id and meta["ditto_bridge"]["attempts"] == 1
        assert meta["optimization_steps_run"] == 3
        metas.append(meta)
    # the reference travelled as bytes; the sidecar names the file where it lies on this machine
    assert metas[1]["job"]["controls"][0]["reference"] == str(reference.resolve())
    assert metas[1]["controls_report"][0][0]["label"].startswith("inpaint")
    # the lineage's second job waited for the first and started from its x_T* (sent as bytes)
    assert metas[2]["ditto_bridge"]["warm_start_from"] is None
    assert metas[3]["ditto_bridge"]["warm_start_from"] == ids[2], metas[3]["ditto_bridge"]
    assert metas[3]["ditto_bridge"]["warm_start_note"] is None
    actors = daemon.worker.pool.describe()["actors"]
    assert sorted(a["jobs_run"] for a in actors) in ([2, 2], [1, 3]), actors  # both actors ran jobs
    assert all(a["models"] == ["builtin-tiny"] and a["running"] == [] for a in actors), actors
    assert all(a["torch_threads"] == 1 for a in actors), actors  # 2 CPUs shared by 2 actors: one each


def test_the_variations_of_one_job_run_in_parts_on_both_actors_with_their_own_seeds(cluster_address, make_daemon,
                                                                                    tmp_path):
    daemon = make_daemon(cluster=cluster_address, cluster_actors=2)
    job = {**engine_job("spread", 3), "seed": 10, "variations": 3}
    with OscPeer(daemon.address) as peer:
        job_id = peer.request("/ditto/generate", dumps(job), reply="/ditto/accepted")[1][0]
        address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error") and args[0] == job_id, 240)
    assert address == "/ditto/done", args
    takes = wavs(tmp_path / "outbox", "spread")
    assert len(takes) == 3
    meta = sidecar(takes[0])
    assert meta["seeds"] == [10, 11, 12] and meta["job"]["variations"] == 3
    assert sorted({entry["part"] for entry in meta["loss_history"]}) == [0, 1]
    assert "2 parts on separate actors (2 + 1 takes)" in meta["warnings"][-1]
    audio = [sf.read(str(wav))[0] for wav in takes]
    assert not np.allclose(audio[0], audio[2])  # take 2 ran with its own seed on the other actor
    actors = daemon.worker.pool.describe()["actors"]
    assert [a["jobs_run"] for a in actors] == [1, 1], actors


def test_cancel_stops_a_running_remote_job(cluster_address, make_daemon, tmp_path):
    daemon = make_daemon(cluster=cluster_address, cluster_actors=1)
    with OscPeer(daemon.address) as peer:
        _, (job_id,) = peer.request("/ditto/generate", dumps(engine_job("endless", 2000)), reply="/ditto/accepted")
        peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == job_id and args[2] >= 1, 120)
        started = time.monotonic()
        peer.send("/ditto/cancel", job_id)
        assert peer.wait_for(lambda a, _: a == "/ditto/cancelled", 60)[1] == [job_id]
        print(f"cancel reached the actor and stopped the job in {time.monotonic() - started:.2f} s")
        assert peer.request("/ditto/job", job_id, reply="/ditto/job")[1] == [job_id, "cancelled", ""]
    (actor,) = daemon.worker.pool.describe()["actors"]
    assert actor["running"] == [] and actor["job"] is None  # the actor is free again
    assert wavs(tmp_path / "outbox", "endless") == []


def test_an_actor_killed_mid_job_is_replaced_and_the_job_completes_once(cluster_address, make_daemon, tmp_path):
    daemon = make_daemon(cluster=cluster_address, cluster_actors=1)
    pool = daemon.worker.pool
    with OscPeer(daemon.address) as peer:
        _, (job_id,) = peer.request("/ditto/generate", dumps(engine_job("killed", 6)), reply="/ditto/accepted")
        peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == job_id and args[2] >= 2, 120)
        (actor,) = [a for a in pool.describe()["actors"] if a["job"] == job_id]
        os.kill(actor["pid"], signal.SIGKILL)  # the actor's process dies mid-optimization
        seen: list = []
        address, args = peer.wait_for(lambda a, _: a in ("/ditto/done", "/ditto/error"), 180, seen)
        assert (address, args[0]) == ("/ditto/done", job_id), args
    (replacement,) = pool.describe()["actors"]
    assert replacement["replaced"] == 1 and replacement["pid"] != actor["pid"] and replacement["jobs_run"] == 1
    (wav,) = wavs(tmp_path / "outbox", "killed")  # one take, written once
    meta = sidecar(wav)
    assert meta["ditto_bridge"]["attempts"] == 2 and meta["optimization_steps_run"] == 6
    assert not [p for p in (tmp_path / "outbox").iterdir() if p.name.startswith(".")]  # no partial left
    assert daemon.queue.get(job_id).state == "done"


def test_a_daemon_killed_while_its_remote_job_runs_completes_it_once_after_a_restart(cluster_address, tmp_path):
    (tmp_path / "audio").mkdir()
    flags = ("--cluster", cluster_address, "--cluster-actors", "1")
    first = DaemonProcess(tmp_path, *flags)
    try:
        with OscPeer(first.address) as peer:
            _, (job_id,) = peer.request("/ditto/generate", dumps(engine_job("restarted", 6)), reply="/ditto/accepted")
            peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == job_id and args[2] >= 1, 180)
            first.kill()  # the daemon (the actor's owner) dies while the actor runs the job
            second = DaemonProcess(tmp_path, *flags)
            try:
                peer.target = second.address
                address, args = peer.wait_for(lambda a, args: a in ("/ditto/done", "/ditto/error")
                                              and args[0] == job_id, 240)
                assert address == "/ditto/done", args
                assert any("was interrupted; it runs again" in e.get("message", "") for e in second.events())
                assert peer.request("/ditto/job", job_id, reply="/ditto/job")[1][1] == "done"
                # SIGTERM while a remote job runs: the cancel reaches the actor, the job goes back to the queue
                _, (endless,) = peer.request("/ditto/generate", dumps(engine_job("endless", 2000)),
                                             reply="/ditto/accepted")
                peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == endless and args[2] >= 1, 120)
                assert second.terminate(timeout=60) == 0
                messages = [e.get("message", "") for e in second.events()]
                assert f"job {endless} put back in the queue (shutdown)" in messages, messages[-10:]
            finally:
                second.close()
    finally:
        first.close()
    (wav,) = wavs(tmp_path / "outbox", "restarted")
    assert sidecar(wav)["ditto_bridge"]["attempts"] == 2
    queue = JobQueue(tmp_path / "data" / "jobs.sqlite3")
    assert (queue.get(endless).state, queue.get(endless).attempts) == ("queued", 0)  # not counted: runs next start
    queue.close()
