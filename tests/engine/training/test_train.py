"""The training script runs, checkpoints, resumes where it stopped, and exports loadable weights."""

import json

import numpy as np
import torch

from engine.models.builtin.model import from_weights
from engine.models.builtin.tags import N_TAGS
from engine.models.builtin.weights import load_weights
from engine.training import train


def _tiny_corpus(root):
    (root / "train").mkdir(parents=True)
    rng = np.random.default_rng(0)
    mel = (rng.standard_normal((6, 80, 512)) - 5).astype(np.float16)
    tags = (rng.random((6, N_TAGS)) > 0.7).astype(np.uint8)
    np.savez(root / "train" / "shard_0000.npz", mel=mel, tags=tags, meta=json.dumps([{}] * 6))
    (root / "manifest.json").write_text(json.dumps({"format_version": 1, "seed": 0, "clips": 6, "shards": {"train": ["train/shard_0000.npz"], "heldout": []}}))


def test_training_resumes_from_its_checkpoint_and_exports_weights(tmp_path):
    _tiny_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    args = ["--corpus", str(tmp_path / "corpus"), "--run", str(run), "--channels", "16,24", "--stem-channels", "4",
            "--threads", "1"]
    train.main(args + ["--max-steps", "2"])
    first = torch.load(run / "ckpt.pt", weights_only=False)
    assert first["step"] == 2
    train.main(args + ["--max-steps", "3"])
    second = torch.load(run / "ckpt.pt", weights_only=False)
    assert second["step"] == 3
    assert any(not torch.equal(first["model"][k], second["model"][k]) for k in first["model"])
    model = from_weights(load_weights(run / "builtin.safetensors"))
    assert model.info.trained and model.training["steps"] == 3


def test_training_can_start_from_shipped_weights_on_a_new_machine(tmp_path):
    _tiny_corpus(tmp_path / "corpus")
    args = ["--corpus", str(tmp_path / "corpus"), "--channels", "16,24", "--stem-channels", "4", "--threads", "1"]
    train.main(args + ["--run", str(tmp_path / "first"), "--max-steps", "2"])
    shipped = tmp_path / "first" / "builtin.safetensors"
    train.main(args + ["--run", str(tmp_path / "second"), "--max-steps", "3", "--init-from", str(shipped)])
    resumed = torch.load(tmp_path / "second" / "ckpt.pt", weights_only=False)
    assert resumed["step"] == 3  # two steps carried over from the shipped file, one trained here


def test_loss_weights_are_min_snr_5_for_v_prediction_with_a_floor():
    from engine.models.builtin.schedule import SNR_SHIFT, builtin_schedule

    scheduler = train.training_scheduler(builtin_schedule(SNR_SHIFT))
    t = torch.arange(scheduler.config.num_train_timesteps)
    alpha_bar = scheduler.alphas_cumprod.double()
    snr = alpha_bar / (1 - alpha_bar)
    expected = torch.clamp(torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)) / (snr + 1), min=0.2)
    weights = train.loss_weights(scheduler, t, train.TrainConfig())
    assert torch.allclose(weights.double(), expected, rtol=1e-6, atol=0)
    # Both ends are floored (5 / (snr + 1) at low noise, about snr at high noise); the peak is 5/6, where snr = 5.
    assert weights[0] == weights[-1] == torch.tensor(0.2)
    assert 0.8 < weights.max() <= 5 / 6


def test_cooldown_decays_the_lr_from_where_it_began_to_its_floor_and_holds():
    config = train.TrainConfig()
    cooldown = train.Cooldown(origin=1000, steps=200)
    assert train.learning_rate(1000, config, cooldown=cooldown) == config.lr
    halfway = train.learning_rate(1100, config, cooldown=cooldown)
    assert abs(halfway - config.lr * (0.05 + 0.95 * 0.5)) < 1e-12
    assert abs(train.learning_rate(1200, config, cooldown=cooldown) - 0.05 * config.lr) < 1e-12
    assert train.learning_rate(5000, config, cooldown=cooldown) == train.learning_rate(1200, config, cooldown=cooldown)


def test_a_resumed_run_keeps_the_cooldown_it_began(tmp_path):
    _tiny_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    args = ["--corpus", str(tmp_path / "corpus"), "--run", str(run), "--channels", "16,24", "--stem-channels", "4",
            "--threads", "1"]
    train.main(args + ["--max-steps", "2"])
    train.main(args + ["--max-steps", "3", "--cooldown-steps", "10"])
    assert torch.load(run / "ckpt.pt", weights_only=False)["cooldown"]["origin"] == 2
    train.main(args + ["--max-steps", "4", "--cooldown-steps", "50"])  # a resumed cooldown is not restarted
    assert torch.load(run / "ckpt.pt", weights_only=False)["cooldown"] == {"origin": 2, "steps": 10, "floor": 0.05}


def test_tags_are_dropped_cut_to_one_or_two_of_the_clips_own_or_kept_whole_in_the_configured_shares():
    generator = torch.Generator().manual_seed(3)
    full = (torch.rand(4000, 20, generator=torch.Generator().manual_seed(4)) < 0.3).float()
    full[:, 0] = 1.0  # every clip carries at least one tag
    config = train.TrainConfig(tag_dropout=0.15, partial_tags=0.25)
    kept = train.drop_tags(full, generator, config)

    count_full, count_kept = full.sum(dim=1), kept.sum(dim=1)
    assert torch.all(kept <= full)  # never a tag the clip does not carry
    empty = count_kept == 0
    whole = count_kept == count_full
    cut = ~empty & ~whole
    assert abs(empty.float().mean().item() - 0.15) < 0.02
    assert set(count_kept[cut].int().tolist()) <= {1, 2}
    many = count_full >= 3  # where a cut to one or two is visible as such
    share_cut = (cut & many).sum().item() / many.sum().item()
    assert abs(share_cut - 0.25) < 0.03
    ones = ((count_kept == 1) & cut & many).sum().item()
    assert 0.4 < ones / (cut & many).sum().item() < 0.6


def test_without_partial_tags_a_clip_keeps_all_its_tags_or_none():
    full = (torch.rand(500, 20, generator=torch.Generator().manual_seed(5)) < 0.5).float()
    config = train.TrainConfig(tag_dropout=0.15, partial_tags=0.0)
    kept = train.drop_tags(full, torch.Generator().manual_seed(6), config)
    rows_whole = torch.all(kept == full, dim=1)
    rows_empty = kept.sum(dim=1) == 0
    assert torch.all(rows_whole | rows_empty)
