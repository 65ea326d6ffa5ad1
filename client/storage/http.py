"""The HTTP backend: the kubo RPC subset our server, a kubo daemon and pinning services speak.

  add:  POST {url}/api/v0/add?cid-version=0&raw-leaves=false&chunker=size-262144&...
        multipart field "file" -> {"Name", "Hash", "Size"} (one JSON object a line)
  get:  POST {url}/api/v0/cat?arg=CID -> the bytes; where that path is missing (404/405:
        a plain gateway), GET {url}/ipfs/CID
The server is never trusted: an add computes the CID here first and refuses an answer that
differs (a daemon configured with other import settings), a get recomputes the CID of the
bytes received and refuses a mismatch. The add options are sent explicitly so that a kubo
whose Import config differs from the defaults still hashes as `ipfs add` does by default.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from .backend import DEFAULT_MAX_FETCH, Storage, as_cid
from .cid import Cid
from .errors import ContentMismatch, ContentNotFound, ContentTooLarge, InvalidCid, StorageError, StorageUnavailable
from .sink import VerifiedSink
from .unixfs import CHUNK_SIZE, import_bytes, import_file

ADD_PARAMS = {"cid-version": "0", "raw-leaves": "false", "chunker": f"size-{CHUNK_SIZE}", "hash": "sha2-256",
              "pin": "true", "progress": "false"}
_BATCH = 1 << 20  # bytes handed to the hashing thread at a time


class HttpStorage(Storage):
    def __init__(self, url: str, *, connect_timeout: float = 10.0, read_timeout: float = 60.0,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
        # No total deadline (a multi-GB transfer may take long) but no silent stall either.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_connect=connect_timeout,
                                              sock_read=read_timeout)
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"HttpStorage({self.url!r})"

    @property
    def location(self) -> str:
        return self.url

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def add_bytes(self, data: bytes) -> Cid:
        expected = (await asyncio.to_thread(import_bytes, data)).cid
        return await self._upload(bytes(data), "data", expected)

    async def add_file(self, path: str | Path) -> Cid:
        path = Path(path)
        expected = (await asyncio.to_thread(import_file, path)).cid  # FileNotFoundError here, before any request
        with open(path, "rb") as file:
            return await self._upload(file, path.name, expected)

    async def _upload(self, body: Any, filename: str, expected: Cid) -> Cid:
        form = aiohttp.FormData()
        form.add_field("file", body, filename=filename, content_type="application/octet-stream")
        async with self._request("POST", "/api/v0/add", params=ADD_PARAMS, data=form) as response:
            if response.status != 200:
                raise await self._error(response, expected)
            text = await response.text()
        answered = _added_hash(text, self.url)
        if answered != expected:
            raise ContentMismatch(expected, answered, f"{self.url} (its add answered a different CID)")
        return expected

    async def get_bytes(self, cid: Cid | str, *, max_size: int | None = DEFAULT_MAX_FETCH) -> bytes:
        cid = as_cid(cid)
        result = await self._fetch(cid, VerifiedSink(cid, where=self.url, max_size=max_size))
        assert isinstance(result, bytes)
        return result

    async def get_file(self, cid: Cid | str, dest: str | Path) -> int:
        cid = as_cid(cid)
        sink = await asyncio.to_thread(VerifiedSink, cid, where=self.url, dest=dest)
        result = await self._fetch(cid, sink)
        assert isinstance(result, int)
        return result

    async def _fetch(self, cid: Cid, sink: VerifiedSink) -> bytes | int:
        try:
            async with self._request("POST", "/api/v0/cat", params={"arg": str(cid)}) as response:
                if response.status in (404, 405):  # no RPC here: try the gateway path
                    response.release()
                    async with self._request("GET", f"/ipfs/{cid}") as gateway:
                        return await self._drain(gateway, cid, sink)
                return await self._drain(response, cid, sink)
        finally:
            await asyncio.to_thread(sink.abort)  # no-op once finished

    async def _drain(self, response: aiohttp.ClientResponse, cid: Cid, sink: VerifiedSink) -> bytes | int:
        if response.status != 200:
            raise await self._error(response, cid)
        batch = bytearray()
        try:
            async for chunk in response.content.iter_chunked(_BATCH):
                batch += chunk
                if len(batch) >= _BATCH:
                    await asyncio.to_thread(sink.write, batch)
                    batch = bytearray()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise StorageUnavailable(f"{self.url}: transfer of {cid} failed: {_describe(error)}") from error
        await asyncio.to_thread(sink.write, batch)
        return await asyncio.to_thread(sink.finish)

    def _request(self, method: str, path: str, **kwargs: Any) -> _Request:
        return _Request(self, self._client().request(method, self.url + path, **kwargs))

    async def _error(self, response: aiohttp.ClientResponse, cid: Cid) -> StorageError:
        body = (await response.content.read(4096)).decode("utf-8", "replace")
        try:
            message = str(json.loads(body)["Message"])
        except (ValueError, KeyError, TypeError):
            message = body.strip().splitlines()[0] if body.strip() else response.reason or ""
        where = f"{self.url} answered {response.status}: {message}"
        if response.status == 413:
            return ContentTooLarge(where)
        lowered = message.lower()
        if response.status == 404 or "not found" in lowered or "could not find" in lowered:
            return ContentNotFound(f"{cid} not found: {where}")
        if response.status >= 500:  # the server failed on its side: it may not later
            return StorageUnavailable(where)
        return StorageError(where)


class _Request:
    """A request whose connection failures become StorageUnavailable (one line, with the URL)."""

    def __init__(self, storage: HttpStorage, pending: Any) -> None:
        self._storage = storage
        self._pending = pending

    async def __aenter__(self) -> aiohttp.ClientResponse:
        try:
            return await self._pending.__aenter__()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise StorageUnavailable(f"cannot reach storage at {self._storage.url}: {_describe(error)}") from error

    async def __aexit__(self, *exc: Any) -> None:
        await self._pending.__aexit__(*exc)


def _added_hash(text: str, url: str) -> Cid:
    answered = None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise StorageUnavailable(f"{url}: not a kubo RPC answer to add: {line[:200]!r}") from None
        if isinstance(event, dict) and event.get("Hash"):
            answered = event["Hash"]
    if answered is None:
        raise StorageError(f"{url}: its add answered no CID: {text[:200]!r}")
    try:
        return Cid.parse(answered)
    except InvalidCid as error:
        raise StorageError(f"{url}: its add answered {error}") from None


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
