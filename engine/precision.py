"""The denoiser's compute precision: bfloat16 where the hardware multiplies it natively, float32 elsewhere.

Every model call of sampling, DITTO and the baselines goes through `DiffusionModel.guided`, which runs the
network under `autocast` with the dtype chosen here and hands back float32 latents, so schedulers, features,
losses, Adam's state and the vocoder stay in float32. On a CPU with AVX512-BF16 (an AMD EPYC, 2 threads), a
DITTO step through the built-in model at 80 x 520 frames with classifier-free guidance ran 1.4-1.6x faster in
bfloat16, and a DPM-Solver++ 10 render from the same x_T differed by a mean square of 5e-5 against a latent
variance of 0.43 (`benchmarks/plain_speed.py` measures both side by side, docs/RESULTS.md "plain-speed").
Without native support bfloat16 is emulated and slower, so "auto" keeps float32 there, on Apple MPS, and on GPUs
without bfloat16.

Choose with the environment variable `DITTO_BRIDGE_PRECISION` ("auto", "fp32", "bf16") or per model with
`DiffusionModel.use_precision`. The diffusers adapters cast their weights instead of using autocast
(`engine/models/adapters/common.py`, `pick_compute_dtype`); a precision named by the variable applies to them
too, while their "auto" stays float32 on the CPU.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

from engine.errors import EngineError

PRECISIONS = ("auto", "fp32", "bf16")
ENVIRONMENT_VARIABLE = "DITTO_BRIDGE_PRECISION"
CPUINFO = Path("/proc/cpuinfo")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


class PrecisionError(EngineError, ValueError):
    """A precision name that is not one of PRECISIONS, or bfloat16 asked for where the device cannot run it."""


def cpu_has_native_bf16(cpuinfo: Path = CPUINFO) -> bool:
    """True when the CPU lists a bfloat16 dot-product instruction set (Linux `/proc/cpuinfo` flags); False where
    the flags cannot be read (macOS, Windows: float32 is the safe choice there)."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` runs bfloat16 natively (CUDA: the card says so; CPU: `cpu_has_native_bf16`)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(device: torch.device, preference: str | None = None) -> torch.dtype:
    """The dtype the denoiser runs in on `device` for `preference` (None: the environment variable, else
    "auto"). "bf16" where the device has no bfloat16 at all (MPS) raises PrecisionError."""
    name = (preference if preference is not None else os.environ.get(ENVIRONMENT_VARIABLE, "auto")).strip().lower()
    if name not in PRECISIONS:
        raise PrecisionError(f"precision {name!r}: choose one of {', '.join(PRECISIONS)} "
                             f"(from {'the model' if preference is not None else ENVIRONMENT_VARIABLE})")
    if name == "fp32":
        return torch.float32
    if name == "bf16":
        if device.type not in ("cpu", "cuda"):
            raise PrecisionError(f"precision 'bf16': not available on {device.type}; use 'auto' or 'fp32'")
        return torch.bfloat16
    return torch.bfloat16 if native_bf16(device) else torch.float32


def precision_name(dtype: torch.dtype) -> str:
    """"bf16" or "fp32", as sidecars and `doctor` print it."""
    return "bf16" if dtype == torch.bfloat16 else "fp32"


def autocast(device: torch.device, dtype: torch.dtype):
    """A context that runs the ops inside in bfloat16 when `dtype` is bfloat16 on a CPU or CUDA `device`; nothing
    changes otherwise (models whose weights are cast to a half dtype, the diffusers adapters, run in it anyway)."""
    if dtype != torch.bfloat16 or device.type not in ("cpu", "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
