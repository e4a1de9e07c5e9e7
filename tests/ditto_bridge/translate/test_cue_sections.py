import pytest

from ditto_bridge.errors import RequestError
from ditto_bridge.translate.sections import BEFORE_FIRST, CuePoint, label_of, sections_from_cues
from ditto_bridge.translate.time import SongTime


def test_locators_become_sections_relative_to_the_range_start():
    cues = [CuePoint("Verse 1", 0.0), CuePoint("Chorus", 8.0), CuePoint("Verse 2", 16.0)]
    # range starts at beat 4, 16 beats long, 120 BPM: chorus at beat 8 -> 2 s, verse 2 at 16 -> 6 s, end 8 s
    spans = sections_from_cues(cues, song=SongTime(120.0), origin_beat=4.0, length_beats=16.0)
    assert [(s.start, s.end, s.label) for s in spans] == [(0.0, 2.0, "verse"), (2.0, 6.0, "chorus"),
                                                          (6.0, 8.0, "verse")]


def test_the_stretch_before_the_first_locator_has_its_own_label():
    spans = sections_from_cues([CuePoint("Drop", 4.0)], song=SongTime(60.0), origin_beat=0.0, length_beats=8.0)
    assert [(s.start, s.end, s.label) for s in spans] == [(0.0, 4.0, BEFORE_FIRST), (4.0, 8.0, "drop")]


@pytest.mark.parametrize("name, label", [("Verse 2", "verse"), ("  CHORUS  ", "chorus"), ("A1", "a"),
                                         ("3", "3"), ("", "(unnamed)")])
def test_labels_ignore_case_and_a_trailing_number_except_for_bare_numbers(name, label):
    assert label_of(name) == label


def test_one_section_is_not_a_structure():
    with pytest.raises(RequestError, match="cue_points: .* holds only one section"):
        sections_from_cues([CuePoint("A", 0.0)], song=SongTime(120.0), origin_beat=0.0, length_beats=8.0)
