"""`ditto-bridge doctor`, and what `serve` says when it cannot start."""

import logging
import socket

import pytest

from ditto_bridge.cli import main
from ditto_bridge.config import load_config
from ditto_bridge.daemon import Daemon
from ditto_bridge.errors import BridgeError, ConfigError


def flags(tmp_path, *extra):
    (tmp_path / "config.toml").write_text("")
    return ["--config", str(tmp_path / "config.toml"), "--data-dir", str(tmp_path / "data"),
            "--model", "builtin-tiny", "--device", "cpu", *extra]


def test_doctor_reports_each_check_and_passes_on_a_working_setup(tmp_path, capsys):
    status = main(["doctor", *flags(tmp_path, "--port", "0")])
    out = capsys.readouterr().out
    assert status == 0, out
    for line in ("config", "data_dir folder", "inbox folder", "outbox folder", "OSC port", "compute device",
                 "model", "audio libraries", "MIDI backend"):
        assert line in out
    assert "random weights" in out  # the tiny model is untrained: said plainly
    assert "all checks passed" in out


def test_doctor_fails_when_the_port_is_taken(tmp_path, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        status = main(["doctor", *flags(tmp_path, "--port", str(port), "--skip-model")])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL  OSC port" in out and "is ditto-bridge already running?" in out


def test_doctor_fails_on_a_bad_config_value(tmp_path, capsys):
    assert main(["doctor", *flags(tmp_path, "--device", "tpu")]) == 1
    assert "device (" in capsys.readouterr().out


def test_a_second_daemon_on_the_same_data_folder_is_refused(tmp_path):
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {"port": 0, "data_dir": tmp_path / "data", "model": "builtin-tiny",
                                               "device": "cpu"})
    with Daemon(config):
        with pytest.raises(BridgeError, match="another ditto-bridge daemon uses"):
            Daemon(config).start()


@pytest.fixture
def keep_logging():
    """`serve` configures the root logger; put it back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def test_serve_says_clearly_when_its_port_is_taken(tmp_path, capsys, keep_logging):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        status = main(["serve", *flags(tmp_path, "--port", str(taken.getsockname()[1]))])
    assert status == 1
    assert "cannot listen on udp://127.0.0.1" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_a_wildcard_or_network_host_needs_allow_remote(tmp_path, capsys, host):
    (tmp_path / "c.toml").write_text("")
    settings = {"port": 0, "data_dir": tmp_path / "data", "model": "builtin-tiny", "device": "cpu", "host": host}
    with pytest.raises(ConfigError, match=r"host .*anyone who can reach it could queue jobs.*--allow-remote"):
        load_config(tmp_path / "c.toml", settings)
    assert main(["serve", *flags(tmp_path, "--host", host, "--port", "0")]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    config = load_config(tmp_path / "c.toml", {**settings, "allow_remote": True})
    (tmp_path / "remote.toml").write_text("allow_remote = true\n")
    assert load_config(tmp_path / "remote.toml", {**settings}).allow_remote is True
    assert config.allow_remote and config.host == host


def test_a_daemon_allowed_to_be_remote_warns_at_start(tmp_path, caplog, monkeypatch):
    import ditto_bridge.daemon as daemon_module

    monkeypatch.setattr(daemon_module, "is_loopback", lambda host: False)  # as if bound to a network address
    monkeypatch.setattr(daemon_module, "exposure", lambda host: "host 0.0.0.0 binds every network interface")
    (tmp_path / "c.toml").write_text("")
    config = load_config(tmp_path / "c.toml", {"port": 0, "data_dir": tmp_path / "data", "model": "builtin-tiny",
                                               "device": "cpu", "allow_remote": True})  # bound to loopback here
    with caplog.at_level(logging.WARNING, logger="ditto_bridge.daemon"), Daemon(config):
        pass
    assert any("binds every network interface (allow_remote is set): anyone who can reach" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_doctor_warns_about_a_host_other_than_loopback(tmp_path, capsys, host):
    assert main(["doctor", *flags(tmp_path, "--host", host, "--allow-remote", "--port", "0", "--skip-model")]) == 0
    out = capsys.readouterr().out
    assert "WARN  OSC port" in out and ("reachable from other machines" in out or "every network interface" in out)
    assert "anyone who can reach it can queue jobs" in out


def test_loopback_hosts_need_nothing_and_doctor_says_ok(tmp_path, capsys):
    for host in ("127.0.0.1", "::1", "localhost"):
        (tmp_path / "c.toml").write_text("")
        assert load_config(tmp_path / "c.toml", {"data_dir": tmp_path / "d", "host": host}).allow_remote is False
    assert main(["doctor", *flags(tmp_path, "--port", "0", "--skip-model")]) == 0
    assert "OK    OSC port" in capsys.readouterr().out
