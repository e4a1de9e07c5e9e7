import pytest

from ditto_bridge.errors import QueueFullError, RequestError
from ditto_bridge.job_queue import JobQueue

JOB = {"name": "x", "duration": 1.0}
OUT = {"name": "x", "task": "generate", "sample_rate": 44100, "channels": 2}


def submit(queue, job_id, **kw):
    return queue.submit(job_id, job=JOB, output=OUT, reply_to=("127.0.0.1", 9101), **kw)


def test_jobs_run_in_the_order_they_came(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    for name in ("a", "b", "c"):
        submit(queue, name)
    first = queue.claim_next()
    assert (first.id, first.state, first.attempts) == ("a", "running", 1)
    assert queue.counts() == (2, "a")
    queue.finish("a", ["/out/a.wav"])
    assert queue.claim_next().id == "b"
    assert queue.get("a").outputs == ["/out/a.wav"] and queue.get("a").reply_to == ("127.0.0.1", 9101)


def test_a_full_queue_refuses_with_a_busy_message(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3", max_queued=2)
    submit(queue, "a")
    submit(queue, "b")
    with pytest.raises(QueueFullError, match="busy: 2 jobs are waiting"):
        submit(queue, "c")
    queue.claim_next()  # a running job does not count as waiting
    submit(queue, "c")


def test_a_reused_id_is_refused(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    submit(queue, "a")
    with pytest.raises(RequestError, match="exists already"):
        submit(queue, "a")


def test_the_room_check_refuses_what_submit_would_and_stores_nothing(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3", max_queued=1)
    queue.check_room("a")  # room, and a new id: no error
    submit(queue, "a")
    with pytest.raises(QueueFullError, match="busy: 1 jobs are waiting"):
        queue.check_room("b")
    queue.claim_next()
    with pytest.raises(RequestError, match="exists already"):
        queue.check_room("a")
    queue.check_room("b")
    assert [r.id for r in queue.all()] == ["a"]


def test_the_queue_survives_a_reopen(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    submit(queue, "a")
    submit(queue, "b")
    queue.close()
    again = JobQueue(tmp_path / "q.sqlite3")
    assert [r.id for r in again.all()] == ["a", "b"] and again.counts() == (2, "")


def test_an_interrupted_job_runs_again_then_fails_explicitly(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    submit(queue, "a")
    queue.claim_next()  # attempt 1 ... and the daemon dies
    requeued, failed = queue.recover(max_attempts=2)
    assert [r.id for r in requeued] == ["a"] and not failed
    queue.claim_next()  # attempt 2 ... dies again
    requeued, failed = queue.recover(max_attempts=2)
    assert not requeued and [r.id for r in failed] == ["a"]
    record = queue.get("a")
    assert record.state == "failed" and "interrupted 2 time(s)" in record.error


def test_a_graceful_requeue_does_not_count_the_attempt(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    submit(queue, "a")
    queue.claim_next()
    queue.requeue("a")
    record = queue.get("a")
    assert (record.state, record.attempts) == ("queued", 0)


def test_only_waiting_jobs_can_be_cancelled_in_the_queue(tmp_path):
    queue = JobQueue(tmp_path / "q.sqlite3")
    submit(queue, "a")
    submit(queue, "b")
    queue.claim_next()
    assert not queue.cancel_queued("a")  # running: the worker must stop it
    assert queue.cancel_queued("b") and queue.get("b").state == "cancelled"
