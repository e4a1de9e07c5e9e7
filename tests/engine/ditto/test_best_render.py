"""The written take is the best render: x_T* is judged by render checks, never by the chain's own loss."""

from dataclasses import dataclass

import torch

from engine.api import initial_noise
from engine.controls.base import Control
from engine.ditto import optimize
from engine.ditto.optimize import judge
from engine.job import Job, SamplerSpec
from engine.plan import Plan
from engine.sampling import sample


@dataclass
class MisleadingLoudness(Control):
    """The chain's loss rewards a louder output without end, while what is heard (`audio_metric`) is the error in
    dB against a fixed target level: once the output passes the target, every step that lowers the loss makes
    the render worse."""

    target_db: float = -60.0

    def loss(self, logmel):
        return -logmel.mean(dim=(-2, -1))

    def metric(self, logmel):
        return self.loss(logmel)

    def audio_metric(self, logmel, audio):
        level = 10 * torch.log10(audio.double().pow(2).mean(dim=(-2, -1)) + 1e-12)
        return (level - self.target_db).abs().to(logmel)


def test_the_take_is_the_best_render_even_when_the_chain_loss_keeps_falling(tiny_model):
    job = Job.from_dict({"duration": 1.0, "model": "builtin-tiny", "seed": 3})
    x_T, _ = initial_noise(tiny_model, job, tiny_model.device)
    conditioning = tiny_model.condition(batch=1)
    render = SamplerSpec("ddim", 4)
    with torch.no_grad():
        first = judge(tiny_model, [], sample(tiny_model, x_T, conditioning, render))
    # the target is the first render's own level: every render after it that the loss made louder is worse
    control = MisleadingLoudness("loud", 1.0, 0.001, target_db=float(10 * torch.log10(first.heard.double().pow(2).mean())))
    plan = Plan(optimized_through=SamplerSpec("ddim", 2), rendered_with=render, optimizer_steps=8, lr=0.3,
                early_stop=False)
    result = optimize(tiny_model, [control], x_T, conditioning, plan)
    losses = [entry["total"] for entry in result.history]
    assert losses[-1] < losses[0]  # the chain's loss fell all along ...
    heard = [check["loud"] for check in result.checks]
    assert min(heard[1:]) > heard[0]  # ... while every later render was worse than the first
    assert torch.equal(result.x_T, x_T)  # so the take is the first render's x_T
    assert result.best_metrics[0]["loud"] == min(heard)
    with torch.no_grad():
        again = judge(tiny_model, [control], sample(tiny_model, result.x_T, conditioning, render))
    assert float(again.metrics["loud"]) == min(heard)


def test_the_written_take_is_never_worse_than_any_render_check():
    from engine.api import generate

    job = Job.from_dict({"duration": 1.0, "model": "builtin-tiny", "sampler": {"steps": 4},
                         "optimize_through": {"name": "ddim", "steps": 2},
                         "optimizer": {"steps": 10, "lr": 0.5, "early_stop": False},
                         "controls": [{"type": "intensity", "times": [0, 1], "db": [-20, -30]}]})
    result = generate(job)
    best_check = min(check["intensity"] for check in result.render_checks)
    assert result.control_reports[0][0].music_metric <= best_check + 1e-3
