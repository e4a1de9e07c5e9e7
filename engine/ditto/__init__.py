"""The DITTO optimization loop (see `engine.ditto.optimize`)."""

from engine.ditto.optimize import DittoResult, optimize

__all__ = ["DittoResult", "optimize"]
