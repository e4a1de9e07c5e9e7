import pytest

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.time import SongTime, snap_bars


def test_three_bars_of_four_four_at_120_bpm_last_six_seconds():
    # 3 bars x 4 beats x 0.5 s per beat
    assert SongTime(120.0, 4, 4).bars_to_seconds(3) == pytest.approx(6.0)


def test_a_bar_of_six_eight_is_three_quarter_note_beats():
    song = SongTime(90.0, 6, 8)
    assert song.beats_per_bar == 3.0
    # 3 beats at 90 BPM: 3 x 60 / 90 = 2.0 s
    assert song.bars_to_seconds(1) == pytest.approx(2.0)


def test_beats_and_seconds_convert_both_ways():
    song = SongTime(140.0)
    assert song.beats_to_seconds(7.0) == pytest.approx(3.0)  # 7 x 60 / 140
    assert song.seconds_to_beats(3.0) == pytest.approx(7.0)


@pytest.mark.parametrize("bars, snapped", [(0.2, 1), (1.0, 1), (2.4, 2), (2.5, 3), (3.99, 4)])
def test_lengths_snap_to_whole_bars(bars, snapped):
    assert snap_bars(bars) == snapped


@pytest.mark.parametrize("tempo", [0.0, -3.0, float("nan"), 5000.0])
def test_impossible_tempos_are_refused_naming_the_field(tempo):
    with pytest.raises(RequestError, match="song.tempo"):
        SongTime(tempo)


def test_a_signature_denominator_must_be_a_power_of_two():
    with pytest.raises(RequestError, match="song.signature_denominator"):
        SongTime(120.0, 4, 3)
