"""`NodeApi`: the poster's side of a node's API (its front door, worker/frontdoor/).

    async with NodeApi("https://node.example", node_address, keypair) as node:
        await node.info()
        for ep in await node.endpoints(job): print(ep["url"], ep["state"])
        async for line in node.follow_logs(job, op="llm"): print(line)

`keypair` is the wallet that posted the job: logs, stats and private endpoints are signed
with it (auth.py); `info` and the public endpoints need none. Every request has a timeout
(`timeout`, seconds, for connecting and for each answer; a followed log has none between
lines, it ends when the node closes it). Answers are bounded (MAX_BODY), since a node is
not trusted either. Failures: NodeUnreachable (Transient), NodeUnauthorized, NodeApiError.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import aiohttp
from solders.keypair import Keypair

from .auth import auth_header
from .errors import NodeApiError, NodeUnauthorized, NodeUnreachable

__all__ = ["NodeApi"]

MAX_BODY = 8 << 20  # the largest answer read (a log's last MiB as JSON fits many times)
MAX_FRAME = 1 << 20  # a log line is at most 64 KiB of text plus its prefix


class NodeApi:
    def __init__(self, base_url: str, node: str, keypair: Keypair | None = None,
                 session: aiohttp.ClientSession | None = None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.node = str(node)
        self.keypair = keypair
        self.timeout = timeout
        self._session = session
        self._own_session = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout))
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> NodeApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the routes ----------------------------------------------------------------------

    async def info(self) -> dict[str, Any]:
        """The node's address, public URL, version and hardware summary."""
        return await self._get("/api/info")

    async def endpoints(self, job: str) -> list[dict[str, Any]]:
        """The job's endpoints on this node (ids, URLs, type, health state and history);
        its private ones too when this client holds the poster's keypair."""
        signed = self.keypair is not None
        body = await self._get(f"/api/jobs/{job}/endpoints", job if signed else None)
        return list(body["endpoints"])

    async def stats(self, job: str) -> dict[str, Any]:
        """Per op: cpu_percent, memory_bytes, memory_limit, net_rx_bytes, net_tx_bytes,
        pids (and gpus on GPU nodes). Signed."""
        return await self._get(f"/api/jobs/{job}/stats", self._require_keypair(job))

    async def logs(self, job: str, op: str | None = None) -> list[str]:
        """The job's log lines so far (the log file's last MiB at most). Signed."""
        body = await self._get(f"/api/jobs/{job}/logs", self._require_keypair(job), {"op": op} if op else None)
        return list(body["lines"])

    async def follow_logs(self, job: str, op: str | None = None, follow: bool = True,
                          from_start: bool = True) -> AsyncIterator[str]:
        """The job's log lines (log_lines.py) as they are written, over a websocket: from the
        file's start or from now, then, when `follow`, each new line until the job ends on
        the node or the node shuts down (it closes with 1000 or 1001: the iteration ends;
        any other close code raises NodeApiError; no reconnecting here). Signed."""
        params = {"follow": "1" if follow else "0", "from": "start" if from_start else "now"}
        if op:
            params["op"] = op
        headers = {"Authorization": self._auth(self._require_keypair(job))}
        try:
            async with asyncio.timeout(self.timeout):  # the handshake; then no timeout between lines
                ws = await self.session.ws_connect(
                    self._url(f"/api/jobs/{job}/logs"), params=params, headers=headers,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self.timeout),
                    max_msg_size=MAX_FRAME, heartbeat=30.0,
                )
        except aiohttp.WSServerHandshakeError as exc:
            raise _status_error(exc.status, exc.message, f"logs of {job}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise NodeUnreachable(f"node {self.base_url}: {_short(exc)}") from exc
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    yield msg.data
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    raise NodeUnreachable(f"node {self.base_url}: log stream broke: {_short(ws.exception())}")
            if ws.close_code not in (None, 1000, 1001):  # 1001: the node is shutting down
                raise NodeApiError(f"node {self.base_url} ended the log stream with code {ws.close_code}")
        finally:
            await ws.close()

    # -- plumbing ------------------------------------------------------------------------

    def _require_keypair(self, job: str) -> str:
        if self.keypair is None:
            raise NodeUnauthorized(f"job {job}'s logs and stats need the poster's keypair (NodeApi(..., keypair=))")
        return job

    def _auth(self, job: str) -> str:
        assert self.keypair is not None
        return auth_header(self.keypair, job, self.node)

    def _url(self, path: str) -> str:
        return self.base_url + path

    async def _get(self, path: str, signed_job: str | None = None, params: dict[str, str] | None = None) -> Any:
        headers = {"Authorization": self._auth(signed_job)} if signed_job else {}
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session.get(self._url(path), headers=headers, params=params,
                                            allow_redirects=False) as resp:
                    body = await _bounded(resp)
                    if resp.status != 200:
                        raise _status_error(resp.status, body.decode("utf-8", "replace"), path)
        except NodeApiError:
            raise  # (NodeUnauthorized is a PermissionError, an OSError: not a connection failure)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise NodeUnreachable(f"node {self.base_url}: {_short(exc) or 'no answer within ' + str(self.timeout) + ' s'}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise NodeApiError(f"node {self.base_url}{path} answered something that is not JSON", 200) from exc


async def _bounded(resp: aiohttp.ClientResponse) -> bytes:
    out = bytearray()
    async for chunk in resp.content.iter_chunked(64 << 10):
        out += chunk
        if len(out) > MAX_BODY:
            raise NodeApiError(f"node answer larger than {MAX_BODY} bytes", resp.status)
    return bytes(out)


def _status_error(status: int, body: str, what: str) -> NodeApiError:
    text = body
    try:
        text = json.loads(body).get("error", body)
    except (ValueError, AttributeError):
        pass
    text = _short(text) or f"HTTP {status}"
    if status == 401:
        return NodeUnauthorized(f"node refused {what}: {text}")
    return NodeApiError(f"node answered {status} for {what}: {text}", status)


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."
