"""Write the training section of docs/MODEL_CARD.md and the loss-curve PNG from a run's log.

    python -m engine.training.report --run runs/builtin
    python -m engine.training.report --run runs/shifted --earlier runs/builtin   # a run started with --init-from

With `--earlier`, the log of the run the weights were initialized from is drawn first, up to the step where the
later run took over, and the switch is marked: the two phases' losses use different noise schedules, so their
levels are not comparable.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
MODEL_CARD = ROOT / "docs" / "MODEL_CARD.md"
LOSS_PNG = ROOT / "docs" / "builtin_loss.png"


def read_log(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, losses and wall seconds from `train_log.csv` (resumed runs append; the last entry per step wins)."""
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows[int(row["step"])] = (float(row["loss"]), float(row["wall_seconds"]))
    steps = np.array(sorted(rows))
    return steps, np.array([rows[s][0] for s in steps]), np.array([rows[s][1] for s in steps])


def join_logs(earlier: tuple[np.ndarray, ...], later: tuple[np.ndarray, ...]) -> tuple[tuple[np.ndarray, ...], int]:
    """One log from a run and the run initialized from it: the earlier run's entries before the later run's first
    step, then the later run's. Returns the joined (steps, losses, wall) and the earlier run's last step kept."""
    keep = earlier[0] < later[0][0]
    if not keep.any():
        raise SystemExit("the earlier run's log starts after the later run's: pass the run this one started from")
    joined = tuple(np.concatenate([e[keep], l]) for e, l in zip(earlier, later))
    return joined, int(earlier[0][keep][-1])


def phase_loss_summary(losses: np.ndarray) -> str:
    """'A over the first 5 %, B over the last 5 %' of one phase's logged losses."""
    share = max(1, len(losses) // 20)
    return f"{losses[:share].mean():.3f} over the first 5 %, {losses[-share:].mean():.3f} over the last 5 %"


def plot(steps: np.ndarray, losses: np.ndarray, path: Path, switch_step: int | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window = max(1, len(losses) // 40)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(steps, losses, color="0.75", linewidth=0.8, label="mean of 25 steps")
    ax.plot(steps[window - 1:], smooth, color="C0", label=f"moving average ({window} points)")
    if switch_step is not None:
        ax.axvline(switch_step, color="C3", linestyle="--", linewidth=1, label="shifted noise schedule from here")
    ax.set_xlabel("training step")
    ax.set_ylabel("weighted v-prediction loss")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/builtin"))
    parser.add_argument("--earlier", type=Path, default=None, help="the run this one was initialized from")
    args = parser.parse_args(argv)
    steps, losses, wall = read_log(args.run / "train_log.csv")
    phases = [("", losses)]
    switch_step = None
    if args.earlier is not None:
        earlier = read_log(args.earlier / "train_log.csv")
        (steps, losses, wall), switch_step = join_logs(earlier, (steps, losses, wall))
        phases = [(f"up to step {switch_step} (cosine schedule)", losses[steps <= switch_step]),
                  ("from there on (shifted schedule)", losses[steps > switch_step])]
    plot(steps, losses, LOSS_PNG, switch_step)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from results_doc import update_section

    from engine.models.builtin.weights import load_weights

    training = load_weights(args.run / "builtin.safetensors").training  # the exported weights' own record
    trained_steps = int(training.get("steps", steps[-1]))
    wall_seconds = float(training.get("wall_seconds", wall[-1]))
    frames_per_step = training.get("frames_seen", 0) / trained_steps
    summaries = [f"{name + ': ' if name else ''}{phase_loss_summary(phase)}" for name, phase in phases]
    body = "\n".join([
        "## Training run (`python -m engine.training.report`)", "",
        f"{trained_steps} steps in {wall_seconds / 3600:.2f} h of wall time on these machines' CPU "
        f"(about {wall_seconds / trained_steps:.2f} s per step of ~{frames_per_step:,.0f} frames). Loss (weighted "
        f"v-prediction MSE, mean over logging windows) {'; '.join(summaries)}.", "",
        f"![training loss]({LOSS_PNG.name})",
    ])
    update_section("training", body, MODEL_CARD)
    print(body)


if __name__ == "__main__":
    main()
