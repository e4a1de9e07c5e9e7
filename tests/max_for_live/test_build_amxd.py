"""The .amxd reader and builder (max_for_live/build_amxd.py) against devices Max itself saved.

Ableton's test devices (max_for_live/tests/fixtures/amxd/, from Ableton/maxdevtools, MIT) must read as
Ableton's own maxdiff prints them (maxdiff/tests/test_baselines/*.txt); the frozen device we build must read back
with the JavaScript inside byte for byte, and an encrypted device must be named as such, not crash the reader.
"""

import datetime
import importlib.util
import io
import itertools
import json
import sys
import zipfile
from pathlib import Path

import pytest

M4L = Path(__file__).resolve().parents[2] / "max_for_live"
FIXTURES = M4L / "tests" / "fixtures" / "amxd"
SCRIPT = M4L / "device" / "ditto_device.js"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_amxd", M4L / "build_amxd.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_amxd"] = module
    spec.loader.exec_module(module)
    return module


B = _load_builder()


def fixture(name):
    return B.parse_amxd((FIXTURES / name).read_bytes(), name)


#: maxdiff/tests/test_baselines/FrozenTest.amxd.txt: name, size and modification time of every file inside.
FROZEN_TEST_CONTENTS = [
    ("Test.amxd", 36531, "2026/01/28 10:27:01"),
    ("ParamAbstraction.maxpat", 956, "2026/01/28 10:25:56"),
    ("MyAbstraction.maxpat", 1369, "2026/01/28 10:26:01"),
    ("AbstractionWithParameter.maxpat", 1569, "2024/05/24 13:59:36"),
    ("hz-icon.svg", 484, "2024/05/24 13:59:36"),
    ("beat-icon.svg", 533, "2024/05/24 13:59:36"),
    ("fpic.png", 7094, "2024/05/24 13:59:36"),
    ("shakerkicksnare.aif", 352854, "2025/02/14 11:10:38"),
    ("VisibleBang.js", 317, "2025/02/14 11:10:38"),
    ("my-maxnode-basic.js", 464, "2025/02/14 11:10:38"),
    ("times3.gendsp", 2047, "2025/02/14 11:10:38"),
    ("myxfade.genjit", 3156, "2025/02/14 11:10:38"),
    ("mystorage.json", 239, "2025/02/14 11:10:38"),
    ("myTestTable", 410, "2025/02/14 11:10:38"),
    ("TestScript.js", 87, "2025/02/14 11:10:38"),
    ("collContent.txt", 8, "2024/05/24 13:59:36"),
]


def test_reads_ableton_unfrozen_test_device():
    device = fixture("Test.amxd")
    assert device.chunks == ("ampf", "meta", "ptch")
    assert device.device_type == b"mmmm"
    assert not device.frozen
    assert device.patcher["patcher"]["appversion"]["major"] == 9
    assert len(device.patcher["patcher"]["boxes"]) == 34
    assert B.read_amxd((FIXTURES / "Test.amxd").read_bytes())[0] == b"mmmm"


def test_reads_ableton_frozen_device_and_lists_its_files_as_maxdiff_does():
    device = fixture("FrozenTest.amxd")
    assert device.frozen
    assert device.device_type == b"mmmm"
    listed = [(f.name, len(f.data), f.modified.strftime("%Y/%m/%d %H:%M:%S")) for f in device.files]
    assert listed == FROZEN_TEST_CONTENTS
    # The device's own patcher comes first and is the one read; it is the unfrozen Test.amxd's patcher.
    unfrozen = fixture("Test.amxd").patcher["patcher"]
    assert [b["box"]["id"] for b in device.patcher["patcher"]["boxes"]] == [b["box"]["id"] for b in unfrozen["boxes"]]
    assert device.files[0].flags == 0x11 and device.files[0].type == "JSON"
    assert device.file("TestScript.js").type == "TEXT"
    assert device.file("collContent.txt").data == b"0, test;"


def test_reads_a_frozen_device_whose_patcher_is_followed_by_leftover_bytes():
    device = fixture("WithGarbage.amxd")
    assert device.frozen and device.device_type == b"aaaa"
    assert [(f.name, len(f.data)) for f in device.files] == [("Livesync Leader.amxd", 88337)]
    assert device.patcher["patcher"]["boxes"]


def test_an_encrypted_device_is_named_as_such(capsys):
    data = (FIXTURES / "EncryptedTest.amxd").read_bytes()
    with pytest.raises(
        B.EncryptedDeviceError, match=r"EncryptedTest\.amxd is an encrypted Max for Live device.*cannot be read"
    ):
        B.parse_amxd(data, "EncryptedTest.amxd")
    with pytest.raises(B.EncryptedDeviceError):
        B.read_amxd(data)
    assert B.main(["--read", str(FIXTURES / "EncryptedTest.amxd")]) == 2
    assert "encrypted" in capsys.readouterr().err


def test_damaged_files_are_reported_in_words():
    frozen = (FIXTURES / "FrozenTest.amxd").read_bytes()
    with pytest.raises(B.AmxdFormatError, match="cut short"):
        B.parse_amxd(frozen[:200000], "cut.amxd")
    with pytest.raises(B.AmxdFormatError, match="not a Max for Live device"):
        B.parse_amxd(b"RIFF" + frozen[4:], "wave.amxd")
    # A directory that points outside the frozen data.
    device = B.parse_amxd(frozen)
    at = frozen.index(b"of32", frozen.index(b"dlst"))
    broken = frozen[: at + 8] + (10**9).to_bytes(4, "big") + frozen[at + 12 :]
    with pytest.raises(B.AmxdFormatError, match="outside it"):
        B.parse_amxd(broken, "broken.amxd")
    assert device.files[0].offset == 16


def test_our_frozen_device_reads_back_with_the_script_inside():
    device = B.parse_amxd((M4L / "device" / "frozen" / "DittoBridge.amxd").read_bytes())
    assert device.frozen and device.device_type == b"aaaa"
    assert [f.name for f in device.files] == ["DittoBridge.amxd", "ditto_device.js"]
    assert device.file("ditto_device.js").data == SCRIPT.read_bytes()
    assert device.patcher == json.loads((M4L / "src" / "DittoBridge.maxpat").read_text(encoding="utf-8"))
    # The unfrozen device holds the same patcher.
    assert B.parse_amxd((M4L / "device" / "DittoBridge.amxd").read_bytes()).patcher == device.patcher
    assert B.main(["--check"]) == 0


def test_frozen_layout_follows_frozentest():
    ours, theirs = B.parse_amxd(B.build_frozen()), fixture("FrozenTest.amxd")
    assert ours.chunks == theirs.chunks == ("ampf", "meta", "ptch")
    assert ours.meta == theirs.meta
    for device in (ours, theirs):
        for entry in device.files:
            tags = [tag for tag, _ in entry.fields]
            assert tags == ["type", "fnam", "sz32", "of32", "vers", "flag", "mdat"], entry.name
            sizes = dict(entry.fields)
            assert all(sizes[t] == 12 for t in tags if t != "fnam"), entry.name
            assert sizes["fnam"] - 8 == (len(entry.name) // 4 + 1) * 4, entry.name
        offsets = [(f.offset, len(f.data)) for f in device.files]
        assert offsets[0][0] == 16
        assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(offsets))
    script, visible_bang = ours.file("ditto_device.js"), theirs.file("VisibleBang.js")
    assert (script.type, script.flags, script.version) == (visible_bang.type, visible_bang.flags, visible_bang.version)
    assert (ours.files[0].type, ours.files[0].flags) == (theirs.files[0].type, theirs.files[0].flags)


def test_the_build_reads_the_script_when_it_runs(tmp_path, monkeypatch):
    (tmp_path / "ditto_device.js").write_bytes(b"// changed\r\nfunction bang() {}\n")
    device = B.parse_amxd(B.build_frozen(folder=tmp_path))
    assert device.file("ditto_device.js").data == b"// changed\r\nfunction bang() {}\n"
    assert B.build_frozen() == B.build_frozen()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = B.parse_amxd(B.build_frozen())
    assert dated.files[1].modified == datetime.datetime.fromtimestamp(1700000000, datetime.UTC)


def test_a_missing_script_stops_the_build_with_its_path(tmp_path):
    with pytest.raises(B.PatcherSourceError, match=r"depends on ditto_device\.js.*does not exist"):
        B.build_frozen(folder=tmp_path)
    patcher = B.load_patcher()
    patcher["patcher"]["dependency_cache"] = []
    with pytest.raises(
        B.PatcherSourceError, match=r"loads ditto_device\.js, but the patcher's dependency_cache does not list it"
    ):
        B.dependencies(patcher)


def test_check_fails_when_a_device_is_stale(tmp_path, capsys):
    unfrozen, frozen = tmp_path / "DittoBridge.amxd", tmp_path / "frozen" / "DittoBridge.amxd"
    assert B.main(["--output", str(unfrozen), "--frozen-output", str(frozen)]) == 0
    assert B.main(["--check", "--output", str(unfrozen), "--frozen-output", str(frozen)]) == 0
    frozen.write_bytes(frozen.read_bytes()[:-1] + b"\x01")
    assert B.main(["--check", "--output", str(unfrozen), "--frozen-output", str(frozen)]) == 1
    assert "frozen/DittoBridge.amxd is out of date" in capsys.readouterr().err


def test_release_archive_ships_both_devices_in_sibling_folders(tmp_path):
    archive = tmp_path / "release.zip"
    outputs = ["--output", str(tmp_path / "u.amxd"), "--frozen-output", str(tmp_path / "f.amxd")]
    assert B.main([*outputs, "--zip", str(archive)]) == 0
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as zf:
        assert zf.namelist() == [
            "ditto-bridge-device/README.txt",
            "ditto-bridge-device/frozen/DittoBridge.amxd",
            "ditto-bridge-device/unfrozen/DittoBridge.amxd",
            "ditto-bridge-device/unfrozen/ditto_device.js",
        ]
        frozen = B.parse_amxd(zf.read("ditto-bridge-device/frozen/DittoBridge.amxd"))
        assert frozen.file("ditto_device.js").data == SCRIPT.read_bytes()
        assert zf.read("ditto-bridge-device/unfrozen/ditto_device.js") == SCRIPT.read_bytes()
        assert not B.parse_amxd(zf.read("ditto-bridge-device/unfrozen/DittoBridge.amxd")).frozen
        readme = zf.read("ditto-bridge-device/README.txt").decode()
        assert readme.index("frozen/DittoBridge.amxd") < readme.index("unfrozen/DittoBridge.amxd")
    first = archive.read_bytes()
    assert B.main([*outputs, "--zip", str(archive)]) == 0
    assert archive.read_bytes() == first
