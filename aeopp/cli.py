"""The ``aeopp`` command line: export, read, create, update, delete, undelete and simulate."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command."""
    parser = argparse.ArgumentParser(prog="aeopp", description="Account Engagement (Pardot) opportunities.")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    from ._cli_commands import register
    from .testing._cli import add_parser as add_simulate

    register(subparsers)
    add_simulate(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status
