"""`ditto-bridge` console script: one subcommand per module in `ditto_bridge.commands`.

Each command module exposes `add_parser(subparsers)` (registering its arguments and `func`) and returns nothing;
`func(args) -> int` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("generate", "serve", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ditto-bridge", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"ditto_bridge.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"ditto_bridge.commands.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
