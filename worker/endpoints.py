"""The node's table of service endpoints: what the executor opens, what the front door routes.

One home for both sides of a service job's endpoints. The executor (service runtime)
opens an endpoint when a container with an exposed port starts, sets where it listens
(the container's address on the job's network, never an address the job chose) and its
health as the checks report it; the front door (frontdoor/) reads the table to route a
request by endpoint id and to answer the node API's "endpoints of job J".

Endpoint ids are DNS labels, because a node with a wildcard record serves each endpoint
at `<id>.<its public host>` (many web apps break under a path prefix): lowercase base32,
never case-sensitive base58. A public endpoint's id is derived from (job, op, port), so a
restarted node serves it at the same name; a `private` one is random (unguessable), kept
in the table for the job's life.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

__all__ = ["Endpoint", "EndpointRegistry", "endpoint_id", "STARTING", "HEALTHY", "UNHEALTHY", "STOPPED", "STATES"]

STARTING = "starting"  # the container runs, the startup check has not passed yet
HEALTHY = "healthy"  # the last check passed
UNHEALTHY = "unhealthy"  # a check failed after the service was healthy, or startup gave up
STOPPED = "stopped"  # the op ended; requests get 503
STATES = (STARTING, HEALTHY, UNHEALTHY, STOPPED)

ID_LENGTH = 24  # base32 characters: 120 bits
HISTORY_CAP = 64  # health transitions kept per endpoint (the bundle's health history)


def endpoint_id(job: str, op: str, port: int, *, private: bool = False) -> str:
    """The endpoint's DNS label: sha256 of (job, op, port), or random for `private`."""
    if private:
        raw = secrets.token_bytes(15)
    else:
        raw = hashlib.sha256(f"crowdcompute-endpoint\0{job}\0{op}\0{port}".encode()).digest()[:15]
    return base64.b32encode(raw).decode().lower()[:ID_LENGTH]


@dataclass(frozen=True)
class Endpoint:
    id: str
    job: str
    op: str
    port: int  # the container's port
    type: str = "webapi"  # Nosana's expose type: web | api | webapi | websocket | none
    private: bool = False
    target: tuple[str, int] | None = None  # (address on the job's network, port) once the container runs
    state: str = STARTING
    detail: str = ""  # the last check's outcome, e.g. "GET / -> 200 in 3 ms"
    since: float = field(default_factory=time.time)  # when `state` began
    history: tuple[tuple[float, str, str], ...] = ()  # (time, state, detail) transitions, capped

    def to_json(self, public_url: str | None = None) -> dict:
        out = {
            "id": self.id, "op": self.op, "port": self.port, "type": self.type, "private": self.private,
            "state": self.state, "detail": self.detail, "since": self.since,
        }
        if public_url is not None:
            out["url"] = public_url
        return out


class EndpointRegistry:
    """Endpoints by id. Used from the event loop only (no lock): the executor's and the
    front door's coroutines share one loop in the node."""

    def __init__(self) -> None:
        self._by_id: dict[str, Endpoint] = {}

    def open(self, job: str, op: str, port: int, *, type: str = "webapi", private: bool = False) -> Endpoint:
        """The endpoint of (job, op, port), made STARTING if new; the same one again if open
        (a restarted container keeps its endpoint, and a private one keeps its random id)."""
        for ep in self._by_id.values():
            if (ep.job, ep.op, ep.port) == (job, op, port):
                return ep
        ep = Endpoint(endpoint_id(job, op, port, private=private), job, op, port, type, private)
        self._by_id[ep.id] = ep
        return ep

    def set_target(self, endpoint: str, host: str, port: int) -> None:
        self._update(endpoint, target=(host, port))

    def set_state(self, endpoint: str, state: str, detail: str = "") -> None:
        if state not in STATES:
            raise ValueError(f"unknown endpoint state {state!r}")
        ep = self._by_id.get(endpoint)
        if ep is None:
            return
        now = time.time()
        if ep.state == state:
            self._by_id[endpoint] = replace(ep, detail=detail)
            return
        history = (ep.history + ((now, state, detail),))[-HISTORY_CAP:]
        self._by_id[endpoint] = replace(ep, state=state, detail=detail, since=now, history=history)

    def get(self, endpoint: str) -> Endpoint | None:
        return self._by_id.get(endpoint)

    def for_job(self, job: str) -> list[Endpoint]:
        return [ep for ep in self._by_id.values() if ep.job == job]

    def close_job(self, job: str) -> list[Endpoint]:
        """Forget the job's endpoints (its containers are gone); returns them as they were."""
        gone = self.for_job(job)
        for ep in gone:
            del self._by_id[ep.id]
        return gone

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def _update(self, endpoint: str, **changes: object) -> None:
        ep = self._by_id.get(endpoint)
        if ep is not None:
            self._by_id[endpoint] = replace(ep, **changes)  # type: ignore[arg-type]
