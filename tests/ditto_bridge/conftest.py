"""Fixtures for the daemon tests: a daemon in this process on an ephemeral port, with its own folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ditto_bridge.config import load_config
from ditto_bridge.daemon import Daemon

FAST = {"steps": 2, "sampler_steps": 3}
"""Optimization and sampling steps that keep a job of the tiny model well under a second."""


def live_job(**fields: Any) -> dict[str, Any]:
    """A small valid job in Live units: 1 bar of 4/4 at 240 BPM (1 s), tiny step counts."""
    job = {"task": "generate", "song": {"tempo": 240.0}, "length_bars": 1, **FAST}
    job.update(fields)
    return job


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons on tmp folders (keyword arguments are config keys); all are stopped at the end."""
    started: list[Daemon] = []
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "audio").mkdir(exist_ok=True)

    def make(**settings: Any) -> Daemon:
        values = {"port": 0, "data_dir": tmp_path / "data", "inbox": tmp_path / "inbox",
                  "outbox": tmp_path / "outbox", "audio_dirs": [tmp_path / "audio"], "model": "builtin-tiny",
                  "device": "cpu", "torch_threads": 1, "settle_seconds": 0.05, "reference_wait_seconds": 3.0,
                  **settings}
        daemon = Daemon(load_config(tmp_path / "config.toml", values)).start()
        started.append(daemon)
        assert daemon.worker is not None and daemon.worker.ready.wait(60)
        return daemon

    yield make
    for daemon in started:
        daemon.stop()


def dumps(job: dict[str, Any]) -> str:
    return json.dumps(job)
