"""The training report joins a run with the run it was initialized from and summarizes each phase."""

import numpy as np
import pytest

from engine.training.report import join_logs, phase_loss_summary, read_log


def _log(path, rows):
    path.write_text("step,loss,lr,wall_seconds\n" + "".join(f"{s},{l},1e-4,{w}\n" for s, l, w in rows))
    return path


def test_the_earlier_run_is_kept_only_up_to_where_the_later_run_took_over(tmp_path):
    earlier = read_log(_log(tmp_path / "a.csv", [(25, 0.3, 10), (50, 0.2, 20), (75, 0.1, 30), (100, 0.1, 40)]))
    later = read_log(_log(tmp_path / "b.csv", [(75, 0.5, 35), (100, 0.4, 45)]))
    (steps, losses, wall), switch = join_logs(earlier, later)
    assert switch == 50
    assert steps.tolist() == [25, 50, 75, 100]
    assert losses.tolist() == [0.3, 0.2, 0.5, 0.4]
    assert wall.tolist() == [10, 20, 35, 45]


def test_a_later_run_that_starts_first_is_refused(tmp_path):
    earlier = read_log(_log(tmp_path / "a.csv", [(100, 0.1, 40)]))
    later = read_log(_log(tmp_path / "b.csv", [(25, 0.5, 35)]))
    with pytest.raises(SystemExit, match="earlier run"):
        join_logs(earlier, later)


def test_a_phase_summary_gives_its_first_and_last_twentieth():
    losses = np.concatenate([np.full(20, 0.5), np.full(60, 0.2), np.full(20, 0.1)])
    assert phase_loss_summary(losses) == "0.500 over the first 5 %, 0.100 over the last 5 %"
