"""Controls: target + differentiable loss + mask + weight + tolerance, bound to a model's frames."""

from engine.controls.base import Control, masked_mse
from engine.controls.build import build_controls

__all__ = ["Control", "build_controls", "masked_mse"]
