"""`dlp-gateway config`: every setting with its meaning and the value in force.

The values are those of `--config FILE` and the flags, over the defaults: what `serve` would
use. An operator checks a limit here instead of reading code; `config.example.yaml` is the
same listing with the defaults.
"""

from __future__ import annotations

import argparse
import sys

from dlp_gateway.cli import EXIT_OK, settings_from_args
from dlp_gateway.settings_doc import render_settings


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "config", parents=[common],
        help="show every setting (limits, timeouts, paths) with its meaning and the value in force")
    parser.add_argument("--defaults", action="store_true", help="show the defaults instead of the values in force")
    parser.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace) -> int:
    settings = None if args.defaults else settings_from_args(args)
    sys.stdout.write(render_settings(settings))
    return EXIT_OK
