"""The OSC address table (`docs/PROTOCOL.md`) and the OSC wire format: decoding datagrams, encoding replies.

`docs/PROTOCOL.md` holds the table as a fenced ```json ditto-protocol block, the one source both the daemon's and
the device's tests check. The daemon ships a copy, `ditto_bridge/protocol_table.json`, generated from the doc
(``python -m ditto_bridge.protocol --write``); a test keeps the two identical.

Decoding is strict and never silent: a datagram that is not OSC, a bundle whose element sizes do not add up,
an unknown address or the wrong argument types all raise `ProtocolError` with a message the daemon sends back
in ``/ditto/error``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import struct
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from pythonosc import osc_message
from pythonosc.osc_message_builder import BuildError, OscMessageBuilder
from pythonosc.parsing import osc_types

from ditto_bridge.errors import ProtocolError

TABLE_FILE = "protocol_table.json"
FENCE = "```json ditto-protocol"
MAX_DATAGRAM = 65_507
"""Largest UDP payload over IPv4; the device keeps its messages well under 9 KB (a macOS limit)."""
MAX_BUNDLE_DEPTH = 4
MAX_REPLY_BYTES = 4096
"""Every reply datagram is at most this large (the device's own limit is ~9 KB, a macOS one): the longest
string arguments are cut, with ``...``, until it fits."""
MAX_SUMMARY_CHARS = 600
"""A take's summary in ``/ditto/done`` is cut to this many characters (``…`` at the end): the device shows it on
one status line, and the sidecar keeps the whole text."""
_KNOWN_TAGS = set("ifsdhbTFNrmt[]")
_TAG_TYPES = {"s": "a string", "i": "an int32", "f": "a float32"}


@dataclass(frozen=True)
class Address:
    """One OSC address: its argument type tags in order (``s``, ``i``, ``f``), its reply address, a description.

    `min_args` is how many leading arguments a request must carry (the table's ``min_args``; by default all):
    ``/ditto/ping`` takes an optional reply port, so senders written before it existed keep working.
    """

    name: str
    args: tuple[str, ...]
    reply: str | None = None
    doc: str = ""
    min_args: int | None = None

    @property
    def required(self) -> int:
        return len(self.args) if self.min_args is None else self.min_args


@dataclass(frozen=True)
class ProtocolTable:
    """The parsed ```json ditto-protocol block."""

    version: int
    default_port: int
    default_reply_port: int
    requests: dict[str, Address]
    replies: dict[str, Address]
    tasks: tuple[str, ...]
    qualities: tuple[str, ...]
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ProtocolTable":
        def addresses(section: str) -> dict[str, Address]:
            return {name: Address(name, tuple(spec["args"]), spec.get("reply"), spec.get("doc", ""),
                                  int(spec["min_args"]) if "min_args" in spec else None)
                    for name, spec in raw[section].items()}

        return cls(int(raw["version"]), int(raw["default_port"]), int(raw["default_reply_port"]),
                   addresses("requests"), addresses("replies"), tuple(raw["tasks"]), tuple(raw["qualities"]), raw)


def extract_table(markdown: str) -> dict[str, Any]:
    """The JSON of the single ```json ditto-protocol block of a markdown text."""
    blocks = re.findall(r"^```json ditto-protocol[ \t]*\n(.*?)^```", markdown, flags=re.M | re.S)
    if len(blocks) != 1:
        raise ProtocolError(f"expected exactly one '{FENCE}' block in the protocol document, found {len(blocks)}")
    return json.loads(blocks[0])


def doc_path() -> Path:
    """`docs/PROTOCOL.md` of a source checkout (the doc is not installed with the package)."""
    return Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"


def load_raw_table() -> dict[str, Any]:
    """The shipped copy of the table, as JSON."""
    return json.loads(resources.files("ditto_bridge").joinpath(TABLE_FILE).read_text(encoding="utf-8"))


_TABLE: ProtocolTable | None = None


def load_table() -> ProtocolTable:
    """The shipped table, parsed once."""
    global _TABLE
    if _TABLE is None:
        _TABLE = ProtocolTable.from_dict(load_raw_table())
    return _TABLE


# ------------------------------------------------------------------------------------------------------ decoding


def decode_datagram(data: bytes) -> list[tuple[str, list[Any]]]:
    """Every message of a datagram (a message or a bundle, bundles flattened in order) as ``(address, args)``.

    Raises `ProtocolError` for anything that is not well-formed OSC 1.0.
    """
    if not data:
        raise ProtocolError("empty datagram: expected an OSC message")
    if len(data) > MAX_DATAGRAM:
        raise ProtocolError(f"datagram of {len(data)} bytes is larger than UDP allows")
    out: list[tuple[str, list[Any]]] = []
    _decode_packet(data, out, depth=0)
    return out


def _decode_packet(data: bytes, out: list[tuple[str, list[Any]]], depth: int) -> None:
    if data.startswith(b"#bundle\x00"):
        if depth >= MAX_BUNDLE_DEPTH:
            raise ProtocolError(f"OSC bundles nested deeper than {MAX_BUNDLE_DEPTH} levels")
        _decode_bundle(data, out, depth + 1)
    elif data.startswith(b"/"):
        out.append(_decode_message(data))
    else:
        raise ProtocolError(f"not an OSC message: a datagram must start with '/' or '#bundle', "
                            f"got {_preview(data)}")


def _decode_bundle(data: bytes, out: list[tuple[str, list[Any]]], depth: int) -> None:
    index = 16  # "#bundle\0" and the 8-byte time tag
    if len(data) < index:
        raise ProtocolError("OSC bundle shorter than its 16-byte header")
    while index < len(data):
        if index + 4 > len(data):
            raise ProtocolError("OSC bundle element size is cut off")
        (size,) = struct.unpack(">i", data[index:index + 4])
        index += 4
        if size <= 0 or size % 4 or index + size > len(data):
            raise ProtocolError(f"OSC bundle element size {size} is not a positive multiple of 4 within the bundle")
        _decode_packet(data[index:index + size], out, depth)
        index += size


def _decode_message(data: bytes) -> tuple[str, list[Any]]:
    try:
        address, index = osc_types.get_string(data, 0)
        if index < len(data):
            tags, _ = osc_types.get_string(data, index)
            if not tags.startswith(","):
                raise ProtocolError(f"OSC type tag string must start with ',', got {_preview(tags)}")
            unknown = sorted(set(tags[1:]) - _KNOWN_TAGS)
            if unknown:
                raise ProtocolError(f"unsupported OSC type tag {unknown[0]!r}")
        message = osc_message.OscMessage(data)
        return address, list(message.params)
    except (osc_types.ParseError, osc_message.ParseError, UnicodeDecodeError, struct.error, IndexError) as error:
        raise ProtocolError(f"malformed OSC message: {_first_line(error)}") from None


def _preview(value: bytes | str, limit: int = 24) -> str:
    text = repr(value[:limit])
    return text + ("..." if len(value) > limit else "")


def _first_line(error: BaseException) -> str:
    """The most specific line of a parser's error (python-osc wraps the reason as its second argument)."""
    args = [a for a in error.args if isinstance(a, (str, BaseException))]
    inner = args[-1] if args else type(error).__name__
    text = _first_line(inner) if isinstance(inner, BaseException) and inner is not error else str(inner)
    return text.splitlines()[0][:120] if text else type(error).__name__


def check_request(address: str, args: Sequence[Any], table: ProtocolTable | None = None) -> Address:
    """The table entry of a request after checking its arity and argument types; `ProtocolError` otherwise."""
    table = table or load_table()
    spec = table.requests.get(address)
    if spec is None:
        known = ", ".join(sorted(table.requests))
        raise ProtocolError(f"unknown address {_preview(address, 60)} (known: {known})")
    if not spec.required <= len(args) <= len(spec.args):
        count = (str(len(spec.args)) if spec.required == len(spec.args) else
                 f"{spec.required} or {len(spec.args)}" if len(spec.args) - spec.required == 1 else
                 f"{spec.required} to {len(spec.args)}")
        raise ProtocolError(f"{address}: expects {count} argument(s) ({', '.join(spec.args) or 'none'}), "
                            f"got {len(args)}")
    for i, (tag, value) in enumerate(zip(spec.args, args)):
        if not _matches(tag, value):
            raise ProtocolError(f"{address}: argument {i + 1} must be {_TAG_TYPES.get(tag, tag)}, "
                                f"got {_describe(value)}")
    return spec


def _matches(tag: str, value: Any) -> bool:
    if tag == "s":
        return isinstance(value, str)
    if tag == "i":
        return isinstance(value, int) and not isinstance(value, bool)
    if tag == "f":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"a float ({value})"
    kind = {int: "an int", float: "a float", str: "a string", bytes: "a blob", list: "an array"}.get(type(value))
    return f"{kind or type(value).__name__} ({_preview(value) if isinstance(value, (str, bytes)) else value!r})"


# ------------------------------------------------------------------------------------------------------ encoding


def encode_message(address: str, args: Iterable[Any], table: ProtocolTable | None = None) -> bytes:
    """An OSC datagram for a reply, typed by the reply table (ints as ``i``, floats as ``f``, strings as ``s``).

    Always encodable and bounded: characters UTF-8 cannot carry (lone surrogates) and NUL are written as
    backslash escapes, and the longest strings are cut until the datagram is at most `MAX_REPLY_BYTES`.
    """
    table = table or load_table()
    spec = table.replies.get(address)
    values = list(args)
    if spec is None or len(spec.args) != len(values):
        raise ProtocolError(f"cannot send {address} with {len(values)} argument(s): not in the reply table")
    typed: list[Any] = []
    for tag, value in zip(spec.args, values):
        if tag == "f":
            value = float(value)
            if not math.isfinite(value):
                value = -1.0  # OSC float32 could carry NaN, but Max's udpreceive shows it as garbage
        elif tag == "i":
            value = int(value)
            if not -2**31 <= value < 2**31:
                value = -1
        else:
            value = encodable(str(value))
        typed.append(value)
    while True:
        data = _build(address, spec.args, typed)
        if len(data) <= MAX_REPLY_BYTES:
            return data
        strings = [i for i, tag in enumerate(spec.args) if tag == "s" and len(typed[i]) > 16]
        if not strings:
            raise ProtocolError(f"cannot encode {address} within {MAX_REPLY_BYTES} bytes")
        longest = max(strings, key=lambda i: len(typed[i].encode("utf-8")))
        excess = len(data) - MAX_REPLY_BYTES
        text = typed[longest]
        keep = max(len(text.encode("utf-8")) - excess - 8, 0)
        typed[longest] = text.encode("utf-8")[:keep].decode("utf-8", "ignore") + "..."


def summary_argument(text: Any) -> str:
    """A take's summary as ``/ditto/done`` carries it: a string of at most `MAX_SUMMARY_CHARS` ('' for None)."""
    text = "" if text is None else str(text)
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "…"


def encodable(text: str) -> str:
    """`text` with what an OSC string cannot carry as UTF-8 (lone surrogates, NUL) written as backslash escapes."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _build(address: str, tags: Sequence[str], values: Sequence[Any]) -> bytes:
    builder = OscMessageBuilder(address)
    for tag, value in zip(tags, values):
        builder.add_arg(value, tag)
    try:
        return builder.build().dgram
    except BuildError as error:
        raise ProtocolError(f"cannot encode {address}: {error}") from None


# ---------------------------------------------------------------------------------------------------- generation


def main(argv: list[str] | None = None) -> int:
    """``python -m ditto_bridge.protocol --write``: regenerate the shipped table from docs/PROTOCOL.md."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="write ditto_bridge/protocol_table.json")
    args = parser.parse_args(argv)
    table = extract_table(doc_path().read_text(encoding="utf-8"))
    text = json.dumps(table, indent=2) + "\n"
    target = Path(__file__).with_name(TABLE_FILE)
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
        return 0
    same = target.is_file() and json.loads(target.read_text(encoding="utf-8")) == table
    print("protocol_table.json matches docs/PROTOCOL.md" if same else "protocol_table.json is out of date: --write")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
