"""Runs `crowd` in-process (crowdcompute.cli.main) and returns what a shell would see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crowdcompute.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error_line(self) -> str:
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, self.err
        return lines[0]


class Crowd:
    def __init__(self, capsys, url: str, keypair: str | None = None) -> None:
        self.capsys = capsys
        self.url = url
        self.keypair = keypair

    def __call__(self, *argv: str, keypair: str | None = None, url: str | None = None) -> Result:
        args = list(argv)
        inline = []
        if "--" in args:  # an inline job's command stays last
            at = args.index("--")
            args, inline = args[:at], args[at:]
        if args and args[0] not in ("localnet", "storage"):
            args += ["-u", url or self.url]
            if (keypair or self.keypair) is not None:
                args += ["-k", keypair or self.keypair]
        args += inline
        self.capsys.readouterr()
        try:
            code = main(args)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)
