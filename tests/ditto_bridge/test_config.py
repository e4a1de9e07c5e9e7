import sys
from pathlib import Path

import platformdirs
import pytest

from ditto_bridge.config import Config, default_config_path, load_config
from ditto_bridge.errors import ConfigError


def test_flags_override_the_file_which_overrides_the_defaults(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text('port = 9200\nmodel = "builtin-tiny"\nmax_queue = 4\ndata_dir = "%s"\n' % (tmp_path / "d"))
    config = load_config(file, {"port": 9300, "model": None})
    assert config.port == 9300  # flag
    assert config.model == "builtin-tiny" and config.max_queue == 4  # file (a flag left as None keeps it)
    assert config.host == "127.0.0.1"  # default
    assert config.inbox == (tmp_path / "d" / "inbox").resolve()  # derived from data_dir


def test_the_standard_file_is_in_the_platforms_config_folder():
    assert default_config_path() == platformdirs.user_config_path("ditto-bridge") / "config.toml"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CONFIG_HOME moves the folder on Linux only")
def test_the_standard_file_is_read_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "ditto-bridge" / "config.toml"
    default_config_path().parent.mkdir(parents=True)
    default_config_path().write_text("max_queue = 3\n")
    assert load_config(None, {"data_dir": str(tmp_path / "d")}).max_queue == 3


@pytest.mark.parametrize("text, fragment", [
    ("prot = 9100\n", "prot .*: not a setting"),
    ("port = 70000\n", "port .*: must be a port number"),
    ('device = "tpu"\n', "device .*: must be one of"),
    ('host = 12\n', "host .*: must be a string"),
    ("max_queue = 0\n", "max_queue"),
    ("port = \n", "not valid TOML"),
    ("memory_budget_mib = -5\n", "memory_budget_mib .*: must be a number of MiB above 0"),
    ('memory_budget_mib = "lots"\n', "memory_budget_mib .*: must be a number"),
])
def test_bad_settings_name_the_key_and_the_file(tmp_path, text, fragment):
    file = tmp_path / "config.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(file, {"data_dir": str(tmp_path)})


def test_a_missing_config_file_given_explicitly_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="--config: no such file"):
        load_config(tmp_path / "nope.toml")


def test_validate_is_separate_from_parsing():
    config = Config(reply_port=0)
    with pytest.raises(ConfigError, match="reply_port"):
        config.validate()
    assert Config(data_dir=Path("/tmp/x")).resolved().validate().outbox == Path("/tmp/x/outbox")
