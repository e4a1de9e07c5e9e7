"""Warm starts by lineage: the store on disk, and the daemon over real UDP starting a tweak from the x_T* of the take
it tweaks (only when it fits; only successful jobs move a lineage on; a restart keeps it)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from bridge_testkit import DaemonProcess, OscPeer
from conftest import dumps, live_job
from ditto_bridge.lineage import (LineageEntry, LineageStore, LineageStoreError, incompatibility, lineage_digest,
                                  store_folder)
from engine.api import generate
from engine.job import Job

RAMP = {"breakpoints": [[0, -50], [4, -5]], "min": -60, "max": 0}
"""An intensity ramp over the 1-bar test job (beats 0-4, 1 s), far from what the random model makes: DITTO moves x_T."""
TWEAKED = {"breakpoints": [[0, -50], [4, -15]], "min": -60, "max": 0}
ENDLESS_STEPS = 2000


def done_or_error(address, args):
    return address in ("/ditto/done", "/ditto/error")


def run(peer: OscPeer, job: dict) -> tuple[str, dict]:
    """Send a job, wait for its end; returns (job id, the first take's sidecar). Fails on /ditto/error."""
    _, (job_id,) = peer.request("/ditto/generate", dumps(job), reply="/ditto/accepted")
    address, args = peer.wait_for(lambda a, args: done_or_error(a, args) and args[0] == job_id, 120)
    assert address == "/ditto/done", args
    return job_id, json.loads(Path(args[1]).with_suffix(".json").read_text())


def store_of(daemon) -> LineageStore:
    return LineageStore(store_folder(Path(daemon.config.data_dir)))


def x_T_after(job_dict: dict, start: torch.Tensor | None, folder: Path) -> torch.Tensor:
    """Run an engine job (from a sidecar) in this process from `start` (None: its seeded noise); its x_T*."""
    data = dict(job_dict, warm_start=None)
    if start is not None:
        path = folder / "start.pt"
        torch.save(start, path)
        data["warm_start"] = str(path)
    return generate(Job.from_dict(data)).x_T


# ------------------------------------------------------------------------------------------------ the store


def entry(**changes) -> LineageEntry:
    values = {"lineage": "idea", "job_id": "a", "model": "builtin-tiny", "latent_shape": (80, 88), "takes": 2,
              "tensor": Path("x.pt")}
    values.update(changes)
    return LineageEntry(**values)


def test_an_entry_fits_the_same_model_and_shape_with_no_more_takes_than_stored():
    assert incompatibility(entry(), model="builtin-tiny", latent_shape=(80, 88), takes=2) is None
    assert incompatibility(entry(), model="builtin-tiny", latent_shape=(80, 88), takes=1) is None
    assert "model 'builtin-tiny'" in incompatibility(entry(), model="builtin", latent_shape=(80, 88), takes=1)
    assert "latent shape (80, 88)" in incompatibility(entry(), model="builtin-tiny", latent_shape=(80, 176), takes=1)
    assert "holds 2 takes, this job asks for 3" in incompatibility(entry(), model="builtin-tiny",
                                                                   latent_shape=(80, 88), takes=3)


def test_recording_replaces_only_the_lineages_own_files(tmp_path):
    store = LineageStore(tmp_path / "lineages")
    first = store.record("idea.1", "job-a", "builtin-tiny", torch.randn(2, 4, 6))
    other = store.record("IDEA.1", "job-b", "builtin-tiny", torch.randn(1, 4, 6))  # differs only in case
    unrelated = tmp_path / "lineages" / "notes.txt"
    unrelated.write_text("keep me")
    x = torch.randn(2, 4, 6)
    second = store.record("idea.1", "job-c", "builtin-tiny", x)
    assert not first.tensor.exists() and second.tensor.exists() and other.tensor.exists()
    assert unrelated.read_text() == "keep me"
    latest = store.latest("idea.1")
    assert (latest.job_id, latest.model, latest.latent_shape, latest.takes) == ("job-c", "builtin-tiny", (4, 6), 2)
    assert torch.equal(store.load(latest), x)
    assert store.latest("IDEA.1").job_id == "job-b" and store.latest("never") is None
    names = sorted(p.name for p in (tmp_path / "lineages").iterdir())
    assert names == sorted([f"{lineage_digest('idea.1')}.json", second.tensor.name, f"{lineage_digest('IDEA.1')}.json",
                            other.tensor.name, "notes.txt"])


def test_a_lineage_cannot_name_a_file_outside_the_store(tmp_path):
    store = LineageStore(tmp_path / "lineages")
    saved = store.record("..", "job-a", "builtin-tiny", torch.zeros(1, 2, 3))
    assert saved.tensor.parent == tmp_path / "lineages" and store.latest("..").job_id == "job-a"
    with pytest.raises(LineageStoreError, match="lineage: must be 1 to 64"):
        store.record("../x", "job-b", "builtin-tiny", torch.zeros(1, 2, 3))


def test_a_damaged_entry_starts_from_seeded_noise_with_a_note(tmp_path):
    store = LineageStore(tmp_path / "lineages")
    store.record("idea", "job-a", "builtin-tiny", torch.zeros(1, 80, 88))
    (tmp_path / "lineages" / f"{lineage_digest('idea')}.json").write_text("{not json")
    warm = store.warm_start("idea", model="builtin-tiny", latent_shape=(80, 88), takes=1)
    assert warm.path is None and warm.from_job is None
    assert "cannot read the lineage's entry" in warm.note and warm.note.endswith("starting from seeded noise")


def test_leftovers_of_a_killed_daemon_are_removed_and_nothing_else(tmp_path):
    store = LineageStore(tmp_path / "lineages")
    kept = store.record("idea", "job-a", "builtin-tiny", torch.zeros(1, 2, 3))
    temp = tmp_path / "lineages" / f".{kept.tensor.name}.123-abcdef01.tmp"
    orphan = tmp_path / "lineages" / f"{lineage_digest('idea')}-0123456789ab.pt"
    mine = tmp_path / "lineages" / "readme.pt"
    for path in (temp, orphan, mine):
        path.write_bytes(b"x")
    assert sorted(store.remove_leftovers()) == sorted([temp, orphan])
    assert kept.tensor.exists() and mine.exists() and store.latest("idea").job_id == "job-a"


# ------------------------------------------------------------------------------------------------ the daemon


def test_a_tweak_of_the_same_lineage_starts_from_the_first_takes_x_T(make_daemon, tmp_path):
    daemon = make_daemon()
    store = store_of(daemon)
    with OscPeer(daemon.address) as peer:
        first, side_a = run(peer, live_job(lineage="idea-1", seed=3, intensity=RAMP))
        assert side_a["ditto_bridge"]["lineage"] == "idea-1"
        assert side_a["ditto_bridge"]["warm_start_from"] is None and side_a["ditto_bridge"]["warm_start_note"] is None
        assert side_a["optimization_steps_run"] > 0  # x_T* is not just the seeded noise
        entry_a = store.latest("idea-1")
        assert entry_a.job_id == first
        x_a = store.load(entry_a)
        # the store holds what the engine returns for that job
        torch.testing.assert_close(x_a, x_T_after(side_a["job"], None, tmp_path), rtol=0, atol=1e-6)

        second, side_b = run(peer, live_job(lineage="idea-1", seed=3, intensity=TWEAKED))
    assert side_b["ditto_bridge"]["warm_start_from"] == first and side_b["ditto_bridge"]["warm_start_note"] is None
    assert side_b["job"]["warm_start"] == str(entry_a.tensor)
    entry_b = store.latest("idea-1")
    assert entry_b.job_id == second and not entry_a.tensor.exists()
    x_b = store.load(entry_b)
    # the engine started from x_A: run from x_A the result is x_B; from the job's own seeded noise it is not
    torch.testing.assert_close(x_b, x_T_after(side_b["job"], x_a, tmp_path), rtol=0, atol=1e-6)
    assert (x_b - x_T_after(side_b["job"], None, tmp_path)).abs().max() > 1e-3


def test_a_different_length_starts_from_seeded_noise_with_a_note(make_daemon, caplog):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        first, _ = run(peer, live_job(lineage="idea-2", intensity=RAMP))
        with caplog.at_level(logging.WARNING, logger="ditto_bridge.worker"):
            longer, side = run(peer, live_job(lineage="idea-2", length_bars=2, intensity=RAMP))
    note = side["ditto_bridge"]["warm_start_note"]
    assert side["ditto_bridge"]["warm_start_from"] is None and side["job"]["warm_start"] is None
    assert f"job {first}" in note and "latent shape (80, 88)" in note and "starting from seeded noise" in note
    assert any(longer in r.getMessage() and "latent shape" in r.getMessage() for r in caplog.records)
    latest = store_of(daemon).latest("idea-2")  # the longer take is now the lineage's latest
    assert latest.job_id == longer and latest.latent_shape != (80, 88)


def test_more_takes_than_stored_start_from_seeded_noise(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        run(peer, live_job(lineage="idea-3", intensity=RAMP))
        _, side = run(peer, live_job(lineage="idea-3", variations=2, intensity=RAMP))
        assert side["ditto_bridge"]["warm_start_from"] is None
        assert "holds 1 take, this job asks for 2" in side["ditto_bridge"]["warm_start_note"]
        two, _ = run(peer, live_job(lineage="idea-3", variations=2, intensity=TWEAKED))
        _, side = run(peer, live_job(lineage="idea-3", variations=1, intensity=RAMP))
    assert side["ditto_bridge"]["warm_start_from"] == two  # fewer takes than stored: the first ones are used


def test_cancelled_and_failed_jobs_leave_the_lineage_as_it_was(make_daemon, tmp_path):
    daemon = make_daemon()
    store = store_of(daemon)
    with OscPeer(daemon.address) as peer:
        first, _ = run(peer, live_job(lineage="idea-4", intensity=RAMP))
        before = store.latest("idea-4")
        x_before = store.load(before)

        _, (endless,) = peer.request("/ditto/generate", dumps(live_job(lineage="idea-4", steps=ENDLESS_STEPS,
                                                                       intensity=TWEAKED)), reply="/ditto/accepted")
        peer.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == endless and args[2] >= 1, 60)
        peer.send("/ditto/cancel", endless)
        peer.wait_for(lambda a, args: a == "/ditto/cancelled" and args[0] == endless, 60)

        wrong_shape = tmp_path / "audio" / "wrong.pt"  # warm starts come from the allowed folders
        torch.save(torch.zeros(1, 80, 7), wrong_shape)
        failing = {"name": "bad start", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
                   "optimizer": {"steps": 2}, "lineage": "idea-4", "warm_start": str(wrong_shape),
                   "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}
        _, (failed,) = peer.request("/ditto/generate", dumps(failing), reply="/ditto/accepted")
        address, args = peer.wait_for(lambda a, args: done_or_error(a, args) and args[0] == failed, 60)
        assert address == "/ditto/error" and "warm_start: latent shape (80, 7)" in args[1]
    after = store.latest("idea-4")
    assert (after.job_id, after.tensor) == (first, before.tensor)
    assert torch.equal(store.load(after), x_before)


def test_a_job_naming_its_own_warm_start_keeps_it_and_then_leads_the_lineage(make_daemon, tmp_path):
    daemon = make_daemon()
    store = store_of(daemon)
    own = tmp_path / "audio" / "own.pt"  # warm starts come from the allowed folders
    torch.save(torch.randn(1, 80, 88, generator=torch.Generator().manual_seed(9)), own)
    with OscPeer(daemon.address) as peer:
        run(peer, live_job(lineage="idea-5", intensity=RAMP))
        job = {"name": "own start", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
               "optimizer": {"steps": 2}, "lineage": "idea-5", "warm_start": str(own),
               "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}
        job_id, side = run(peer, job)
    assert side["job"]["warm_start"] == str(own)
    assert side["ditto_bridge"]["warm_start_from"] is None
    assert "names its own warm_start, which is kept" in side["ditto_bridge"]["warm_start_note"]
    assert store.latest("idea-5").job_id == job_id


def test_jobs_without_a_lineage_leave_no_trace_in_the_store(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as peer:
        _, side = run(peer, live_job(intensity=RAMP))
    assert side["ditto_bridge"]["lineage"] is None and side["ditto_bridge"]["warm_start_from"] is None
    folder = store_folder(Path(daemon.config.data_dir))
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.slow
def test_the_store_survives_a_restart_of_the_daemon(tmp_path):
    (tmp_path / "audio").mkdir()
    daemon = DaemonProcess(tmp_path)
    try:
        with OscPeer(daemon.address) as peer:
            first, _ = run(peer, live_job(lineage="idea-6", intensity=RAMP))
        assert daemon.terminate() == 0
    finally:
        daemon.close()
    folder = store_folder(tmp_path / "data")
    stray = folder / ".left-by-a-crash.pt.1-00000000.tmp"
    stray.write_bytes(b"half a tensor")
    daemon = DaemonProcess(tmp_path)
    try:
        with OscPeer(daemon.address) as peer:
            _, side = run(peer, live_job(lineage="idea-6", intensity=TWEAKED))
        assert side["ditto_bridge"]["warm_start_from"] == first
        assert not stray.exists()
    finally:
        daemon.close()
