import pytest

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.envelopes import breakpoints_to_curve
from ditto_bridge.translate.time import SongTime


def test_breakpoints_become_seconds_and_are_cut_to_the_clip():
    # 60 BPM: one beat is one second. The line from (-4 beats, -40 dB) to (4 beats, 0 dB) is -20 dB at beat 0.
    curve = breakpoints_to_curve([(-4.0, -40.0), (4.0, 0.0), (9.0, -6.0)], song=SongTime(60.0), length_beats=4.0,
                                 min_db=-60.0, max_db=0.0)
    assert curve.times == (0.0, 4.0, 4.0)
    assert curve.db == pytest.approx((-20.0, 0.0, 0.0))


def test_normalized_values_map_linearly_onto_the_db_range():
    # 0.5 of [-60, 0] dB is -30 dB; 120 BPM: beat 2 is 1 s
    curve = breakpoints_to_curve([(0.0, 0.5), (2.0, 1.0)], song=SongTime(120.0), length_beats=4.0,
                                 min_db=-60.0, max_db=0.0, unit="normalized")
    assert curve.times == (0.0, 0.0, 1.0, 2.0)
    assert curve.db == pytest.approx((-30.0, -30.0, 0.0, 0.0))


def test_two_breakpoints_at_one_beat_make_a_step():
    curve = breakpoints_to_curve([(0.0, -40.0), (2.0, -40.0), (2.0, -10.0)], song=SongTime(120.0),
                                 length_beats=4.0, min_db=-60.0, max_db=0.0)
    assert list(zip(curve.times, curve.db)) == [(0.0, -40.0), (0.0, -40.0), (1.0, -40.0), (1.0, -10.0), (2.0, -10.0)]


def test_unordered_breakpoints_are_refused_naming_the_breakpoint():
    with pytest.raises(RequestError, match=r"intensity.breakpoints\[1\]"):
        breakpoints_to_curve([(2.0, -10.0), (1.0, -10.0)], song=SongTime(120.0), length_beats=4.0,
                             min_db=-60.0, max_db=0.0)


def test_values_outside_the_parameter_range_are_refused():
    with pytest.raises(RequestError, match=r"intensity.breakpoints\[0\]: value must lie in \[-60, 0\]"):
        breakpoints_to_curve([(0.0, 3.0)], song=SongTime(120.0), length_beats=4.0, min_db=-60.0, max_db=0.0)
