"""The ``aeopp`` command line: export, read, create, update, delete, undelete and simulate.

``aeopp.cli:main`` is the console script (``python -m aeopp`` runs it too). The package's modules,
from the bottom up: ``_settings`` (connection settings, exit statuses, error printing),
``_progress`` (the progress bar), ``_writers`` (JSON Lines and CSV), ``_run`` (checking flags,
connecting, mapping failures to exit statuses), then the commands: ``_export`` and ``_commands``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .._version import __version__
from . import _commands, _export
from ._settings import connection_parser

__all__ = ["build_parser", "main"]


def _build() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(prog="aeopp", description="Account Engagement (Pardot) opportunities.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    from ..testing._cli import add_parser as add_simulate

    parent = connection_parser()
    _export.add_parser(subparsers, parent)
    _commands.add_parsers(subparsers, parent)
    add_simulate(subparsers)
    return parser, subparsers


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command."""
    return _build()[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit status."""
    parser, subparsers = _build()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, with its own usage line
        command = subparsers.choices.get(args.command) if args.command else None
        (command or parser).error("unrecognized arguments: " + " ".join(unknown))
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status
