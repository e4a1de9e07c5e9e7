import numpy as np
import pytest

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.warp import WarpMap

# Markers as Live reports them: beat 0 at 0 s, beat 4 at 2.5 s (96 BPM in the file), beat 12 at 6.5 s (120 BPM).
MARKERS = [{"beat_time": 0.0, "sample_time": 0.0}, {"beat_time": 4.0, "sample_time": 2.5},
           {"beat_time": 12.0, "sample_time": 6.5}]


def warp_map() -> WarpMap:
    return WarpMap.from_live(MARKERS, seconds_per_beat=0.5)


def test_beat_8_of_a_warped_clip_maps_to_sample_198450_at_44100_hz():
    # beat 8 lies halfway between beat 4 (2.5 s) and beat 12 (6.5 s): 4.5 s, x 44100 = 198450
    assert warp_map().beat_to_sample(8.0, 44100) == 198450


def test_beats_beyond_the_last_marker_follow_the_last_segment():
    # last segment: 4 s over 8 beats = 0.5 s per beat; beat 14 is 2 beats past 6.5 s -> 7.5 s
    assert warp_map().beat_to_seconds(14.0) == pytest.approx(7.5)


def test_beats_before_the_first_marker_follow_the_first_segment():
    # first segment: 2.5 s over 4 beats = 0.625 s per beat
    assert warp_map().beat_to_seconds(-2.0) == pytest.approx(-1.25)


def test_the_inverse_map_returns_the_beat():
    m = warp_map()
    for beat in (-1.0, 0.0, 3.0, 4.0, 8.0, 12.0, 13.5):
        assert m.seconds_to_beat(m.beat_to_seconds(beat)) == pytest.approx(beat)


def test_the_vectorized_map_agrees_with_the_scalar_one():
    m = warp_map()
    beats = np.linspace(-3, 16, 41)
    assert np.allclose(m.beats_to_seconds_array(beats), [m.beat_to_seconds(b) for b in beats])


def test_a_single_marker_plays_at_the_song_tempo():
    m = WarpMap.from_live([{"beat_time": 2.0, "sample_time": 1.0}], seconds_per_beat=0.5)
    assert m.beat_to_seconds(6.0) == pytest.approx(3.0)


def test_markers_out_of_order_are_refused_naming_the_marker():
    bad = [{"beat_time": 0.0, "sample_time": 0.0}, {"beat_time": 4.0, "sample_time": 0.0}]
    with pytest.raises(RequestError, match=r"clip.warp_markers\[1\].sample_time"):
        WarpMap.from_live(bad, 0.5)
