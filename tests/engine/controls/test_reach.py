import numpy as np
import pytest

import engine.controls.reach as reach_module
from engine.controls.reach import MIN_WIDTH_DB, QUIETEST_DB, REACH_MARGIN_DB, reach_from_levels, tag_set_reach
from engine.job import SamplerSpec
from engine.models.loudness import LoudnessRange

MODEL_RANGE = LoudnessRange(-40.0, -13.0, "test")


def test_a_tag_set_inside_the_models_range_reaches_its_own_percentiles_plus_the_margin():
    levels = np.linspace(-30.0, -20.0, 101)  # 5th percentile -29.5, 95th -20.5
    reach = reach_from_levels(levels, MODEL_RANGE, "piano")
    assert reach.low_db == pytest.approx(-29.5 - REACH_MARGIN_DB)
    assert reach.high_db == pytest.approx(-20.5 + REACH_MARGIN_DB)
    assert "piano" in reach.source


def test_a_tag_set_never_reaches_past_the_top_of_the_models_range():
    reach = reach_from_levels(np.linspace(-45.0, -10.0, 101), MODEL_RANGE, "everything")
    assert reach.high_db == MODEL_RANGE.high_db
    assert reach.low_db == pytest.approx(-43.25 - REACH_MARGIN_DB)  # under the model's range: where it plays


def test_a_tag_set_quieter_than_the_models_range_reaches_down_to_where_it_plays():
    levels = np.linspace(-70.0, -40.0, 101)  # drums alone, say: mostly under the model's range
    reach = reach_from_levels(levels, MODEL_RANGE, "drums")
    assert reach.low_db == pytest.approx(-68.5 - REACH_MARGIN_DB)
    assert reach.high_db == pytest.approx(-41.5 + REACH_MARGIN_DB)


def test_a_reach_stops_at_the_quietest_level_worth_shaping():
    reach = reach_from_levels(np.linspace(-100.0, -30.0, 101), MODEL_RANGE, "almost nothing")
    assert reach.low_db == QUIETEST_DB


def test_a_tag_set_louder_than_the_models_range_keeps_its_own_level():
    levels = np.linspace(-12.0, -6.0, 101)  # everything above the model's top
    reach = reach_from_levels(levels, MODEL_RANGE, "loud")
    assert reach.high_db - reach.low_db == pytest.approx(MIN_WIDTH_DB)
    assert reach.low_db < np.median(levels) < reach.high_db


def test_a_tag_sets_reach_is_measured_once_per_model(tiny_model, monkeypatch):
    calls = []
    measure = reach_module.uncontrolled_levels

    def counted(*args):
        calls.append(args[1])
        return measure(*args)

    monkeypatch.setattr(reach_module, "uncontrolled_levels", counted)
    render = SamplerSpec("dpmsolver++", 2)
    first = tag_set_reach(tiny_model, ("piano",), None, 1.37, render)
    again = tag_set_reach(tiny_model, ("piano",), None, 1.37, render)
    other = tag_set_reach(tiny_model, ("piano", "drums"), None, 1.37, render)
    assert first == again and len(calls) == 2 and calls == [("piano",), ("piano", "drums")]
    assert isinstance(other, LoudnessRange)
