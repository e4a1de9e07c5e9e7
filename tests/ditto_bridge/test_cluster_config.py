"""The cluster settings, checked without starting Ray: addresses, actor counts, and the words a producer gets when
Ray is not installed (these tests pass with or without Ray)."""

import pytest

import ditto_bridge.cluster as cluster
from ditto_bridge.cli import main
from ditto_bridge.cluster.pool import cpus_each, normalized_address
from ditto_bridge.config import load_config
from ditto_bridge.errors import ConfigError


@pytest.fixture
def folders(tmp_path):
    (tmp_path / "config.toml").write_text("")
    return {"data_dir": str(tmp_path / "data")}


def test_in_process_is_the_default_and_needs_no_ray(tmp_path, folders):
    config = load_config(tmp_path / "config.toml", folders)
    assert (config.cluster, config.cluster_actors) == (None, 1)


@pytest.mark.parametrize("address, expected", [("auto", "local"), ("ray://gpu-box:10001", "ray://gpu-box:10001"),
                                               ("10.0.0.5:6379", "10.0.0.5:6379")])
def test_addresses_ray_understands(address, expected):
    assert normalized_address(address) == expected


@pytest.mark.parametrize("address", ["gpu-box", "ray://gpu-box", "host:99999", "http://x:1", ""])
def test_an_address_that_cannot_be_one_is_refused_with_the_forms_that_work(tmp_path, folders, monkeypatch, address):
    monkeypatch.setattr(cluster, "ray_available", lambda: True)
    with pytest.raises(ConfigError, match="cluster '.*': expected .*HOST:PORT"):
        load_config(tmp_path / "config.toml", {**folders, "cluster": address})


@pytest.mark.parametrize("text, fragment", [("cluster_actors = 0\n", "cluster_actors .*: must be an integer"),
                                            ('cluster_actors = "two"\n', "cluster_actors .*: must be an integer"),
                                            ("cluster = 5\n", "cluster .*: must be a string")])
def test_bad_cluster_settings_name_the_key(tmp_path, folders, text, fragment):
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(tmp_path / "config.toml", folders)


def test_a_cluster_without_ray_installed_names_the_extra_to_install(tmp_path, folders, monkeypatch, capsys):
    monkeypatch.setattr(cluster, "ray_available", lambda: False)
    with pytest.raises(ConfigError, match=r"Ray is not installed; install the cluster extra: .*-bridge\[cluster\]"):
        load_config(tmp_path / "config.toml", {**folders, "cluster": "auto"})
    status = main(["serve", "--config", str(tmp_path / "config.toml"), "--data-dir", folders["data_dir"],
                   "--cluster", "auto", "--cluster-actors", "2"])
    assert status == 2
    assert "pip install 'ditto-bridge[cluster]'" in capsys.readouterr().err
    # without --cluster nothing asks for Ray
    assert load_config(tmp_path / "config.toml", folders).cluster is None


@pytest.mark.parametrize("nodes, actors, each", [([2.0], 2, 1), ([2.0], 1, 2), ([16.0], 3, 5), ([8.0, 8.0], 1, 8),
                                                 ([8.0, 8.0], 3, 4), ([8.0, 2.0], 2, 4), ([1.0], 4, 1)])
def test_cpu_actors_take_as_many_cpus_as_let_all_of_them_fit(nodes, actors, each):
    assert cpus_each(nodes, actors) == each
