"""`ditto-bridge serve`: run the daemon until Ctrl-C or SIGTERM (the main job of this project).

Signal handlers only set a flag; the main thread then stops the daemon gracefully: no new jobs, the running
job put back in the queue at its next optimization step, the queue closed. A second signal exits at once (the
queue still recovers the job at the next start).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ditto_bridge.config import DEVICES, LOG_FORMATS, LOG_LEVELS, default_config_path, load_config
from ditto_bridge.errors import BridgeError, ConfigError
from ditto_bridge.logging_setup import setup_logging

log = logging.getLogger("ditto_bridge.serve")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by serve and doctor; each overrides the config file's key of the same name."""
    parser.add_argument("--config", type=Path, help=f"TOML config file (default: {default_config_path()} if it "
                                                    f"exists)")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1; any other needs --allow-remote)")
    parser.add_argument("--allow-remote", action="store_true", default=None, dest="allow_remote",
                        help="allow a host other than loopback (0.0.0.0, ::, a LAN address): anyone who can reach "
                             "the port can then queue jobs")
    parser.add_argument("--port", type=int, help="UDP port to listen on (default 9100; 0 = any free port)")
    parser.add_argument("--reply-port", type=int, dest="reply_port",
                        help="send replies to this port on the sender's host unless the sender announces its own "
                             "in /ditto/ping (the device does: not needed for it); also where inbox and MIDI jobs "
                             "are answered, on 127.0.0.1")
    parser.add_argument("--data-dir", type=Path, dest="data_dir", help="queue, references and log folder")
    parser.add_argument("--inbox", type=Path, help="watched folder for job files and reference audio")
    parser.add_argument("--outbox", type=Path, help="folder the WAVs are written to")
    parser.add_argument("--audio-dir", type=Path, action="append", dest="audio_dirs",
                        help="a folder clip audio may be read from (repeatable; default: the data folder, plus "
                             "the Live set's project folder a job reports)")
    parser.add_argument("--model", help="default model (builtin, builtin-tiny or a .safetensors file)")
    parser.add_argument("--device", help=f"compute device: {', '.join(DEVICES)} (default auto)")
    parser.add_argument("--max-queue", type=int, dest="max_queue", help="most jobs waiting at once (default 16)")
    parser.add_argument("--torch-threads", type=int, dest="torch_threads", help="CPU threads for torch")
    parser.add_argument("--midi-in", dest="midi_in", help="MIDI input port name (virtual where the OS allows)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run jobs on a Ray cluster: auto (a local Ray started here), ray://HOST:PORT (Ray's "
                             "client) or HOST:PORT (the head's address); needs pip install 'ditto-bridge[cluster]'")
    parser.add_argument("--cluster-actors", type=int, dest="cluster_actors", metavar="N",
                        help="actors on the cluster, each with the model loaded: jobs run at once (default 1)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, dest="log_level")
    parser.add_argument("--log-format", choices=LOG_FORMATS, dest="log_format")


_FLAG_KEYS = ("host", "allow_remote", "port", "reply_port", "data_dir", "inbox", "outbox", "audio_dirs", "model",
              "device", "max_queue", "torch_threads", "midi_in", "log_level", "log_format", "cluster", "cluster_actors")


def config_from_args(args: argparse.Namespace) -> Any:
    return load_config(args.config, {key: getattr(args, key, None) for key in _FLAG_KEYS})


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the daemon the Max for Live device talks to",
                                   description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as error:
        print(f"ditto-bridge serve: {error}", file=sys.stderr)
        return 2
    setup_logging(config.log_level, config.log_format, config.log_file)
    from ditto_bridge.daemon import Daemon

    daemon = Daemon(config)
    signals_seen: list[int] = []

    def on_signal(number: int, frame: Any) -> None:
        signals_seen.append(number)
        if len(signals_seen) > 1:
            os._exit(130)  # a second Ctrl-C: leave now; the queue recovers the job at the next start
        daemon.stop_event.set()

    try:
        daemon.start()
    except (BridgeError, OSError) as error:
        log.error("%s", error)
        return 1
    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not daemon.wait(timeout=0.5):
            pass
        log.info("stopping (%s)", signal.Signals(signals_seen[0]).name if signals_seen else "stop requested")
    finally:
        daemon.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    log.info("stopped")
    return 0
