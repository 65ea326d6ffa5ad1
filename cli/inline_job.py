"""`crowd job post --image IMG [--gpu] -- CMD...`: a one-op job definition in Nosana's format,
built here and then validated like any file."""

from __future__ import annotations

from typing import Any


def inline_definition(image: str, cmd: list[str], *, gpu: bool = False) -> dict[str, Any]:
    args: dict[str, Any] = {"image": image}
    if cmd:
        args["cmd"] = list(cmd)
    if gpu:
        args["gpu"] = True
    return {"version": "0.1", "type": "container", "meta": {"trigger": "cli"},
            "ops": [{"type": "container/run", "id": "run", "args": args}]}
