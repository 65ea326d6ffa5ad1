"""`FrontDoor`: the node's one HTTP server, the node API and the reverse proxy to the
exposed ports of the jobs it runs.

Routing (routing.py), first match wins:
  1. Host `<endpoint id>.<public host>`  -> that endpoint, path as is
  2. path `/e/<endpoint id>/...`         -> that endpoint, the prefix stripped
                                            (`/e/<id>` alone: redirected to `/e/<id>/`)
  3. anything else                       -> the node API (api.py), under /api/

An endpoint's answer, by its state in the registry:
  unknown id                       404 (a closed job's endpoints are gone from the table)
  no target yet, or STOPPED        503, JSON {"error", "state"}: nothing to send it to
  STARTING, HEALTHY, UNHEALTHY     proxied: the poster may want to watch a service come
                                   up (a model server answers "loading" before it is
                                   healthy), and an UNHEALTHY one may still answer in part;
                                   the state is the node API's to report, not a gate
  target refuses or is unreachable 502; no connection within 5 s 504
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from aiohttp import web

from ..endpoints import STOPPED, EndpointRegistry
from .api import NodeApiRoutes
from .feeds import JobFeeds
from .proxy import Proxy
from .routing import PublicAddress, endpoint_of_path

log = logging.getLogger(__name__)

__all__ = ["FrontDoor"]

SHUTDOWN_S = 5.0


class FrontDoor:
    def __init__(self, registry: EndpointRegistry, feeds: JobFeeds, *, node: str, public_url: str,
                 info: Callable[[], dict[str, Any]], host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        """`public_url`: how posters reach this server (behind a TLS terminator, its https
        URL); `info()`: what /api/info adds (the hardware summary); `host`, `port`: where
        to listen (port 0: any free one, see `url`)."""
        self.registry = registry
        self.feeds = feeds
        self.node = node
        self.public = PublicAddress.parse(public_url)
        self.host = host
        self.port = port
        self.proxy = Proxy(self.public.scheme)
        self.api = NodeApiRoutes(registry, feeds, node=node, public=self.public, info=info, clock=clock)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The bound address, http://host:port (after `start`)."""
        if self._url is None:
            raise RuntimeError("FrontDoor.start() first")
        return self._url

    def app(self) -> web.Application:
        # client_max_size bounds only bodies the API would read whole (none): proxied bodies stream
        app = web.Application(middlewares=[self._endpoints_first])
        app.add_routes(self.api.routes())
        app.on_shutdown.append(self._close_sockets)
        return app

    async def start(self) -> None:
        await self.proxy.start()
        # handler_cancellation: a client that leaves cancels its handler, so a proxied stream
        # that is silent (a model thinking) drops its connection to the target at once
        self._runner = web.AppRunner(self.app(), shutdown_timeout=SHUTDOWN_S, access_log=None,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
        log.info("front door at %s (public %s)", self._url, self.public.url())

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.proxy.close()

    async def __aenter__(self) -> FrontDoor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _close_sockets(self, app: web.Application) -> None:
        """Open websockets (log streams, proxied ones) end with 1001; their handlers close
        them, and the runner waits for the handlers (SHUTDOWN_S at most)."""
        self.api.stopping.set()
        self.proxy.stopping.set()

    @web.middleware
    async def _endpoints_first(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """Endpoint requests go to the proxy before the API's router is consulted."""
        endpoint = self.public.endpoint_of_host(request.headers.get("Host"))
        path = request.rel_url.raw_path
        if endpoint is None:
            by_path = endpoint_of_path(path)
            if by_path is None:
                return await handler(request)
            endpoint, path = by_path
            if not path:
                location = f"{request.rel_url.raw_path}/" + (f"?{request.rel_url.raw_query_string}" if request.rel_url.raw_query_string else "")
                raise web.HTTPPermanentRedirect(location)
        ep = self.registry.get(endpoint)
        if ep is None:
            return web.json_response({"error": f"no endpoint {endpoint[:64]} on this node"}, status=404)
        if ep.target is None or ep.state == STOPPED:
            why = "stopped" if ep.state == STOPPED else "not started yet"
            return web.json_response({"error": f"endpoint {ep.id} is {why}", "state": ep.state}, status=503,
                                     headers={"Retry-After": "5"} if ep.state != STOPPED else None)
        return await self.proxy.handle(request, ep.target, path)
