"""Where the dispatcher sends replies: the port a sender's ping announced, else --reply-port, else the sender.

Pure: `Dispatcher.dispatch` gets datagrams and sender addresses and returns the replies with their destinations;
no socket is opened (`test_daemon.py` checks the same over real UDP).
"""

import struct

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from ditto_bridge import server
from ditto_bridge.server import Dispatcher, Handlers

DEVICE = ("127.0.0.1", 53001)
"""Max's udpsend: one socket, so every message of the device comes from this port."""
SCRIPT = ("127.0.0.1", 53002)
"""Another program on the same machine, listening on the port it sends from."""


def build(address, *args):
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


def bundle(*messages):
    return b"#bundle\x00" + struct.pack(">q", 1) + b"".join(struct.pack(">i", len(m)) + m for m in messages)


@pytest.fixture
def submitted():
    return []


@pytest.fixture
def make(submitted):
    def submit(text, to):
        submitted.append((text, to))
        return f"job-{len(submitted)}"

    handlers = Handlers(ping=lambda: ("0.1.0", "builtin-tiny", "cpu"), submit=submit, cancel=lambda job, to: True,
                        status=lambda: (0, ""), job_state=lambda job: ("unknown", ""))
    return lambda **kwargs: Dispatcher(handlers, **kwargs)


def replies(dispatcher, data, sender):
    return [(r.address, r.to) for r in dispatcher.dispatch(data, sender)]


def test_without_an_announcement_the_sender_is_answered_where_it_sent_from(make):
    dispatcher = make()
    assert replies(dispatcher, build("/ditto/ping"), DEVICE) == [("/ditto/pong", DEVICE)]
    assert replies(dispatcher, build("/ditto/status"), DEVICE) == [("/ditto/status", DEVICE)]


def test_a_ping_with_a_port_is_answered_there_and_so_is_everything_that_sender_sends_next(make, submitted):
    dispatcher = make()
    assert replies(dispatcher, build("/ditto/ping", 9101), DEVICE) == [("/ditto/pong", ("127.0.0.1", 9101))]
    assert replies(dispatcher, build("/ditto/status"), DEVICE) == [("/ditto/status", ("127.0.0.1", 9101))]
    assert replies(dispatcher, build("/ditto/generate", "{}"), DEVICE) == [("/ditto/accepted", ("127.0.0.1", 9101))]
    assert submitted[-1][1] == ("127.0.0.1", 9101), "the job's progress and results go to the announced port"
    # an old ping (no port) changes nothing: the announcement holds
    assert replies(dispatcher, build("/ditto/ping"), DEVICE) == [("/ditto/pong", ("127.0.0.1", 9101))]


def test_a_script_on_the_same_host_keeps_its_own_replies_while_the_device_runs(make):
    dispatcher = make()
    replies(dispatcher, build("/ditto/ping", 9101), DEVICE)
    assert replies(dispatcher, build("/ditto/ping"), SCRIPT) == [("/ditto/pong", SCRIPT)]
    assert replies(dispatcher, build("/ditto/job", "abc"), SCRIPT) == [("/ditto/job", SCRIPT)]
    assert dispatcher.reply_address(("10.0.0.5", 53001)) == ("10.0.0.5", 53001)  # the same port on another host


def test_the_announcement_is_the_senders_own_host(make):
    dispatcher = make()
    remote = ("192.168.1.20", 50000)
    assert replies(dispatcher, build("/ditto/ping", 9101), remote) == [("/ditto/pong", ("192.168.1.20", 9101))]


def test_reply_port_still_answers_old_pings_and_an_announcement_wins_over_it(make):
    dispatcher = make(reply_port=9200)
    assert replies(dispatcher, build("/ditto/ping"), SCRIPT) == [("/ditto/pong", ("127.0.0.1", 9200))]
    assert replies(dispatcher, build("/ditto/ping", 9101), DEVICE) == [("/ditto/pong", ("127.0.0.1", 9101))]
    assert replies(dispatcher, build("/ditto/ping", 0), DEVICE) == [("/ditto/pong", ("127.0.0.1", 9200))]


def test_port_zero_forgets_the_announcement(make):
    dispatcher = make()
    replies(dispatcher, build("/ditto/ping", 9101), DEVICE)
    assert replies(dispatcher, build("/ditto/ping", 0), DEVICE) == [("/ditto/pong", DEVICE)]
    assert replies(dispatcher, build("/ditto/status"), DEVICE) == [("/ditto/status", DEVICE)]


@pytest.mark.parametrize("port", [65536, -1, 2**31 - 1])
def test_a_port_out_of_range_is_refused_by_name_and_changes_nothing(make, port):
    dispatcher = make()
    replies(dispatcher, build("/ditto/ping", 9101), DEVICE)
    (reply,) = dispatcher.dispatch(build("/ditto/ping", port), DEVICE)
    assert reply.address == "/ditto/error" and reply.to == ("127.0.0.1", 9101)
    assert f"the reply port must be a port number 1-65535, or 0 to be answered at the port the ping came from; " \
           f"got {port}" in reply.args[1]
    assert dispatcher.reply_address(DEVICE) == ("127.0.0.1", 9101)


def test_a_ping_in_a_bundle_routes_the_messages_after_it(make, submitted):
    dispatcher = make()
    data = bundle(build("/ditto/status"), build("/ditto/ping", 9101), build("/ditto/generate", "{}"))
    assert replies(dispatcher, data, DEVICE) == [("/ditto/status", DEVICE), ("/ditto/pong", ("127.0.0.1", 9101)),
                                                 ("/ditto/accepted", ("127.0.0.1", 9101))]
    assert submitted[-1][1] == ("127.0.0.1", 9101)


def test_malformed_datagrams_from_an_announced_sender_are_answered_at_its_port(make):
    dispatcher = make()
    replies(dispatcher, build("/ditto/ping", 9101), DEVICE)
    assert replies(dispatcher, b"not osc", DEVICE) == [("/ditto/error", ("127.0.0.1", 9101))]


def test_the_senders_remembered_are_bounded_and_the_least_recent_is_forgotten(make):
    dispatcher = make()
    first = ("127.0.0.1", 1)
    replies(dispatcher, build("/ditto/ping", 9101), first)
    for port in range(2, server.MAX_ANNOUNCED_SENDERS + 2):
        replies(dispatcher, build("/ditto/ping", 9101), ("127.0.0.1", port))
    assert len(dispatcher._announced) == server.MAX_ANNOUNCED_SENDERS
    assert dispatcher.reply_address(first) == first
    assert dispatcher.reply_address(("127.0.0.1", 2)) == ("127.0.0.1", 9101)
    # a sender that pings again counts as recent
    replies(dispatcher, build("/ditto/ping", 9101), ("127.0.0.1", 2))
    replies(dispatcher, build("/ditto/ping", 9101), ("127.0.0.1", 70_000))
    assert dispatcher.reply_address(("127.0.0.1", 2)) == ("127.0.0.1", 9101)
    assert dispatcher.reply_address(("127.0.0.1", 3)) == ("127.0.0.1", 3)
