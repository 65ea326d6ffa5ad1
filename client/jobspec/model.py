"""The parsed job definition: frozen values, built only by `parse` (see parsing.py).

Global defaults (image, env, entrypoint, work_dir, gpu) are already merged into each
operation, as Nosana's node merges them, so the worker reads one place per field.
Strings may still hold literals (`%%ops.a.results.k%%`); `literals.resolve_args` fills
them in at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# The op kinds' names; what each kind has and how its args are parsed: kinds.py.
RUN = "container/run"
CREATE_VOLUME = "container/create-volume"

# Env keys that are Nosana collection operators, applied when literals are resolved.
SPREAD = "__spread__"
PAIRS = "__pairs__"


@dataclass(frozen=True)
class RestartPolicy:
    """Restart a failed container at most `restart_tries` times ("on-failure"); "no" never;
    "always" / "unless-stopped" (services): restart whenever it exits or fails its health
    checks, until the job ends (the node bounds how often: worker's service runtime)."""

    policy: str
    restart_tries: int = 0


@dataclass(frozen=True)
class HealthCheck:
    """One check of an exposed port, run by the node (Nosana's `health_checks` item).

    http: `method path` with `headers` and `body` must answer `expected_status`;
    websocket: a message sent on connect must get `expected_response` back (Nosana sends
    nothing and waits for `expected_response` as the first message: see parsing).
    `continuous`: also checked after the startup check passed (else only until then)."""

    type: str  # "http" | "websocket"
    path: str = "/"
    method: str = "GET"
    expected_status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    expected_response: str | None = None
    continuous: bool = False


@dataclass(frozen=True)
class ExposedPort:
    """A container port served through the node's front door (Nosana's `expose`)."""

    port: int
    type: str = "webapi"  # web | api | webapi | websocket | none
    health_checks: tuple[HealthCheck, ...] = ()


@dataclass(frozen=True)
class ResultRule:
    """`results.<key>`: a regular expression (Python syntax, translated from Nosana's
    JavaScript one) searched line by line in the named streams."""

    key: str
    regex: str
    log_types: tuple[str, ...] = ("stdout", "stderr")
    source: str = ""  # the regex as written in the file


@dataclass(frozen=True)
class VolumeMount:
    """A volume made by a `container/create-volume` op of the same job, mounted at `dest`."""

    name: str
    dest: str


@dataclass(frozen=True)
class Limits:
    """Our extension (meta.crowdcompute.ops.<id>.limits); None = the worker's default."""

    cpus: float | None = None
    memory: int | None = None  # bytes
    pids: int | None = None
    timeout: int | None = None  # seconds


@dataclass(frozen=True)
class RunArgs:
    """`container/run` args after merging `global`."""

    image: str
    cmd: tuple[str, ...] | None = None  # argv; a string cmd is ("/bin/sh", "-c", cmd)
    entrypoint: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()  # in file order; keys may be __spread__/__pairs__
    work_dir: str | None = None
    gpu: bool = False
    required_vram: int | None = None  # GB, as Nosana's markets count VRAM
    volumes: tuple[VolumeMount, ...] = ()
    aliases: tuple[str, ...] = ()
    restart: RestartPolicy = RestartPolicy("no")
    expose: tuple[ExposedPort, ...] = ()  # ports served through the node's front door
    private: bool = False  # endpoint ids random (unguessable) instead of derived from (job, op, port)
    outputs: tuple[str, ...] = ()  # extension: files copied into the result bundle
    limits: Limits = Limits()  # extension

    def env_dict(self) -> dict[str, str]:
        """The environment when it holds no collection operator (those need `resolve_args`)."""
        return dict(self.env)


@dataclass(frozen=True)
class CreateVolumeArgs:
    name: str


@dataclass(frozen=True)
class Execution:
    group: str  # Nosana's default: the op's own id
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    id: str
    type: str
    index: int  # position in `ops`
    args: RunArgs | CreateVolumeArgs
    results: tuple[ResultRule, ...] = ()
    execution: Execution = field(default_factory=lambda: Execution(""))

    @property
    def is_run(self) -> bool:
        return self.type == RUN


@dataclass(frozen=True)
class JobDefinition:
    version: str
    type: str
    ops: tuple[Operation, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    required_vram: int | None = None  # GB: the largest any op or meta asks for
    notes: tuple[Any, ...] = ()  # Problems accepted with no effect here (see README)
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_service(self) -> bool:
        """A job with an exposed port: it runs until its deadline or the poster's end."""
        return any(op.is_run and op.args.expose for op in self.ops)  # type: ignore[union-attr]

    @property
    def needs_egress(self) -> bool:
        """Our extension `meta.crowdcompute.egress: true`: the job's containers need to reach
        the internet; a node that does not allow egress refuses it before `work`."""
        ours = self.meta.get("crowdcompute") if isinstance(self.meta, Mapping) else None
        return bool(isinstance(ours, Mapping) and ours.get("egress") is True)

    def op(self, op_id: str) -> Operation:
        for op in self.ops:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def to_bytes(self) -> bytes:
        """The definition as stored: Nosana's own JSON (a YAML file becomes JSON), canonical."""
        from .canonical import canonical_json

        return canonical_json(self.source)
