"""`crowd job validate FILE`: the job definition checker (its verb is registered in job.py).

Exit 0 and "valid: N ops in M groups" (plus one "note:" line per field that
is accepted but has no effect here); exit 1 and one line per problem; exit 2 and one
line when the file cannot be read as JSON or YAML. `--output json` prints one JSON
document instead. Never a traceback: every failure is a one-line message.
"""

from __future__ import annotations

import json
from typing import Any, TextIO


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
