"""The worker alone decides cancellation: a waiting job at once, a running one at its next optimization step."""

import pytest
from bridge_testkit import OscPeer
from conftest import dumps, live_job

from ditto_bridge.errors import RequestError, UnknownJobError

LONG = {"name": "long", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 3},
        "optimizer": {"steps": 2000, "early_stop": False},
        "controls": [{"type": "intensity", "times": [0.0, 1.0], "db": [-50.0, -5.0]}]}
"""An engine job (seconds) that optimizes until it is cancelled."""


def test_a_waiting_job_is_cancelled_at_once_and_an_ended_or_unknown_one_is_refused(make_daemon):
    daemon = make_daemon()
    assert daemon.worker.stop(timeout=30)  # nothing runs: the job waits
    with OscPeer(daemon.address) as peer:
        _, (job_id,) = peer.request("/ditto/generate", dumps(live_job()), reply="/ditto/accepted")
        assert daemon.worker.cancel(job_id, peer.address) is True
        assert daemon.queue.get(job_id).state == "cancelled"
        with pytest.raises(RequestError, match=f"job {job_id} is already cancelled; nothing to cancel") as refused:
            daemon.worker.cancel(job_id, peer.address)
        assert refused.value.job_id == job_id
        with pytest.raises(UnknownJobError, match="no job 'nope' is known to this daemon"):
            daemon.worker.cancel("nope", peer.address)


def test_a_running_job_stops_at_its_next_step_and_everyone_who_asked_hears_it(make_daemon):
    daemon = make_daemon()
    with OscPeer(daemon.address) as owner, OscPeer(daemon.address) as other:
        _, (job_id,) = owner.request("/ditto/generate", dumps(LONG), reply="/ditto/accepted")
        owner.wait_for(lambda a, args: a == "/ditto/progress" and args[0] == job_id, 60)
        assert daemon.worker.cancel(job_id, other.address) is False  # flagged: it answers once it has stopped
        for peer in (owner, other):
            assert peer.wait_for(lambda a, _: a == "/ditto/cancelled", 60)[1] == [job_id]
        assert other.request("/ditto/job", job_id, reply="/ditto/job")[1] == [job_id, "cancelled", ""]
