"""How every noun of `crowd` registers its verbs, and the one way main.py runs them: each
verb's parser carries its `handler` (args -> exit status), so main.py only collects nouns
(`register(commands)` in each) and calls `args.handler(args)`."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Awaitable, Callable

from .common import Output, run_command

__all__ = ["Handler", "add_noun", "add_verb", "on_chain"]

Handler = Callable[[argparse.Namespace], int]


def add_noun(commands: Any, name: str, *, required: bool = True, **parser_options: Any) -> Any:
    """`crowd NAME` and its verbs' subparsers (dest NAME_command). A noun whose verb may be
    left out (required=False) prints its help on stderr and exits 2 without one."""
    parser = commands.add_parser(name, **parser_options)
    verbs = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=required)
    if not required:
        parser.set_defaults(handler=lambda args: _usage(parser))
    return verbs


def add_verb(verbs: Any, name: str, handler: Handler, **parser_options: Any) -> argparse.ArgumentParser:
    """One verb: its parser (for the caller's arguments), with `handler` to run it."""
    parser = verbs.add_parser(name, **parser_options)
    parser.set_defaults(handler=handler)
    return parser


def on_chain(body: Callable[[argparse.Namespace, Output], Awaitable[int | None]]) -> Handler:
    """A handler for an async command body: its output through Output (--output), known
    failures as one line and exit 1 (common.run_command)."""

    def handler(args: argparse.Namespace) -> int:
        return run_command(args, lambda output: body(args, output))

    return handler


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2
