"""The table of op kinds: for each `ops[].type`, how its args are parsed and what it has.

Every check that depends on an op's kind reads this table (the parser, literals, the
definition's GPU ask, the worker's limits) instead of testing the args' class, so adding a
kind is one entry here, one handler in the worker's executor (worker/executor.py, HANDLERS;
a test checks that both tables name the same kinds) and one row in README.md's field table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .checks import Checks
from .model import CREATE_VOLUME, RUN, CreateVolumeArgs, JobDefinition, Operation, RunArgs
from .run_args import parse_run_args
from .volume_args import parse_volume_args

# (checks, path of args, raw args, merged-in global section, op id) -> args, or None with
# the problems recorded in `checks`
ArgsParser = Callable[[Checks, str, Any, Mapping[str, Any], str], Any]


@dataclass(frozen=True)
class OpKind:
    name: str  # as written in ops[].type
    args: type  # what `parse_args` makes of ops[].args
    parse_args: ArgsParser
    logs: bool = False  # it runs a program whose output is kept: `results` rules apply
    literals: bool = False  # its args may hold %%...%% literals, filled in just before it starts
    extension: bool = False  # meta.crowdcompute.ops.<id> (outputs, limits) applies
    gpu: bool = False  # its args may ask for a GPU (args.gpu)
    mounts: bool = False  # its args mount volumes of the job (args.volumes)
    creates_volume: bool = False  # it makes the job volume named args.name
    container: bool = False  # it runs a container: with another such op, the job gets a network


KINDS: dict[str, OpKind] = {
    kind.name: kind
    for kind in (
        OpKind(RUN, RunArgs, parse_run_args, logs=True, literals=True, extension=True, gpu=True, mounts=True,
               container=True),
        OpKind(CREATE_VOLUME, CreateVolumeArgs, parse_volume_args, creates_volume=True),
    )
}


def kind_of(op: Operation) -> OpKind | None:
    """The op's kind, or None for a type no table entry has (only a definition built by hand
    can hold one: `parse` refuses it)."""
    return KINDS.get(op.type)


def has(op: Operation, what: str) -> bool:
    """Whether the op's kind has `what` (a flag of OpKind); False for an unknown kind."""
    kind = kind_of(op)
    return kind is not None and bool(getattr(kind, what))


def wants_gpu(definition: JobDefinition) -> bool:
    """Whether any op of the definition asks for a GPU (its kind may, and its args do)."""
    return any(has(op, "gpu") and op.args.gpu for op in definition.ops)


def with_flag(what: str) -> list[str]:
    """The names of the kinds that have `what`, in table order."""
    return [kind.name for kind in KINDS.values() if getattr(kind, what)]


def quoted(names: list[str]) -> str:
    """'"a"', '"a" or "b"', '"a", "b" or "c"': kind names for a message."""
    parts = [f'"{name}"' for name in names]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
