"""Warm starts: the latest optimized initial noise x_T* of each lineage, kept in the daemon's data folder.

A lineage names "the same idea being tweaked" (the device derives it from the task, its track, the clip or range
and the seed; see docs/PROTOCOL.md, field ``lineage``). When a job of a lineage finishes, its x_T*
``(takes, *latent)`` becomes the lineage's latest. The next job of that lineage starts its optimization from it
instead of seeded noise when it fits (`incompatibility`): same model, same latent shape (the same duration), and
at least as many stored takes as the job asks for (the first ones are used). When it does not fit the job starts
from seeded noise and the reason is logged and written into the sidecar; it is never an error.

Layout under ``<data_dir>/lineages/``, one pair per lineage. File names come from a digest of the lineage, so a
lineage never reaches outside the folder and two lineages that differ only in case never share a file:

    <digest>.json           {lineage, job_id, model, latent_shape, takes, dtype, tensor, saved_at}
    <digest>-<token>.pt     x_T* as `torch.save` writes it (what `engine.api.initial_noise` loads)

Every file goes through `engine.safe_files`: a write goes to an exclusive temporary name in the folder
that no one can predict and is published atomically: first the tensor, under a name no other file has and never
replacing one, then the JSON that points to it (replacing the directory entry, never following a link); the
tensor the JSON named before is removed last. A reader therefore always finds a complete pair, and nothing but
the lineage's own pointer is ever replaced. Reads open regular files only, never through a link, bounded in
size. Only the worker's thread writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ditto_bridge.errors import BridgeError
from engine.safe_files import UnsafeFileError, folder, open_regular, read_regular

log = logging.getLogger("ditto_bridge.lineage")

FOLDER_NAME = "lineages"
LINEAGE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""The same rule as a job's ``id``: 1 to 64 letters, digits, ``_``, ``-`` or ``.``."""
_TEMP_SUFFIX = ".tmp"
"""Temporary names of earlier versions (``.<name>.<pid>-<token>.tmp``), still removed at start."""
TEMP_OWNER = "lineage"
"""Tag of this store's temporary names (the folder belongs to one data folder, hence to one daemon)."""
MAX_ENTRY_BYTES = 1_000_000
MAX_TENSOR_BYTES = 2_000_000_000
_ENTRY_NAME = re.compile(r"^[0-9a-f]{24}\.json$")
_TENSOR_NAME = re.compile(r"^([0-9a-f]{24})-[0-9a-f]{12}\.pt$")


class LineageStoreError(BridgeError):
    """The lineage store cannot be read or written (the message names the file and says what to check)."""


@dataclass(frozen=True)
class LineageEntry:
    """The latest x_T* of one lineage: which job made it, for which model and latent shape, with how many takes."""

    lineage: str
    job_id: str
    model: str
    latent_shape: tuple[int, ...]
    """The shape of one take's latent, e.g. ``(80, 518)`` (mel bins, frames) for 6 s of the built-in model."""
    takes: int
    tensor: Path
    """The ``.pt`` file holding x_T* ``(takes, *latent_shape)``."""
    dtype: str = "torch.float32"
    saved_at: float = 0.0


@dataclass(frozen=True)
class WarmStart:
    """Where a job starts: the x_T* in `path` (made by job `from_job`), or seeded noise when `path` is None.

    `note` says why a job of a lineage did not start from the lineage's x_T* (None when it did, or when the
    lineage had none yet).
    """

    path: str | None = None
    from_job: str | None = None
    note: str | None = None


def store_folder(data_dir: Path) -> Path:
    """Where the daemon keeps its lineages: ``<data_dir>/lineages``."""
    return Path(data_dir) / FOLDER_NAME


def lineage_digest(lineage: str) -> str:
    """The file-name stem of a lineage: 24 hex digits of its SHA-256."""
    return hashlib.sha256(lineage.encode("utf-8")).hexdigest()[:24]


def incompatibility(entry: LineageEntry, *, model: str, latent_shape: tuple[int, ...], takes: int) -> str | None:
    """Why `entry` cannot start a job of `model` with latents `latent_shape` and `takes` takes; None when it can.

    The rule follows `engine.api.initial_noise`, which needs the same latent shape and takes take i from stored
    take i. With fewer stored takes than asked, takes would repeat the same start (identical takes), so that
    falls back to seeded noise too.
    """
    if entry.model != model:
        return (f"its latest x_T* (job {entry.job_id}) was made with model {entry.model!r}, this job uses "
                f"{model!r}")
    if tuple(entry.latent_shape) != tuple(latent_shape):
        return (f"its latest x_T* (job {entry.job_id}) has latent shape {tuple(entry.latent_shape)}, this job needs "
                f"{tuple(latent_shape)} (a different length)")
    if entry.takes < takes:
        return (f"its latest x_T* (job {entry.job_id}) holds {entry.takes} take{'s' if entry.takes != 1 else ''}, "
                f"this job asks for {takes}")
    return None


class LineageStore:
    """The latest x_T* per lineage in `folder` (see the module docstring for the layout)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    # ---------------------------------------------------------------------------------------------- reading
    def latest(self, lineage: str) -> LineageEntry | None:
        """The lineage's latest entry, or None when it has none. LineageStoreError when its files are damaged."""
        _check_lineage(lineage)
        path = self._entry_path(lineage)
        try:
            raw = json.loads(read_regular(path, max_bytes=MAX_ENTRY_BYTES).decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LineageStoreError(f"{path}: cannot read the lineage's entry ({error}); delete the file to start "
                                    f"the lineage afresh") from error
        try:
            entry = LineageEntry(lineage=str(raw["lineage"]), job_id=str(raw["job_id"]), model=str(raw["model"]),
                                 latent_shape=tuple(int(n) for n in raw["latent_shape"]), takes=int(raw["takes"]),
                                 tensor=self.folder / Path(str(raw["tensor"])).name, dtype=str(raw.get("dtype", "")),
                                 saved_at=float(raw.get("saved_at", 0.0)))
        except (KeyError, TypeError, ValueError) as error:
            raise LineageStoreError(f"{path}: the lineage's entry lacks or mangles {error}; delete the file to "
                                    f"start the lineage afresh") from error
        if entry.lineage != lineage:
            raise LineageStoreError(f"{path}: holds lineage {entry.lineage!r}, expected {lineage!r}")
        if not _is_regular(entry.tensor):
            raise LineageStoreError(f"{path}: names {entry.tensor.name}, which is missing (or not a regular file)")
        return entry

    def load(self, entry: LineageEntry) -> Any:
        """The x_T* tensor ``(takes, *latent_shape)`` of `entry`, on the CPU."""
        import torch

        try:
            with open_regular(entry.tensor, max_bytes=MAX_TENSOR_BYTES) as handle:
                return torch.load(handle, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, ValueError, EOFError) as error:
            raise LineageStoreError(f"{entry.tensor}: cannot read x_T* ({error})") from error

    def warm_start(self, lineage: str, *, model: str, latent_shape: tuple[int, ...], takes: int) -> WarmStart:
        """Where a job of `lineage` starts: the lineage's x_T* when it fits, else seeded noise with a note."""
        try:
            entry = self.latest(lineage)
        except LineageStoreError as error:
            return WarmStart(note=f"lineage {lineage!r}: {error}; starting from seeded noise")
        if entry is None:
            return WarmStart()
        reason = incompatibility(entry, model=model, latent_shape=latent_shape, takes=takes)
        if reason is not None:
            return WarmStart(note=f"lineage {lineage!r}: {reason}; starting from seeded noise")
        return WarmStart(path=str(entry.tensor), from_job=entry.job_id)

    # ---------------------------------------------------------------------------------------------- writing
    def record(self, lineage: str, job_id: str, model: str, x_T: Any) -> LineageEntry:
        """Make `x_T` ``(takes, *latent)`` (a CPU tensor) the lineage's latest, as made by job `job_id`."""
        import torch

        _check_lineage(lineage)
        if not isinstance(x_T, torch.Tensor) or x_T.dim() < 2:
            raise LineageStoreError(f"x_T of job {job_id} must be a tensor (takes, *latent), got "
                                    f"{getattr(x_T, 'shape', type(x_T).__name__)}")
        digest = lineage_digest(lineage)
        entry_path = self._entry_path(lineage)
        try:
            previous = self.latest(lineage)
        except LineageStoreError as error:
            log.warning("lineage %s: replacing a damaged entry (%s)", lineage, error)
            previous = None
        tensor_path = self.folder / f"{digest}-{uuid.uuid4().hex[:12]}.pt"
        entry = LineageEntry(lineage=lineage, job_id=job_id, model=model, latent_shape=tuple(x_T.shape[1:]),
                             takes=int(x_T.shape[0]), tensor=tensor_path, dtype=str(x_T.dtype), saved_at=time.time())
        text = json.dumps({"lineage": entry.lineage, "job_id": entry.job_id, "model": entry.model,
                           "latent_shape": list(entry.latent_shape), "takes": entry.takes, "dtype": entry.dtype,
                           "tensor": tensor_path.name, "saved_at": entry.saved_at}, indent=2).encode("utf-8")
        try:
            with folder(self.folder, create=True) as where:
                if not where.write_new(tensor_path.name, lambda handle: torch.save(x_T.detach().cpu().contiguous(),
                                                                                   handle), owner=TEMP_OWNER):
                    raise FileExistsError(f"{tensor_path} exists already")
                where.write_new(entry_path.name, lambda handle: handle.write(text), owner=TEMP_OWNER, replace=True)
        except OSError as error:
            if not isinstance(error, FileExistsError):
                _unlink_entry(tensor_path)
            raise LineageStoreError(f"{self.folder}: cannot save the x_T* of lineage {lineage!r} ({error}); check "
                                    f"the data folder is writable and the disk not full") from error
        if previous is not None and previous.tensor != tensor_path:
            _unlink_entry(previous.tensor)
        return entry

    def remove_leftovers(self) -> list[Path]:
        """Delete what a stopped daemon may have left: temporary files and tensors no entry names. Returns them."""
        try:
            with folder(self.folder) as where:
                names = where.names()
                named = set()
                for name in names:
                    if _ENTRY_NAME.match(name):
                        try:
                            raw = json.loads(where.read_regular(name, max_bytes=MAX_ENTRY_BYTES).decode("utf-8"))
                            named.add(Path(str(raw["tensor"])).name)
                        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
                            continue
                removed = where.remove_own_temps(TEMP_OWNER)
                for name in names:
                    info = where.lstat(name)
                    stray_temp = name.startswith(".") and name.endswith(_TEMP_SUFFIX)
                    orphan = _TENSOR_NAME.match(name) is not None and name not in named
                    if info is not None and stat.S_ISREG(info.st_mode) and (stray_temp or orphan):
                        where.unlink(name)
                        removed.append(self.folder / name)
                return removed
        except FileNotFoundError:
            return []

    def _entry_path(self, lineage: str) -> Path:
        return self.folder / f"{lineage_digest(lineage)}.json"


def _check_lineage(lineage: str) -> None:
    if not isinstance(lineage, str) or not LINEAGE_PATTERN.match(lineage):
        raise LineageStoreError(f"lineage: must be 1 to 64 letters, digits, '_', '-' or '.', got {lineage!r}")


def _is_regular(path: Path) -> bool:
    """Whether `path` itself (not what a link there points to) is a regular file."""
    try:
        return stat.S_ISREG(os.stat(path, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _unlink_entry(path: Path) -> None:
    """Remove the directory entry `path` (a link is removed, never what it points to)."""
    try:
        with folder(path.parent) as where:
            where.unlink(path.name)
    except (FileNotFoundError, UnsafeFileError):
        pass
