"""Every datagram is answered with bounded replies (or, an empty bundle, deliberately ignored); none is 'internal'.

The daemon runs in this process on a real UDP socket on 127.0.0.1. Its worker is stopped once the model has
loaded, so accepted jobs wait in the queue and the run measures the OSC side only. 10,000 seeded hostile
datagrams (random bytes, truncated OSC, wrong type tags, wrong argument counts and types, huge strings, NaN and
infinities, unpaired surrogates, huge integers, deep nesting, unknown addresses, 65 KB bundles, mutated jobs,
hostile paths) are sent one by one, each followed by a sentinel ``/ditto/job sentinel-<n>``: every reply before
the sentinel's belongs to that datagram, so each datagram's replies are counted exactly, without sleeping.
"""

from __future__ import annotations

import json
import logging
import os
import random
import resource
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import live_job
from ditto_bridge import protocol, server
from ditto_bridge.errors import ProtocolError
from ditto_bridge.protocol import decode_datagram

REPLY_LIMIT = 4096
"""`protocol.MAX_REPLY_BYTES`: no reply datagram is larger."""
BUNDLE_LIMIT = 8
"""`server.MAX_MESSAGES_PER_DATAGRAM`: a bundle's first messages answered, then one summary error."""
COUNT = 10_000
SEED = 1312
ADDRESSES = ("/ditto/ping", "/ditto/generate", "/ditto/cancel", "/ditto/status", "/ditto/job")
FORBIDDEN = ("internal error", "could not be handled")
"""What an unanticipated failure would say: the hostile run must never provoke it."""


# ---------------------------------------------------------------------------------------------- raw OSC bytes


def pad(data: bytes) -> bytes:
    data += b"\x00"
    return data + b"\x00" * (-len(data) % 4)


def raw_message(address: bytes | str, tags: bytes | str = b"", args: list[bytes] = ()) -> bytes:
    address = address.encode() if isinstance(address, str) else address
    tags = tags.encode() if isinstance(tags, str) else tags
    return pad(address) + pad(b"," + tags) + b"".join(args)


def s(text: bytes | str) -> bytes:
    return pad(text.encode("utf-8") if isinstance(text, str) else text)


def i32(value: int) -> bytes:
    return struct.pack(">i", value)


def f32(value: float) -> bytes:
    return struct.pack(">f", value)


def bundle(*elements: bytes) -> bytes:
    return b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def generate(text: bytes | str) -> bytes:
    return raw_message("/ditto/generate", "s", [s(text)])


# --------------------------------------------------------------------------------------------- the generators


def nested(depth: int, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def hostile_value(rng: random.Random) -> Any:
    choice = rng.randrange(14)
    if choice == 0:
        return "x" * rng.choice([5000, 20000])
    if choice == 1:
        return float("nan")
    if choice == 2:
        return float("inf") * rng.choice([1, -1])
    if choice == 3:
        return -rng.randrange(1, 10**6)
    if choice == 4:
        return [[[[[[1]]]]]]
    if choice == 5:
        return {"\ud800": "\udfff"}
    if choice == 6:
        return None
    if choice == 7:
        return True
    if choice == 8:
        return 10 ** rng.choice([30, 400, 4000])
    if choice == 9:
        return rng.choice(["/etc/passwd", "../../etc/shadow", "~/.ssh/id_rsa", "/dev/zero", "\x00", "CON"])
    if choice == 10:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 50)))
    if choice == 11:
        return {"start": rng.random(), "end": -rng.random(), "unit": "parsecs"}
    if choice == 12:
        return rng.random() * 10 ** rng.randrange(-5, 300)
    return [rng.random() for _ in range(rng.randrange(0, 2000))]


def kind_random_bytes(rng: random.Random) -> bytes:
    data = rng.randbytes(rng.choice([0, 1, 3, 4, 8, 16, 64, 512, 2000]))
    return rng.choice([b"", b"/", b"#bundle\x00", b"/ditto/"]) + data


def kind_truncated(rng: random.Random) -> bytes:
    whole = rng.choice(VALID)
    return whole[: rng.randrange(1, len(whole))]


def kind_wrong_tags(rng: random.Random) -> bytes:
    tags = "".join(rng.choice("ifsdhbTFNrmtcSI[]xZ?,") for _ in range(rng.randrange(0, 7)))
    return raw_message(rng.choice(ADDRESSES), tags, [rng.randbytes(rng.choice([0, 3, 4, 8, 12, 40]))])


def kind_wrong_counts(rng: random.Random) -> bytes:
    count = rng.randrange(0, 6)
    tags, args = "", []
    for _ in range(count):
        tag = rng.choice("sif")
        tags += tag
        args.append(s("abc") if tag == "s" else i32(rng.randrange(-2**31, 2**31)) if tag == "i" else f32(1.5))
    return raw_message(rng.choice(ADDRESSES), tags, args)


def kind_wrong_types(rng: random.Random) -> bytes:
    address = rng.choice(("/ditto/generate", "/ditto/cancel", "/ditto/job"))
    choice = rng.randrange(8)
    if choice == 0:
        return raw_message(address, "i", [i32(rng.randrange(-2**31, 2**31))])
    if choice == 1:
        return raw_message(address, "f", [f32(rng.random())])
    if choice == 2:
        return raw_message(address, "d", [struct.pack(">d", rng.random())])
    if choice == 3:
        return raw_message(address, "h", [struct.pack(">q", rng.randrange(-2**63, 2**63))])
    if choice == 4:
        blob = rng.randbytes(rng.randrange(0, 100))
        return raw_message(address, "b", [struct.pack(">i", len(blob)) + blob + b"\x00" * (-len(blob) % 4)])
    if choice == 5:
        return raw_message(address, rng.choice("TFN"))
    if choice == 6:
        return raw_message(address, "[ii]", [i32(1), i32(2)])
    return raw_message("/ditto/ping", "s", [s("unexpected")])


def kind_huge_strings(rng: random.Random) -> bytes:
    size = rng.randrange(10_000, 64_000)
    address = rng.choice(("/ditto/generate", "/ditto/job", "/ditto/cancel"))
    text = rng.choice(["a", "{", "/", "名", "🎵", "\\"]) * (size // 4)
    if address == "/ditto/generate" and rng.random() < 0.5:
        text = json.dumps(live_job(name="x" * (size // 2)))
    return raw_message(address, "s", [s(text)])


def kind_nan_inf(rng: random.Random) -> bytes:
    if rng.random() < 0.4:
        return raw_message(rng.choice(ADDRESSES), "f", [f32(rng.choice([float("nan"), float("inf"), -float("inf")]))])
    field = rng.choice(["tempo", "length_bars", "seed", "overlap_beats"])
    value = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
    job = json.dumps(live_job())
    if field == "tempo":
        return generate(job.replace('"tempo": 240.0', f'"tempo": {value}'))
    return generate(job[:-1] + f', "{field}": {value}}}')


def kind_surrogates(rng: random.Random) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return generate('{"\\ud800": 1}')
    if choice == 1:
        return generate(json.dumps(live_job(name="\udc80\ud800")))  # escaped: valid JSON text, lone surrogates
    if choice == 2:
        return raw_message("/ditto/generate", "s", [s(b'{"name": "\xed\xa0\x80"}')])  # CESU-8 surrogate bytes
    if choice == 3:
        return raw_message(rng.choice(("/ditto/job", "/ditto/cancel")), "s", [s(rng.randbytes(rng.randrange(1, 60)))])
    return generate(json.dumps({"song": {"tempo": 120, "\udfff": 1}, "task": "generate", "id": "\ud83d"}))


def kind_huge_integers(rng: random.Random) -> bytes:
    digits = rng.choice([400, 4000, 4300, 4301, 5000, 20000])
    field = rng.choice(["seed", "variations", "length_bars", "steps", "sampler_steps"])
    job = json.dumps(live_job())
    return generate(job[:-1] + f', "{field}": {"9" * digits}}}')


def kind_deep_nesting(rng: random.Random) -> bytes:
    depth = rng.choice([33, 100, 500, 1000, 5000, 30000])
    where = rng.randrange(3)
    if where == 0:
        return generate(json.dumps(live_job())[:-1] + f', "device": {nested(depth, rng)}}}')
    if where == 1:
        return generate(nested(depth, rng))
    return generate("[" * depth)  # never closed


def kind_unknown_address(rng: random.Random) -> bytes:
    address = rng.choice(["/", "/ditto", "/ditto/", "/ditto/pingg", "/DITTO/PING", "/ditto/ping/x", "/live/song",
                          "/" + "x" * rng.randrange(1, 60_000)])
    return raw_message(address, "", [])


def kind_big_bundle(rng: random.Random) -> bytes:
    element = rng.choice(VALID[:3] + [raw_message("/ditto/cancel", "s", [s("nope")])])
    count = (64_000 - 16) // (len(element) + 4)
    elements = [element] * rng.choice([count, 9, 20])
    choice = rng.randrange(4)
    if choice == 0:
        return bundle(*elements)
    if choice == 1:
        inner = bundle(*elements[:50])
        for _ in range(rng.randrange(2, 7)):
            inner = bundle(inner)
        return inner
    if choice == 2:
        data = bundle(*elements[:100])
        return data[:16] + struct.pack(">i", rng.choice([-4, 0, 3, 10**6])) + data[20:]
    return bundle(*elements[:30], rng.randbytes(12))


def kind_empty_bundle(rng: random.Random) -> bytes:
    return rng.choice([bundle(), bundle(bundle()), bundle(bundle(), bundle(bundle()))])


def kind_mutated_job(rng: random.Random) -> bytes:
    job = live_job(name=f"m{rng.randrange(1000)}")
    job.update(rng.choice([{}, {"task": "inpaint"}, {"task": "melody", "notes": []}, {"intensity": {}}]))
    path = rng.choice([("song", "tempo"), ("length_bars",), ("task",), ("name",), ("seed",), ("variations",),
                       ("clip",), ("range",), ("intensity",), ("notes",), ("cue_points",), ("device",), ("id",),
                       ("lineage",), ("song", "sample_rate"), ("song", "channels"), ("quality",), ("tags",),
                       ("midi_file",), ("unknown_field",), ("song", "project_folder")])
    target = job
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = hostile_value(rng)
    text = json.dumps(job, ensure_ascii=rng.random() < 0.5)
    if len(text.encode("utf-8", "surrogatepass")) > 60_000:
        text = text[:60_000]
    return generate(text.encode("utf-8", "surrogatepass"))


def kind_engine_job(rng: random.Random) -> bytes:
    job: dict[str, Any] = {"name": "e", "duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 1},
                           "optimizer": {"steps": 1}}
    key = rng.choice(["warm_start", "controls", "model", "duration", "optimizer", "sampler", "lineage"])
    if key == "controls":
        job["controls"] = [{"type": rng.choice(["inpaint", "outpaint", "loop", "intensity"]),
                            "reference": hostile_value(rng), "gap": [0.1, 0.5], "overlap": 0.2}]
    else:
        job[key] = hostile_value(rng)
    return generate(json.dumps(job).encode("utf-8", "surrogatepass")[:60_000])


def kind_paths(rng: random.Random) -> bytes:
    return generate(rng.choice(["/etc/passwd", "../../etc/passwd.json", "~/.ssh/id_rsa.json", "/dev/zero",
                                "a" * 5000 + ".json", "taken/x.json", "../inbox/x.json", "/proc/self/environ",
                                "CON.json", "nope.json", " ", "\t/x.json", "./.hidden.json", "/"]))


def kind_queries(rng: random.Random) -> bytes:
    job_id = rng.choice(["", "x" * rng.randrange(1, 60_000), "名前🎵" * 1000, "../../x", "\\" * 500,
                         "".join(chr(rng.randrange(1, 0x2000)) for _ in range(rng.randrange(1, 300)))])
    return raw_message(rng.choice(("/ditto/job", "/ditto/cancel")), "s", [s(job_id)])


VALID = [raw_message("/ditto/ping"), raw_message("/ditto/status"), raw_message("/ditto/job", "s", [s("abc")]),
         generate(json.dumps(live_job(name="valid")))]
KINDS: dict[str, Callable[[random.Random], bytes]] = {
    "random bytes": kind_random_bytes, "truncated OSC": kind_truncated, "wrong type tags": kind_wrong_tags,
    "wrong argument counts": kind_wrong_counts, "wrong argument types": kind_wrong_types,
    "huge strings": kind_huge_strings, "NaN and infinities": kind_nan_inf, "unpaired surrogates": kind_surrogates,
    "huge integers": kind_huge_integers, "deep nesting": kind_deep_nesting, "unknown addresses": kind_unknown_address,
    "65 KB bundles": kind_big_bundle, "empty bundles": kind_empty_bundle, "mutated jobs": kind_mutated_job,
    "engine jobs": kind_engine_job, "hostile paths": kind_paths, "job queries": kind_queries,
}


def hostile_datagrams(seed: int, count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    names = sorted(KINDS)
    out = []
    for n in range(count):
        kind = names[n % len(names)] if n < len(names) * 4 else rng.choice(names)
        data = KINDS[kind](rng)
        out.append((kind, data[: protocol.MAX_DATAGRAM]))
    return out


def expected_replies(data: bytes) -> int:
    """How many replies the protocol promises: one error for what does not decode, none for an empty bundle,
    one per message up to the bundle limit and one summary error past it."""
    try:
        messages = decode_datagram(data)
    except ProtocolError:
        return 1
    return min(len(messages), BUNDLE_LIMIT) + (1 if len(messages) > BUNDLE_LIMIT else 0)


# --------------------------------------------------------------------------------------------------- the peer


class RawPeer:
    """A UDP socket on 127.0.0.1 that keeps every reply's raw bytes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def until_sentinel(self, sentinel: str, timeout: float = 10.0) -> list[bytes]:
        """Every reply before the sentinel's ``/ditto/job`` reply (the sentinel's own is not returned)."""
        replies = []
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                data, _ = self.sock.recvfrom(65_535)
            except socket.timeout:
                raise AssertionError(f"no answer to the sentinel {sentinel} within {timeout} s; got {replies[-3:]}")
            if data.startswith(b"/ditto/job\x00") and decode_datagram(data)[0][1][0] == sentinel:
                return replies
            replies.append(data)


def rss_mib() -> float:
    """This process's resident memory now (Linux), else its peak (macOS reports bytes, Linux KiB)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class LogCounter(logging.Handler):
    """Counts the daemon's log records by level and keeps none (so the RSS measured is the daemon's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: dict[str, int] = {}
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.levels[record.levelname] = self.levels.get(record.levelname, 0) + 1
        if record.levelno >= logging.ERROR and len(self.errors) < 20:
            self.errors.append(record.getMessage()[:300])


@pytest.fixture
def counted_logs():
    logger = logging.getLogger("ditto_bridge")
    counter, propagate = LogCounter(), logger.propagate
    logger.addHandler(counter)
    logger.propagate = False
    yield counter
    logger.removeHandler(counter)
    logger.propagate = propagate


@pytest.fixture
def quiet_daemon(make_daemon):
    """A daemon whose worker has stopped: accepted jobs stay queued (at most 4), the OSC side keeps answering."""
    daemon = make_daemon(max_queue=4)
    assert daemon.worker.stop(timeout=30)
    return daemon


# ------------------------------------------------------------------------------------------------------ tests


def test_ten_thousand_hostile_datagrams_each_get_bounded_replies_and_none_is_internal(quiet_daemon, counted_logs):
    daemon = quiet_daemon
    datagrams = hostile_datagrams(SEED, COUNT)
    peer = RawPeer(daemon.address)
    sentinel = raw_message("/ditto/job", "s", [s("sentinel-0")])
    peer.send(sentinel)
    peer.until_sentinel("sentinel-0")
    rss_before = rss_mib()
    started = time.monotonic()
    problems: list[str] = []
    by_kind: dict[str, int] = {}
    answered = ignored = largest = 0
    addresses: dict[str, int] = {}
    try:
        for n, (kind, data) in enumerate(datagrams, 1):
            by_kind[kind] = by_kind.get(kind, 0) + 1
            peer.send(data)
            peer.send(raw_message("/ditto/job", "s", [s(f"sentinel-{n}")]))
            replies = peer.until_sentinel(f"sentinel-{n}")
            want = expected_replies(data)
            if len(replies) != want:
                problems.append(f"#{n} {kind}: {len(replies)} replies, expected {want}: {data[:60]!r}")
            answered += bool(replies)
            ignored += not replies
            for reply in replies:
                largest = max(largest, len(reply))
                if len(reply) > REPLY_LIMIT:
                    problems.append(f"#{n} {kind}: a reply of {len(reply)} bytes")
                address, args = decode_datagram(reply)[0]
                addresses[address] = addresses.get(address, 0) + 1
                text = " ".join(str(a) for a in args)
                if any(word in text for word in FORBIDDEN):
                    problems.append(f"#{n} {kind}: {text[:300]}")
            assert time.monotonic() - started < 300, f"stopped at #{n}: too slow"
        seconds = time.monotonic() - started
        peer.send(raw_message("/ditto/ping"))
        peer.send(raw_message("/ditto/job", "s", [s("sentinel-last")]))
        last = peer.until_sentinel("sentinel-last")
        assert [decode_datagram(r)[0][0] for r in last] == ["/ditto/pong"]  # still alive and answering
    finally:
        peer.close()
    growth = rss_mib() - rss_before
    print(f"\n{COUNT} hostile datagrams in {seconds:.1f} s: {answered} answered, {ignored} deliberately ignored "
          f"(empty bundles); largest reply {largest} bytes; replies by address {dict(sorted(addresses.items()))}; "
          f"RSS growth {growth:+.1f} MiB (from {rss_before:.0f} MiB); log records {counted_logs.levels}")
    print("datagrams by kind:", dict(sorted(by_kind.items())))
    assert problems == [], f"{len(problems)} problems, first ones:\n" + "\n".join(problems[:20])
    assert ignored == sum(1 for _, d in datagrams if expected_replies(d) == 0) > 0
    assert counted_logs.errors == []  # nothing was logged as a failure of the daemon itself
    assert daemon.server._handler.is_alive() and daemon.server._receiver.is_alive()
    assert growth < 200, f"RSS grew by {growth:.0f} MiB"


def test_the_limits_the_hostile_run_checks_are_the_daemons():
    assert protocol.MAX_REPLY_BYTES == REPLY_LIMIT and server.MAX_MESSAGES_PER_DATAGRAM == BUNDLE_LIMIT


def request(peer: RawPeer, data: bytes, n: int) -> list[tuple[int, str, list]]:
    peer.send(data)
    peer.send(raw_message("/ditto/job", "s", [s(f"sentinel-{n}")]))
    return [(len(r), *decode_datagram(r)[0]) for r in peer.until_sentinel(f"sentinel-{n}")]


def test_replies_are_encodable_and_named_for_surrogates_huge_integers_and_deep_nesting(quiet_daemon):
    peer = RawPeer(quiet_daemon.address)
    try:
        cases = [
            (generate('{"\\ud800": 1}'), "\\ud800: is not a field"),
            (generate(json.dumps(live_job())[:-1] + ', "seed": ' + "9" * 5000 + "}"),
             "a number has thousands of digits"),
            (generate(json.dumps(live_job(device=json.loads('{"a":' * 500 + "1" + "}" * 500)))),
             "job: nests lists and objects more than 32 deep"),
            (generate(json.dumps(live_job(song={"tempo": 10 ** 400}))),
             "song.tempo: must be a finite number (this integer is too large), got an integer of about 401 digits"),
        ]
        for n, (data, words) in enumerate(cases):
            replies = request(peer, data, n)
            assert len(replies) == 1, replies
            size, address, args = replies[0]
            assert address == "/ditto/error" and words in args[1], args
    finally:
        peer.close()


def test_a_65_kb_bundle_gets_a_few_bounded_replies_and_a_65_kb_id_is_not_echoed(quiet_daemon):
    peer = RawPeer(quiet_daemon.address)
    try:
        ping = raw_message("/ditto/ping")
        big = bundle(*[ping] * ((65_000 - 16) // (len(ping) + 4)))
        assert len(big) > 64_000
        replies = request(peer, big, 1)
        assert [a for _, a, _ in replies] == ["/ditto/pong"] * BUNDLE_LIMIT + ["/ditto/error"]
        assert "only the first 8 were handled" in replies[-1][2][1]
        assert sum(size for size, _, _ in replies) < len(big) / 10  # no amplification
        for address in ("/ditto/job", "/ditto/cancel"):
            (size, reply, args), = request(peer, raw_message(address, "s", [s("x" * 65_000)]), 2)
            assert size <= 400 and len(args[0]) <= server.MAX_ID_CHARS and args[0].endswith("...")
    finally:
        peer.close()


def test_an_unpaced_burst_of_200_datagrams_is_answered_in_full(quiet_daemon):
    peer = RawPeer(quiet_daemon.address)
    received: list[bytes] = []

    def collect() -> None:
        peer.sock.settimeout(5.0)
        try:
            while len(received) < 200:
                received.append(peer.sock.recvfrom(65_535)[0])
        except socket.timeout:
            pass

    reader = threading.Thread(target=collect)
    reader.start()
    try:
        for n in range(200):  # 1 KB each, as fast as the socket takes them
            peer.send(raw_message("/ditto/job", "s", [s(f"burst-{n:03d}-" + "y" * 1000)]))
        reader.join(timeout=30)
    finally:
        peer.close()
    assert len(received) == 200
    print(f"\nreceive buffer granted: {quiet_daemon.server.receive_buffer} bytes")
