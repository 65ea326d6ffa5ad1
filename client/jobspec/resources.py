"""`container/run` args `resources`: the models and data a node downloads before the op starts
(Nosana's shapes: `S3`, `HF`, `Ollama`), parsed and bounded.

    {"type": "S3", "url": "s3://bucket/prefix" | "https://host/prefix", "files": [...], "target": "/data"}
    {"type": "HF", "repo": "owner/name", "revision": "main", "files": [...], "target": "/models"}
    {"type": "Ollama", "model": "tinyllama[:tag]", "target": "/root/.ollama/models"}

A node holds each resource once in a volume of its own, verified, and mounts it read-only at
`target` (worker/resources). Fields that would make a stored definition carry secrets (`IAM`,
`accessToken`) or a shared cache writable (`allowWrite`) are refused with the reason.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .checks import NO_LITERALS_HERE, Checks
from .problems import join

__all__ = [
    "Resource", "S3Resource", "HFResource", "OllamaResource", "parse_resources",
    "MAX_RESOURCES", "MAX_FILES", "OLLAMA_TARGET",
]

MAX_RESOURCES = 16  # per op
MAX_FILES = 1000  # names listed in one resource's `files`
MAX_TEXT = 512  # characters of a url, repo, revision, model, file name or target
OLLAMA_TARGET = "/root/.ollama/models"  # Nosana's default for Ollama: where `ollama serve` looks
SCHEMES = ("http", "https", "s3")
# Hugging Face repo ids: "name" or "owner/name" (the Hub's own rule, shortened)
HF_REPO_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
HF_REVISION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,199}$")
# Ollama model references: [namespace/]name[:tag] (registry paths are lowercase)
OLLAMA_RE = re.compile(r"^(?:[a-z0-9][a-z0-9_.-]{0,79}/)?[a-z0-9][a-z0-9_.-]{0,79}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")
REFUSED = {
    "IAM": "credentials would be public once the definition is stored; use a public bucket",
    "accessToken": "a token would be public once the definition is stored; use a public repo",
    "allowWrite": "a resource is held once and shared between jobs, so it is mounted read-only",
    "buckets": "write one S3 resource per bucket, each with its own target",
    "bucket": "the bucket is part of `url` (s3://bucket/prefix, or the bucket's own https address)",
}
KEYS = {
    "S3": ("type", "url", "files", "target"),
    "HF": ("type", "repo", "revision", "files", "target"),
    "Ollama": ("type", "model", "target"),
}


@dataclass(frozen=True)
class Resource:
    target: str  # absolute folder in the container, mounted read-only

    @property
    def kind(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        """How error messages and the bundle name it."""
        raise NotImplementedError


@dataclass(frozen=True)
class S3Resource(Resource):
    url: str = ""  # s3://bucket/prefix (the node's S3 endpoint) or http(s)://bucket-host/prefix
    files: tuple[str, ...] | None = None  # keys under the prefix; None: everything under it

    @property
    def kind(self) -> str:
        return "S3"

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class HFResource(Resource):
    repo: str = ""
    revision: str = "main"
    files: tuple[str, ...] | None = None  # paths in the repo; None: the whole repo

    @property
    def kind(self) -> str:
        return "HF"

    def describe(self) -> str:
        return f"hf://{self.repo}@{self.revision}"


@dataclass(frozen=True)
class OllamaResource(Resource):
    model: str = ""

    @property
    def kind(self) -> str:
        return "Ollama"

    def describe(self) -> str:
        return f"ollama://{self.model}"


def parse_resources(c: Checks, path: str, raw: Any) -> tuple[Resource, ...]:
    """`args.resources`: a list of at most MAX_RESOURCES objects, each problem named by path."""
    if raw is None:
        return ()
    if not c.expect(path, raw, list, "an array of resources"):
        return ()
    if len(raw) > MAX_RESOURCES:
        c.problems.add(path, f"expected at most {MAX_RESOURCES} resources, got {len(raw)}")
        return ()
    out: list[Resource] = []
    targets: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = join(path, i)
        resource = _one(c, where, item)
        if resource is None:
            continue
        if resource.target in targets:
            c.problems.add(join(where, "target"), f"{resource.target!r} is already the target of {targets[resource.target]}")
            continue
        targets[resource.target] = where
        out.append(resource)
    return tuple(out)


def _one(c: Checks, where: str, item: Any) -> Resource | None:
    if not c.object(where, item, None):
        return None
    if "__spread__" in item or "__pairs__" in item:  # Nosana's collection literals
        c.problems.refuse(where, "resources are fetched before any op starts, so they cannot come from an op's results "
                                 "(literals); list them")
        return None
    kind = item.get("type")
    if kind not in KEYS:
        c.problems.add(join(where, "type"), f'expected "S3", "HF" or "Ollama", got {kind!r}')
        return None
    before = len(c.problems.errors)
    for key in item:
        if key in REFUSED:
            c.problems.refuse(join(where, key), REFUSED[key])
        elif key not in KEYS[kind]:
            c.problems.add(join(where, str(key)), f"unknown field for a {kind} resource (it has {', '.join(KEYS[kind][1:])})")
    p = lambda key: join(where, key)  # noqa: E731
    if "target" in item:
        target = _target(c, p("target"), item["target"])
    elif kind == "Ollama":
        target = OLLAMA_TARGET
    else:
        c.problems.add(p("target"), "required")
        target = None
    files = _files(c, p("files"), item["files"]) if "files" in item else None
    resource: Resource | None = None
    if kind == "S3":
        url = _text(c, p("url"), item["url"]) if "url" in item else _required(c, p("url"))
        if url is not None and _url(c, p("url"), url) and target:
            resource = S3Resource(target, url=url.rstrip("/"), files=files)
    elif kind == "HF":
        repo = _text(c, p("repo"), item["repo"]) if "repo" in item else _required(c, p("repo"))
        if repo is not None and not HF_REPO_RE.match(repo):
            c.problems.add(p("repo"), f"expected a Hugging Face repo id like owner/name, got {repo!r}")
            repo = None
        revision = _text(c, p("revision"), item["revision"]) if "revision" in item else "main"
        if revision is not None and (not HF_REVISION_RE.match(revision) or ".." in revision):
            c.problems.add(p("revision"), f"expected a branch, tag or commit, got {revision!r}")
            revision = None
        if repo and revision and target:
            resource = HFResource(target, repo=repo, revision=revision, files=files)
    else:
        model = _text(c, p("model"), item["model"]) if "model" in item else _required(c, p("model"))
        if model is not None and not OLLAMA_RE.match(model):
            c.problems.add(p("model"), f"expected an Ollama model like name, name:tag or namespace/name:tag, got {model!r}")
            model = None
        if model and target:
            resource = OllamaResource(target, model=model)
    return resource if len(c.problems.errors) == before else None


def _required(c: Checks, path: str) -> None:
    c.problems.add(path, "required")
    return None


def _text(c: Checks, path: str, value: Any) -> str | None:
    s = c.string(path, value)
    if s is None:
        return None
    if len(s) > MAX_TEXT:
        c.problems.add(path, f"expected at most {MAX_TEXT} characters, got {len(s)}")
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in s):
        c.problems.add(path, "control characters are not allowed")
        return None
    c.no_literals(path, s, NO_LITERALS_HERE)
    return s


def _target(c: Checks, path: str, value: Any) -> str | None:
    s = _text(c, path, value)
    if s is None:
        return None
    if not s.startswith("/"):
        c.problems.add(path, f"expected an absolute path, got {s!r}")
        return None
    if ".." in s.split("/"):
        c.problems.add(path, f"'..' is not allowed, got {s!r}")
        return None
    normal = "/" + posixpath.normpath(s).lstrip("/")  # normpath keeps a leading "//"
    if normal == "/":
        c.problems.add(path, "a resource cannot be mounted over the container's root")
        return None
    return normal


def _files(c: Checks, path: str, value: Any) -> tuple[str, ...] | None:
    if not c.expect(path, value, list, "an array of file names"):
        return None
    if not value:
        c.problems.add(path, "expected at least one file (leave `files` out for all of them)")
        return None
    if len(value) > MAX_FILES:
        c.problems.add(path, f"expected at most {MAX_FILES} files, got {len(value)}")
        return None
    out = []
    for i, item in enumerate(value):
        name = _text(c, join(path, i), item)
        if name is None:
            continue
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "." in parts or "" in parts:
            c.problems.add(join(path, i), f"expected a relative path without '.', '..' or empty parts, got {name!r}")
            continue
        out.append(name)
    if len(set(out)) != len(out):
        c.problems.add(path, "lists a file twice")
    return tuple(out)


def _url(c: Checks, path: str, url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        c.problems.add(path, f"not a URL: {exc}")
        return False
    if parts.scheme not in SCHEMES:
        c.problems.add(path, f"expected an http, https or s3 URL, got scheme {parts.scheme!r}")
        return False
    if not parts.netloc or parts.username or parts.password or parts.query or parts.fragment:
        c.problems.add(path, "expected scheme://host/prefix with no user, password, query or fragment")
        return False
    if ".." in parts.path.split("/"):
        c.problems.add(path, f"'..' is not allowed, got {url!r}")
        return False
    return True
