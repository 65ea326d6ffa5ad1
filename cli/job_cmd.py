"""`crowd job ...`: the poster's commands. So far `crowd job validate FILE`.

validate: exit 0 and "valid: N ops in M groups" (plus one "note:" line per field that
is accepted but has no effect here); exit 1 and one line per problem; exit 2 and one
line when the file cannot be read as JSON or YAML. `--output json` prints one JSON
document instead. Never a traceback: every failure is a one-line message.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO


def register(commands: Any) -> Any:
    """Add `job` and its subcommands to the `crowd` parser's subparsers; returns the verbs'
    subparsers, where job_commands.py adds the poster's commands."""
    job = commands.add_parser("job", help="job definitions and jobs: validate, post, get, logs, list, why, cancel, extend, end, clean")
    verbs = job.add_subparsers(dest="job_command", metavar="COMMAND", required=True)
    validate = verbs.add_parser(
        "validate",
        help="check a job definition (Nosana's format, JSON or YAML) and list every problem",
    )
    validate.add_argument("file", metavar="FILE", help="job definition: .json, .yaml or .yml")
    validate.add_argument("--output", choices=("text", "json"), default="text", help="output format")
    return verbs


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.job_command == "validate":
        return validate(args.file, args.output, out, err)
    raise AssertionError(f"unhandled job command {args.job_command!r}")  # argparse requires one


def validate(path: str, output: str, out: TextIO, err: TextIO) -> int:
    from ..client.jobspec import LoadError, ValidationError, load, plan

    try:
        definition = load(path)
    except LoadError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the parser said
        if output == "json":
            _json(out, {"valid": False, "error": message})
        else:
            print(f"error: {message}", file=err)
        return 2
    except ValidationError as exc:
        if output == "json":
            _json(out, {"valid": False, "problems": [_problem(p) for p in exc.problems]})
        else:
            for problem in exc.problems:
                print(problem, file=out)
        return 1
    stages = plan(definition)
    if output == "json":
        _json(out, {
            "valid": True,
            "ops": len(definition.ops),
            "groups": [[op.id for op in stage.ops] for stage in stages],
            "notes": [_problem(n) for n in definition.notes],
        })
    else:
        ops, groups = len(definition.ops), len(stages)
        print(f"valid: {ops} op{'s' * (ops != 1)} in {groups} group{'s' * (groups != 1)}", file=out)
        for note in definition.notes:
            print(f"note: {note}", file=out)
    return 0


def _problem(problem: Any) -> dict[str, str]:
    return {"path": problem.path, "message": problem.message}


def _json(out: TextIO, value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, sort_keys=True), file=out)
