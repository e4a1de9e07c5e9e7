#!/usr/bin/env python3
"""Assembles the Max for Live device `device/DittoBridge.amxd` from its text source.

The source is `src/DittoBridge.maxpat` (the patcher JSON, editable in Max: open it, edit, save, run
this script). The JavaScript it loads, `device/ditto_device.js`, stays a separate file next to the
`.amxd`: Max finds it in the device's folder.

An `.amxd` is a sequence of chunks, each a 4-byte ASCII tag and a little-endian uint32 size followed by
that many bytes:

    ampf  4 bytes   device type: b"aaaa" Audio Effect, b"mmmm" MIDI Effect, b"iiii" Instrument
    meta  4 bytes   zero
    ptch  n bytes   the patcher JSON (UTF-8) followed by a NUL byte

Usage:
    python3 build_amxd.py            # writes device/DittoBridge.amxd
    python3 build_amxd.py --check    # exit 1 if the committed .amxd differs from a fresh build
    python3 build_amxd.py --output PATH
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src" / "DittoBridge.maxpat"
TARGET = HERE / "device" / "DittoBridge.amxd"

DEVICE_TYPES = {"audio_effect": b"aaaa", "midi_effect": b"mmmm", "instrument": b"iiii"}
#: The device sits on the audio track that receives the results (see docs/DEVICE.md).
DEVICE_TYPE = DEVICE_TYPES["audio_effect"]
#: The project block of an .amxd names the same type as a big-endian four-char code.
AMXD_PROJECT_TYPE = int.from_bytes(DEVICE_TYPE, "big")


class PatcherSourceError(ValueError):
    """The patcher source is not a device patcher this script can package."""


def chunk(tag: bytes, payload: bytes) -> bytes:
    """One .amxd chunk: 4-byte tag, little-endian uint32 size, payload."""
    if len(tag) != 4:
        raise ValueError(f"chunk tag must be 4 bytes, got {tag!r}")
    return tag + struct.pack("<I", len(payload)) + payload


def load_patcher(source: Path = SOURCE) -> dict:
    """Reads and checks the patcher JSON: boxes with unique ids, a project block of the right type."""
    try:
        patcher = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PatcherSourceError(f"{source}: not valid JSON ({error}); fix the file or re-save it from Max") from error
    body = patcher.get("patcher")
    if not isinstance(body, dict) or not isinstance(body.get("boxes"), list):
        raise PatcherSourceError(f"{source}: expected {{'patcher': {{'boxes': [...], ...}}}}")
    ids = [entry["box"]["id"] for entry in body["boxes"]]
    if len(ids) != len(set(ids)):
        raise PatcherSourceError(f"{source}: duplicate box ids {sorted({i for i in ids if ids.count(i) > 1})}")
    amxdtype = body.get("project", {}).get("amxdtype")
    if amxdtype != AMXD_PROJECT_TYPE:
        raise PatcherSourceError(
            f"{source}: project.amxdtype is {amxdtype}, expected {AMXD_PROJECT_TYPE} ({DEVICE_TYPE.decode()})"
        )
    return patcher


def build_amxd(patcher: dict) -> bytes:
    """The bytes of the .amxd for a patcher dict."""
    text = json.dumps(patcher, indent="\t", ensure_ascii=False) + "\n"
    return (
        chunk(b"ampf", DEVICE_TYPE)
        + chunk(b"meta", struct.pack("<I", 0))
        + chunk(b"ptch", text.encode("utf-8") + b"\x00")
    )


def read_amxd(data: bytes) -> tuple[bytes, dict]:
    """Parses .amxd bytes back into (device type, patcher dict)."""
    offset = 0
    device_type = b""
    patcher = None
    while offset + 8 <= len(data):
        tag = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        payload = data[offset + 8 : offset + 8 + size]
        if tag == b"ampf":
            device_type = payload
        elif tag == b"ptch":
            patcher = json.loads(payload.rstrip(b"\x00").decode("utf-8"))
        offset += 8 + size
    if patcher is None:
        raise PatcherSourceError("no ptch chunk in the .amxd")
    return device_type, patcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="compare with the existing output instead of writing")
    args = parser.parse_args(argv)
    data = build_amxd(load_patcher(args.source))
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != data:
            print(f"{args.output} is out of date: run python3 build_amxd.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(data)} bytes)")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes, {DEVICE_TYPE.decode()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
