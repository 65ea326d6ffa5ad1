"""`S3` resources: a public bucket prefix, or named files under it, over S3's REST API.

    s3://bucket/prefix        -> the node's S3 endpoint (--s3-endpoint), path-style:
                                 ENDPOINT/bucket?list-type=2&prefix=prefix/, ENDPOINT/bucket/key
    https://host/prefix       -> a bucket served at its own address (virtual-hosted, or a CDN
                                 in front of one, as Nosana's examples use): host/?list-type=2...

Anonymous only (a job's definition is public, so it carries no credentials). An https URL
names a host of the job's choosing: it and its redirects go to public addresses only
(worker/source_policy.py: never the cloud's metadata service or this host's services);
the node's own --s3-endpoint is the operator's choice and is not checked. Without
`files`, ListObjectsV2 lists the prefix (paged, bounded); with `files`, a HEAD per file.
Each object is checked against its ETag when that is an MD5 (objects uploaded in one part),
else against `x-amz-checksum-sha256` when the server keeps one, else by size. The content
key is the listing: every key with its ETag and size, so a changed object is a new volume.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

from ...client.jobspec.resources import S3Resource
from ..source_policy import SourcePolicy
from .http import download, read_small, session
from .plan import FileSpec, Permanent, Plan, ResourceError, content_key, safe_relpath

__all__ = ["S3Source", "DEFAULT_ENDPOINT", "MAX_OBJECTS"]

DEFAULT_ENDPOINT = "https://s3.amazonaws.com"
MAX_OBJECTS = 10_000  # objects under one prefix
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Source:
    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, stall_s: float = 30.0, policy: SourcePolicy | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.stall_s = stall_s
        self.policy = policy or SourcePolicy()

    def _policy_for(self, url: str) -> SourcePolicy | None:
        """None for the node's own endpoint (s3://), the policy for a host the job named."""
        return None if urlsplit(url).scheme == "s3" else self.policy

    def _base(self, url: str) -> tuple[str, str]:
        """(the bucket's base URL, the key prefix) of a resource URL."""
        parts = urlsplit(url)
        path = parts.path.strip("/")
        if parts.scheme == "s3":
            return f"{self.endpoint}/{quote(parts.netloc)}", path
        return f"{parts.scheme}://{parts.netloc}", path

    async def resolve(self, r: S3Resource) -> Plan:
        base, prefix = self._base(r.url)
        policy = self._policy_for(r.url)
        files: list[FileSpec] = []
        objects: list[tuple[str, str, int]] = []
        async with session(self.stall_s) as http:
            if r.files is not None:
                for name in r.files:
                    key = f"{prefix}/{name}" if prefix else name
                    _, headers = await read_small(http, "HEAD", f"{base}/{quote(key)}", f"file {name}",
                                                  headers={"x-amz-checksum-mode": "ENABLED"}, policy=policy)
                    etag = headers.get("ETag", "").strip('"')
                    size = _int(headers.get("Content-Length"), f"file {name}: Content-Length")
                    files.append(_spec(name, size, etag, headers.get("x-amz-checksum-sha256")))
                    objects.append((name, etag, size))
            else:
                listed = await self._list(http, base, prefix, policy)
                for key, etag, size in listed:
                    rel = key[len(prefix) + 1:] if prefix else key
                    if key.endswith("/") and size == 0:
                        continue  # a "folder" marker
                    name = safe_relpath(rel)
                    if name is None:
                        raise Permanent(f"the bucket names an object {key!r} that would land outside the target")
                    checksum = None
                    if not _MD5.match(etag):  # a multipart ETag: ask for the object's checksum, if kept
                        _, headers = await read_small(http, "HEAD", f"{base}/{quote(key)}", f"file {name}",
                                                      headers={"x-amz-checksum-mode": "ENABLED"}, policy=policy)
                        checksum = headers.get("x-amz-checksum-sha256")
                    files.append(_spec(name, size, etag, checksum))
                    objects.append((name, etag, size))
                if not files:
                    raise Permanent(f"no objects under {r.url}")
        objects.sort()
        digest = "s3-listing:" + content_key(objects)[:32]
        key = content_key("S3", r.url, objects)
        return Plan("S3", r.url, key, digest, tuple(files), {"base": base, "prefix": prefix, "url": r.url})

    async def _list(self, http, base: str, prefix: str, policy: SourcePolicy | None) -> list[tuple[str, str, int]]:
        out: list[tuple[str, str, int]] = []
        token = None
        while True:
            query = {"list-type": "2", "prefix": f"{prefix}/" if prefix else ""}
            if token:
                query["continuation-token"] = token
            body, _ = await read_small(http, "GET", f"{base}/?{urlencode(query)}", "listing the bucket", policy=policy)
            if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
                raise Permanent("listing the bucket: the answer declares XML entities (refused)")
            try:
                root = ElementTree.fromstring(body)
            except ElementTree.ParseError as exc:
                raise ResourceError(f"listing the bucket: not S3's XML: {exc}") from None
            ns = _NS if root.tag.startswith(_NS) else ""
            for item in root.findall(f"{ns}Contents"):
                key = item.findtext(f"{ns}Key") or ""
                etag = (item.findtext(f"{ns}ETag") or "").strip('"')
                size = _int(item.findtext(f"{ns}Size"), f"listing: {key}: Size")
                out.append((key, etag, size))
                if len(out) > MAX_OBJECTS:
                    raise Permanent(f"more than {MAX_OBJECTS} objects under the prefix (name the files)")
            if (root.findtext(f"{ns}IsTruncated") or "").lower() != "true":
                return out
            token = root.findtext(f"{ns}NextContinuationToken")
            if not token:
                raise ResourceError("listing the bucket: truncated with no continuation token")

    async def fetch(self, plan: Plan, folder: Path) -> None:
        base, prefix = plan.extra["base"], plan.extra["prefix"]
        policy = self._policy_for(plan.extra.get("url", "https:"))
        async with session(self.stall_s) as http:
            for spec in plan.files:
                key = f"{prefix}/{spec.path}" if prefix else spec.path
                await download(http, f"{base}/{quote(key)}", folder / spec.path, spec.size, f"file {spec.path}", policy=policy)


def _spec(name: str, size: int, etag: str, checksum: str | None) -> FileSpec:
    sha256 = None
    if checksum and "-" not in checksum:  # a composite (per-part) checksum is not the file's
        try:
            raw = base64.b64decode(checksum, validate=True)
            sha256 = raw.hex() if len(raw) == 32 else None
        except (binascii.Error, ValueError):
            sha256 = None
    return FileSpec(name, size, sha256=sha256, md5=etag if _MD5.match(etag) else None)


def _int(text: str | None, what: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise ResourceError(f"{what}: expected a size, got {text!r}") from None
    if value < 0:
        raise ResourceError(f"{what}: expected a size, got {value}")
    return value
