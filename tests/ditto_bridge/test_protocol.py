import math
import struct

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ditto_bridge import protocol
from ditto_bridge.errors import ProtocolError


def build(address, *args):
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


def test_the_shipped_table_is_the_block_in_docs_protocol_md():
    doc_table = protocol.extract_table(protocol.doc_path().read_text(encoding="utf-8"))
    assert protocol.load_raw_table() == doc_table, "run: python -m ditto_bridge.protocol --write"


def test_every_request_has_a_reply_in_the_reply_table():
    table = protocol.load_table()
    for name, spec in table.requests.items():
        assert spec.reply in table.replies, name
        assert all(tag in "sif" for tag in spec.args)


def test_a_request_decodes_to_its_address_and_arguments():
    assert protocol.decode_datagram(build("/ditto/cancel", "abc")) == [("/ditto/cancel", ["abc"])]


def test_a_bundle_is_flattened_in_order():
    first, second = build("/ditto/ping"), build("/ditto/status")
    dgram = b"#bundle\x00" + struct.pack(">q", 1)
    for part in (first, second):
        dgram += struct.pack(">i", len(part)) + part
    assert [a for a, _ in protocol.decode_datagram(dgram)] == ["/ditto/ping", "/ditto/status"]


@pytest.mark.parametrize("dgram, fragment", [
    (b"", "empty datagram"),
    (b"hello world", "not an OSC message"),
    (b"/ditto/pin\x00", "malformed OSC message"),  # string not padded to 4 bytes
    (b"/ditto/ping\x00,s\x00\x00", "malformed OSC message"),  # string argument missing
    (b"/ditto/ping\x00,q\x00\x00", "unsupported OSC type tag"),
    (b"/ditto/ping\x00\x00\x00\x00,s\x00\x00", "type tag string must start"),
    (b"/\xff\xfe\x00", "malformed OSC message"),  # not UTF-8
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", -8), "bundle element size"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 4000) + b"/a\x00\x00", "bundle element size"),
])
def test_malformed_datagrams_raise_a_protocol_error_that_says_why(dgram, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        protocol.decode_datagram(dgram)


def test_deeply_nested_bundles_are_refused():
    dgram = build("/ditto/ping")
    for _ in range(protocol.MAX_BUNDLE_DEPTH + 1):
        dgram = b"#bundle\x00" + struct.pack(">q", 1) + struct.pack(">i", len(dgram)) + dgram
    with pytest.raises(ProtocolError, match="nested deeper"):
        protocol.decode_datagram(dgram)


@pytest.mark.parametrize("address, args, fragment", [
    ("/ditto/nope", [], "unknown address"),
    ("/ditto/ping", ["x"], "argument 1 must be an int32, got a string"),
    ("/ditto/ping", [9101, 9102], "expects 0 or 1 argument"),
    ("/ditto/ping", [9101.5], "argument 1 must be an int32, got a float"),
    ("/ditto/status", [1], "expects 0 argument"),
    ("/ditto/generate", [], "expects 1 argument"),
    ("/ditto/generate", [3], "argument 1 must be a string, got an int"),
    ("/ditto/cancel", [math.nan], "argument 1 must be a string, got a float"),
    ("/ditto/cancel", [True], "got a boolean"),
])
def test_requests_are_checked_against_the_table(address, args, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        protocol.check_request(address, args)


def test_the_ping_may_carry_a_reply_port_or_nothing():
    table = protocol.load_table()
    assert table.requests["/ditto/ping"].args == ("i",) and table.requests["/ditto/ping"].required == 0
    assert table.requests["/ditto/generate"].required == 1  # without min_args every argument is required
    for args in ([], [9101]):
        assert protocol.check_request("/ditto/ping", args).name == "/ditto/ping"


def test_replies_are_typed_by_the_table():
    dgram = protocol.encode_message("/ditto/progress", ["job1", 0.5, 3, 1.25])
    message = OscMessage(dgram)
    assert message.address == "/ditto/progress"
    assert message.params == ["job1", 0.5, 3, 1.25]
    assert dgram[16:24] == b",sfif\x00\x00\x00"


def test_a_reply_not_in_the_table_cannot_be_sent():
    with pytest.raises(ProtocolError):
        protocol.encode_message("/ditto/nothing", [])


def test_the_module_check_reports_the_shipped_table_up_to_date(capsys):
    assert protocol.main([]) == 0
    assert "matches" in capsys.readouterr().out
