"""The node API: JSON under /api/ (README.md "Node API" lists the routes).

Public: the node's info and a job's public endpoints. The job's poster only (a signed
header, client/node_api/auth.py): logs, stats, and the job's private endpoints in the
listing. A job that does not run here has no owner, so its logs and stats are refused
like a stranger's (401, saying so).
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import metadata
from typing import Any, Callable

from aiohttp import web

from ...client.node_api.auth import QUERY_PARAMETER, verify_auth
from ...client.node_api.errors import NodeUnauthorized
from ..endpoints import Endpoint, EndpointRegistry
from .feeds import JobFeeds
from .log_feed import follow_lines, tail_lines
from .routing import PublicAddress

__all__ = ["NodeApiRoutes"]

MAX_OP_PARAMETER = 64
STATS_FRESH_S = 2.0  # a stats answer is reused this long: each one costs the engine a second's sampling
MAX_FOLLOWERS = 16  # open log websockets per job (each polls the file)


def _version() -> str:
    try:
        return metadata.version("crowdcompute")
    except metadata.PackageNotFoundError:
        return "unknown"


class NodeApiRoutes:
    def __init__(self, registry: EndpointRegistry, feeds: JobFeeds, *, node: str, public: PublicAddress,
                 info: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.feeds = feeds
        self.node = node
        self.public = public
        self.info_of = info
        self.clock = clock
        self.stopping = asyncio.Event()  # set when the door closes: open log streams end with 1001
        self._stats: dict[str, tuple[float, asyncio.Task[dict[str, Any]]]] = {}
        self._followers: dict[str, int] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/info", self.info),
            web.get("/api/jobs/{job}/endpoints", self.endpoints),
            web.get("/api/jobs/{job}/logs", self.logs),
            web.get("/api/jobs/{job}/stats", self.stats),
        ]

    def _owner_check(self, request: web.Request, job: str) -> None:
        header = request.headers.get("Authorization") or request.query.get(QUERY_PARAMETER)
        try:
            verify_auth(header, job, self.node, self.feeds.owner(job), self.clock())
        except NodeUnauthorized as exc:
            raise _fail(401, str(exc)) from None

    async def info(self, request: web.Request) -> web.Response:
        extra = self.info_of()
        return web.json_response({**extra, "node": self.node, "public_url": self.public.url(), "version": _version(),
                                  "endpoints": len(self.registry)})

    def _endpoint_json(self, ep: Endpoint) -> dict[str, Any]:
        host_url = self.public.host_url(ep.id)
        path_url = self.public.path_url(ep.id)
        out = ep.to_json(host_url or path_url)
        out["host_url"] = host_url
        out["path_url"] = path_url
        out["history"] = [{"time": t, "state": s, "detail": d} for t, s, d in ep.history]
        return out

    async def endpoints(self, request: web.Request) -> web.Response:
        job = request.match_info["job"]
        owner = self.feeds.owner(job)
        listed = self.registry.for_job(job)
        if owner is None and not listed:
            raise _fail(404, f"job {job} does not run on this node")
        signed = "Authorization" in request.headers or QUERY_PARAMETER in request.query
        if signed:
            self._owner_check(request, job)  # a wrong signature is refused, not quietly ignored
        shown = [ep for ep in listed if signed or not ep.private]
        return web.json_response({"job": job, "endpoints": [self._endpoint_json(ep) for ep in shown]})

    async def stats(self, request: web.Request) -> web.Response:
        job = request.match_info["job"]
        self._owner_check(request, job)
        ops = await self._shared_stats(job)
        return web.json_response({"job": job, "time": self.clock(), "ops": ops})

    async def _shared_stats(self, job: str) -> dict[str, Any]:
        """One engine sampling per job at a time, reused for STATS_FRESH_S: a poster asking
        in a tight loop (or many tabs) costs the engine no more than one asking every 2 s."""
        now = time.monotonic()
        for key, (started, task) in list(self._stats.items()):
            if task.done() and now - started > STATS_FRESH_S:
                del self._stats[key]
        if job not in self._stats:
            self._stats[job] = (now, asyncio.ensure_future(self.feeds.stats(job)))
        started, task = self._stats[job]
        try:
            return await asyncio.shield(task)
        except Exception:
            self._stats.pop(job, None)  # a failure is not reused
            raise

    async def logs(self, request: web.Request) -> web.StreamResponse:
        job = request.match_info["job"]
        self._owner_check(request, job)
        op = request.query.get("op") or None
        if op is not None and len(op) > MAX_OP_PARAMETER:
            raise _fail(400, f"op: longer than {MAX_OP_PARAMETER} characters")
        start = request.query.get("from", "start")
        if start not in ("start", "now"):
            raise _fail(400, f"from: expected start or now, not {start[:20]!r}")
        follow = request.query.get("follow", "1") not in ("0", "false", "no")
        path = self.feeds.log_path(job)
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
        if not ws.can_prepare(request).ok:
            lines, truncated = tail_lines(path, op)
            return web.json_response({"job": job, "op": op, "truncated": truncated, "lines": lines})
        if self._followers.get(job, 0) >= MAX_FOLLOWERS:
            raise _fail(429, f"job {job} already has {MAX_FOLLOWERS} log streams open on this node")
        await ws.prepare(request)
        self._followers[job] = self._followers.get(job, 0) + 1
        # the client's frames are read (and dropped) so that its close is seen at once
        reader = asyncio.create_task(_drain(ws))
        tail = asyncio.create_task(follow_lines(
            path, ws.send_str, op=op, from_start=start == "start", follow=follow,
            running=lambda: self.feeds.owner(job) is not None,
        ))
        stop = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait([reader, tail, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            # the reader first: aiohttp's close() with a receive() pending in another task
            # drops the connection without waiting for the client's answering close frame
            for task in (reader, tail, stop):
                task.cancel()
            await asyncio.gather(reader, tail, stop, return_exceptions=True)
            self._followers[job] -= 1
            if not self._followers[job]:
                del self._followers[job]
        if self.stopping.is_set():
            await ws.close(code=1001, message=b"node shutting down")
        elif tail.cancelled() or tail.exception() is not None:
            await ws.close(code=1011, message=b"log stream failed")
        elif not ws.closed:
            await ws.close(code=1000, message=b"job ended" if follow else b"end of log")
        return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass


def _fail(status: int, message: str) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 404: web.HTTPNotFound, 429: web.HTTPTooManyRequests}[status]
    return cls(text=json.dumps({"error": message}), content_type="application/json",
               headers={"WWW-Authenticate": "CrowdSig"} if status == 401 else None)
