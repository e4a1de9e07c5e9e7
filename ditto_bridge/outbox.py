"""Writing takes to the outbox: at the set's sample rate and channel count, atomically, never overwriting.

Every file goes through `engine.safe_files`: a take is written under a temporary name no one can predict,
created exclusively in the outbox itself (``.<stem>.wav.<owner>-<random>.partial``, never through a link), then
published under its final name with a rename that fails rather than replace anything (``RENAME_NOREPLACE``, or
a hard link). A watcher (Live's browser, a script) therefore never sees half a WAV, an earlier render is never
replaced, and a file or link planted in the outbox is never written through: names are
``<name>_<task>_s<seed>_t<take>.wav``, then ``_2``, ``_3``...

The sidecar JSON (same stem, ``.json``) is published first, so whoever sees a WAV finds its sidecar beside it.
The sidecar names the job and the take (``ditto_bridge.job_id``, ``ditto_bridge.take``): `published_take` finds a
take a job already published, so a job run again after a crash never writes a second copy of it. It also carries
the take's own summary (``ditto_bridge.summary``), which `published_summary` reads back for the ``/ditto/done`` of
a take published before a restart.
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ditto_bridge.errors import OutboxError
from engine.audio.io import encode_wav
from engine.audio.resample import match_channels, resample_array
from engine.safe_files import PARTIAL_SUFFIX, Folder, UnsafeFileError, folder

MAX_SIDECAR_BYTES = 16_000_000
"""A sidecar read back (to find a take already published) is at most this large."""
MAX_SUFFIX = 10_000
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
__all__ = ["PARTIAL_SUFFIX", "convert", "published_take", "remove_own_partials", "safe_stem", "take_stem",
           "write_take"]


def safe_stem(text: str, *, limit: int = 60, limit_bytes: int = 120) -> str:
    """A file-name-safe version of a take name that keeps its letters, in any script (``名前🎵`` -> ``名前``).

    The text is NFC-normalized; letters, marks and digits of any script, ``-``, ``_`` and ``.`` stay, every
    other run of characters (spaces, symbols, emoji, path separators, control characters) becomes one ``_``.
    At most `limit` characters and `limit_bytes` bytes of UTF-8; names Windows reserves get a ``_`` in front.
    """
    text = unicodedata.normalize("NFC", text)
    kept = "".join(ch if ch in "-_." or unicodedata.category(ch)[0] in "LMN" else " " for ch in text)
    cleaned = re.sub(r"\s+", "_", kept.strip()).strip("._")[:limit]
    while len(cleaned.encode("utf-8")) > limit_bytes:
        cleaned = cleaned[:-1]
    cleaned = cleaned.strip("._")
    if cleaned.split(".")[0].upper() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return cleaned or "take"


def take_stem(name: str, task: str, seed: int, take: int) -> str:
    """``<name>_<task>_s<seed>_t<take>`` with `take` counted from 1."""
    return f"{safe_stem(name)}_{safe_stem(task)}_s{seed}_t{take}"


def convert(audio: np.ndarray, in_rate: int, out_rate: int, channels: int) -> np.ndarray:
    """Audio ``(channels, samples)`` float at `in_rate` -> ``(channels, samples)`` float32 at `out_rate`, in
    [-1, 1]: resampled by `engine.audio.resample.resample_array` (soxr, high quality) and given `channels` by
    `engine.audio.resample.match_channels` (mono copied to every channel, one channel is the mix)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise OutboxError(f"audio must be (channels, samples), got shape {audio.shape}")
    return np.clip(match_channels(resample_array(audio, in_rate, out_rate), channels), -1.0, 1.0)


def write_take(outbox: Path, stem: str, audio: np.ndarray, *, in_rate: int, out_rate: int, channels: int,
               sidecar: dict[str, Any], subtype: str = "PCM_24", owner: str = "bridge") -> Path:
    """Write one take and its sidecar; returns the WAV's final path.

    `audio` is ``(channels, samples)`` float at `in_rate`; the WAV is `out_rate` Hz with `channels` channels.
    `owner` tags the temporary names (`engine.safe_files.owner_tag` of the daemon's data folder).
    """
    frames = convert(audio, in_rate, out_rate, channels)
    try:
        with folder(outbox, create=True) as where:
            wav_handle, wav_temp = where.create_temp(f"{stem}.wav", owner)
            try:
                with wav_handle:
                    encode_wav(wav_handle, frames, out_rate, subtype)
                    wav_handle.flush()
                    os.fsync(wav_handle.fileno())
                for suffix in range(1, MAX_SUFFIX):
                    final_stem = stem if suffix == 1 else f"{stem}_{suffix}"
                    wav, side = f"{final_stem}.wav", f"{final_stem}.json"
                    if where.exists(wav) or where.exists(side):
                        continue
                    content = dict(sidecar, wav=str(Path(outbox) / wav), wav_sample_rate=out_rate,
                                   wav_channels=channels, wav_frames=int(frames.shape[1]), wav_subtype=subtype)
                    text = json.dumps(content, indent=2, default=_jsonable).encode("utf-8")
                    if not where.write_new(side, lambda handle: handle.write(text), owner=owner):
                        continue
                    _test_hold("sidecar-published", side)
                    if where.publish(wav_temp, wav):
                        where.sync()
                        _test_hold("wav-published", wav)
                        return Path(outbox) / wav
                    where.unlink(side)  # the WAV name was taken meanwhile: try the next name
            finally:
                where.unlink(wav_temp)
    except (OSError, sf.LibsndfileError) as error:
        raise OutboxError(f"outbox {outbox}: cannot write {stem}.wav ({error}); check the folder is writable "
                          f"and the disk not full") from error
    raise OutboxError(f"outbox {outbox}: {MAX_SUFFIX} takes are named {stem}; move some away")


def published_take(outbox: Path, stem: str, job_id: str, take: int) -> Path | None:
    """The WAV of take `take` of job `job_id` already published under `stem` (or ``stem_N``), else None.

    A sidecar of that take without its WAV (the daemon was killed between publishing the two) is removed, so the
    take is written afresh under its first free name.
    """
    pattern = re.compile(rf"^{re.escape(stem)}(_[0-9]+)?\.json$")
    try:
        with folder(outbox) as where:
            for name in sorted(where.names()):
                if not pattern.match(name) or not _sidecar_of(where, name, job_id, take):
                    continue
                wav = name[: -len(".json")] + ".wav"
                info = where.lstat(wav)
                if info is not None and stat.S_ISREG(info.st_mode):
                    return Path(outbox) / wav
                where.unlink(name)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise OutboxError(f"outbox {outbox}: cannot look for the takes of job {job_id} ({error})") from error
    return None


def take_report(result: Any, take: int) -> tuple[list[dict[str, Any]], str]:
    """Take `take`'s own control reports (as its sidecar's ``ditto_bridge.controls_report`` holds them) and its
    summary line, from an engine result; ([], '') when the job has no controls."""
    reports = result.control_reports[take] if take < len(result.control_reports) else []
    if not reports:
        return [], ""
    return [report.to_dict() for report in reports], result.summaries[take]


def published_summary(wav: Path) -> str:
    """The summary of the take `wav` from its sidecar (``ditto_bridge.summary``); '' when it has none or cannot
    be read (a regular file only, bounded, never through a link)."""
    wav = Path(wav)
    try:
        with folder(wav.parent) as where:
            data = json.loads(where.read_regular(wav.stem + ".json", max_bytes=MAX_SIDECAR_BYTES))
    except (UnsafeFileError, OSError, ValueError):
        return ""
    meta = data.get("ditto_bridge") if isinstance(data, dict) else None
    summary = meta.get("summary") if isinstance(meta, dict) else None
    return summary if isinstance(summary, str) else ""


def _sidecar_of(where: Folder, name: str, job_id: str, take: int) -> bool:
    try:
        data = json.loads(where.read_regular(name, max_bytes=MAX_SIDECAR_BYTES))
    except (UnsafeFileError, OSError, ValueError):
        return False
    meta = data.get("ditto_bridge") if isinstance(data, dict) else None
    return isinstance(meta, dict) and meta.get("job_id") == job_id and meta.get("take") == take


def _test_hold(point: str, name: str) -> None:
    """Test hook: with ``DITTO_BRIDGE_TEST_HOLD=<point>:<marker file>`` set, the first time `point` is reached
    the marker file is written (naming the file just published) and the worker waits there for 120 s, so a test
    can kill the daemon at that exact moment. Unset, this does nothing."""
    setting = os.environ.get("DITTO_BRIDGE_TEST_HOLD", "")
    wanted, _, marker = setting.partition(":")
    if wanted != point or not marker or os.path.lexists(marker):
        return
    import time

    Path(marker).write_text(name, encoding="utf-8")
    time.sleep(120)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def remove_own_partials(outbox: Path, owner: str) -> list[Path]:
    """Delete the temporary files this daemon (`owner`) left when it was killed; another daemon's are kept."""
    try:
        with folder(outbox) as where:
            return where.remove_own_temps(owner)
    except FileNotFoundError:
        return []
