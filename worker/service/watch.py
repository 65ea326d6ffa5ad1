"""The endpoints of one service op: opened in the node's table, pointed at each container
the op runs, and health-checked while it runs.

    watch = ServiceWatch(registry, job, op, args, settings, on_up=...)
    watch.start(ip)          # a container of the op runs at `ip` on the job's network
    ... await watch.failed   # an endpoint went UNHEALTHY: the detail (the op's restart policy decides)
    await watch.stop()       # that container ended: its checks end with it
    watch.close()            # the op ended: every endpoint STOPPED (requests get 503)
    watch.health()           # each port's history, for the bundle

Per container and exposed port, the node (never the container) checks the target:
every `startup_interval` (sooner at first: `startup_first`, doubling) until the port's startup check passes (then HEALTHY), giving
up after `startup_timeout` (UNHEALTHY); then, for ports with `continuous` checks, every
`interval`, where one failing check makes the endpoint UNHEALTHY. `on_up` is called once
in the op's life, when all its endpoints have first been HEALTHY together: an op that
`depends_on` the service starts then.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

import aiohttp

from ...client.bundle import HEALTH_DETAIL_CAP, HEALTH_HISTORY_CAP, HealthEvent, PortHealth, timestamp
from ...client.jobspec.model import ExposedPort, RunArgs
from ..endpoints import HEALTHY, STARTING, STOPPED, UNHEALTHY, EndpointRegistry
from .health_checks import CHECK_TIMEOUT_S, check_port, clip, continuous_checks

__all__ = ["HealthSettings", "ServiceWatch"]


@dataclass(frozen=True)
class HealthSettings:
    startup_interval: float = 1.0  # Nosana polls every 5 s; a bare service is up in well under 1 s
    startup_timeout: float = 300.0  # not healthy by then: UNHEALTHY, and the restart policy
    interval: float = 30.0  # continuous checks (Nosana's)
    check_timeout: float = CHECK_TIMEOUT_S
    # The first startup checks come sooner (doubling from this up to startup_interval): a
    # web server is often up within 0.1-0.3 s of its start, and a check of a port nobody
    # listens on yet costs the node one refused connection.
    startup_first: float = 0.05


class ServiceWatch:
    def __init__(
        self, registry: EndpointRegistry, job: str, op: str, args: RunArgs, settings: HealthSettings,
        on_up: Callable[[], None] = lambda: None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.on_up = on_up
        self.was_up = False
        self.ports: list[tuple[str, ExposedPort]] = [
            (registry.open(job, op, p.port, type=p.type, private=args.private).id, p) for p in args.expose
        ]
        self.opened_at = time.time()
        self.failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._healthy: set[str] = set()

    def start(self, host: str, attempt: int) -> None:
        """A container of the op runs at `host`: targets set, its checks begin."""
        self.failed = asyncio.get_running_loop().create_future()
        self._healthy = set()
        # no proxies from the environment, one connection per check (nothing pooled across tries)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), trust_env=False)
        for endpoint, port in self.ports:
            self.registry.set_target(endpoint, host, port.port)
            self.registry.set_state(endpoint, STARTING, f"container started (try {attempt})")
            self._tasks.append(asyncio.create_task(self._watch(endpoint, port, (host, port.port))))

    async def stop(self) -> None:
        """The container ended: its checks end (each endpoint keeps its last state)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def close(self, detail: str) -> None:
        for endpoint, _ in self.ports:
            self.registry.set_state(endpoint, STOPPED, clip(detail))

    def health(self) -> tuple[PortHealth, ...]:
        """Each port's transitions: the first start, then what the table recorded."""
        out = []
        for endpoint, port in self.ports:
            ep = self.registry.get(endpoint)
            events = [HealthEvent(timestamp(self.opened_at), STARTING, "opened")]
            for at, state, detail in ep.history if ep else ():
                events.append(HealthEvent(timestamp(at), state, detail[:HEALTH_DETAIL_CAP]))
            out.append(PortHealth(port.port, tuple(events[-HEALTH_HISTORY_CAP:])))
        return tuple(out)

    def _fail(self, endpoint: str, detail: str) -> None:
        self.registry.set_state(endpoint, UNHEALTHY, detail)
        if not self.failed.done():
            self.failed.set_result(f"port {self._port(endpoint)}: {detail}")

    def _port(self, endpoint: str) -> int:
        return next(p.port for e, p in self.ports if e == endpoint)

    async def _watch(self, endpoint: str, port: ExposedPort, target: tuple[str, int]) -> None:
        settings, loop = self.settings, asyncio.get_running_loop()
        assert self._session is not None
        session = self._session
        give_up = loop.time() + settings.startup_timeout
        delay = min(settings.startup_first, settings.startup_interval)
        while True:
            passed, detail = await check_port(session, target, port, startup=True, timeout=settings.check_timeout)
            if passed:
                self.registry.set_state(endpoint, HEALTHY, detail)
                break
            if loop.time() >= give_up:
                return self._fail(endpoint, clip(f"not healthy within {settings.startup_timeout:g} s of its start: {detail}"))
            self.registry.set_state(endpoint, STARTING, detail)  # same state: the detail only
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.startup_interval)
        self._healthy.add(endpoint)
        if not self.was_up and len(self._healthy) == len(self.ports):
            self.was_up = True
            self.on_up()
        if not continuous_checks(port):
            return  # startup only (as Nosana): the container's exit is what is watched now
        while True:
            await asyncio.sleep(settings.interval)
            passed, detail = await check_port(session, target, port, startup=False, timeout=settings.check_timeout)
            if not passed:
                return self._fail(endpoint, detail)
            self.registry.set_state(endpoint, HEALTHY, detail)
