"""What a command prints: human text through rich, or one JSON document for scripts; progress
notes and errors on stderr. Shared by the `crowd` CLI and the node daemon (which the CLI
starts, and which also runs alone as `python -m crowdcompute.worker`)."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, TextIO

from rich.console import Console

__all__ = ["Output"]


class Output:
    """Human output through rich, or one JSON document for scripts."""

    def __init__(self, fmt: str, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json = fmt == "json"
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.console = Console(file=self.out, highlight=False, soft_wrap=True)
        self.err_console = Console(file=self.err, highlight=False, soft_wrap=True)

    def emit(self, value: Any, human: Callable[[Console], None] | str | None = None) -> None:
        if self.json:
            print(json.dumps(value, sort_keys=True, ensure_ascii=False), file=self.out)
        elif callable(human):
            human(self.console)
        else:
            self.console.print(human if human is not None else value, markup=False)

    def error(self, message: str) -> None:
        line = " ".join(str(message).split())
        if self.json:
            print(json.dumps({"error": line}), file=self.out)
        self.err_console.print(f"error: {line}", markup=False)

    def error_line(self, message: str) -> None:
        """One `error:` line on stderr in either format, for a command whose JSON document
        (with its own "error" field) is already on stdout."""
        self.err_console.print(f"error: {' '.join(str(message).split())}", markup=False)

    def status(self, text: str) -> None:
        """A progress note for humans (stderr), silent in json mode."""
        if not self.json:
            self.err_console.print(text, markup=False)
