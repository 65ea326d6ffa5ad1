"""The node's part in service jobs, set up by the daemon: the endpoint table the executor
fills, the front door (frontdoor/) that serves it with the node API, and the on-chain
profile (profile.py) that tells posters where the door is.

    services = NodeServices.from_args(args)         # None values when --public-url is not given
    executor = make_executor(..., endpoints=services.registry, allow_egress=services.allow_egress)
    await services.start(crowd, node, engine_log_dir, report)   # listen, then publish the URL
    ...
    await services.close()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..client.errors import InvalidInput
from .endpoints import EndpointRegistry

__all__ = ["NodeServices", "DEFAULT_PORT", "NO_ENDPOINTS", "listen_address"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 8480
NO_ENDPOINTS = "the job exposes ports and this node serves no endpoints (it was started without --public-url)"


def listen_address(listen: str | None, public_url: str) -> tuple[str, int]:
    """--listen HOST:PORT, else all interfaces at the public URL's explicit port (or 8480:
    behind a TLS terminator the public port says nothing of the local one)."""
    if listen:
        host, sep, port = listen.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(f"--listen: expected HOST:PORT, got {listen!r}")
        return host.strip("[]") or "0.0.0.0", int(port)
    return "0.0.0.0", urlsplit(public_url).port or DEFAULT_PORT


@dataclass
class NodeServices:
    public_url: str | None = None
    listen: tuple[str, int] | None = None
    allow_egress: bool = False
    registry: EndpointRegistry = field(default_factory=EndpointRegistry)
    door: Any = None
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Any) -> NodeServices:
        """Checked before anything is sent: a bad URL is a refusal to start."""
        from ..client.jobs.profile import encode_url

        url = getattr(args, "public_url", None)
        if url is None:
            return cls(allow_egress=bool(getattr(args, "allow_egress", False)))
        try:
            encode_url(url)
        except InvalidInput as exc:
            raise InvalidInput(f"--public-url: {exc}") from None
        return cls(url.rstrip("/"), listen_address(getattr(args, "listen", None), url), bool(getattr(args, "allow_egress", False)))

    @property
    def serves(self) -> bool:
        return self.public_url is not None

    def endpoint_address(self, endpoint: Any) -> str:
        """What `%%ops.ID.endpoint.PORT%%` becomes: the endpoint's public address without a
        scheme, as Nosana's files expect (`https://%%ops.web.endpoint.80%%`): its own host
        name under a wildcard domain, else the path form under the node's URL."""
        from .frontdoor.routing import PublicAddress

        public = PublicAddress.parse(self.public_url or "")
        url = public.host_url(endpoint.id) or public.path_url(endpoint.id)
        return url.split("://", 1)[1].rstrip("/")

    async def start(self, crowd: Any, owners: Any, log_dir: Path, report: Any, engine: Any = None) -> str | None:
        """Starts the front door and publishes the profile; returns the door's local URL.
        `engine`: the executor's (the stats read the engine the jobs run on)."""
        if not self.serves:
            return None
        from .engine import Engine
        from .frontdoor import EngineFeeds, FrontDoor
        from .profile import hardware_summary, publish_profile

        node = str(crowd.pubkey)
        self.summary = hardware_summary(report, node=node)
        feeds = EngineFeeds(engine or Engine(), log_dir, owners, node=node)
        host, port = self.listen or ("0.0.0.0", DEFAULT_PORT)
        self.door = FrontDoor(self.registry, feeds, node=node, public_url=self.public_url or "", info=lambda: self.summary,
                              host=host, port=port)
        try:
            await self.door.start()
        except OSError as exc:
            raise InvalidInput(f"--listen {host}:{port}: the front door cannot listen there: {exc.strerror or exc}") from None
        await publish_profile(crowd, self.public_url or "", self.summary)
        return self.door.url

    async def close(self) -> None:
        if self.door is not None:
            await self.door.close()
