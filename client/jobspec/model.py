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
    """Restart a failed container at most `restart_tries` times ("on-failure"); "no" never."""

    policy: str
    restart_tries: int = 0


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

    def op(self, op_id: str) -> Operation:
        for op in self.ops:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def to_bytes(self) -> bytes:
        """The definition as stored: Nosana's own JSON (a YAML file becomes JSON), canonical."""
        from .canonical import canonical_json

        return canonical_json(self.source)
