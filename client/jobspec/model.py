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
    """When the node starts an op's container again after it exits (Nosana's
    `restart_policy`, podman's semantics):

    "no": never. "on-failure": after a non-zero exit, at most `restart_tries` times
    (0 = no cap). "always" / "unless-stopped": after any exit (Nosana's node maps "always"
    to "unless-stopped"; a node has no daemon restart to tell them apart). The policies
    without a cap are accepted only in a job that exposes a port (parsing.py): a batch job
    must end; a service runs until its deadline anyway. How often the node restarts (its
    back-off) is the service runtime's."""

    policy: str  # "no" | "on-failure" | "always" | "unless-stopped"
    restart_tries: int = 0  # on-failure only; 0 = no cap

    @property
    def endless(self) -> bool:
        """Whether it may restart the container without bound."""
        return self.policy in ("always", "unless-stopped") or (self.policy == "on-failure" and self.restart_tries == 0)

    def should_restart(self, exit_code: int, restarts: int) -> bool:
        """Whether a container that exited with `exit_code`, after `restarts` restarts so
        far, is started again."""
        if self.policy in ("always", "unless-stopped"):
            return True
        if self.policy == "on-failure" and exit_code != 0:
            return self.restart_tries == 0 or restarts < self.restart_tries
        return False


@dataclass(frozen=True)
class HealthCheck:
    """One check of an exposed port, run by the node (Nosana's `health_checks` item).

    http: `method path` with `headers` and `body` must answer `expected_status`;
    websocket: the answer to connecting to the port must contain `expected_response`
    (Nosana's node runs `curl --include ws://...:PORT` and looks for it in the output).
    `continuous`: also checked after the startup check passed (else only until then).
    `body` is set only for POST and PUT (expose.py). Bounds and checks: expose.py."""

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

    port: int  # 1..65535; a range in the file becomes one ExposedPort per port
    type: str = "none"  # web | api | webapi | websocket | none (Nosana's default: none); a label only
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
    # expose items given by a literal or a {"__spread__": literal} marker, as written; filled
    # into `expose` by literals.resolve_args just before the op starts
    expose_literals: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()  # extension: files copied into the result bundle
    limits: Limits = Limits()  # extension
    # resources.py's Resource values (S3, HF, Ollama; not imported here: resources.py reads
    # definitions with checks.py, which imports this module): downloaded by the node, mounted read-only
    resources: tuple[Any, ...] = ()
    # resources.py's ResourceLiteral values: resource items written with literals, filled into
    # `resources` (after the written ones) by literals.resolve_args just before the op starts
    resource_literals: tuple[Any, ...] = ()

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

    @property
    def is_service(self) -> bool:
        """It exposes a port (or may: an expose literal is filled in at run time). A service
        op runs until the job ends; an op that depends on it waits until it is up (its
        first health checks passed, or it runs, when it has none), not until it ends."""
        return self.is_run and bool(self.args.expose or self.args.expose_literals)  # type: ignore[union-attr]


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
        return any(op.is_service for op in self.ops)

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
