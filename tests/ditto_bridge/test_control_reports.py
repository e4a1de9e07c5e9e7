"""Defaults the model can reach: the device's Intensity dial, the daemon's default for 0-1 values and the MIDI CC
range all lie inside the built-in model's loudness range."""

import json
import re

import pytest

from bridge_testkit import REPO
from ditto_bridge.config import load_config
from ditto_bridge.midi import MidiSettings
from ditto_bridge.translate.live_job import TranslateContext, translate_request


@pytest.fixture(scope="module")
def reach():
    from engine.models.registry import load_model

    return load_model("builtin").loudness_range()


def inside(reach, low, high):
    return reach.low_db <= low < high <= reach.high_db


def test_the_devices_intensity_range_lies_inside_what_the_builtin_model_reaches(reach):
    source = (REPO / "max_for_live" / "device" / "ditto_device.js").read_text()
    low = float(re.search(r"^var INTENSITY_MIN_DB = (-?[0-9.]+);$", source, re.M)[1])
    high = float(re.search(r"^var INTENSITY_MAX_DB = (-?[0-9.]+);$", source, re.M)[1])
    assert inside(reach, low, high), (low, high, reach)
    initial = float(re.search(r"intensityDb: (-?[0-9.]+)", source)[1])
    assert low <= initial <= high
    # the patcher's dial and breakpoint editor use the same range
    patcher = json.loads((REPO / "max_for_live" / "src" / "DittoBridge.maxpat").read_text())["patcher"]
    boxes = [b["box"] for b in patcher["boxes"]]
    dial = next(b for b in boxes if b.get("varname") == "Intensity")["saved_attribute_attributes"]["valueof"]
    assert (dial["parameter_mmin"], dial["parameter_mmax"], dial["parameter_initial"]) == (low, high, [initial])
    assert next(b for b in boxes if b["maxclass"] == "function")["range"] == [low, high]


def test_a_normalized_curve_without_min_and_max_maps_inside_what_the_model_reaches(reach, tmp_path):
    ctx = TranslateContext(model="builtin-tiny", audio_roots=(), inbox=tmp_path, reference_dir=tmp_path / "refs")
    live = {"task": "generate", "song": {"tempo": 120.0}, "length_bars": 1,
            "intensity": {"unit": "normalized", "breakpoints": [[0, 0.0], [4, 1.0]]}}
    db = translate_request(live, ctx, "j").job["controls"][0]["db"]
    assert inside(reach, min(db), max(db)), (db, reach)
    assert (min(db), max(db)) == (-39.0, -14.0)


def test_the_midi_cc_range_lies_inside_what_the_model_reaches(reach, tmp_path):
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {})
    assert inside(reach, config.midi_min_db, config.midi_max_db), (config.midi_min_db, config.midi_max_db, reach)
    settings = MidiSettings()
    assert (settings.min_db, settings.max_db) == (config.midi_min_db, config.midi_max_db)
