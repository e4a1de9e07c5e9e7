"""Records of the producer-scale evaluation: resuming skips finished items; the tables' statistics."""

import json

import pytest

from engine.evaluation import producer_report as pr


def _record(task, case, method, value, seconds, **extra):
    key = pr.HEADLINE[task][0]
    return {"task": task, "case": case, "method": method, "duration": 6.0, "metrics": {key: value},
            "seconds_to_wav": seconds, "within": value <= 4.0, **extra}


def test_a_resume_skips_finished_items(tmp_path):
    path = tmp_path / "results.jsonl"
    calls = []

    def item(key, fail=False):
        def make():
            calls.append(key)
            if fail:
                raise RuntimeError("engine failed")
            return {"task": "intensity", "case": key, "method": "ditto", "metrics": {"mse_db2": 1.0}}
        return key, make

    failed = pr.run_pending(pr.ResultStore(path), [item("a"), item("b", fail=True), item("c")], keep_going=True)
    assert calls == ["a", "b", "c"] and [k for k, _ in failed] == ["b"]
    calls.clear()
    store = pr.ResultStore(path)  # a new process reads the file back
    assert store.has("a") and store.has("c") and not store.has("b")
    assert pr.run_pending(store, [item("a"), item("b"), item("c"), item("d")]) == []
    assert calls == ["b", "d"]
    assert len(path.read_text().splitlines()) == 4


def test_without_keep_going_a_failure_stops_the_run(tmp_path):
    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        pr.run_pending(pr.ResultStore(tmp_path / "r.jsonl"), [("x", boom)])


def test_a_line_cut_short_is_ignored_and_redone(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"key": "a", "metrics": {}}) + "\n" + '{"key": "b", "metr')
    store = pr.ResultStore(path)
    assert store.has("a") and not store.has("b")
    store.append({"key": "b", "metrics": {}})
    assert pr.ResultStore(path).has("b")


def test_numpy_values_are_written_as_json(tmp_path):
    import numpy as np

    store = pr.ResultStore(tmp_path / "r.jsonl")
    store.append({"key": "k", "range": np.array([-33.0, -14.0]), "tags": ("piano",)})
    assert pr.ResultStore(tmp_path / "r.jsonl").records["k"]["range"] == [-33.0, -14.0]


def test_the_control_table_reports_median_and_p90_of_known_numbers():
    records = [_record("intensity", f"c{i}", "ditto", float(i), 10.0 * i) for i in range(1, 11)]
    row = next(line for line in pr.control_table(records).splitlines() if "DITTO" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # task, method, N, metric, median, mean, tail, within, silent, s median, s p90
    assert cells[2] == "10"
    assert cells[4] == "5.50" and cells[5] == "5.50" and cells[6] == "9.10"
    assert cells[7] == "40 %"  # 1, 2, 3, 4 are within 4 dB²
    assert cells[9] == "55.0" and cells[10] == "91.0"


def test_a_diverged_baseline_take_is_counted_apart_and_never_within_tolerance():
    records = [_record("intensity", f"c{i}", "freedom", float(i), 1.0) for i in range(1, 5)]
    records.append({"task": "intensity", "case": "c5", "method": "freedom", "duration": 6.0, "metrics": {},
                    "seconds_to_wav": 1.0, "within": False, "diverged": True})
    row = next(line for line in pr.control_table(records).splitlines() if "FreeDoM" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "4 + 1 diverged"
    assert cells[4] == "2.50"  # the median of the four takes that have audio
    assert cells[7] == "80 %"  # 4 of 5 within 4 dB²: the diverged take is not


def test_accuracy_tails_are_the_low_end():
    records = [_record("melody", f"m{i}", "ditto", i / 10, 1.0) for i in range(1, 11)]
    row = next(line for line in pr.control_table(records).splitlines() if "DITTO" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "55.0" and cells[6] == "19.0"


def test_music_only_beside_after_gain_and_the_whole_report():
    records = [_record("intensity", f"c{i}", "ditto", 2.0, 5.0, converged=True, meta={"shape": "swell"})
               for i in range(4)]
    for i, r in enumerate(records):
        r["metrics"].update(music_mse_db2=1.0 + i, silent=False, target_inside_range=i < 2)
    records.append(_record("intensity", "c0", "none", 50.0, 1.0))
    text = pr.markdown(records, {("intensity", "ditto"): {"n": 4, "vs_uncontrolled": 3.0, "vs_music": 40.0,
                                                          "ratio": 1.1, "ratio_normalized": 1.05,
                                                          "ratio_dynamics_matched": 0.97,
                                                          "level_shift_db": 4.31}}, "settings")
    assert "| all | 4 | 2.00 | 2.00 | 2.50 | 3.70 | 100 % | 100 % |" in text
    assert "| target inside the range | 2 | 2.00 | 2.00 | 1.50 | 1.90 |" in text
    assert "| intensity | DITTO (default job) | 4 | 3.0 | 40.0 | 1.10 | 1.05 | 0.97 | 4.3 |" in text
    assert text.startswith("settings")
