"""The HTTP the S3 and Ollama sources share (aiohttp): small bounded reads, and streamed
downloads bounded by the size the source published and by a stall timeout."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
from yarl import URL

from ..source_policy import MAX_REDIRECTS, SourcePolicy, SourceRefused
from .plan import Permanent, ResourceError

__all__ = ["session", "read_small", "download", "MAX_SMALL"]

MAX_SMALL = 8 << 20  # bytes of a listing or a manifest
CHUNK = 1 << 20


def session(stall_s: float) -> aiohttp.ClientSession:
    """No total timeout (a model may take long): a connection or a read that stalls for
    `stall_s` seconds fails. No cookies, no environment proxies, no credentials."""
    timeout = aiohttp.ClientTimeout(total=None, connect=stall_s, sock_connect=stall_s, sock_read=stall_s)
    return aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)


def _fail(what: str, status: int) -> ResourceError:
    if status in (401, 403, 404, 410):
        return Permanent(f"{what}: the server answered {status}" + (" (not found)" if status == 404 else " (not public)" if status in (401, 403) else ""))
    return ResourceError(f"{what}: the server answered {status}")


@asynccontextmanager
async def _open(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                policy: SourcePolicy | None) -> AsyncIterator[aiohttp.ClientResponse]:
    """One request. With a `policy` (a host the job named), each hop, redirects included,
    goes only where the policy lets it (source_policy.py), the redirects followed by hand."""
    for _ in range(MAX_REDIRECTS + 1):
        if policy is not None:
            try:
                await asyncio.to_thread(policy.check_url, url)
            except SourceRefused as exc:
                raise Permanent(str(exc)) from None
        async with http.request(method, url, headers=headers, allow_redirects=policy is None) as resp:
            location = resp.headers.get("Location")
            if policy is None or resp.status not in (301, 302, 303, 307, 308) or not location:
                yield resp
                return
            url = str(resp.url.join(URL(location)))
    raise Permanent(f"more than {MAX_REDIRECTS} redirects")


async def read_small(http: aiohttp.ClientSession, method: str, url: str, what: str, *,
                     headers: dict[str, str] | None = None, cap: int = MAX_SMALL,
                     policy: SourcePolicy | None = None) -> tuple[bytes, Any]:
    """The body (at most `cap` bytes) and the headers of one request; a stall or an error
    status is a ResourceError naming `what`."""
    try:
        async with _open(http, method, url, headers or {}, policy) as resp:
            if resp.status >= 400:
                raise _fail(what, resp.status)
            body = bytearray()
            async for chunk in resp.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > cap:
                    raise Permanent(f"{what}: over {cap} bytes")
            return bytes(body), resp.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ResourceError(f"{what}: {_short(exc)}") from None


async def download(http: aiohttp.ClientSession, url: str, dest: Path, size: int, what: str,
                   headers: dict[str, str] | None = None, policy: SourcePolicy | None = None) -> None:
    """`url` into `dest`, refused past `size` bytes (the published size) or short of it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        async with _open(http, "GET", url, headers or {}, policy) as resp:
            if resp.status >= 400:
                raise _fail(what, resp.status)
            with open(dest, "wb") as fh:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    written += len(chunk)
                    if written > size:
                        raise ResourceError(f"{what}: the server sent more than the {size} bytes it published")
                    fh.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ResourceError(f"{what}: {_short(exc)} after {written} bytes") from None
    if written != size:
        raise ResourceError(f"{what}: the transfer ended after {written} of {size} bytes")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        text = "the server stalled (no bytes within the node's stall timeout)"
    return text.splitlines()[0][:300]
