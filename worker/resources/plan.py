"""What a source promises before it downloads (a `Plan`), and the check of what it wrote.

A source's `resolve` asks its server what the resource is now: the files, each with the size
and the checksums the server publishes, and a content key (what identifies the content:
a Hugging Face commit, an Ollama manifest digest, an S3 listing of keys and ETags). The cache
holds one volume per key. `verify` then reads back every file the source wrote and compares
it with the plan, so a partial, truncated, padded or corrupt download is never mounted.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...client.errors import CrowdError

__all__ = ["FileSpec", "Plan", "ResourceError", "Permanent", "verify", "content_key", "safe_relpath"]

READ_CHUNK = 1 << 20


class ResourceError(CrowdError):
    """Why a resource could not be held; a job that needs it ends with this reason. Worth
    another try (a stalled server, a corrupt transfer) unless it is a `Permanent` one."""


class Permanent(ResourceError):
    """Another try would fail the same way: a missing file, a resource over the budget."""


@dataclass(frozen=True)
class FileSpec:
    path: str  # relative, "/"-separated: where the file lands under the mount target
    size: int
    sha256: str | None = None  # hex
    md5: str | None = None  # hex (an S3 ETag of an object uploaded in one part)
    git_sha1: str | None = None  # hex (a Hugging Face blob id of a file not in LFS)

    @property
    def checks(self) -> str:
        return ", ".join(n for n, v in (("sha256", self.sha256), ("md5", self.md5), ("git blob sha1", self.git_sha1)) if v) or "size"


@dataclass(frozen=True)
class Plan:
    kind: str  # S3 | HF | Ollama
    source: str  # the resource as the job names it (the bundle's `source`)
    key: str  # content key: one volume per key
    digest: str  # shown in the bundle: the commit, the manifest digest, the listing digest
    files: tuple[FileSpec, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # what the source's fetch needs

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def content_key(*parts: Any) -> str:
    """sha256 over the parts that identify the content (never the server it came from: a
    mirror serves the same content under the same key)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def safe_relpath(path: str) -> str | None:
    """`path` as a relative path inside a folder, or None when it would leave it (a server
    names its files; a hostile one could name ../../etc/passwd)."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return None
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return posixpath.join(*parts)


def verify(folder: Path, plan: Plan) -> None:
    """Every file of `plan` is in `folder` with its size and checksums (the cache then moves
    exactly these files into place: a library's own bookkeeping beside them is left behind)."""
    wanted = {f.path for f in plan.files}
    for spec in plan.files:
        path = folder / spec.path
        try:
            st = path.lstat()
        except FileNotFoundError:
            raise ResourceError(f"file {spec.path}: missing after the download") from None
        if not path.is_file() or path.is_symlink():
            raise ResourceError(f"file {spec.path}: not a regular file after the download")
        if st.st_size != spec.size:
            raise ResourceError(f"file {spec.path}: {st.st_size} bytes, the source says {spec.size}")
        hashes = {"sha256": hashlib.sha256() if spec.sha256 else None, "md5": hashlib.md5() if spec.md5 else None}
        git = hashlib.sha1(f"blob {spec.size}\0".encode()) if spec.git_sha1 else None
        with open(path, "rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                for h in hashes.values():
                    if h is not None:
                        h.update(chunk)
                if git is not None:
                    git.update(chunk)
        for name, expected in (("sha256", spec.sha256), ("md5", spec.md5)):
            h = hashes[name]
            if h is not None and h.hexdigest() != expected:
                raise ResourceError(f"file {spec.path}: {name} {h.hexdigest()} does not match the source's {expected} (corrupt download)")
        if git is not None and git.hexdigest() != spec.git_sha1:
            raise ResourceError(f"file {spec.path}: git blob sha1 {git.hexdigest()} does not match the source's {spec.git_sha1} (corrupt download)")
