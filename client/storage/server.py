"""`crowd storage serve`: the kubo RPC subset and the gateway path over a `BlobStore` folder.

  POST /api/v0/add      multipart, one file per part -> {"Name","Hash","Size"} a line
                        (Size: the DAG's bytes, a string, as kubo answers)
  POST /api/v0/cat      ?arg=CID (or /ipfs/CID) -> the bytes (text/plain, as kubo)
  POST /api/v0/version  -> {"Version": ...}: a cheap liveness probe
  GET  /ipfs/CID        the gateway path (HEAD and Range too)

Errors as kubo's RPC answers them: JSON {"Message","Code","Type":"error"}, 500 (Code 0) when a
command fails (content not found, invalid CID), 400 (Code 1) for a bad option value, and 413
(ours: kubo has no limit) for an upload over `max_upload_size`. Add options that would change
the CID (cid-version=1, raw-leaves, another chunker or hash) are refused, not ignored: this
server only makes the CIDs of kubo's defaults. pin, quiet, quieter, progress are accepted
(everything stored stays stored); silent answers no lines, as kubo.

The server does not verify blobs it serves: every reader recomputes the CID (our clients
always do). Blocking work (hashing, disk) runs in threads; the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from aiohttp import BodyPartReader, web

from crowdcompute.common.version import __version__
from .server_defaults import DEFAULT_HOST, DEFAULT_MAX_UPLOAD, DEFAULT_PORT
from .blobstore import BlobStore
from .cid import Cid
from .errors import ContentTooLarge, InvalidCid
from .unixfs import CHUNK_SIZE, Imported

_BATCH = 1 << 20
_MULTIPART_SLACK = 64 << 10  # headers and boundaries around the file's bytes

log = logging.getLogger(__name__)
STORE = web.AppKey("store", BlobStore)
MAX_UPLOAD = web.AppKey("max_upload", int)

# option -> values that keep kubo's default import settings ("" = given without a value)
_FIXED_OPTIONS = {
    "cid-version": {"0"},
    "raw-leaves": {"false", "0"},
    "chunker": {f"size-{CHUNK_SIZE}"},
    "hash": {"sha2-256"},
    "trickle": {"false", "0"},
    "only-hash": {"false", "0"},
    "wrap-with-directory": {"false", "0"},
    "nocopy": {"false", "0"},
    "inline": {"false", "0"},
}
_BOOLEANS = {"": True, "true": True, "1": True, "false": False, "0": False}


def kubo_error(message: str, *, status: int = 500, code: int = 0) -> web.Response:
    return web.json_response({"Message": message, "Code": code, "Type": "error"}, status=status)


@web.middleware
async def kubo_errors(request: web.Request, handler) -> web.StreamResponse:
    """A bug answers as kubo's internal errors do (Code 2), not with aiohttp's HTML page."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        log.exception("storage server: %s %s failed", request.method, request.path)
        return kubo_error(f"internal error: {type(error).__name__}: {error}", code=2)


def make_app(folder: str | Path, *, max_upload_size: int = DEFAULT_MAX_UPLOAD) -> web.Application:
    # client_max_size: only for bodies read whole; uploads stream
    app = web.Application(client_max_size=1 << 20, middlewares=[kubo_errors])
    app[STORE] = BlobStore(folder)
    app[MAX_UPLOAD] = max_upload_size
    app.router.add_post("/api/v0/add", add)
    app.router.add_post("/api/v0/cat", cat)
    app.router.add_post("/api/v0/version", version)
    app.router.add_get("/ipfs/{cid}", gateway)
    return app


async def add(request: web.Request) -> web.StreamResponse:
    for name, allowed in _FIXED_OPTIONS.items():
        value = request.query.get(name)
        if value is not None and value.lower() not in allowed:
            return kubo_error(f"{name}={value} is not supported here: this server only makes the CIDs of "
                              f"kubo's defaults (CIDv0, dag-pb leaves, size-{CHUNK_SIZE})", status=400, code=1)
    for name in ("pin", "quiet", "quieter", "silent", "progress"):
        if request.query.get(name, "false").lower() not in _BOOLEANS:
            return kubo_error(f'could not convert value "{request.query[name]}" to type "bool" (for option "-{name}")',
                              status=400, code=1)
    silent = _BOOLEANS[request.query.get("silent", "false").lower()]
    limit = request.app[MAX_UPLOAD]
    if request.content_length is not None and request.content_length > limit + _MULTIPART_SLACK:
        return _too_large(limit)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):  # aiohttp's ways of saying "not multipart"
        return kubo_error('argument "path" is required', status=400, code=1)
    store = request.app[STORE]
    events = []
    received = 0
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                return kubo_error("nested multipart bodies (directories) are not supported", status=400, code=1)
            if part.headers.get("Content-Type", "").startswith("application/x-directory"):
                return kubo_error("directories are not supported: add files one by one", status=400, code=1)
            imported = await _receive(part, store, limit - received)
            received += imported.size
            events.append({"Name": part.filename or str(imported.cid), "Hash": str(imported.cid),
                           "Size": str(imported.dag_size)})
    except ContentTooLarge:
        return _too_large(limit)
    except (ValueError, AssertionError) as error:  # aiohttp's multipart parser on a malformed body
        return kubo_error(f"malformed multipart body: {error}", status=400, code=1)
    if not events:
        return kubo_error('argument "path" is required', status=400, code=1)
    body = "" if silent else "".join(json.dumps(event, separators=(",", ":")) + "\n" for event in events)
    return web.Response(text=body, content_type="application/json", headers={"X-Chunked-Output": "1"})


async def _receive(part: BodyPartReader, store: BlobStore, limit: int) -> Imported:
    writer = await asyncio.to_thread(store.writer, max_size=limit)
    try:
        batch = bytearray()
        while chunk := await part.read_chunk(_BATCH):
            batch += chunk
            if len(batch) >= _BATCH:
                await asyncio.to_thread(writer.write, batch)
                batch = bytearray()
        await asyncio.to_thread(writer.write, batch)
        return await asyncio.to_thread(writer.commit)
    finally:
        await asyncio.to_thread(writer.abort)  # no-op after commit


def _too_large(limit: int) -> web.Response:
    return kubo_error(f"upload larger than this server's limit of {limit} bytes", status=413, code=1)


async def cat(request: web.Request) -> web.StreamResponse:
    arg = request.query.get("arg")
    if arg is None:
        return kubo_error('argument "ipfs-path" is required', status=400, code=1)
    try:
        cid = Cid.parse(arg)
    except InvalidCid as error:
        return kubo_error(f"invalid path {arg!r}: {error}")
    path = request.app[STORE].path(cid)
    if not await asyncio.to_thread(path.is_file):
        # kubo's message for content it does not hold (offline)
        return kubo_error(f"block was not found locally (offline): ipld: could not find {cid}")
    return web.FileResponse(path, headers={"Content-Type": "text/plain", "X-Stream-Output": "1"})


async def version(request: web.Request) -> web.Response:
    return web.json_response({"Version": f"crowdcompute-{__version__}", "Commit": "", "Repo": "", "System": "", "Golang": ""})


async def gateway(request: web.Request) -> web.StreamResponse:
    try:
        cid = Cid.parse(request.match_info["cid"])
    except InvalidCid as error:
        return web.Response(status=400, text=f"{error}\n")
    path = request.app[STORE].path(cid)
    if not await asyncio.to_thread(path.is_file):
        return web.Response(status=404, text=f"{cid} not found\n")
    return web.FileResponse(path, headers={
        "Content-Type": "application/octet-stream",
        "X-Ipfs-Path": f"/ipfs/{cid}",
        "Cache-Control": "public, max-age=29030400, immutable",
    })


@dataclass
class StorageServer:
    """A running server; `await close()` (or `async with`) stops it."""

    runner: web.AppRunner
    host: str
    port: int
    folder: Path

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> StorageServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_storage_server(folder: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                               max_upload_size: int = DEFAULT_MAX_UPLOAD) -> StorageServer:
    """Starts serving `folder` on host:port (0 = any free port; `.port` tells which)."""
    app = make_app(folder, max_upload_size=max_upload_size)
    await asyncio.to_thread(app[STORE].clean_tmp)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    return StorageServer(runner, host, bound, app[STORE].root)
