"""GPU check of the diffusers adapters (not part of CI): one DITTO optimization step per adapter on a device, in a
compute dtype, with and without checkpointing; peak memory, memory kept for backward, time.

    python benchmarks/gpu_adapters_check.py --device cuda --dtype bf16                 # the three tiny pipelines
    python benchmarks/gpu_adapters_check.py --device cuda --dtype bf16 --full-stable-audio --seconds 10
    python benchmarks/gpu_adapters_check.py --device cpu --dtype float32 --seconds 1   # does the script run?
    python benchmarks/gpu_adapters_check.py --update-doc tiny.json full.json           # results -> docs/MODELS.md

One optimization step = sample x_T -> x_0 with the engine's sampler (DDIM, classifier-free guidance on), decode to
log-mel through the adapter, intensity loss, backward to x_T, one Adam update. "Checkpointing on" checkpoints every
sampler step's denoiser call (the engine's loop) and the VAE / vocoder blocks (the adapters); "off" keeps every
activation. Peak memory is `torch.cuda.max_memory_allocated` during the step minus what was allocated before it
(CUDA only); "kept for backward" is the size of the tensors autograd stored outside checkpointed regions, on any
device. The tiny pipelines have random weights and toy sizes; `--full-stable-audio` builds Stable Audio Open's
released architecture (StableAudioDiTModel and AutoencoderOobleck at diffusers' default sizes, which the released
configs use) with random weights: memory and time do not depend on weight values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from results_doc import markdown_table, provenance, update_section  # noqa: E402

MODELS_DOC = Path(__file__).resolve().parent.parent / "docs" / "MODELS.md"
HEADER = ["model", "device", "dtype", "clip (s)", "sampler steps", "checkpointing", "peak (MiB)",
          "kept for backward (MiB)", "step time (s)", "loss", "grad norm"]


def full_stable_audio(device: torch.device, dtype: torch.dtype):
    """Stable Audio Open's architecture with random weights (no text encoder: a random T5-width prompt)."""
    from diffusers import AutoencoderOobleck, StableAudioDiTModel, StableAudioProjectionModel

    from engine.models.adapters.common import PrecomputedPrompts
    from engine.models.adapters.stable_audio import StableAudioAdapter

    with torch.device(device):
        transformer = StableAudioDiTModel()
        vae = AutoencoderOobleck()
        projection = StableAudioProjectionModel(text_encoder_dim=768, conditioning_dim=768, min_value=0,
                                                max_value=512)
    generator = torch.Generator().manual_seed(0)
    prompts = PrecomputedPrompts({"calm ambient pad": {"text": torch.randn(1, 128, 768, generator=generator),
                                                       "mask": torch.ones(1, 128, dtype=torch.long)}})
    return StableAudioAdapter(transformer, vae, projection, prompt_encoder=prompts, compute_dtype=dtype,
                              trained=False, name="stable-audio-open (released architecture, random weights)")


def _saved_bytes_hooks():
    counter = {"bytes": 0}

    def pack(tensor):
        counter["bytes"] += tensor.numel() * tensor.element_size()
        return tensor

    return counter, torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor)


def optimization_step(model, x_T, conditioning, control, steps: int, checkpointing: bool) -> dict:
    from engine.job import SamplerSpec
    from engine.sampling.loop import sample

    device = x_T.device
    cuda = device.type == "cuda"
    model.checkpoint_decode = checkpointing
    x = x_T.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=5e-3)
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    start = time.perf_counter()
    counter, hooks = _saved_bytes_hooks()
    with hooks:
        logmel = model.decode_mel(sample(model, x, conditioning, SamplerSpec("ddim", steps),
                                                checkpointing=checkpointing))
        loss = control.loss(logmel).sum()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if cuda:
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated(device) - before) / 2 ** 20 if cuda else float("nan")
    return {"peak_mib": peak, "kept_mib": counter["bytes"] / 2 ** 20, "seconds": elapsed,
            "loss": float(loss.detach()), "grad_norm": float(x.grad.norm())}


def check(model, device: torch.device, seconds: float, steps: int, repeats: int) -> list[dict]:
    from engine.controls.intensity import IntensityControl

    frames = model.feature_frames(seconds)
    control = IntensityControl(label="intensity", weight=1.0, tolerance=2.0,
                               target_db=torch.linspace(-40, -10, frames, device=device),
                               mask=torch.ones(frames, device=device), spec=model.mel)
    conditioning = model.condition(prompt="calm ambient pad", guidance_scale=3.0, batch=1)
    x_T = torch.randn(1, *model.latent_shape(seconds), generator=torch.Generator().manual_seed(0)).to(device)
    rows = []
    for checkpointing in (True, False):
        try:
            optimization_step(model, x_T, conditioning, control, steps, checkpointing)  # warm-up (kernels, caches)
            runs = [optimization_step(model, x_T, conditioning, control, steps, checkpointing)
                    for _ in range(repeats)]
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            rows.append({"model": model.info.name, "device": str(device),
                         "dtype": str(model.compute_dtype).split(".")[-1], "seconds": seconds, "steps": steps,
                         "checkpointing": checkpointing, "oom": True})
            print(f"{model.info.name}: out of memory with checkpointing {'on' if checkpointing else 'off'}")
            continue
        rows.append({"model": model.info.name, "device": str(device), "dtype": str(model.compute_dtype).split(".")[-1],
                     "seconds": seconds, "steps": steps, "checkpointing": checkpointing,
                     "peak_mib": max(r["peak_mib"] for r in runs), "kept_mib": runs[-1]["kept_mib"],
                     "step_seconds": statistics.median(r["seconds"] for r in runs), "loss": runs[-1]["loss"],
                     "grad_norm": runs[-1]["grad_norm"]})
        print(_row_text(rows[-1]), flush=True)
    model.checkpoint_decode = True
    return rows


def _row_text(row: dict) -> str:
    return (f"{row['model']:<58} {row['dtype']:<9} ckpt={'on ' if row['checkpointing'] else 'off'} "
            f"peak {row['peak_mib']:9.1f} MiB  kept {row['kept_mib']:9.1f} MiB  {row['step_seconds']:7.3f} s  "
            f"loss {row['loss']:.3g}  |grad| {row['grad_norm']:.3g}")


def _table(rows: list[dict]) -> list[list]:
    table = []
    for r in rows:
        lead = [r["model"], r["device"], r["dtype"], r["seconds"], r["steps"], "on" if r["checkpointing"] else "off"]
        if r.get("oom"):
            table.append(lead + ["out of memory", "", "", "", ""])
            continue
        peak = "n/a" if r["peak_mib"] != r["peak_mib"] else f"{r['peak_mib']:.1f}"
        table.append(lead + [peak, f"{r['kept_mib']:.1f}", f"{r['step_seconds']:.3f}", f"{r['loss']:.3g}",
                             f"{r['grad_norm']:.3g}"])
    return table


def update_doc(results: dict) -> None:
    body = (f"Measured by `benchmarks/gpu_adapters_check.py` on {results['device_name']} ({results['provenance']}).\n\n"
            + markdown_table(HEADER, _table(results["rows"])))
    update_section("gpu-adapters-check", body, MODELS_DOC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:1, mps or cpu")
    parser.add_argument("--dtype", default="auto", help="compute dtype: auto, bf16, fp16 or float32")
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length")
    parser.add_argument("--steps", type=int, default=10, help="sampler steps")
    parser.add_argument("--repeats", type=int, default=2, help="measured steps per setting (after one warm-up)")
    parser.add_argument("--kinds", default="stable-audio-open,audioldm2-music,musicldm", help="tiny pipelines to check")
    parser.add_argument("--full-stable-audio", action="store_true", help="also the released Stable Audio architecture")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--update-doc", type=Path, nargs="+", metavar="JSON",
                        help="only write these JSON results (rows merged) into docs/MODELS.md")
    args = parser.parse_args(argv)
    if args.update_doc:
        results = [json.loads(path.read_text()) for path in args.update_doc]
        update_doc({**results[0], "rows": [row for result in results for row in result["rows"]]})
        return 0

    from engine.device import pick_device
    from engine.models.adapters.common import pick_compute_dtype
    from engine.models.adapters.tiny import tiny_adapter

    torch.manual_seed(0)
    device = pick_device(args.device)
    dtype = pick_compute_dtype(device, args.dtype)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    print(f"device {device_name}, compute dtype {dtype}, clip {args.seconds} s, {args.steps} DDIM steps, CFG 3")
    rows = []
    for kind in [k for k in args.kinds.split(",") if k]:
        rows += check(tiny_adapter(kind, compute_dtype=dtype).to(device), device, args.seconds, args.steps,
                      args.repeats)
    if args.full_stable_audio:
        rows += check(full_stable_audio(device, dtype).to(device), device, args.seconds, args.steps, args.repeats)
    failed = [r for r in rows if not r.get("oom") and not (r["grad_norm"] > 0 and r["grad_norm"] == r["grad_norm"])]
    results = {"device_name": device_name, "provenance": provenance(), "rows": rows}
    print()
    print(markdown_table(HEADER, _table(rows)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if failed:
        print(f"FAILED: no finite gradient reached x_T for {', '.join(r['model'] for r in failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
