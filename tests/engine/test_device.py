"""Compute device choice and the CPU thread count."""

import os
import sys

import pytest
import torch

from engine.device import DeviceUnavailableError, ThreadCountError, pick_device
from engine.device import physical_cpu_cores, torch_threads


def _topology(root, siblings):
    """A sysfs-like tree: logical CPU i lists `siblings[i]` as the CPUs sharing its core."""
    for cpu, listed in enumerate(siblings):
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "thread_siblings_list").write_text(listed + "\n", encoding="ascii")
    return root


def test_hyper_threads_of_one_core_count_once(tmp_path):
    sysfs = _topology(tmp_path, ["0,4", "1,5", "2,6", "3,7", "0,4", "1,5", "2,6", "3,7"])
    assert physical_cpu_cores(cpus=range(8), sysfs=sysfs) == 4


def test_only_the_cores_of_the_allowed_cpus_count(tmp_path):
    sysfs = _topology(tmp_path, ["0-1", "0-1", "2-3", "2-3"])
    assert physical_cpu_cores(cpus=[0, 1], sysfs=sysfs) == 1
    assert physical_cpu_cores(cpus=[1, 2], sysfs=sysfs) == 2


def test_cores_without_hyper_threading_count_each(tmp_path):
    sysfs = _topology(tmp_path, ["0", "1", "2"])
    assert physical_cpu_cores(cpus=[0, 1, 2], sysfs=sysfs) == 3


def test_an_unreadable_topology_falls_back_to_the_logical_cpu_count(tmp_path):
    assert physical_cpu_cores(cpus=[0, 1, 2], sysfs=tmp_path / "missing") == 3


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is a Linux notion")
def test_this_process_has_at_least_one_and_at_most_its_allowed_cores():
    assert 1 <= physical_cpu_cores() <= len(os.sched_getaffinity(0))


def test_torch_threads_keeps_a_request_and_defaults_to_the_physical_cores():
    assert torch_threads(3) == 3
    assert torch_threads(0) == physical_cpu_cores()


@pytest.mark.parametrize("requested", [-1, 1.5, True])
def test_torch_threads_refuses_what_is_not_a_count(requested):
    with pytest.raises(ThreadCountError, match="torch threads"):
        torch_threads(requested)


def test_cpu_is_always_available_and_unknown_devices_are_refused():
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(DeviceUnavailableError, match="unknown"):
        pick_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available() or sys.platform == "darwin", reason="needs a machine without a GPU")
def test_auto_picks_the_cpu_without_a_gpu():
    assert pick_device("auto") == torch.device("cpu")
    with pytest.raises(DeviceUnavailableError, match="CUDA is not available"):
        pick_device("cuda")
