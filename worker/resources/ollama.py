"""`Ollama` resources: a model from Ollama's registry (--ollama-registry; it speaks the OCI
distribution API, so a mirror or any `docker-registry` holding the model serves it too).

`resolve` GETs /v2/<namespace>/<name>/manifests/<tag>: its sha256 is the content key (and
must equal the registry's Docker-Content-Digest when it sends one); the config and layers
are the files, each checked against its own digest. The volume holds Ollama's own layout,
so `ollama serve` finds the model when the volume is mounted at /root/.ollama/models:

    manifests/registry.ollama.ai/<namespace>/<name>/<tag>   the manifest, as served
    blobs/sha256-<hex>                                       config and layers

(The manifest's path names registry.ollama.ai whatever registry served it: that is the
name `ollama run <model>` looks up.) Anonymous pulls only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ...client.jobspec.resources import OllamaResource
from .http import download, read_small, session
from .plan import FileSpec, Permanent, Plan, ResourceError

__all__ = ["OllamaSource", "DEFAULT_REGISTRY", "MAX_LAYERS", "MANIFEST_TYPES", "split_model"]

DEFAULT_REGISTRY = "https://registry.ollama.ai"
MAX_LAYERS = 64
MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def split_model(model: str) -> tuple[str, str]:
    """"tinyllama" -> ("library/tinyllama", "latest"); "ns/name:tag" -> ("ns/name", "tag")."""
    name, _, tag = model.partition(":")
    return (name if "/" in name else f"library/{name}"), tag or "latest"


class OllamaSource:
    def __init__(self, registry: str = DEFAULT_REGISTRY, *, stall_s: float = 30.0) -> None:
        self.registry = registry.rstrip("/")
        self.stall_s = stall_s

    async def resolve(self, r: OllamaResource) -> Plan:
        name, tag = split_model(r.model)
        async with session(self.stall_s) as http:
            body, headers = await read_small(http, "GET", f"{self.registry}/v2/{name}/manifests/{tag}",
                                             f"the manifest of {r.model}", headers={"Accept": MANIFEST_TYPES}, cap=1 << 20)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        said = headers.get("Docker-Content-Digest")
        if said and said != digest:
            raise ResourceError(f"the manifest of {r.model}: its sha256 is {digest}, the registry says {said} (corrupt)")
        try:
            manifest = json.loads(body)
            blobs = [manifest["config"], *manifest["layers"]]
            layers = [(b["digest"], int(b["size"])) for b in blobs]
        except (ValueError, KeyError, TypeError) as exc:
            raise Permanent(f"the manifest of {r.model} is not an image manifest: {exc}") from None
        if len(layers) > MAX_LAYERS:
            raise Permanent(f"the manifest of {r.model} has more than {MAX_LAYERS} layers")
        files, seen = [], set()
        for blob_digest, size in layers:
            if not isinstance(blob_digest, str) or not _DIGEST.match(blob_digest) or size < 0:
                raise Permanent(f"the manifest of {r.model} names a blob {blob_digest!r} that is not a sha256 digest")
            if blob_digest not in seen:
                seen.add(blob_digest)
                files.append(FileSpec(f"blobs/{blob_digest.replace(':', '-')}", size, sha256=blob_digest[7:]))
        files.append(FileSpec(f"manifests/registry.ollama.ai/{name}/{tag}", len(body), sha256=digest[7:]))
        return Plan("Ollama", r.describe(), "ollama:" + digest, digest, tuple(files),
                    {"name": name, "manifest": body})

    async def fetch(self, plan: Plan, folder: Path) -> None:
        name = plan.extra["name"]
        async with session(self.stall_s) as http:
            for spec in plan.files:
                if spec.path.startswith("manifests/"):
                    path = folder / spec.path
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(plan.extra["manifest"])  # already checked against its digest
                    continue
                blob = spec.path.removeprefix("blobs/").replace("-", ":", 1)
                await download(http, f"{self.registry}/v2/{name}/blobs/{blob}", folder / spec.path, spec.size,
                               f"layer {blob[:19]}")
