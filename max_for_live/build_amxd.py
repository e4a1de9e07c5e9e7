#!/usr/bin/env python3
"""Builds the Max for Live device, unfrozen and frozen, from its text sources, and reads `.amxd` files back.

Sources (edited by hand or in Max, kept in git):

    src/DittoBridge.maxpat          the patcher JSON (open it in Max, edit, save, run this script)
    device/ditto_device.js          the JavaScript its `js` object loads

Built by this script (committed; `--check` says whether they are up to date):

    device/DittoBridge.amxd         unfrozen: Max finds ditto_device.js in the device's folder
    device/frozen/DittoBridge.amxd  frozen: ditto_device.js travels inside the .amxd

and, with `--zip PATH`, the release archive a producer downloads:

    ditto-bridge-device/README.txt
    ditto-bridge-device/frozen/DittoBridge.amxd       try this first
    ditto-bridge-device/unfrozen/DittoBridge.amxd     the fallback, with its script beside it
    ditto-bridge-device/unfrozen/ditto_device.js

The two devices sit in sibling folders so that the frozen one cannot quietly pick up the loose script: if it
loads, it ran the copy inside it.

The .amxd container
-------------------
A sequence of chunks, each a 4-byte ASCII tag and a little-endian uint32 size followed by that many bytes:

    ampf  4 bytes   device type: b"aaaa" Audio Effect, b"mmmm" MIDI Effect, b"iiii" Instrument
    meta  4 bytes   0 in our unfrozen device (as in Ableton's CPU Reporter); 7 in devices Max froze
                    (maxdevtools' FrozenTest.amxd and WithGarbage.amxd): we write 7 when frozen. What the
                    bits mean is not documented; readers (Ableton's maxdiff among them) skip it.
    ciph  n bytes   only in encrypted devices: the ptch that follows is enciphered and cannot be read here
    ptch  n bytes   unfrozen: the patcher JSON (UTF-8) followed by a NUL byte
                    frozen: a Max collective ("mx@c"), laid out below

The frozen ptch, as Ableton's maxdiff reads it (`maxdiff/frozen_device_printer.py`, `freezing_utils.py` in
Ableton/maxdevtools) and as FrozenTest.amxd holds it. Sizes and offsets inside are big-endian:

    0   b"mx@c", uint32 16 (the header's size), uint64 offset of the directory from the start of the ptch
    16  the files' bytes back to back, the device's own patcher first (JSON + NUL, as an unfrozen ptch)
    ..  the directory: b"dlst", uint32 its size including these 8 bytes, then one entry per file, in the
        order of the data:
          b"dire", uint32 the entry's size including these 8 bytes, then fields, each a 4-byte tag, a
          uint32 size including its own 8 bytes, and the value:
            type  4-char file type: JSON for the device and patchers, TEXT for JavaScript
            fnam  the file name, NUL-padded to a multiple of 4 bytes (at least one NUL)
            sz32  the file's size in bytes       of32  its offset from the start of the ptch
            vers  0                              flag  0x11 for the device's patcher, 0 for a js script
            mdat  modification time, seconds since 1904-01-01 UTC (HFS+)

Usage:
    python3 build_amxd.py              # writes both devices
    python3 build_amxd.py --check      # exit 1 if a committed device differs from a fresh build
    python3 build_amxd.py --zip PATH   # also writes the release archive
    python3 build_amxd.py --read FILE  # says what an .amxd holds (type, frozen files, or why it cannot be read)
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src" / "DittoBridge.maxpat"
DEVICE_DIR = HERE / "device"
TARGET = DEVICE_DIR / "DittoBridge.amxd"
FROZEN_TARGET = DEVICE_DIR / "frozen" / "DittoBridge.amxd"
#: The name the device's own patcher has inside the frozen container: its file name, as Max's freeze writes it.
DEVICE_FILE_NAME = TARGET.name

DEVICE_TYPES = {"audio_effect": b"aaaa", "midi_effect": b"mmmm", "instrument": b"iiii"}
#: The device sits on the audio track that receives the results (see docs/DEVICE.md).
DEVICE_TYPE = DEVICE_TYPES["audio_effect"]
#: The project block of an .amxd names the same type as a big-endian four-char code.
AMXD_PROJECT_TYPE = int.from_bytes(DEVICE_TYPE, "big")

META_UNFROZEN = 0
META_FROZEN = 7
COLLECTIVE_MAGIC = b"mx@c"
COLLECTIVE_HEADER_SIZE = 16
#: Directory flags as FrozenTest.amxd has them: the device's own patcher, and a script a `js` object loads.
FLAG_DEVICE = 0x11
FLAG_FILE = 0
#: Seconds from 1904-01-01 (HFS+, what `mdat` counts) to 1970-01-01.
HFS_TO_UNIX = 2082844800
#: The modification time written for every frozen file, so that a build is the same bytes on every machine
#: (Max's own freeze writes each file's modification time). SOURCE_DATE_EPOCH overrides it.
FILE_DATE = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
RELEASE_FOLDER = "ditto-bridge-device"


class PatcherSourceError(ValueError):
    """The patcher source is not a device patcher this script can package."""


class AmxdFormatError(ValueError):
    """Bytes that are not a readable .amxd: the message says what is wrong and where."""


class EncryptedDeviceError(AmxdFormatError):
    """An encrypted device: its patcher and files are enciphered; only Max can open it."""


@dataclass(frozen=True)
class EmbeddedFile:
    """One file inside a frozen device, with its directory entry."""

    name: str
    type: str
    data: bytes
    offset: int
    flags: int
    version: int
    modified: datetime.datetime | None
    #: The entry's fields in file order: (tag, size including the 8-byte field header).
    fields: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AmxdDevice:
    """What an .amxd holds."""

    device_type: bytes
    meta: bytes
    #: The chunk tags in file order.
    chunks: tuple[str, ...]
    #: The device's patcher (for a frozen device: its first embedded file).
    patcher: dict
    #: The embedded files of a frozen device, the device's own patcher first; empty when unfrozen.
    files: tuple[EmbeddedFile, ...] = ()

    @property
    def frozen(self) -> bool:
        return bool(self.files)

    def file(self, name: str) -> EmbeddedFile:
        for entry in self.files:
            if entry.name == name:
                return entry
        raise KeyError(
            f"{name} is not inside this device (it holds {', '.join(f.name for f in self.files) or 'no files'})"
        )


# ---------------------------------------------------------------------------------------------------------------
# Writing


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


def patcher_bytes(patcher: dict) -> bytes:
    """The patcher as it sits in an unfrozen ptch chunk and as the first file of a frozen one: JSON, NUL."""
    return (json.dumps(patcher, indent="\t", ensure_ascii=False) + "\n").encode("utf-8") + b"\x00"


def build_amxd(patcher: dict) -> bytes:
    """The bytes of the unfrozen .amxd for a patcher dict."""
    return (
        chunk(b"ampf", DEVICE_TYPE)
        + chunk(b"meta", struct.pack("<I", META_UNFROZEN))
        + chunk(b"ptch", patcher_bytes(patcher))
    )


def _js_files(patcher: dict) -> list[tuple[str, str]]:
    """(box id, file name) of every `js` object, subpatchers included."""
    found = []
    for entry in patcher.get("boxes", []):
        box = entry["box"]
        words = str(box.get("text", "")).split()
        if box.get("maxclass") == "newobj" and len(words) > 1 and words[0] == "js":
            found.append((box["id"], words[1]))
        if isinstance(box.get("patcher"), dict):
            found.extend(_js_files(box["patcher"]))
    return found


def dependencies(patcher: dict, folder: Path = DEVICE_DIR, source: Path = SOURCE) -> list[tuple[str, bytes, bytes]]:
    """The files a frozen device must carry, as (name, 4-char type, bytes), read from `folder`.

    They are the patcher's `dependency_cache` (what Max lists under the device's dependencies and freezes);
    every file a `js` object loads must be among them, or the frozen device would load without its script.
    """
    body = patcher["patcher"]
    cache = body.get("dependency_cache", [])
    listed = {entry.get("name") for entry in cache}
    for box_id, name in _js_files(body):
        if name not in listed:
            raise PatcherSourceError(
                f"{source}: box {box_id} loads {name}, but the patcher's dependency_cache does not list it, so a "
                f'frozen device would ship without it: add {{"name": "{name}", "type": "TEXT", "implicit": 1}} '
                "to dependency_cache (Max does so when it saves the patcher)"
            )
    files = []
    for entry in cache:
        name, type_code = entry.get("name"), str(entry.get("type", ""))
        if not name or Path(name).name != name:
            raise PatcherSourceError(f"{source}: dependency_cache entry {entry} needs a plain file name")
        if len(type_code.encode("ascii", "replace")) != 4:
            raise PatcherSourceError(
                f"{source}: dependency_cache entry {name} has type {type_code!r}; expected 4 characters, e.g. TEXT"
            )
        path = folder / name
        if not path.is_file():
            raise PatcherSourceError(
                f"{source} depends on {name} (dependency_cache), but {path} does not exist: put the file there "
                "or remove it from the patcher"
            )
        files.append((name, type_code.encode("ascii"), path.read_bytes()))
    return files


def file_date() -> datetime.datetime:
    """The modification time written for frozen files: SOURCE_DATE_EPOCH when set, else FILE_DATE."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    return FILE_DATE


def _field(tag: bytes, value: bytes) -> bytes:
    return tag + struct.pack(">I", 8 + len(value)) + value


def _padded_name(name: str) -> bytes:
    raw = name.encode("utf-8")
    return raw + b"\x00" * (4 - len(raw) % 4)


def directory_entry(
    name: str, type_code: bytes, size: int, offset: int, flags: int, modified: datetime.datetime
) -> bytes:
    """One `dire` entry: type, fnam, sz32, of32, vers, flag, mdat, in FrozenTest.amxd's order."""
    hfs_seconds = int(modified.timestamp()) + HFS_TO_UNIX
    fields = (
        _field(b"type", type_code)
        + _field(b"fnam", _padded_name(name))
        + _field(b"sz32", struct.pack(">I", size))
        + _field(b"of32", struct.pack(">I", offset))
        + _field(b"vers", struct.pack(">I", 0))
        + _field(b"flag", struct.pack(">I", flags))
        + _field(b"mdat", struct.pack(">I", hfs_seconds))
    )
    return _field(b"dire", fields)


def freeze_amxd(
    patcher: dict,
    files: list[tuple[str, bytes, bytes]],
    device_name: str = DEVICE_FILE_NAME,
    modified: datetime.datetime | None = None,
) -> bytes:
    """The bytes of the frozen .amxd: the patcher and `files` ((name, 4-char type, bytes)) in one collective."""
    modified = modified or file_date()
    blobs = [(device_name, b"JSON", patcher_bytes(patcher), FLAG_DEVICE)]
    blobs += [(name, type_code, data, FLAG_FILE) for name, type_code, data in files]
    names = [name for name, *_ in blobs]
    if len(names) != len(set(names)):
        raise PatcherSourceError(f"two frozen files share a name: {names}")
    body, directory, offset = b"", b"", COLLECTIVE_HEADER_SIZE
    for name, type_code, data, flags in blobs:
        directory += directory_entry(name, type_code, len(data), offset, flags, modified)
        body += data
        offset += len(data)
    header = COLLECTIVE_MAGIC + struct.pack(">IQ", COLLECTIVE_HEADER_SIZE, offset)
    ptch = header + body + _field(b"dlst", directory)
    return chunk(b"ampf", DEVICE_TYPE) + chunk(b"meta", struct.pack("<I", META_FROZEN)) + chunk(b"ptch", ptch)


def build_frozen(source: Path = SOURCE, folder: Path = DEVICE_DIR) -> bytes:
    """The frozen device for the patcher source, with the files it depends on read from `folder`."""
    patcher = load_patcher(source)
    return freeze_amxd(patcher, dependencies(patcher, folder, source))


RELEASE_README = """\
ditto-bridge for Max for Live: an Audio Effect. Put it on the audio track that should receive the results.

Try first:  frozen/DittoBridge.amxd
            one file with its JavaScript inside; it keeps working after "Collect All and Save" or when shared.

If the frozen device's status line stays on "Loading…" for more than 5 seconds and its Daemon light never comes
on, Max could not run the script inside it. Use the other one instead:

            unfrozen/DittoBridge.amxd   keep ditto_device.js in the same folder as it

Both are the same device. Install one of them, not both. More: docs/DEVICE.md, section "The release".
"""


def build_release_zip(unfrozen: bytes, frozen: bytes, files: list[tuple[str, bytes, bytes]]) -> bytes:
    """The release archive: README, frozen/ and unfrozen/ (with `files` beside the device) side by side.

    Stored uncompressed with fixed dates and permissions, so the same sources give the same bytes.
    """
    stamp = file_date().timetuple()[:6]
    members = [
        ("README.txt", RELEASE_README.encode("utf-8")),
        (f"frozen/{DEVICE_FILE_NAME}", frozen),
        (f"unfrozen/{DEVICE_FILE_NAME}", unfrozen),
    ] + [(f"unfrozen/{name}", data) for name, _type, data in files]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(f"{RELEASE_FOLDER}/{name}", date_time=stamp)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Reading


def _patcher_from(payload: bytes, where: str) -> dict:
    """A patcher dict from JSON bytes that end at the first NUL (Max writes one; older Max wrote bytes after it)."""
    text = payload.split(b"\x00", 1)[0]
    try:
        patcher = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AmxdFormatError(f"{where}: the patcher is not valid JSON ({error})") from error
    if not isinstance(patcher, dict) or not isinstance(patcher.get("patcher"), dict):
        raise AmxdFormatError(f"{where}: the JSON has no 'patcher' object, so it is not a Max patcher")
    return patcher


def _be(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _read_entry(entry: bytes, ptch: bytes, limit: int, where: str) -> EmbeddedFile:
    values, order, pos = {}, [], 0
    while pos < len(entry):
        if pos + 8 > len(entry):
            raise AmxdFormatError(f"{where}: a directory field is cut short")
        tag = entry[pos : pos + 4].decode("ascii", "replace")
        size = _be(entry[pos + 4 : pos + 8])
        if size < 8 or pos + size > len(entry):
            raise AmxdFormatError(f"{where}: directory field {tag!r} claims {size} bytes, more than its entry holds")
        values[tag] = entry[pos + 8 : pos + size]
        order.append((tag, size))
        pos += size
    missing = [tag for tag in ("type", "fnam", "sz32", "of32") if tag not in values]
    if missing:
        raise AmxdFormatError(f"{where}: a directory entry lacks {', '.join(missing)}")
    name = values["fnam"].rstrip(b"\x00").decode("utf-8", "replace")
    offset, size = _be(values["of32"]), _be(values["sz32"])
    if offset < COLLECTIVE_HEADER_SIZE or offset + size > limit:
        raise AmxdFormatError(
            f"{where}: {name} is said to lie at bytes {offset}..{offset + size} of the frozen data, outside it "
            f"({COLLECTIVE_HEADER_SIZE}..{limit}): the file is damaged"
        )
    modified = None
    if "mdat" in values:
        modified = datetime.datetime.fromtimestamp(_be(values["mdat"]) - HFS_TO_UNIX, datetime.UTC)
    return EmbeddedFile(
        name=name,
        type=values["type"].rstrip(b"\x00").decode("ascii", "replace"),
        data=ptch[offset : offset + size],
        offset=offset,
        flags=_be(values.get("flag", b"")),
        version=_be(values.get("vers", b"")),
        modified=modified,
        fields=tuple(order),
    )


def read_frozen(ptch: bytes, where: str = "the .amxd") -> tuple[EmbeddedFile, ...]:
    """The files of a frozen ptch chunk (a Max collective), in directory order."""
    if len(ptch) < COLLECTIVE_HEADER_SIZE or ptch[:4] != COLLECTIVE_MAGIC:
        raise AmxdFormatError(f"{where}: the frozen data does not start with 'mx@c'")
    directory_at = _be(ptch[8:16])
    if directory_at + 8 > len(ptch):
        raise AmxdFormatError(
            f"{where}: the frozen data says its directory starts at byte {directory_at}, past its end ({len(ptch)}): "
            "the file is cut short"
        )
    directory = ptch[directory_at:]
    if directory[:4] != b"dlst":
        raise AmxdFormatError(f"{where}: no 'dlst' directory at byte {directory_at} of the frozen data")
    size = _be(directory[4:8])
    if size < 8 or size > len(directory):
        raise AmxdFormatError(f"{where}: the directory claims {size} bytes but {len(directory)} remain")
    files, pos, body = [], 8, directory[:size]
    while pos < len(body):
        if body[pos : pos + 4] != b"dire" or pos + 8 > len(body):
            raise AmxdFormatError(f"{where}: expected a 'dire' entry at byte {directory_at + pos} of the frozen data")
        entry_size = _be(body[pos + 4 : pos + 8])
        if entry_size < 8 or pos + entry_size > len(body):
            raise AmxdFormatError(
                f"{where}: a directory entry claims {entry_size} bytes, more than the directory holds"
            )
        files.append(_read_entry(body[pos + 8 : pos + entry_size], ptch, directory_at, where))
        pos += entry_size
    if not files:
        raise AmxdFormatError(f"{where}: the frozen data lists no files")
    return tuple(files)


def parse_amxd(data: bytes, name: str = "the .amxd") -> AmxdDevice:
    """Everything an .amxd holds. Raises AmxdFormatError (EncryptedDeviceError for encrypted devices)."""
    if data[:4] != b"ampf":
        raise AmxdFormatError(f"{name} is not a Max for Live device: it starts with {data[:4]!r}, not 'ampf'")
    offset, tags, payloads = 0, [], {}
    while offset < len(data):
        if offset + 8 > len(data):
            raise AmxdFormatError(f"{name}: {len(data) - offset} stray bytes after the last chunk: the file is damaged")
        tag = data[offset : offset + 4].decode("ascii", "replace")
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        if offset + 8 + size > len(data):
            raise AmxdFormatError(
                f"{name}: the '{tag}' chunk at byte {offset} says {size} bytes but only {len(data) - offset - 8} "
                "remain: the file is cut short (copy it again)"
            )
        tags.append(tag)
        payloads.setdefault(tag, data[offset + 8 : offset + 8 + size])
        offset += 8 + size
    if "ciph" in payloads:
        raise EncryptedDeviceError(
            f"{name} is an encrypted Max for Live device (it has a 'ciph' chunk): its patcher and files are "
            "enciphered and cannot be read outside Max. Open it in Live or Max instead."
        )
    if "ptch" not in payloads:
        raise AmxdFormatError(f"{name}: no 'ptch' chunk, so there is no patcher in it (chunks: {', '.join(tags)})")
    ptch = payloads["ptch"]
    files: tuple[EmbeddedFile, ...] = ()
    if ptch[:4] == COLLECTIVE_MAGIC:
        files = read_frozen(ptch, name)
        patcher = _patcher_from(files[0].data, f"{name}: {files[0].name}")
    else:
        patcher = _patcher_from(ptch, name)
    return AmxdDevice(
        device_type=payloads.get("ampf", b""),
        meta=payloads.get("meta", b""),
        chunks=tuple(tags),
        patcher=patcher,
        files=files,
    )


def read_amxd(data: bytes) -> tuple[bytes, dict]:
    """Parses .amxd bytes, frozen or not, into (device type, patcher dict)."""
    device = parse_amxd(data)
    return device.device_type, device.patcher


def describe(device: AmxdDevice, name: str) -> str:
    """A few lines on what an .amxd holds, for --read."""
    kinds = {b"aaaa": "Audio Effect", b"mmmm": "MIDI Effect", b"iiii": "Instrument"}
    kind = kinds.get(device.device_type, repr(device.device_type))
    boxes = len(device.patcher["patcher"].get("boxes", []))
    lines = [f"{name}: {kind}, {'frozen' if device.frozen else 'not frozen'}, {boxes} boxes in the device patcher"]
    for entry in device.files:
        when = entry.modified.strftime("%Y-%m-%d %H:%M:%S UTC") if entry.modified else "no date"
        lines.append(f"  {entry.name}: {entry.type}, {len(entry.data)} bytes, modified {when}, flag {entry.flags:#x}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=TARGET, help="the unfrozen device")
    parser.add_argument("--frozen-output", type=Path, default=FROZEN_TARGET, help="the frozen device")
    parser.add_argument("--check", action="store_true", help="compare with the existing outputs instead of writing")
    parser.add_argument("--zip", type=Path, help="also write the release archive here")
    parser.add_argument("--read", type=Path, metavar="FILE", help="describe an .amxd and exit")
    args = parser.parse_args(argv)
    try:
        if args.read:
            print(describe(parse_amxd(args.read.read_bytes(), args.read.name), str(args.read)))
            return 0
        patcher = load_patcher(args.source)
        files = dependencies(patcher, DEVICE_DIR, args.source)
        outputs = {args.output: build_amxd(patcher), args.frozen_output: freeze_amxd(patcher, files)}
    except (PatcherSourceError, AmxdFormatError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.check:
        stale = [path for path, data in outputs.items() if not path.exists() or path.read_bytes() != data]
        for path in stale:
            print(f"{path} is out of date: run python3 {Path(__file__).name}", file=sys.stderr)
        if stale:
            return 1
        for path, data in outputs.items():
            print(f"{path} is up to date ({len(data)} bytes)")
        return 0
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes, {DEVICE_TYPE.decode()})")
    if args.zip:
        archive = build_release_zip(outputs[args.output], outputs[args.frozen_output], files)
        args.zip.parent.mkdir(parents=True, exist_ok=True)
        args.zip.write_bytes(archive)
        print(f"wrote {args.zip} ({len(archive)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
