"""The daemon's configuration: defaults, then a TOML file, then command-line flags; `validate()` kept apart.

The file lives in the platform's standard place (``platformdirs.user_config_path("ditto-bridge")/config.toml``:
``~/.config/ditto-bridge`` on Linux, ``~/Library/Application Support/ditto-bridge`` on macOS,
``%LOCALAPPDATA%\\ditto-bridge`` on Windows) or wherever ``--config`` points. Keys are the field names of `Config`
(``docs/DAEMON.md`` lists them); unknown keys are an error, so a typo never goes unnoticed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import platformdirs

from ditto_bridge.errors import ConfigError
from ditto_bridge.translate.envelopes import NORMALIZED_MAX_DB, NORMALIZED_MIN_DB

APP = "ditto-bridge"
DEVICES = ("auto", "cuda", "mps", "cpu")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
WAV_SUBTYPES = ("PCM_16", "PCM_24", "FLOAT")


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP) / "config.toml"


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP)


@dataclass
class Config:
    """Everything `ditto-bridge serve` can be told. Paths left as None derive from `data_dir` in `resolved()`."""

    host: str = "127.0.0.1"
    """Address to bind; keep 127.0.0.1 unless the device runs on another machine (then see `allow_remote`)."""
    allow_remote: bool = False
    """Allow a `host` other than a loopback address (``0.0.0.0``, ``::``, a LAN address): anyone who can reach
    the port can then queue jobs, so the daemon refuses such a host unless this is true, and warns when it is."""
    port: int = 9100
    """UDP port the daemon listens on (0: any free port, logged at start)."""
    reply_port: int | None = None
    """Send replies to this port on the sender's host (Max's udpreceive) instead of the sender's own port, for
    senders that announce none: the device announces its own (9101) in every ``/ditto/ping`` and is answered there
    without this setting. Inbox and MIDI jobs (no sender) are answered here on 127.0.0.1."""
    data_dir: Path = field(default_factory=default_data_dir)
    """The job queue (SQLite), rendered references, the log file."""
    inbox: Path | None = None
    """Watched folder for job files and reference audio (default: <data_dir>/inbox)."""
    outbox: Path | None = None
    """Where WAVs and their sidecar JSON appear (default: <data_dir>/outbox)."""
    audio_dirs: tuple[Path, ...] | None = None
    """Folders clip audio, MIDI files and warm starts may be read from, besides the inbox and the Live set's own
    project folder (when a job reports one). None: the data folder only."""
    model: str = "builtin"
    """Default model name for jobs that name none ("builtin", "builtin-tiny" or a .safetensors path)."""
    device: str = "auto"
    """Compute device: auto (CUDA, then Apple MPS, then CPU), cuda, mps or cpu."""
    max_queue: int = 16
    """Most jobs waiting at once; one more gets a busy reply."""
    max_attempts: int = 2
    """Runs a job gets when the daemon dies under it (killed, power cut); then it is marked failed."""
    torch_threads: int = 0
    """CPU threads for torch (0: one per physical core)."""
    cluster: str | None = None
    """Run jobs on a Ray cluster (`ditto_bridge.cluster`): "auto" starts a local Ray on this machine,
    "ray://HOST:PORT" connects through Ray's client, "HOST:PORT" joins the cluster whose head is there. None runs
    them in this process. Needs the cluster extra (``pip install 'ditto-bridge[cluster]'``)."""
    cluster_actors: int = 1
    """Actors (each with the model loaded, one GPU each where the cluster has GPUs) and so jobs run at once."""
    memory_budget_mib: float | None = None
    """MiB above the loaded model one optimization step may use: sampling steps whose activations fit keep
    them, the rest are recomputed (faster than checkpointing every step). None: checkpoint every step (least
    memory). A job's own `optimizer.memory_budget_mib` wins."""
    wav_subtype: str = "PCM_24"
    """WAV sample format: PCM_16, PCM_24 or FLOAT."""
    settle_seconds: float = 0.3
    """An inbox file is taken once its size has not changed for this long (it is still being written before)."""
    reference_wait_seconds: float = 60.0
    """How long an inbox job file waits for reference audio it names that has not arrived yet."""
    midi_in: str | None = None
    """MIDI input: a virtual port of this name where the OS allows, else the existing port whose name starts so."""
    midi_virtual: bool = True
    """Create `midi_in` as a virtual port (macOS, Linux); false opens an existing port."""
    midi_trigger_note: int | None = 0
    """Note number that triggers a generation from what was played (None: no note trigger)."""
    midi_trigger_cc: int | None = None
    """CC number whose rise past 63 triggers a generation (None: no CC trigger)."""
    midi_intensity_cc: int | None = 11
    """CC recorded as the intensity curve (value / 127 onto midi_min_db..midi_max_db)."""
    midi_min_db: float = NORMALIZED_MIN_DB
    midi_max_db: float = NORMALIZED_MAX_DB
    """Defaults inside the levels the built-in model's music reaches (`translate.envelopes.NORMALIZED_MIN_DB`)."""
    midi_tempo: float = 120.0
    """Tempo used to put played notes on beats when no MIDI clock arrives (MIDI clock overrides it)."""
    midi_job: Path | None = None
    """A job in Live units (JSON) used as the template of MIDI-triggered jobs (song, tags, length, steps...)."""
    log_level: str = "info"
    log_format: str = "text"
    log_file: Path | None = None
    """Also log to this file (default: <data_dir>/daemon.log; rotated at 5 MB)."""
    source: str = "defaults"
    """Where the values came from (for messages), not a setting."""

    # ---------------------------------------------------------------------------------------------- derived
    def resolved(self) -> "Config":
        """A copy with derived paths filled in and every path absolute."""
        data_dir = Path(self.data_dir).expanduser().resolve()
        return dataclasses.replace(
            self,
            data_dir=data_dir,
            inbox=Path(self.inbox).expanduser().resolve() if self.inbox else data_dir / "inbox",
            outbox=Path(self.outbox).expanduser().resolve() if self.outbox else data_dir / "outbox",
            audio_dirs=(tuple(Path(p).expanduser().resolve() for p in self.audio_dirs)
                        if self.audio_dirs is not None else (data_dir,)),
            log_file=Path(self.log_file).expanduser().resolve() if self.log_file else data_dir / "daemon.log",
            midi_job=Path(self.midi_job).expanduser().resolve() if self.midi_job else None,
        )

    @property
    def queue_path(self) -> Path:
        return Path(self.data_dir) / "jobs.sqlite3"

    @property
    def reference_dir(self) -> Path:
        return Path(self.data_dir) / "references"

    # ------------------------------------------------------------------------------------------- validation
    def validate(self) -> "Config":
        """Check every value; `ConfigError` names the key and where it came from."""

        def bad(key: str, message: str) -> ConfigError:
            return ConfigError(f"{key} ({self.source}): {message}, got {getattr(self, key)!r}")

        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if self.host != "localhost":
                raise bad("host", "must be an IP address such as 127.0.0.1") from None
        if not isinstance(self.allow_remote, bool):
            raise bad("allow_remote", "must be true or false")
        if not is_loopback(self.host) and not self.allow_remote:
            raise bad("host", f"{exposure(self.host)}: anyone who can reach it could queue jobs and read the "
                              f"folders' files through them. Keep 127.0.0.1, or pass --allow-remote (allow_remote = "
                              f"true) when the device really runs on another machine")
        for key in ("port", "reply_port"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or not 0 <= value <= 65535):
                raise bad(key, "must be a port number 0-65535")
        if self.reply_port == 0:
            raise bad("reply_port", "must be a real port (1-65535)")
        if self.device.split(":")[0] not in DEVICES:
            raise bad("device", f"must be one of {', '.join(DEVICES)} (or cuda:N)")
        for key, lo, hi in (("max_queue", 1, 10_000), ("max_attempts", 1, 100), ("torch_threads", 0, 1024)):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise bad(key, f"must be an integer from {lo} to {hi}")
        if self.wav_subtype not in WAV_SUBTYPES:
            raise bad("wav_subtype", f"must be one of {', '.join(WAV_SUBTYPES)}")
        if self.log_level not in LOG_LEVELS:
            raise bad("log_level", f"must be one of {', '.join(LOG_LEVELS)}")
        if self.log_format not in LOG_FORMATS:
            raise bad("log_format", f"must be one of {', '.join(LOG_FORMATS)}")
        for key in ("settle_seconds", "reference_wait_seconds"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or not 0 <= value <= 3600:
                raise bad(key, "must be a number of seconds from 0 to 3600")
        for key in ("midi_trigger_note", "midi_trigger_cc", "midi_intensity_cc"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 127):
                raise bad(key, "must be a MIDI number 0-127 or absent")
        if self.memory_budget_mib is not None and not 0 < self.memory_budget_mib < 2 ** 30:
            raise bad("memory_budget_mib", "must be a number of MiB above 0, or absent")
        if not -120 <= self.midi_min_db < self.midi_max_db <= 20:
            raise bad("midi_min_db", "needs -120 <= midi_min_db < midi_max_db <= 20")
        if not 20 <= self.midi_tempo <= 999:
            raise bad("midi_tempo", "must be a tempo from 20 to 999 BPM")
        if not self.model or not isinstance(self.model, str):
            raise bad("model", "must name a model")
        if not isinstance(self.cluster_actors, int) or isinstance(self.cluster_actors, bool) \
                or not 1 <= self.cluster_actors <= 1024:
            raise bad("cluster_actors", "must be an integer from 1 to 1024")
        if self.cluster is not None:
            from ditto_bridge.cluster import ClusterError, require_ray
            from ditto_bridge.cluster.pool import normalized_address

            try:
                normalized_address(self.cluster)
                require_ray(self.cluster)
            except ClusterError as error:
                raise ConfigError(f"{error} ({self.source})") from None
        return self


def is_loopback(host: str) -> bool:
    """Whether `host` reaches only this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(host: str) -> str:
    """How far a socket bound to `host` can be reached, in words (for warnings)."""
    try:
        unspecified = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified:
        return f"host {host} binds every network interface of this machine"
    if is_loopback(host):
        return f"host {host} is reachable from this machine only"
    return f"host {host} is reachable from other machines on that network"


_PATH_KEYS = {"data_dir", "inbox", "outbox", "log_file", "midi_job"}
_STRING_KEYS = {"host", "model", "device", "wav_subtype", "log_level", "log_format", "midi_in", "cluster"}
_BOOL_KEYS = {"midi_virtual", "allow_remote"}
_NUMBER_KEYS = {"settle_seconds", "reference_wait_seconds", "midi_min_db", "midi_max_db", "midi_tempo",
                "memory_budget_mib"}
_FIELDS = {f.name: f for f in dataclasses.fields(Config) if f.name != "source"}


def from_mapping(values: Mapping[str, Any], base: Config | None = None, source: str = "flags") -> Config:
    """`base` with `values` applied (None values are skipped: a flag not given keeps the file's value)."""
    config = dataclasses.replace(base) if base is not None else Config()
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            raise ConfigError(f"{key} ({source}): not a setting (known: {', '.join(sorted(_FIELDS))})")
        if value is None:
            continue
        if key in _STRING_KEYS and not isinstance(value, str):
            raise ConfigError(f"{key} ({source}): must be a string, got {value!r}")
        if key in _BOOL_KEYS and not isinstance(value, bool):
            raise ConfigError(f"{key} ({source}): must be true or false, got {value!r}")
        if key in _NUMBER_KEYS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{key} ({source}): must be a number, got {value!r}")
        if key in _PATH_KEYS:
            if not isinstance(value, (str, Path)):
                raise ConfigError(f"{key} ({source}): must be a path, got {value!r}")
            value = Path(str(value))
        elif key == "audio_dirs":
            if isinstance(value, (str, Path)):
                value = [value]
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"audio_dirs ({source}): must be a list of folders, got {value!r}")
            value = tuple(Path(str(v)) for v in value)
        changes[key] = value
    if not changes:
        return config
    sources = config.source if config.source != "defaults" else ""
    return dataclasses.replace(config, **changes, source=f"{sources} + {source}".strip(" +"))


def load_config(path: Path | None = None, flags: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then the TOML file (`path`, else the standard one if it exists), then `flags`; validated."""
    config = Config()
    file = path if path is not None else default_config_path()
    if path is not None and not file.is_file():
        raise ConfigError(f"--config: no such file {str(file)!r}")
    if file.is_file():
        try:
            values = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{file}: not valid TOML ({error})") from None
        config = from_mapping(values, config, source=str(file))
    config = from_mapping(flags or {}, config, source="flags")
    return config.resolved().validate()
