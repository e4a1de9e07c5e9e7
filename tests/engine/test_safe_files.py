"""The one helper for files that must be safe, the outbox and the engine's writers through it: planted links
are never written through."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from ditto_bridge.outbox import safe_stem, take_stem, write_take
from engine.safe_files import (FileTooLargeError, Folder, NotRegularFileError, OutsideFoldersError, read_regular,
                               resolve_inside, write_file)

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links and FIFOs as on macOS and Linux")


def tone(seconds=0.25, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * 440.0 * t))[None].astype(np.float32)


@pytest.fixture
def outside(tmp_path):
    """A folder outside the daemon's, holding a file that must never change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_text("precious")
    return folder


# ------------------------------------------------------------------------------------------------- F1: outbox


def test_links_planted_at_the_outbox_temp_and_final_names_are_never_written_through(tmp_path, outside):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    victim = outside / "victim.txt"
    for k in range(2000):  # every temporary name the predictable ``.<name>.<pid>-<k>.partial`` scheme would use
        for final in ("a.wav", "a.json"):
            os.symlink(victim, outbox / f".{final}.{os.getpid()}-{k}.partial")
    os.symlink(victim, outbox / "a.wav")  # and the take's own names: one to a file, one dangling
    os.symlink(outside / "created-by-the-daemon.json", outbox / "a.json")

    path = write_take(outbox, "a", tone(), in_rate=22050, out_rate=22050, channels=1, sidecar={"n": 1})

    assert victim.read_text() == "precious"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert path.name == "a_2.wav"  # the planted names are skipped, never replaced
    for published in (path, path.with_suffix(".json")):
        assert stat.S_ISREG(os.lstat(published).st_mode), f"{published.name} must be a regular file, not a link"
    assert sf.info(str(path)).frames == tone().shape[1]
    assert json.loads(path.with_suffix(".json").read_text())["n"] == 1
    assert os.readlink(outbox / "a.wav") == str(victim)  # the planted links themselves are left as they were


def test_temp_names_are_unpredictable_and_created_exclusively(tmp_path):
    names = set()
    with Folder(tmp_path) as folder:
        for _ in range(20):
            handle, name = folder.create_temp("a.wav", "abcd1234")
            handle.close()
            names.add(name)
    assert len(names) == 20 and all(n.startswith(".a.wav.abcd1234-") and n.endswith(".partial") for n in names)
    assert len({n.split("-")[-1] for n in names}) == 20  # 64 random bits each


def test_publish_never_replaces_an_existing_file_and_replace_never_follows_a_link(tmp_path, outside):
    with Folder(tmp_path) as folder:
        assert folder.write_new("x.txt", lambda h: h.write(b"first"), owner="t")
        assert not folder.write_new("x.txt", lambda h: h.write(b"second"), owner="t")
        os.symlink(outside / "victim.txt", tmp_path / "pointer.json")
        folder.write_new("pointer.json", lambda h: h.write(b"{}"), owner="t", replace=True)
    assert (tmp_path / "x.txt").read_bytes() == b"first"
    assert (outside / "victim.txt").read_text() == "precious"
    assert not (tmp_path / "pointer.json").is_symlink() and (tmp_path / "pointer.json").read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "pointer.json", "x.txt"]  # no temp left


def test_a_link_planted_as_a_subfolder_is_replaced_by_a_real_folder(tmp_path, outside):
    os.symlink(outside, tmp_path / "failed")
    with Folder(tmp_path) as folder, folder.subfolder("failed") as failed:
        failed.write_new("note.txt", lambda h: h.write(b"why"), owner="t")
    assert (tmp_path / "failed").is_dir() and not (tmp_path / "failed").is_symlink()
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]


# -------------------------------------------------------------------------------------------- engine writers


def test_write_file_replaces_the_file_there_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "shard_0000.npz"
    target.write_bytes(b"old")
    assert write_file(target, lambda handle: handle.write(b"new")) == target
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard_0000.npz"]


def test_write_file_keeps_the_old_file_and_leaves_no_temporary_file_when_the_writer_raises(tmp_path):
    target = tmp_path / "melody_cache.json"
    target.write_bytes(b"old")

    def half_then_fail(handle) -> None:
        handle.write(b"half")
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError, match="the writer failed"):
        write_file(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["melody_cache.json"]


def test_write_file_replaces_a_link_planted_at_the_final_name_and_never_writes_through_it(tmp_path, outside):
    folder = tmp_path / "out"
    folder.mkdir()
    os.symlink(outside / "victim.txt", folder / "take.wav")
    os.symlink(outside / "created-through-a-link.wav", folder / "dangling.wav")
    for name in ("take.wav", "dangling.wav"):
        write_file(folder / name, lambda handle: handle.write(b"take"))
        assert stat.S_ISREG(os.lstat(folder / name).st_mode) and (folder / name).read_bytes() == b"take"
    assert (outside / "victim.txt").read_text() == "precious"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert sorted(p.name for p in folder.iterdir()) == ["dangling.wav", "take.wav"]


def test_write_file_creates_folders_follows_a_linked_folder_and_sets_the_mode_whatever_the_umask(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    os.symlink(disk, tmp_path / "linked")
    previous = os.umask(0o077)
    try:
        deep = write_file(tmp_path / "new" / "deep" / "w.safetensors", lambda h: h.write(b"w"), mode=0o644)
        linked = write_file(tmp_path / "linked" / "x.wav", lambda h: h.write(b"x"), mode=0o644)
        plain = write_file(tmp_path / "plain.json", lambda h: h.write(b"{}"))
    finally:
        os.umask(previous)
    assert deep.read_bytes() == b"w" and (disk / "x.wav").read_bytes() == b"x" and linked.read_bytes() == b"x"
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in (deep, linked, plain)] == [0o644, 0o644, 0o600]


@pytest.mark.parametrize("writer", ["write_wav", "save_weights"])
def test_the_engine_writers_put_a_0o644_file_over_a_planted_link_and_leave_nothing_else(tmp_path, outside, writer,
                                                                                         tiny_model):
    target = tmp_path / ("take.wav" if writer == "write_wav" else "builtin.safetensors")
    os.symlink(outside / "victim.txt", target)
    previous = os.umask(0o077)
    try:
        if writer == "write_wav":
            from engine.audio.io import write_wav

            write_wav(target, tone(), 22050)
        else:
            from engine.models.builtin.weights import BuiltinWeights, load_weights, save_weights

            save_weights(target, BuiltinWeights(tiny_model.network.config, tiny_model.network.state_dict(),
                                                tiny_model._mean.view(-1), tiny_model._std.view(-1), tiny_model.tags,
                                                tiny_model.schedule, {"trained": True}))
    finally:
        os.umask(previous)
    assert (outside / "victim.txt").read_text() == "precious"
    assert stat.S_ISREG(os.lstat(target).st_mode) and stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["outside", target.name])
    if writer == "write_wav":
        assert sf.info(str(target)).frames == tone().shape[1]
    else:
        assert load_weights(target).tags == tiny_model.tags


# --------------------------------------------------------------------------------------------------- reading


def test_reads_refuse_links_fifos_devices_and_files_over_the_bound_without_blocking(tmp_path, outside):
    (tmp_path / "ok.json").write_text("{}")
    os.symlink(outside / "victim.txt", tmp_path / "link.json")
    os.symlink("/dev/zero", tmp_path / "zero.json")
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_bytes(b" " * 2000)
    assert read_regular(tmp_path / "ok.json", max_bytes=100) == b"{}"
    started = time.monotonic()
    for name, error, words in (("link.json", NotRegularFileError, "symbolic link"),
                               ("zero.json", NotRegularFileError, "symbolic link"),
                               ("fifo.json", NotRegularFileError, "FIFO"),
                               ("big.json", FileTooLargeError, "2000 bytes is larger than the 1000")):
        with pytest.raises(error, match=words):
            read_regular(tmp_path / name, max_bytes=1000)
        with Folder(tmp_path) as folder, pytest.raises(error, match=words):
            folder.read_regular(name, max_bytes=1000)
    with pytest.raises(NotRegularFileError, match="device"):
        read_regular(__import__("pathlib").Path("/dev/zero"), max_bytes=10)
    assert time.monotonic() - started < 2.0  # nothing blocked


def test_a_file_that_grows_past_the_bound_while_read_is_refused(tmp_path):
    path = tmp_path / "growing.json"
    path.write_bytes(b"x" * 10)
    stop = threading.Event()

    def grow() -> None:
        with open(path, "ab") as handle:
            while not stop.is_set():
                handle.write(b"x" * 65536)
                handle.flush()

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        time.sleep(0.05)
        with pytest.raises(FileTooLargeError):
            for _ in range(50):
                read_regular(path, max_bytes=100_000)
    finally:
        stop.set()
        writer.join()


def test_paths_resolve_inside_the_allowed_folders_and_the_error_never_tells_whether_a_file_exists(tmp_path):
    root = tmp_path / "audio"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.wav").write_bytes(b"")
    assert resolve_inside("sub/a.wav", [root], base=root) == (root / "sub" / "a.wav").resolve()
    os.symlink("/etc", root / "etc-link")
    messages = []
    for raw in ("/etc/passwd", "/etc/no-such-file-here", str(root / "etc-link" / "passwd"), "../../etc/passwd",
                str(root / ".." / "outside.wav")):
        with pytest.raises(OutsideFoldersError) as caught:
            resolve_inside(raw, [root], base=root, where="warm_start")
        messages.append(str(caught.value).replace(repr(raw), "<path>"))
    assert "outside the allowed folders" in messages[0]
    assert messages[0] == messages[1]  # an existing and a missing file outside read the same
    with pytest.raises(OutsideFoldersError, match="must be an absolute path"):
        resolve_inside("a.wav", [root])  # never relative to the daemon's working folder
    with pytest.raises(OutsideFoldersError, match="NUL"):
        resolve_inside("a\x00.wav", [root], base=root)


# ------------------------------------------------------------------------------------------------ take names


@pytest.mark.parametrize("name, stem", [
    ("名前🎵", "名前"),
    ("Café del Mar", "Café_del_Mar"),
    ("Noe\u0308l", "No\u00ebl"),  # NFD input comes out NFC
    ("../../etc/passwd", "etc_passwd"),
    ("a/b\\c:d*e?f", "a_b_c_d_e_f"),
    ("🎵🎵", "take"),
    ("con", "_con"),
    ("\ud800x", "x"),
])
def test_take_names_keep_their_letters_in_any_script_and_stay_file_name_safe(name, stem):
    assert safe_stem(name) == stem


def test_a_long_name_in_any_script_fits_a_file_name_with_its_suffixes():
    stem = take_stem("語" * 200, "generate", 2**31 - 1, 16)
    assert len(f".{stem}_99.json.abcd1234-0123456789abcdef.partial".encode()) <= 255


@pytest.mark.parametrize("path", ["native rename", "hard link", "no hard links"])
def test_every_way_of_publishing_refuses_to_replace_and_leaves_no_temporary_file(tmp_path, monkeypatch, outside, path):
    import errno as errno_codes

    import engine.safe_files as safe_files

    if path != "native rename":  # as on a system without renameat2 / renameatx_np
        monkeypatch.setattr(safe_files, "_native_checked", True)
        monkeypatch.setattr(safe_files, "_native_rename", None)
    if path == "no hard links":  # as on FAT or exFAT
        def no_links(*args, **kwargs):
            raise OSError(errno_codes.EPERM, "hard links are not supported here")
        monkeypatch.setattr(safe_files.os, "link", no_links)
    os.symlink(outside / "victim.txt", tmp_path / "taken.wav")
    (tmp_path / "existing.wav").write_bytes(b"first")
    with Folder(tmp_path) as folder:
        for name in ("taken.wav", "existing.wav"):
            assert not folder.write_new(name, lambda h: h.write(b"second"), owner="t")
        assert folder.write_new("fresh.wav", lambda h: h.write(b"new"), owner="t")
    assert (outside / "victim.txt").read_text() == "precious" and (tmp_path / "existing.wav").read_bytes() == b"first"
    assert (tmp_path / "fresh.wav").read_bytes() == b"new" and not (tmp_path / "fresh.wav").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.wav", "fresh.wav", "outside", "taken.wav"]
