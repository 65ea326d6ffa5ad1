"""How an op becomes a container: names, labels, mounts and the confinement settings.

Pure functions (no engine calls), so the settings can be read and tested in one place.
Every container, network and volume of a job carries the labels `crowdcompute.job` and
`crowdcompute.node` (ops also `crowdcompute.op`), which is how `cleanup_job` and
`leftovers` find them.

Confinement of every op (README.md in this folder explains each choice):
  CPU        nano_cpus = cpus * 1e9
  memory     mem_limit = memswap_limit = memory (no swap); /tmp is a tmpfs counted in it
  processes  pids_limit
  privileges cap_drop ALL, no-new-privileges, oom_score_adj 500 (the kernel picks a job
             over the node when the host itself runs out of memory)
  network    none at all (loopback only) when the job runs one container and exposes
             no port; else the job's own internal network only (no route out; egress
             only where the node allows it), the op's id and aliases as host names on
             it (`needs_network`)
  files      read-only root filesystem; writable: /tmp (tmpfs), the op's work dir and
             the folders of its declared outputs (volumes of the job, so outputs are
             read after the container exits), the job's create-volume volumes
             read-only: the node's resource volumes at their targets (worker/resources);
             writable: the job's private copy of an allowWrite resource
  logs       json-file, 1 MiB kept by the engine (the node streams them itself)
  GPU        device_requests (all GPUs, capabilities [["gpu"]]) only when the op says gpu
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..client.jobspec import JobDefinition, Limits, RunArgs
from ..client.jobspec.kinds import has

LABEL_JOB = "crowdcompute.job"
LABEL_OP = "crowdcompute.op"
LABEL_NODE = "crowdcompute.node"  # the node that ran it: nodes sharing an engine keep apart
LABEL_ROLE = "crowdcompute.role"  # op | network | volume | work
OOM_SCORE_ADJ = 500
ENGINE_LOG = {"type": "json-file", "config": {"max-size": "1m", "max-file": "1"}}


def needs_network(definition: JobDefinition) -> bool:
    """Whether the job gets its own network: when more than one of its ops runs a
    container (ops that talk to each other), or when it exposes a port (the node reaches
    the service at its address on that network), or asks for egress. A job of one
    container otherwise has none at all, only loopback: nothing to reach, so nothing to
    fence, and its container starts about 0.1 s sooner (no bridge endpoint, no embedded DNS)."""
    if definition.is_service or definition.needs_egress:
        return True
    return sum(1 for op in definition.ops if has(op, "container")) > 1


def network_name(job: str) -> str:
    return f"cc-{job}"


def job_volume_name(job: str, name: str) -> str:
    """A `container/create-volume` volume: scoped to its job by name and label."""
    return f"cc-{job}-v-{name}"


def work_volume_name(job: str, op: str, path: str) -> str:
    digest = hashlib.sha256(f"{op}\0{path}".encode()).hexdigest()[:16]
    return f"cc-{job}-w-{digest}"


def container_name(job: str, op: str, attempt: int) -> str:
    return f"cc-{job}-{op}-{attempt}"


def labels(job: str, role: str, op: str | None = None, node: str | None = None) -> dict[str, str]:
    out = {LABEL_JOB: job, LABEL_ROLE: role}
    if op is not None:
        out[LABEL_OP] = op
    if node is not None:
        out[LABEL_NODE] = node
    return out


def writable_dirs(work_dir: str | None, outputs: tuple[str, ...], volume_dests: tuple[str, ...]) -> list[str]:
    """Folders that get a volume of their own: the work dir and each output's folder,
    less those already inside another one or inside a job volume, and never `/`."""
    wanted = []
    if work_dir and posixpath.normpath(work_dir) != "/":
        wanted.append(posixpath.normpath(work_dir))
    for path in outputs:
        parent = posixpath.dirname(posixpath.normpath(path))
        if parent != "/":
            wanted.append(parent)
    taken = [posixpath.normpath(d) for d in volume_dests]
    out: list[str] = []
    for path in sorted(set(wanted), key=lambda p: (p.count("/"), p)):
        if not any(_inside(path, t) for t in taken + out):
            out.append(path)
    return out


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@dataclass(frozen=True)
class ContainerSpec:
    """Arguments for APIClient.create_container / create_host_config / an endpoint."""

    name: str
    image: str
    command: list[str] | None
    entrypoint: list[str] | None
    environment: dict[str, str]
    working_dir: str | None
    hostname: str
    labels: dict[str, str]
    host_config: dict[str, Any]
    network: str | None  # None: no network (network_mode "none")
    aliases: list[str]
    volumes: dict[str, str] = field(default_factory=dict)  # volume name -> mount point

    def create_kwargs(self, api: Any) -> dict[str, Any]:
        """What `api.create_container(**...)` takes (the SDK builds host and network
        configs for the daemon's API version, hence `api`)."""
        return {
            "image": self.image,
            "command": self.command,
            "entrypoint": self.entrypoint,
            "environment": self.environment,
            "working_dir": self.working_dir,
            "hostname": self.hostname,
            "labels": self.labels,
            "name": self.name,
            "host_config": api.create_host_config(**self.host_config),
            "networking_config": api.create_networking_config(
                {self.network: api.create_endpoint_config(aliases=self.aliases)}
            ) if self.network else None,
        }


def container_spec(
    job: str,
    op: str,
    args: RunArgs,
    limits: Limits,
    *,
    attempt: int,
    image_workdir: str | None,
    read_only: bool,
    tmpfs_size: int,
    node: str | None = None,
    networked: bool = True,
    resources: dict[str, str] | None = None,
    writable_resources: dict[str, str] | None = None,
) -> ContainerSpec:
    """The container for one try of op `op` (args with literals already filled in), on the
    job's network when `networked`, else with none (`needs_network`); `resources`: the
    node's resource volumes (volume -> target, worker/resources), mounted read-only;
    `writable_resources`: the job's private copies of allowWrite ones, mounted writable."""
    import docker.types  # here, so that reading this module needs no SDK

    resources = resources or {}
    copies = writable_resources or {}
    work_dir = args.work_dir or image_workdir or None
    dests = tuple(v.dest for v in args.volumes) + tuple(resources.values()) + tuple(copies.values())  # no work volume inside a resource
    volumes = {job_volume_name(job, v.name): v.dest for v in args.volumes}
    writable = writable_dirs(work_dir, args.outputs, dests) if read_only else []
    for path in writable:
        volumes[work_volume_name(job, op, path)] = path
    mounts = [docker.types.Mount(target, source, type="volume") for source, target in volumes.items()]
    mounts += [docker.types.Mount(target, source, type="volume", read_only=True) for source, target in resources.items()]
    mounts += [docker.types.Mount(target, source, type="volume") for source, target in copies.items()]
    host: dict[str, Any] = {
        "nano_cpus": int(limits.cpus * 1e9) if limits.cpus else None,
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,
        "pids_limit": limits.pids,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "oom_score_adj": OOM_SCORE_ADJ,
        "read_only": read_only,
        "mounts": mounts,
        "log_config": docker.types.LogConfig(**ENGINE_LOG),
        "network_mode": network_name(job) if networked else "none",
    }
    if read_only and not any(_inside("/tmp", p) for p in [*volumes.values(), *resources.values(), *copies.values()]):
        host["tmpfs"] = {"/tmp": f"rw,nosuid,nodev,size={tmpfs_size}"}
    if args.gpu:
        host["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
    aliases = [op, *[a for a in args.aliases if a != op]]
    return ContainerSpec(
        name=container_name(job, op, attempt),
        image=args.image,
        command=list(args.cmd) if args.cmd else None,
        entrypoint=list(args.entrypoint) if args.entrypoint else None,
        environment=dict(args.env),
        working_dir=args.work_dir,
        hostname=op if len(op) <= 63 and "." not in op else op.replace(".", "-")[:63],
        labels=labels(job, "op", op, node),
        host_config={k: v for k, v in host.items() if v is not None},
        network=network_name(job) if networked else None,
        aliases=aliases,
        volumes=volumes,
    )
