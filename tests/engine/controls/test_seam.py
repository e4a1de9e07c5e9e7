import numpy as np
import torch

from engine.audio.mel import MelSpec, log_mel
from engine.controls.seam import SEAM_TOLERANCE, Seam, joins

SPEC = MelSpec()


def _steady_logmel(frames=120, batch=1, seed=0):
    """A steady sound: the same spectrum every frame plus a little frame-to-frame noise `(batch, n_mels, frames)`."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.linspace(-2.0, -8.0, SPEC.n_mels)[:, None]
    return base + 0.05 * torch.randn(batch, SPEC.n_mels, frames, generator=generator)


def _seam(mask, end):
    return Seam(label="seam", weight=1.0, tolerance=SEAM_TOLERANCE, mask=mask, end=end, spec=SPEC)


def test_joins_are_where_the_held_frames_start_and_stop_inside_the_clip():
    mask = torch.zeros(100)
    mask[:30] = 1.0
    mask[70:90] = 1.0
    assert joins(mask, 100) == (30, 70, 90)
    assert joins(mask, 80) == (30, 70)  # the clip ends before the last join


def test_a_jump_at_the_join_scores_far_above_a_smooth_join():
    mask = torch.zeros(120)
    mask[:40] = 1.0
    seam = _seam(mask, 120)
    smooth = _steady_logmel()
    jump = smooth.clone()
    jump[..., 40:] += 1.5  # 1.5 nats louder from the join on
    assert float(seam.metric(smooth)) < 1.6
    assert float(seam.metric(jump)) > 5 * float(seam.metric(smooth))
    assert float(seam.loss(jump)) > 0 and float(seam.loss(smooth)) < float(seam.loss(jump)) / 100


def test_the_seam_loss_pulls_the_generated_side_toward_the_join():
    mask = torch.zeros(120)
    mask[:40] = 1.0
    logmel = _steady_logmel()
    logmel[..., 40:] += 1.5
    logmel.requires_grad_(True)
    _seam(mask, 120).loss(logmel).sum().backward()
    # a descent step lowers the first generated frame and raises the last held one: the jump shrinks
    assert logmel.grad[..., 40].mean() > 0 > logmel.grad[..., 39].mean()


def test_a_click_in_the_audio_at_the_join_is_heard():
    rate, seconds = SPEC.sample_rate, 2.0
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 330 * t)
    frames = int(seconds * SPEC.frame_rate)
    mask = torch.zeros(frames)
    mask[: frames // 2] = 1.0
    seam = _seam(mask, frames)
    clicked = tone.copy()
    join = (frames // 2) * SPEC.hop_length
    clicked[join: join + 64] = 0.9
    audio = torch.from_numpy(np.stack([tone, clicked])).float()[:, None]
    logmel = log_mel(audio[:, 0], SPEC)
    scores = seam.audio_metric(logmel, audio)
    assert float(scores[0]) <= SEAM_TOLERANCE < float(scores[1])
