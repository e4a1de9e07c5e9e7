import json
import os

import numpy as np
import pytest
import soundfile as sf

from ditto_bridge.outbox import convert, remove_own_partials, safe_stem, take_stem, write_take


def tone(seconds=0.5, rate=22050, channels=1, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([0.5 * np.sin(2 * np.pi * freq * t)] * channels).astype(np.float32)


def test_a_take_is_named_after_job_task_seed_and_take():
    assert take_stem("My Take!", "inpaint", 42, 2) == "My_Take_inpaint_s42_t2"
    assert safe_stem("../../etc/passwd") == "etc_passwd"


def test_a_take_is_written_at_the_sets_rate_and_channels_with_its_sidecar(tmp_path):
    path = write_take(tmp_path, "a_generate_s1_t1", tone(), in_rate=22050, out_rate=48000, channels=2,
                      sidecar={"job": {"name": "a"}})
    audio, rate = sf.read(path)
    assert rate == 48000 and audio.shape == (24000, 2)
    assert np.allclose(audio[:, 0], audio[:, 1])
    # the resampled tone keeps its pitch: the spectrum peaks at 440 Hz
    spectrum = np.abs(np.fft.rfft(audio[:, 0]))
    assert abs(np.argmax(spectrum) * rate / len(audio) - 440.0) < 3.0
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["job"] == {"name": "a"} and sidecar["wav_sample_rate"] == 48000 and sidecar["wav"] == str(path)


def test_an_earlier_render_is_never_overwritten(tmp_path):
    first = write_take(tmp_path, "a", tone(), in_rate=22050, out_rate=22050, channels=1, sidecar={"n": 1})
    second = write_take(tmp_path, "a", tone(freq=220.0), in_rate=22050, out_rate=22050, channels=1, sidecar={"n": 2})
    third = write_take(tmp_path, "a", tone(), in_rate=22050, out_rate=22050, channels=1, sidecar={"n": 3})
    assert [p.name for p in (first, second, third)] == ["a.wav", "a_2.wav", "a_3.wav"]
    assert json.loads((tmp_path / "a.json").read_text())["n"] == 1
    # a name taken by a stray sidecar alone is skipped too
    (tmp_path / "b.json").write_text("{}")
    assert write_take(tmp_path, "b", tone(), in_rate=22050, out_rate=22050, channels=1, sidecar={}).name == "b_2.wav"


def test_no_temporary_file_is_left_and_none_ends_in_wav(tmp_path):
    write_take(tmp_path, "a", tone(), in_rate=22050, out_rate=44100, channels=2, sidecar={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.wav"]


def test_partials_left_by_a_killed_daemon_are_removed_and_nothing_else(tmp_path):
    own = tmp_path / ".x.wav.abcd1234-0123456789abcdef.partial"
    own.write_bytes(b"RIFF....half")
    other = tmp_path / ".x.wav.ffff0000-0123456789abcdef.partial"  # another daemon's, writing right now
    other.write_bytes(b"RIFF....half")
    keep = write_take(tmp_path, "a", tone(), in_rate=22050, out_rate=22050, channels=1, sidecar={},
                      owner="abcd1234")
    assert remove_own_partials(tmp_path, "abcd1234") == [own]
    assert keep.exists() and not own.exists() and other.exists()


@pytest.mark.parametrize("have, want", [(1, 2), (2, 1), (2, 2), (3, 2), (1, 1)])
def test_channel_counts_are_converted(have, want):
    out = convert(tone(channels=have), 22050, 22050, want)
    assert out.shape == (want, 11025)
    if have == 2 and want == 1:
        assert np.allclose(out[0], tone()[0], atol=1e-6)  # equal channels mix down to the same signal
