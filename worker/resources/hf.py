"""`HF` resources: a Hugging Face repo (or some of its files) at a revision, through
huggingface_hub against the node's Hub endpoint (--hf-endpoint; a mirror speaks the same API).

`resolve` asks `model_info(files_metadata=True)`: the commit the revision names now (the
content key) and every file's size with its published checksum (LFS files: sha256; other
files: their git blob id, a sha1 over "blob SIZE\\0" + content). `fetch` downloads each file
with `hf_hub_download(revision=<that commit>, local_dir=...)`, so every file comes from one
commit even if the branch moves meanwhile; the cache then checks each checksum itself.
No token is sent (a job's definition is public, so the repo must be).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from ...client.jobspec.resources import HFResource
from .plan import FileSpec, Permanent, Plan, ResourceError, content_key, safe_relpath

__all__ = ["HFSource", "DEFAULT_ENDPOINT", "MAX_FILES"]

DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_FILES = 10_000  # files of a whole repo


class HFSource:
    def __init__(self, endpoint: str | None = None, *, stall_s: float = 30.0) -> None:
        # like huggingface_hub itself: $HF_ENDPOINT when the node names no endpoint
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.stall_s = stall_s

    async def resolve(self, r: HFResource) -> Plan:
        info = await asyncio.to_thread(self._info, r)
        commit = getattr(info, "sha", None)
        if not isinstance(commit, str) or len(commit) != 40:
            raise ResourceError(f"the Hub gave no commit for {r.repo}@{r.revision}")
        siblings = {s.rfilename: s for s in (info.siblings or [])}
        if len(siblings) > MAX_FILES:
            raise Permanent(f"{r.repo} has more than {MAX_FILES} files (name the files)")
        names = r.files if r.files is not None else tuple(sorted(siblings))
        files = []
        for name in names:
            sib = siblings.get(name)
            if sib is None:
                raise Permanent(f"file {name}: not in {r.repo} at {r.revision} ({commit[:12]})")
            if safe_relpath(name) is None:
                raise Permanent(f"the repo names a file {name!r} that would land outside the target")
            if sib.lfs is not None:
                files.append(FileSpec(name, int(sib.lfs.size), sha256=sib.lfs.sha256))
            elif sib.size is not None:
                files.append(FileSpec(name, int(sib.size), git_sha1=sib.blob_id))
            else:
                raise ResourceError(f"file {name}: the Hub gave no size for it")
        if not files:
            raise Permanent(f"{r.repo} at {r.revision} has no files")
        key = content_key("HF", r.repo, commit, tuple(f.path for f in files))
        return Plan("HF", r.describe(), key, commit, tuple(files), {"repo": r.repo, "commit": commit})

    def _info(self, r: HFResource) -> Any:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

        try:
            return HfApi(endpoint=self.endpoint, token=False).model_info(
                r.repo, revision=r.revision, files_metadata=True, timeout=self.stall_s, token=False)
        except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
            raise Permanent(f"{r.repo}@{r.revision}: {_first_line(exc)}") from None
        except HfHubHTTPError as exc:
            raise ResourceError(f"{r.repo}@{r.revision}: {_first_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - the library's transport errors (httpx) vary by version
            raise ResourceError(f"{r.repo}@{r.revision}: {_first_line(exc)}") from None

    async def fetch(self, plan: Plan, folder: Path) -> None:
        for spec in plan.files:
            await asyncio.to_thread(self._download, plan.extra["repo"], plan.extra["commit"], spec, folder)

    def _download(self, repo: str, commit: str, spec: FileSpec, folder: Path) -> None:
        from huggingface_hub import constants, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        # The library reads its download timeout from this module attribute at each call.
        constants.HF_HUB_DOWNLOAD_TIMEOUT = max(1, int(self.stall_s))
        try:
            hf_hub_download(repo, spec.path, revision=commit, local_dir=folder, endpoint=self.endpoint,
                            token=False, etag_timeout=self.stall_s, force_download=True)
        except EntryNotFoundError:
            raise Permanent(f"file {spec.path}: not found on the Hub at {commit[:12]}") from None
        except Exception as exc:  # noqa: BLE001 - transport errors (httpx), size checks, disk
            raise ResourceError(f"file {spec.path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "timed out" in text.lower() or "Timeout" in type(exc).__name__:
        return "the server stalled (no bytes within the node's stall timeout)"
    return text.strip().splitlines()[0][:300]
