"""Peak memory of one optimization step of DITTO, DOODL and FreeDoM, on the intensity task.

On CUDA the peak is read in-process (`torch.cuda.max_memory_allocated`, after a reset). On CPU it is measured in a
fresh process per method, so one method's allocations never hide another's: on Linux the kernel's peak-RSS mark is
reset just before the step (model loaded, one warm-up sampling pass done) and the step's peak is its mark minus the
resident size before it; elsewhere the process's peak RSS after the step minus its peak before it.

    python -m engine.evaluation.cost ditto --model builtin --steps 10     # prints {"peak_mib": ...}
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import torch

COST_METHODS = ("ditto", "doodl", "freedom")


def _setup(model, duration: float):
    from engine.controls.intensity import IntensityControl

    frames = model.latent_shape(duration)[-1]
    control = IntensityControl(label="intensity", weight=1.0, tolerance=2.0,
                               target_db=torch.linspace(-36.0, -14.0, frames), mask=torch.ones(frames), spec=model.mel)
    conditioning = model.condition(batch=1)
    x_T = torch.randn((1, *model.latent_shape(duration)), generator=torch.Generator().manual_seed(0))
    return [control], conditioning, x_T.to(model.device, model.dtype)


def one_step(method: str, model, controls, conditioning, x_T: torch.Tensor, sampler_steps: int) -> None:
    """One optimization step (DITTO, DOODL) or one guided sampling pass (FreeDoM, whose cost is per sample)."""
    from engine.baselines.doodl import edict_gradient
    from engine.baselines.freedom import freedom_sample
    from engine.ditto.optimize import control_losses, total_loss
    from engine.job import SamplerSpec
    from engine.sampling import sample

    sampler = SamplerSpec("ddim", sampler_steps)
    if method == "ditto":
        x = x_T.clone().requires_grad_(True)
        logmel = model.decode_mel(sample(model, x, conditioning, sampler))
        total_loss(controls, control_losses(controls, logmel)).sum().backward()
    elif method == "doodl":
        edict_gradient(model, controls, x_T, conditioning, steps=sampler_steps, mix=0.93)
    elif method == "freedom":
        freedom_sample(model, controls, x_T, conditioning, sampler)
    else:
        raise ValueError(f"method must be one of {', '.join(COST_METHODS)}, got {method!r}")


def _status_mib(field: str) -> float | None:
    """A `VmRSS`/`VmHWM` line of /proc/self/status in MiB (Linux), None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_here(method: str, model_name: str, duration: float, sampler_steps: int, device: str | None = None) -> float:
    """Peak MiB of one step, measured in this process (meaningful on CPU only in a fresh process)."""
    from engine.job import SamplerSpec
    from engine.models.registry import load_model
    from engine.sampling import sample

    model = load_model(model_name, device)
    controls, conditioning, x_T = _setup(model, duration)
    with torch.no_grad():
        sample(model, x_T, conditioning, SamplerSpec("ddim", 2))
    if model.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        one_step(method, model, controls, conditioning, x_T, sampler_steps)
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2 ** 20
    if _reset_peak() and _status_mib("VmRSS") is not None:
        # Linux: the peak mark restarts at the current resident size, so the step's own peak is measured even when
        # earlier work (imports, loading) peaked higher.
        before = _status_mib("VmRSS")
        one_step(method, model, controls, conditioning, x_T, sampler_steps)
        return _status_mib("VmHWM") - before
    before = _peak_rss_mib()
    one_step(method, model, controls, conditioning, x_T, sampler_steps)
    return _peak_rss_mib() - before


def peak_memory_mib(method: str, model_name: str, duration: float, sampler_steps: int, *, threads: int = 1,
                    device: str | None = None) -> float:
    """Peak MiB of one step of `method`: in-process on CUDA, in a fresh process on CPU."""
    if torch.cuda.is_available() and device != "cpu":
        return measure_here(method, model_name, duration, sampler_steps, device)
    command = [sys.executable, "-m", "engine.evaluation.cost", method, "--model", model_name, "--duration",
               str(duration), "--steps", str(sampler_steps), "--threads", str(threads), "--device", "cpu"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.evaluation.cost", description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=COST_METHODS)
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--duration", type=float, default=5.94)
    parser.add_argument("--steps", type=int, default=10, help="sampling steps T")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(json.dumps({"peak_mib": measure_here(args.method, args.model, args.duration, args.steps, args.device)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
