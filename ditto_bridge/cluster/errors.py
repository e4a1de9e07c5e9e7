"""The cluster's errors: what stops the daemon from using a Ray cluster, and what sends a job round again."""

from __future__ import annotations

from ditto_bridge.errors import BridgeError

EXTRA_HINT = "install the cluster extra: python3 -m pip install 'ditto-bridge[cluster]'"


class ClusterError(BridgeError):
    """The cluster cannot be used (Ray missing, unreachable, too few CPUs or GPUs, actors that do not start); the
    message says what to do."""


class ClusterRetryableError(ClusterError):
    """The actor (or the node) running a job died mid-way. The pool has replaced the actor; the job runs again
    within the queue's bounded attempts, and nothing of the lost run reached the outbox."""
