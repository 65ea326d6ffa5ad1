"""The container engine, reached through the Docker SDK's low-level client (Docker or Podman).

Where: `DOCKER_HOST` when set (unix://, tcp://, ssh:// as the Docker SDK reads it);
otherwise Docker's socket /var/run/docker.sock when present; otherwise Podman's Docker-
compatible socket ($XDG_RUNTIME_DIR/podman/podman.sock, then /run/podman/podman.sock;
start it with `systemctl --user start podman.socket`).

The SDK blocks, so every call runs on this engine's own thread pools, never on the event
loop; every request has a timeout. Two pools: the main one for a job's own work (create,
start, inspect, copy), and a small `control` one for stopping and removing containers, so
that a deadline's stop never queues behind the calls of a job's many ops. A dropped connection or a restarting daemon is retried with exponential
backoff (each try logged) and, when every try failed, raises EngineUnavailable.
Calls that create something are not retried blindly: the caller decides (`retry=False`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import docker
import requests

from ..client.errors import Transient

log = logging.getLogger(__name__)
T = TypeVar("T")

DOCKER_SOCKET = "/var/run/docker.sock"


class EngineUnavailable(Transient, RuntimeError):
    """The container engine could not be reached, after retries (it may be back later)."""


def default_base_url() -> str:
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if Path(DOCKER_SOCKET).exists():
        return f"unix://{DOCKER_SOCKET}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    podman = [Path(runtime) / "podman/podman.sock"] if runtime else []
    podman.append(Path("/run/podman/podman.sock"))
    for sock in podman:
        if sock.exists():
            return f"unix://{sock}"
    return f"unix://{DOCKER_SOCKET}"  # absent: the first call says so


def _retryable(exc: BaseException) -> bool:
    """Connection-level failures: refused, reset, the daemon gone mid-request."""
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError)):
        return True
    # docker.APIClient(version="auto") wraps a failed first contact in DockerException.
    return type(exc) is docker.errors.DockerException


@dataclass(frozen=True)
class EngineInfo:
    """What `crowd node health` says about the engine."""

    reachable: bool
    base_url: str
    product: str | None = None  # "Docker Engine", "Podman Engine"
    version: str | None = None
    api_version: str | None = None
    os: str | None = None
    kernel: str | None = None
    cgroup_version: str | None = None
    runtimes: tuple[str, ...] = ()
    security: tuple[str, ...] = ()  # the engine's SecurityOptions: "name=seccomp,profile=default", ...
    userns: bool = False  # the daemon remaps root to an unprivileged host user
    rootless: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["runtimes"] = list(self.runtimes)
        out["security"] = list(self.security)
        return out


class Engine:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_workers: int = 64,
        control_workers: int = 8,
    ) -> None:
        self.base_url = base_url or default_base_url()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._client: docker.APIClient | None = None
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="crowd-engine")
        self._control = ThreadPoolExecutor(control_workers, thread_name_prefix="crowd-engine-control")

    @property
    def api(self) -> docker.APIClient:
        """The SDK client, made on first use (it asks the daemon its API version).
        Blocking: use it only inside `call`/`blocking` or a thread of your own."""
        if self._client is None:
            self._client = docker.APIClient(base_url=self.base_url, version="auto", timeout=self.timeout)
        return self._client

    def _forget_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - a broken client has nothing left to close
                pass

    def blocking(self, fn: Callable[[docker.APIClient], T], *, retry: bool = True, what: str = "") -> T:
        """Run `fn(api)` here (a worker thread), retrying connection failures."""
        tries = self.retries + 1 if retry else 1
        delay = self.backoff
        for attempt in range(1, tries + 1):
            try:
                return fn(self.api)
            except Exception as exc:  # noqa: BLE001 - filtered just below
                if not _retryable(exc):
                    raise
                self._forget_client()
                if attempt == tries:
                    raise EngineUnavailable(
                        f"container engine at {self.base_url} unreachable"
                        f"{' (' + what + ')' if what else ''} after {tries} tries: {_short(exc)}"
                    ) from exc
                log.warning(
                    "container engine at %s: %s (try %d of %d, next in %.1f s)%s",
                    self.base_url, _short(exc), attempt, tries, delay, f": {what}" if what else "",
                )
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        raise AssertionError("unreachable")

    async def call(self, fn: Callable[[docker.APIClient], T], *, retry: bool = True, what: str = "",
                   control: bool = False) -> T:
        """`fn(api)` on the engine's thread pool (`control`: the stop and removal pool); see `blocking`."""
        loop = asyncio.get_running_loop()
        pool = self._control if control else self._pool
        return await loop.run_in_executor(pool, lambda: self.blocking(fn, retry=retry, what=what))

    async def info(self) -> EngineInfo:
        try:
            version, info = await self.call(lambda api: (api.version(), api.info()), what="info")
        except Exception as exc:  # noqa: BLE001 - health reports every failure as text
            return EngineInfo(False, self.base_url, error=_short(exc))
        return engine_info(self.base_url, version, info)

    def close(self) -> None:
        self._forget_client()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._control.shutdown(wait=False, cancel_futures=True)


def engine_info(base_url: str, version: dict[str, Any], info: dict[str, Any]) -> EngineInfo:
    # Podman names itself in Platform.Name or in a component; Docker's Debian build in neither.
    names = [str((version.get("Platform") or {}).get("Name", ""))]
    names += [str(c.get("Name", "")) for c in version.get("Components") or []]
    product = "Podman Engine" if any("podman" in n.lower() for n in names) else "Docker Engine"
    security = [str(s) for s in info.get("SecurityOptions") or []]
    return EngineInfo(
        reachable=True,
        base_url=base_url,
        product=product,
        version=version.get("Version"),
        api_version=version.get("ApiVersion"),
        os=info.get("OperatingSystem"),
        kernel=info.get("KernelVersion"),
        cgroup_version=str(info["CgroupVersion"]) if info.get("CgroupVersion") else None,
        runtimes=tuple(sorted((info.get("Runtimes") or {}).keys())),
        security=tuple(security),
        userns=any("name=userns" in s for s in security),
        rootless=any("name=rootless" in s for s in security),
    )


def _short(exc: BaseException) -> str:
    """One line: requests' messages carry nested reprs over several lines."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
