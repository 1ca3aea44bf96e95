"""The `dlp-gateway` command. Each subcommand lives in its own module under commands/.

A command module exposes `register(subparsers, common)`: it adds its parser (with
`parents=[common]`, so every subcommand takes --config and --data-dir) and sets
`func(args) -> int`. Exit status: 0 done, 1 the command ran and found a problem,
2 bad usage or input (DESIGN.md).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from dlp_gateway import __version__
from dlp_gateway.config import ConfigError, Settings, load_settings

COMMAND_MODULES = [
    "dlp_gateway.commands.serve",
    "dlp_gateway.commands.scan",
    "dlp_gateway.commands.quarantine",
    "dlp_gateway.commands.fingerprint",
    "dlp_gateway.commands.policy",
    "dlp_gateway.commands.trace",
    "dlp_gateway.commands.config",
]

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2

# Bits every file the gateway creates must have cleared: nothing for "other" users, no
# write for the group. The store, quarantine, Maildir and logs hold classified mail.
REQUIRED_UMASK = 0o027


def restrict_umask() -> int:
    """Tighten the process umask to at least `REQUIRED_UMASK`; returns the one in force.

    systemd's unit sets `UMask=0027`, but the gateway is also started by hand, from cron
    or from a container whose umask is 000: without this, quarantined messages, the store
    and the Maildir would be world-readable. A stricter umask (077) is kept as it is.
    The worker processes inherit it.
    """
    old = os.umask(REQUIRED_UMASK)
    os.umask(old | REQUIRED_UMASK)
    return old | REQUIRED_UMASK


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="configuration file (YAML); flags override it")
    common.add_argument("--data-dir", metavar="DIR", help="where the store, quarantine and Maildir live (default ./data)")
    return common


def settings_from_args(args: argparse.Namespace, **overrides: object) -> Settings:
    """Load settings from --config, then apply --data-dir and the command's own flags."""
    values: dict[str, object] = {"data_dir": getattr(args, "data_dir", None)}
    values.update(overrides)
    return load_settings(getattr(args, "config", None), values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlp-gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dlp-gateway {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_parser()
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command is not built yet
                continue
            raise
        module.register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    restrict_umask()  # before any subcommand can create a file
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
