"""Every file the daemon reads, writes or moves, and every file the engine writes, goes through here: inside
its folders, never through a link.

The daemon runs beside a producer's whole home folder and takes paths from anyone who can reach its port, so
each file operation follows four rules:

* **Resolve inside.** A path a request names is made absolute (relative to a folder the caller names, never
  the daemon's working folder), links resolved, and must lie inside one of the allowed folders
  (`resolve_inside`). The error for a path outside says only that it is outside: it never tells whether the
  file exists.
* **Read only regular files, bounded.** `open_regular` opens without following a link in the last component
  (``O_NOFOLLOW``) and without blocking (``O_NONBLOCK``: a FIFO cannot stall the reader), checks with `fstat`
  that it opened a regular file no larger than the bound, and `read_regular` never reads past the bound even
  when the file grows.
* **Write exclusively.** A new file is written under a temporary name that no one can predict
  (``.<final name>.<owner>-<16 random hex digits>.partial``), created with ``O_CREAT | O_EXCL | O_NOFOLLOW``
  in the destination folder itself, so a planted file or link makes the creation fail instead of being written
  through. The ``owner`` tag names the daemon's data folder, so start-up removes only its own leftovers
  (`remove_own_temps`), never another daemon's.
* **Publish atomically, never replacing.** `publish` gives the temporary file its final name with
  ``renameat2(RENAME_NOREPLACE)`` (Linux) or ``renameatx_np(RENAME_EXCL)`` (macOS), else a hard link that
  fails when the name exists, then removes the temporary name. Either way an existing file, or a link planted
  under the final name, is never replaced or written through. `replace` (for a pointer file the daemon owns,
  such as a lineage's entry) replaces the directory entry itself, never what a link there points to.

Folders are opened once per operation with ``O_DIRECTORY | O_NOFOLLOW`` and every name is used relative to
that descriptor (where the OS supports it: Linux, macOS), so a folder swapped for a link between two steps is
refused rather than followed. On Windows, which has neither, the same calls use plain paths.

The engine's writers (WAVs, weights, corpus shards) use `write_file`: the same exclusive temporary file, then
an atomic replace of the final name.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from engine.errors import EngineError

PARTIAL_SUFFIX = ".partial"
MAX_NAME_BYTES = 255
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FD = os.open in os.supports_dir_fd and _O_DIRECTORY != 0
_LINK_ERRORS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS)


class UnsafeFileError(EngineError, OSError):
    """A path or file the daemon refuses to touch; the message names it and says what to do."""


class OutsideFoldersError(UnsafeFileError):
    """A path lies outside the folders the daemon may use (the message never says whether it exists)."""


class NotRegularFileError(UnsafeFileError):
    """The path is a link, a FIFO, a device or a folder where a regular file is needed."""


class FileTooLargeError(UnsafeFileError):
    """A file is larger than the daemon reads for that purpose."""


# ------------------------------------------------------------------------------------------------------- paths


def owner_tag(data_dir: Path) -> str:
    """The tag this daemon puts in its temporary names: 8 hex digits of its data folder's resolved path."""
    return hashlib.sha256(str(Path(data_dir).expanduser().resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:8]


def resolve_inside(raw: str | os.PathLike, roots: Iterable[Path], *, base: Path | None = None,
                   where: str = "path") -> Path:
    """`raw` absolute (relative to `base`), links resolved, inside one of `roots`; `OutsideFoldersError` if not.

    Nothing is opened. The message for a path outside the folders is the same whether or not it exists.
    """
    text = os.fspath(raw)
    if "\x00" in text:
        raise OutsideFoldersError(f"{where}: a path must not contain NUL characters")
    path = Path(text).expanduser()
    if not path.is_absolute():
        if base is None:
            raise OutsideFoldersError(f"{where}: must be an absolute path, got {_shown(text)}")
        path = Path(base) / path
    try:
        resolved = Path(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError) as error:  # a loop of links, a name too long
        raise OutsideFoldersError(f"{where}: {_shown(str(path))} cannot be resolved ({type(error).__name__})"
                                  ) from None
    for root in roots:
        if is_within(resolved, Path(os.path.realpath(root))):
            return resolved
    allowed = ", ".join(str(r) for r in roots) or "none"
    raise OutsideFoldersError(f"{where}: {_shown(str(path))} is outside the allowed folders ({allowed}); move the "
                              f"file there or add its folder to audio_dirs in the config")


def is_within(path: Path, root: Path) -> bool:
    """Whether `path` is `root` or below it (both already resolved)."""
    return path == root or root in path.parents


def _shown(text: str, limit: int = 200) -> str:
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


# ----------------------------------------------------------------------------------------------------- reading


def open_regular(path: Path, *, max_bytes: int | None = None, where: str | None = None) -> BinaryIO:
    """`path` opened for reading: never through a link, never blocking, a regular file of at most `max_bytes`."""
    where = where or str(path)
    _refuse_irregular(os.stat(path, follow_symlinks=False), where)  # before opening: a device is never opened
    fd = _open_nofollow(lambda flags: os.open(path, flags), where)
    return _checked_fd(fd, max_bytes, where)


def read_regular(path: Path, *, max_bytes: int, where: str | None = None) -> bytes:
    """The bytes of a regular file (see `open_regular`); `FileTooLargeError` past `max_bytes`, even if it grew."""
    with open_regular(path, max_bytes=max_bytes, where=where) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(f"{where or path}: grew past the {max_bytes} bytes this daemon reads")
    return data


def check_regular(path: Path, *, max_bytes: int | None = None, where: str | None = None) -> os.stat_result:
    """The `fstat` of `path` after `open_regular`'s checks (opened and closed again, nothing read)."""
    with open_regular(path, max_bytes=max_bytes, where=where) as handle:
        return os.fstat(handle.fileno())


# ----------------------------------------------------------------------------------------------------- folders


class Folder:
    """One folder, opened without following a link; names are used relative to it. Use as a context manager."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        self.fd: int | None = None
        if _DIR_FD:
            try:
                self.fd = os.open(self.path, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise NotRegularFileError(f"{self.path}: is not a folder (a symbolic link or a file); remove "
                                              f"it and let the daemon create the folder") from None
                raise
        elif self.path.is_symlink() or not self.path.is_dir():
            raise NotRegularFileError(f"{self.path}: is not a folder (a symbolic link or a file)")

    def __enter__(self) -> "Folder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _name(self, name: str) -> str | Path:
        if "/" in name or os.sep in name or name in ("", ".", ".."):
            raise UnsafeFileError(f"{self.path}: {name!r} is not a plain file name")
        return name if self.fd is not None else self.path / name

    def _kw(self) -> dict:
        return {"dir_fd": self.fd} if self.fd is not None else {}

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry's own status (a link is not followed), None when there is no such entry."""
        try:
            return os.stat(self._name(name), follow_symlinks=False, **self._kw())
        except FileNotFoundError:
            return None

    def exists(self, name: str) -> bool:
        """Whether any entry (a file, a folder, a link, even a dangling one) has this name."""
        return self.lstat(name) is not None

    def names(self) -> list[str]:
        return os.listdir(self.fd if self.fd is not None else self.path)

    def open_regular(self, name: str, *, max_bytes: int | None = None) -> BinaryIO:
        """Like the module's `open_regular`, for an entry of this folder."""
        if self.fd is None:
            return open_regular(self.path / name, max_bytes=max_bytes)
        where = str(self.path / name)
        info = self.lstat(name)
        if info is None:
            raise FileNotFoundError(errno.ENOENT, "no such file", where)
        _refuse_irregular(info, where)
        fd = _open_nofollow(lambda flags: os.open(self._name(name), flags, dir_fd=self.fd), where)
        return _checked_fd(fd, max_bytes, where)

    def read_regular(self, name: str, *, max_bytes: int) -> bytes:
        with self.open_regular(name, max_bytes=max_bytes) as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FileTooLargeError(f"{self.path / name}: grew past the {max_bytes} bytes this daemon reads")
        return data

    def subfolder(self, name: str) -> "Folder":
        """The subfolder `name`, created when missing. A link under that name is removed (never followed) first."""
        info = self.lstat(name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            os.unlink(self._name(name), **self._kw())
            info = None
        if info is None:
            try:
                os.mkdir(self._name(name), 0o755, **self._kw())
            except FileExistsError:
                pass
        elif not stat.S_ISDIR(info.st_mode):
            raise NotRegularFileError(f"{self.path / name}: is not a folder; move it away")
        if self.fd is None:
            return Folder(self.path / name)
        sub = Folder.__new__(Folder)
        sub.path = self.path / name
        try:
            sub.fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=self.fd)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise NotRegularFileError(f"{sub.path}: is not a folder") from None
            raise
        return sub

    # ----------------------------------------------------------------------------------------------- writing
    def create_temp(self, final_name: str, owner: str) -> tuple[BinaryIO, str]:
        """A new, empty temporary file for `final_name`: ``(writable file, its name)``; see the module docstring."""
        stem = final_name
        budget = MAX_NAME_BYTES - len(f"..{owner}-{'0' * 16}{PARTIAL_SUFFIX}")
        while len(stem.encode("utf-8", "surrogatepass")) > budget:
            stem = stem[:-1]
        for _ in range(100):
            name = f".{stem}.{owner}-{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
            try:
                fd = os.open(self._name(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC |
                             _O_BINARY, 0o644, **self._kw())
            except FileExistsError:
                continue
            return os.fdopen(fd, "wb"), name
        raise UnsafeFileError(f"{self.path}: could not create a temporary file for {final_name!r}")

    def publish(self, temp: str, final: str, *, into: "Folder | None" = None) -> bool:
        """Give the entry `temp` the name `final` (in `into`, default this folder) unless that name is taken.

        True when published; False when `final` exists (a file, a folder or a link: nothing is replaced).
        """
        target = into or self
        result = _rename_noreplace(self, temp, target, final)
        if result is not None:
            return result
        try:
            os.link(self._name(temp), target._name(final), follow_symlinks=False,
                    **({"src_dir_fd": self.fd, "dst_dir_fd": target.fd} if self.fd is not None else {}))
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in _LINK_ERRORS:
                raise
            return self._publish_without_links(temp, final, target)
        self.unlink(temp)
        return True

    def _publish_without_links(self, temp: str, final: str, target: "Folder") -> bool:
        """No hard links (FAT, exFAT, some network shares): claim `final` with O_EXCL, then move onto the claim."""
        try:
            fd = os.open(target._name(final), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
                         0o644, **target._kw())
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(self._name(temp), target._name(final),
                   **({"src_dir_fd": self.fd, "dst_dir_fd": target.fd} if self.fd is not None else {}))
        return True

    def replace(self, temp: str, final: str) -> None:
        """Give `temp` the name `final`, replacing that directory entry (a link there is replaced, not followed)."""
        os.replace(self._name(temp), self._name(final),
                   **({"src_dir_fd": self.fd, "dst_dir_fd": self.fd} if self.fd is not None else {}))

    def unlink(self, name: str, *, missing_ok: bool = True) -> None:
        try:
            os.unlink(self._name(name), **self._kw())
        except FileNotFoundError:
            if not missing_ok:
                raise

    def sync(self) -> None:
        """Make the folder's entries durable (a no-op where folders cannot be synced)."""
        if self.fd is not None:
            try:
                os.fsync(self.fd)
            except OSError:
                pass

    def write_new(self, final: str, write: Callable[[BinaryIO], None], *, owner: str, replace: bool = False) -> bool:
        """Write a file through `write(handle)` under a temporary name, sync it, publish it as `final`.

        Returns False (and leaves nothing behind) when `final` exists and `replace` is False.
        """
        handle, temp = self.create_temp(final, owner)
        try:
            with handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                self.replace(temp, final)
                published = True
            else:
                published = self.publish(temp, final)
            self.sync()
            return published
        finally:
            self.unlink(temp)

    def remove_own_temps(self, owner: str) -> list[Path]:
        """Delete the temporary files `owner` left here (a killed daemon's); others' are kept. Returns them."""
        pattern = re.compile(rf"^\..+\.{re.escape(owner)}-[0-9a-f]{{16}}{re.escape(PARTIAL_SUFFIX)}$", re.S)
        removed = []
        for name in self.names():
            if pattern.match(name):
                info = self.lstat(name)
                if info is not None and not stat.S_ISDIR(info.st_mode):
                    self.unlink(name)
                    removed.append(self.path / name)
        return removed


def _open_nofollow(opener: Callable[[int], int], where: str) -> int:
    """A read-only descriptor from `opener(flags)`: no link followed, no blocking on a FIFO."""
    try:
        return opener(os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC | _O_NOCTTY | _O_BINARY)
    except OSError as error:
        if error.errno == errno.ELOOP or (error.errno == errno.EMLINK and _O_NOFOLLOW):
            raise NotRegularFileError(f"{where}: is a symbolic link; put the file itself there") from None
        if error.errno in (errno.ENXIO, errno.EOPNOTSUPP, errno.ENODEV):  # a socket, a device without a driver
            raise NotRegularFileError(f"{where}: is not a regular file") from None
        raise


def _refuse_irregular(info: os.stat_result, where: str) -> None:
    """`NotRegularFileError` naming what `info` describes unless it is a regular file."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        raise NotRegularFileError(f"{where}: is a symbolic link; put the file itself there")
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
    raise NotRegularFileError(f"{where}: is {kind}, not a regular file")


def _checked_fd(fd: int, max_bytes: int | None, where: str) -> BinaryIO:
    """`fd` as a file after checking it is a regular file of at most `max_bytes` (closed when it is not)."""
    try:
        info = os.fstat(fd)
        _refuse_irregular(info, where)
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLargeError(f"{where}: {info.st_size} bytes is larger than the {max_bytes} this daemon reads")
        if _O_NONBLOCK:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# ------------------------------------------------------------------------------------------- rename, no replace

_RENAME_NOREPLACE = 1  # Linux renameat2 flag
_RENAME_EXCL = 0x00000004  # macOS renameatx_np flag
_libc: ctypes.CDLL | None = None
_native_rename: Callable[..., int] | None = None
_native_flag = 0
_native_checked = False


def _load_native_rename() -> None:
    global _libc, _native_rename, _native_flag, _native_checked
    _native_checked = True
    if not _DIR_FD:
        return
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return
    for symbol, flag in (("renameat2", _RENAME_NOREPLACE), ("renameatx_np", _RENAME_EXCL)):
        function = getattr(_libc, symbol, None)
        if function is not None:
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
            _native_rename, _native_flag = function, flag
            return


def _rename_noreplace(source: Folder, temp: str, target: Folder, final: str) -> bool | None:
    """True: renamed; False: `final` exists; None: this OS or file system has no such call (use links)."""
    if not _native_checked:
        _load_native_rename()
    if _native_rename is None or source.fd is None or target.fd is None:
        return None
    source._name(temp), target._name(final)  # refuse names with separators
    result = _native_rename(source.fd, os.fsencode(temp), target.fd, os.fsencode(final), _native_flag)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        return False
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return None  # the file system does not support it
    raise OSError(code, os.strerror(code), str(target.path / final))


# ----------------------------------------------------------------------------------------------------- helpers


@contextmanager
def folder(path: Path, *, create: bool = False) -> Iterator[Folder]:
    """`Folder` as a context manager that always closes it."""
    handle = Folder(path, create=create)
    try:
        yield handle
    finally:
        handle.close()


def write_file(path: str | os.PathLike, write: Callable[[BinaryIO], None], *, mode: int | None = None) -> Path:
    """Write `path` atomically through `write(handle)` (`Folder.write_new`, replacing; owner tag: this process's id).

    The folder is created when missing (links above it are followed); a link planted at the final name is replaced,
    never written through; nothing is left behind when `write` raises. `mode` (e.g. ``0o644``) is set whatever the
    umask; None keeps ``0o644`` less the umask. Returns `path` as a Path.
    """
    path = Path(path)

    def write_with_mode(handle: BinaryIO) -> None:
        if mode is not None and os.chmod in os.supports_fd:
            os.chmod(handle.fileno(), mode)
        write(handle)

    with folder(Path(os.path.realpath(path.parent)), create=True) as where:
        where.write_new(path.name, write_with_mode, owner=f"pid{os.getpid()}", replace=True)
    return path
