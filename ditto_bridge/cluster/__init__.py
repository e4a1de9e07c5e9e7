"""Jobs run on a Ray cluster: `ClusterPool` (pool.py) keeps `ModelActor`s (actor.py) with models loaded.

The daemon keeps its queue, its outbox and every reply local; with ``cluster`` configured its worker hands each
job to `ClusterPool.run` instead of calling `engine.api.generate` itself. Ray is an optional extra
(``pip install 'ditto-bridge[cluster]'``): importing this package needs no Ray, `ClusterPool` and `ModelActor` do.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ditto_bridge.cluster.errors import EXTRA_HINT, ClusterError, ClusterRetryableError

__all__ = ["ClusterError", "ClusterRetryableError", "ClusterPool", "ModelActor", "ray_available", "require_ray"]


def ray_available() -> bool:
    """Whether Ray can be imported here (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def require_ray(setting: str) -> None:
    """`ClusterError` naming the extra to install when `setting` asks for a cluster and Ray is missing."""
    if not ray_available():
        raise ClusterError(f"cluster {setting!r}: Ray is not installed; {EXTRA_HINT}")


def __getattr__(name: str) -> Any:
    if name == "ClusterPool":
        from ditto_bridge.cluster.pool import ClusterPool

        return ClusterPool
    if name == "ModelActor":
        from ditto_bridge.cluster.actor import ModelActor

        return ModelActor
    raise AttributeError(f"module 'ditto_bridge.cluster' has no attribute {name!r}")
