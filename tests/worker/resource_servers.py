"""Real servers on loopback for the resource tests (tests/worker/test_resources*.py):

  MotoS3            moto's S3 server (`python -m moto.server`), a subprocess; objects put with
                    plain S3 PUTs
  HubServer         a Hugging Face-compatible endpoint (aiohttp, in a thread): the routes
                    huggingface_hub calls for model_info(files_metadata=True) and
                    hf_hub_download: GET /api/models/{repo}/revision/{rev}, HEAD and GET
                    /{repo}/resolve/{rev}/{path}; with switches to corrupt, stall or lose a file
  Registry          Debian's `docker-registry` (the CNCF distribution server), a subprocess;
                    `push_ollama` puts an Ollama-format model in it over the OCI distribution API
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer within {timeout} s:\n{log.read_text()[-2000:]}")


def _request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST", "PATCH") else None, method=method,
                                 headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers)


class MotoS3:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "moto.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                         stdout=out, stderr=subprocess.STDOUT)
        _wait_http(self.url + "/", self.proc, self.log)

    def bucket(self, name: str) -> None:
        _request("PUT", f"{self.url}/{name}")

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """A public object (moto, like S3, refuses anonymous reads of private ones)."""
        _request("PUT", f"{self.url}/{bucket}/{key}", data,
                 {"Content-Type": "application/octet-stream", "x-amz-acl": "public-read"})

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class Repo:
    commit: str
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)


class HubServer:
    """A Hub endpoint serving `repos` (repo id -> Repo). `corrupt`: paths whose bytes are
    flipped in transfer (`corrupt_times` transfers, then served right); `stall`: paths whose
    GET sends half the file, then nothing; `lost`: paths listed but answered 404."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.corrupt: set[str] = set()
        self.corrupt_times = 1_000_000
        self.stall: set[str] = set()
        self.lost: set[str] = set()
        self.gets: dict[str, int] = {}  # path -> GETs of its bytes
        self.delay_s = 0.0  # before each GET's bytes (to hold a download open)
        self.stopping = False
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        app = web.Application()
        app.router.add_get("/api/models/{owner}/{name}/revision/{rev}", self.info)
        app.router.add_route("*", "/{owner}/{name}/resolve/{rev}/{path:.+}", self.resolve)

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(app)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    def add(self, repo_id: str, files: dict[str, bytes], lfs: set[str] = frozenset()) -> Repo:
        commit = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
        repo = self.repos[repo_id] = Repo(commit, dict(files), set(lfs))
        return repo

    def _repo(self, request: web.Request) -> tuple[str, Repo]:
        repo_id = f"{request.match_info['owner']}/{request.match_info['name']}"
        repo = self.repos.get(repo_id)
        rev = request.match_info["rev"]
        if repo is None or rev not in ("main", repo.commit):
            raise web.HTTPNotFound(headers={"X-Error-Code": "RepoNotFound" if repo is None else "RevisionNotFound"})
        return repo_id, repo

    async def info(self, request: web.Request) -> web.Response:
        repo_id, repo = self._repo(request)
        siblings = []
        for path, data in sorted(repo.files.items()):
            sib = {"rfilename": path, "size": len(data), "blobId": _git_sha1(data)}
            if path in repo.lfs:
                sib["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(sib)
        return web.json_response({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "siblings": siblings,
                                  "private": False, "disabled": False, "tags": []})

    async def resolve(self, request: web.Request) -> web.StreamResponse:
        _, repo = self._repo(request)
        path = request.match_info["path"]
        if path not in repo.files or path in self.lost:
            raise web.HTTPNotFound(headers={"X-Error-Code": "EntryNotFound", "X-Repo-Commit": repo.commit})
        data = repo.files[path]
        etag = hashlib.sha256(data).hexdigest() if path in repo.lfs else _git_sha1(data)
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{etag}"', "Content-Length": str(len(data))}
        if request.method == "HEAD":
            return web.Response(headers=headers)
        self.gets[path] = self.gets.get(path, 0) + 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if path in self.corrupt and self.corrupt_times > 0:
            self.corrupt_times -= 1
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        resp = web.StreamResponse(headers=headers)
        await resp.prepare(request)
        if path in self.stall:
            await resp.write(data[: len(data) // 2])
            while not self.stopping:  # nothing more until the server stops
                await asyncio.sleep(0.05)
            return resp
        await resp.write(data)
        await resp.write_eof()
        return resp

    def stop(self) -> None:
        self.stopping = True
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Registry:
    """`docker-registry serve` on a free loopback port, its storage under `tmp`."""

    BINARY = "docker-registry"

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.BINARY) is not None

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = tmp / "registry"
        config = tmp / "registry.yml"
        config.write_text(json.dumps({  # YAML is a superset of JSON
            "version": 0.1, "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.root)}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{self.port}"},
        }))
        self.log = tmp / "registry.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([self.BINARY, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
        _wait_http(self.url + "/v2/", self.proc, self.log)

    def push_blob(self, name: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers = _request("POST", f"{self.url}/v2/{name}/blobs/uploads/", b"")
        location = headers["Location"]
        location = location if location.startswith("http") else self.url + location
        sep = "&" if "?" in location else "?"
        _request("PUT", f"{location}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
        return digest

    def push_ollama(self, model: str, layers: dict[str, bytes]) -> tuple[str, bytes]:
        """An Ollama-format model (config + layers by media type) as `name:tag`; returns the
        manifest's digest and bytes."""
        name, _, tag = model.partition(":")
        name = name if "/" in name else f"library/{name}"
        config = json.dumps({"model_format": "gguf", "model_family": "test", "file_type": "F16"}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "digest": self.push_blob(name, config), "size": len(config)},
            "layers": [{"mediaType": media, "digest": self.push_blob(name, data), "size": len(data)}
                       for media, data in layers.items()],
        }
        body = json.dumps(manifest).encode()
        _request("PUT", f"{self.url}/v2/{name}/manifests/{tag or 'latest'}", body,
                 {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
        return "sha256:" + hashlib.sha256(body).hexdigest(), body

    def tamper(self, digest: str) -> None:
        """Flip the first byte of a stored blob: the registry serves it as it is (it checks
        digests on push, not on pull), as a corrupt mirror or disk would."""
        hexdigest = digest.removeprefix("sha256:")
        path = self.root / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"
        data = path.read_bytes()
        path.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
