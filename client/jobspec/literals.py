"""Literals: `%%...%%` references in op args, filled in when the op is about to start.

Forms we honour (Nosana's TaskManager, globalStore/interpolateOperation.ts):
  %%global.variables.NAME%%     global.variables.NAME of the definition
  %%globals.job%% / %%global.job%%       the job's address
  %%globals.host%% / %%global.host%%     the node's address
  %%globals.project%%           the poster's address (Nosana's "project")
  %%ops.ID.results.KEY%%        the values op ID extracted for KEY (a list of strings)
  %%ops.ID.host%%               op ID's host name on the job's private network: its id
  %%ops.ID.endpoint.PORT%%      the public address of op ID's exposed PORT, as the node's
                                front door serves it (RunContext.endpoints, filled by the
                                executor); Nosana's form: a host name without scheme
Refused, with a reason: %%globals.frps_address%% (there is no tunnel server: the node
serves its endpoints itself) and %%ops.ID.deployment_endpoint%% (no deployments here).

An expose item that is a literal, or a {"__spread__": literal} marker, is filled in here
too: its values read as ports, ranges or JSON lists of expose items (expose.fill), with the
bounds of the file's own items. So are resource items written with literals (a spread of
JSON resources, or literals in an item's fields): read by resources.fill with the rules of
the file's own resources.

Values, as Nosana shapes them: a result list is joined with spaces inside a string; a
list element that is exactly one result literal is replaced by the list's items (none
when nothing matched). Env keys `__spread__` and `__pairs__` merge a JSON object, or a
JSON list of {"key", "value"}, taken from a literal into the environment.

Bound: one literal can stand for a megabyte of results, and a definition can name it
thousands of times, so the values filled into one op stop at FILLED_CAP bytes in all
(LiteralError past it): the node never builds a command larger than that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from ..errors import CrowdError
from . import expose as exposing
from . import resources as resourcing
from .literal_syntax import LITERAL
from .model import PAIRS, SPREAD, JobDefinition, Operation, RunArgs
BUILTINS = ("job", "host", "project")
FILLED_CAP = 1 << 20  # bytes of literal values filled into one op (Linux's argv+env is 2 MiB)
NO_TUNNEL = (
    "there is no tunnel server: a node serves its endpoints itself; name an endpoint "
    "with %%ops.ID.endpoint.PORT%%"
)
NO_DEPLOYMENTS = (
    "there are no deployments here (deployment_id is ignored); name an endpoint with "
    "%%ops.ID.endpoint.PORT%%"
)


@dataclass(frozen=True)
class Reference:
    text: str  # the literal as written, with its %%
    kind: str  # "variable" | "builtin" | "result" | "host" | "endpoint"
    name: str  # variable, builtin or result key; op id for "host"; the port for "endpoint"
    op: str | None = None  # producing op for "result", "host" and "endpoint"

    @property
    def port(self) -> int:
        """The port of an "endpoint" reference."""
        return int(self.name)


def classify(body: str) -> Reference | str:
    """The reference a literal's body names, or why it is not one we honour."""
    text = f"%%{body}%%"
    parts = body.split(".")
    if parts[0] in ("global", "globals"):
        if len(parts) == 3 and parts[1] == "variables" and parts[2]:
            return Reference(text, "variable", parts[2])
        if len(parts) == 2 and parts[1] in BUILTINS:
            return Reference(text, "builtin", parts[1])
        if len(parts) == 2 and parts[1] == "frps_address":
            return f"{text}: not supported: {NO_TUNNEL}"
        return (
            f"{text}: unknown literal (expected %%global.variables.NAME%%, "
            "%%globals.job%%, %%globals.host%% or %%globals.project%%)"
        )
    if len(parts) >= 3 and parts[1]:
        op = parts[1]
        if len(parts) == 4 and parts[2] == "results" and parts[3]:
            return Reference(text, "result", parts[3], op)
        if len(parts) == 3 and parts[2] == "host":
            return Reference(text, "host", op, op)
        if parts[2] == "endpoint":
            port = parts[3] if len(parts) == 4 else ""
            if port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535:
                return Reference(text, "endpoint", str(int(port)), op)
            return (
                f"{text}: expected %%ops.ID.endpoint.PORT%% with one port, 1 to 65535 (each port "
                "of a range has its own endpoint)"
            )
        if parts[2] == "deployment_endpoint":
            return f"{text}: not supported: {NO_DEPLOYMENTS}"
    return (
        f"{text}: unknown literal (expected %%ops.ID.results.KEY%%, %%ops.ID.host%% or "
        "%%ops.ID.endpoint.PORT%%)"
    )


def references(value: str) -> list[Reference | str]:
    return [classify(m.group(1)) for m in LITERAL.finditer(value)]


class LiteralError(CrowdError, ValueError):
    """A literal that cannot be filled in at run time (its producer has no results)."""


@dataclass(frozen=True)
class RunContext:
    """What the worker knows when an op is about to start."""

    job: str
    node: str
    poster: str
    results: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    # (op id, port) -> the endpoint's public address, for %%ops.ID.endpoint.PORT%%: the
    # executor fills in every exposed port of the job it knows when the op starts
    endpoints: Mapping[tuple[str, int], str] = field(default_factory=dict)


def resolve_args(definition: JobDefinition, op: Operation, context: RunContext) -> RunArgs:
    """`op.args` with every literal filled in, env operators applied, expose literals read
    into `expose` and resource literals into `resources` (none left in `expose_literals`,
    `resource_literals`): for an op whose kind has literals
    (kinds.py; container/run), which is the only kind whose handler (worker/executor.py)
    calls this."""
    args = op.args
    resolver = _Resolver(definition, context)

    def filled(fill: Any, written: Any, later: Any) -> Any:
        """`written` with the items its literals (`later`) make, by the field's own rules."""
        if not later:
            return written
        try:
            return fill(written, later, lambda text: resolver.values(resolver.reference(text[2:-2])))
        except ValueError as exc:
            raise LiteralError(str(exc)) from None

    expose = filled(exposing.fill, args.expose, args.expose_literals)
    resources = filled(resourcing.fill, args.resources, args.resource_literals)
    env: dict[str, str] = {}
    for key, value in args.env:
        if key in (SPREAD, PAIRS):
            env.update(resolver.operator(key, value))
        else:
            env[key] = resolver.string(value)
    return replace(
        args,
        image=resolver.string(args.image),
        cmd=resolver.argv(args.cmd),
        entrypoint=resolver.argv(args.entrypoint),
        env=tuple(env.items()),
        work_dir=None if args.work_dir is None else resolver.string(args.work_dir),
        aliases=tuple(resolver.string(a) for a in args.aliases),
        expose=expose,
        expose_literals=(),
        resources=resources,
        resource_literals=(),
    )


class _Resolver:
    def __init__(self, definition: JobDefinition, context: RunContext) -> None:
        self.definition = definition
        self.context = context
        self.filled = 0  # bytes of values filled in so far (FILLED_CAP)

    def values(self, ref: Reference) -> list[str]:
        found = self._values(ref)
        self.filled += sum(len(v) + 1 for v in found)
        if self.filled > FILLED_CAP:
            raise LiteralError(f"{ref.text}: the literals of this op fill in more than {FILLED_CAP} bytes")
        return found

    def _values(self, ref: Reference) -> list[str]:
        if ref.kind == "variable":
            return [self.definition.variables[ref.name]]
        if ref.kind == "builtin":
            c = self.context
            return [{"job": c.job, "host": c.node, "project": c.poster}[ref.name]]
        if ref.kind == "host":
            return [ref.name]
        if ref.kind == "endpoint":
            address = self.context.endpoints.get((ref.op or "", ref.port))
            if address is None:
                raise LiteralError(f"{ref.text}: op {ref.op!r} has no endpoint for port {ref.port} on this node")
            return [address]
        produced = self.context.results.get(ref.op or "")
        if produced is None or ref.name not in produced:
            raise LiteralError(f"{ref.text}: op {ref.op!r} has no results (it has not run)")
        return [str(v) for v in produced[ref.name]]

    def reference(self, body: str) -> Reference:
        ref = classify(body)
        if isinstance(ref, str):  # parse() refuses these; a hand-built definition may not
            raise LiteralError(ref)
        return ref

    def string(self, value: str) -> str:
        return LITERAL.sub(lambda m: " ".join(self.values(self.reference(m.group(1)))), value)

    def argv(self, argv: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if argv is None:
            return None
        out: list[str] = []
        for item in argv:
            whole = LITERAL.fullmatch(item)
            if whole:
                out.extend(self.values(self.reference(whole.group(1))))
            else:
                out.append(self.string(item))
        return tuple(out)

    def operator(self, key: str, value: str) -> dict[str, str]:
        text = self.string(value)
        try:
            decoded: Any = json.loads(text)
        except ValueError:
            raise LiteralError(f"env.{key}: {value} gave {text!r}, not JSON") from None
        if key == SPREAD:
            if not isinstance(decoded, dict):
                raise LiteralError(f"env.{key}: {value} gave {text!r}, not a JSON object")
            return {str(k): _env_string(v) for k, v in decoded.items()}
        if not isinstance(decoded, list) or not all(
            isinstance(p, dict) and isinstance(p.get("key"), str) for p in decoded
        ):
            raise LiteralError(
                f'env.{key}: {value} gave {text!r}, not a JSON list of {{"key", "value"}}'
            )
        return {p["key"]: _env_string(p.get("value", "")) for p in decoded}


def _env_string(value: Any) -> str:
    """Nosana's finalizeEnv: strings as they are, null as "", anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))
