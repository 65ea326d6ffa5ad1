"""`container/run` args `resources`: the models and data a node downloads before the op starts
(Nosana's shapes: `S3`, `HF`, `Ollama`), parsed and bounded.

    {"type": "S3", "url": "s3://bucket/prefix" | "https://host/prefix", "files": [...], "target": "/data"}
    {"type": "HF", "repo": "owner/name", "revision": "main", "files": [...], "target": "/models"}
    {"type": "Ollama", "model": "tinyllama[:tag]", "target": "/root/.ollama/models"}

A node holds each resource once in a volume of its own, verified, and mounts it read-only at
`target` (worker/resources). `allowWrite: true` gives the op a private writable copy made for
its job instead (the shared one stays read-only). Fields that would make a stored definition
carry secrets (`IAM`, `accessToken`) are refused with the reason.

Literals (Nosana's job-literals example): an item `{"__spread__": "%%ops.ID.results.KEY%%"}`
(or the bare literal) stands for the resources a JSON value of that result holds (an object
or an array of them), and an item may hold literals in its string fields (`url`, `repo`,
`revision`, `model`, `target`, each `files` name; a `files` name that is exactly one literal
stands for all its values). Such items are kept aside (`RunArgs.resource_literals`, one
`ResourceLiteral` each), checked here as far as they can be (the shape, the fields written
as they are), and read by the same rules once their op is about to start (`fill`), so a
value produced at run time meets every bound a value written in the file meets.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from .checks import Checks
from .literal_syntax import LITERAL, is_one_literal
from .problems import join

__all__ = [
    "Resource", "S3Resource", "HFResource", "OllamaResource", "ResourceLiteral", "parse_resources", "read_resources",
    "fill", "MAX_RESOURCES", "MAX_FILES", "OLLAMA_TARGET",
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
    "buckets": "write one S3 resource per bucket, each with its own target",
    "bucket": "the bucket is part of `url` (s3://bucket/prefix, or the bucket's own https address)",
}
KEYS = {
    "S3": ("type", "url", "files", "target", "allowWrite"),
    "HF": ("type", "repo", "revision", "files", "target", "allowWrite"),
    "Ollama": ("type", "model", "target", "allowWrite"),
}
SPREAD = "__spread__"
# where a literal may stand in a resource item (the rest, `type` and `allowWrite`, is written)
LITERAL_FIELDS = ("url", "repo", "revision", "model", "target")
NO_LITERALS = "literals are filled in only in a job's op resources, not in a list the node reads as it is"
NESTED = "a value filled in when the op starts cannot hold another literal"


@dataclass(frozen=True)
class Resource:
    target: str  # absolute folder in the container, mounted read-only

    # keyword-only so that the subclasses' own fields keep their positions
    allow_write: bool = field(default=False, kw_only=True)  # a private writable copy for the job (worker/resources/private.py)

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


@dataclass(frozen=True)
class ResourceLiteral:
    """A resource item filled in when its op starts: `spread`, a literal whose values are JSON
    resources, or `item`, one item (JSON text, kept hashable) with literals in its fields."""

    at: int  # its position in the op's `resources`, for messages
    spread: str | None = None
    item: str | None = None

    @property
    def label(self) -> str:
        return f"resources[{self.at}]" + (f" {self.spread}" if self.spread else "")


Site = Callable[[str, str], None]  # (path, string): a string where literals are filled in (parsing.py checks them)


def parse_resources(c: Checks, path: str, raw: Any) -> tuple[Resource, ...]:
    """A list of resources as they are (a market's prefetch list): no literals."""
    return read_resources(c, path, raw, None)[0]


def read_resources(c: Checks, path: str, raw: Any, site: Site | None) -> tuple[tuple[Resource, ...], tuple[ResourceLiteral, ...]]:
    """`args.resources`: a list of at most MAX_RESOURCES objects, each problem named by path;
    the items written with literals kept aside (`site` is told each literal string; None:
    literals are refused)."""
    if raw is None:
        return (), ()
    if not c.expect(path, raw, list, "an array of resources"):
        return (), ()
    if len(raw) > MAX_RESOURCES:
        c.problems.add(path, f"expected at most {MAX_RESOURCES} resources, got {len(raw)}")
        return (), ()
    out: list[Resource] = []
    later: list[ResourceLiteral] = []
    targets: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = join(path, i)
        if _is_spread(item):
            spread = _spread(c, where, item, site)
            if spread is not None:
                later.append(ResourceLiteral(i, spread=spread))
            continue
        if site is not None and isinstance(item, dict) and _literal_fields(item):
            if _template(c, where, item, site, targets):
                later.append(ResourceLiteral(i, item=json.dumps(item, sort_keys=True)))
            continue
        resource = _one(c, where, item, "written" if site is not None else "as-is")
        if resource is None:
            continue
        if resource.target in targets:
            c.problems.add(join(where, "target"), f"{resource.target!r} is already the target of {targets[resource.target]}")
            continue
        targets[resource.target] = where
        out.append(resource)
    return tuple(out), tuple(later)


def fill(written: tuple[Resource, ...], later: tuple[ResourceLiteral, ...],
         values_of: Callable[[str], list[str]]) -> tuple[Resource, ...]:
    """`written` and then the resources `later` stands for (each literal's values by
    `values_of`), read by the rules a resource written in the file meets (with the bounds
    counted over all of them). ValueError names what is wrong."""
    c = Checks()
    out = list(written)
    targets = {r.target: "a resource written in the file" for r in written}
    for entry in later:
        items: list[tuple[str, Any]] = []
        if entry.spread is not None:
            for value in values_of(entry.spread):
                for item in _decode(entry.label, value):
                    items.append((f"{entry.label}[{len(items)}]", item))
                    if len(out) + len(items) > MAX_RESOURCES:
                        raise ValueError(f"{entry.label}: more than {MAX_RESOURCES} resources in this op")
        else:
            items.append((entry.label, _filled(json.loads(entry.item or "{}"), values_of)))
        for where, item in items:
            resource = _one(c, where, item, "filled")
            if resource is None:
                continue
            if resource.target in targets:
                c.problems.add(join(where, "target"), f"{resource.target!r} is already the target of {targets[resource.target]}")
                continue
            targets[resource.target] = where
            out.append(resource)
        if len(out) > MAX_RESOURCES:
            raise ValueError(f"{entry.label}: more than {MAX_RESOURCES} resources in this op")
    if c.problems.errors:
        raise ValueError("; ".join(str(p) for p in c.problems.errors))
    return tuple(out)


def _is_spread(item: Any) -> bool:
    return (isinstance(item, dict) and ("__spread__" in item or "__pairs__" in item)) or (
        isinstance(item, str) and LITERAL.search(item) is not None)


def _spread(c: Checks, where: str, item: Any, site: Site | None) -> str | None:
    """The literal of a {"__spread__": literal} item (or a bare literal), or None with the problem."""
    if site is None:
        c.problems.add(where, NO_LITERALS)
        return None
    if isinstance(item, dict):
        if "__pairs__" in item:
            c.problems.add(join(where, "__pairs__"), 'resources take {"__spread__": literal} (a JSON resource or an array of them)')
            return None
        if len(item) != 1:
            c.problems.add(where, f"a {SPREAD} marker has no other keys")
            return None
        where, item = join(where, SPREAD), item[SPREAD]
    if not is_one_literal(item):
        c.problems.add(where, f"expected exactly one literal, like %%ops.ID.results.KEY%%, got {item!r}")
        return None
    site(where, item)
    return item


def _literal_fields(item: dict) -> list[str]:
    """The keys of `item` whose value holds a literal (a `files` list: when any name does)."""
    found = [k for k, v in item.items() if isinstance(v, str) and LITERAL.search(v)]
    files = item.get("files")
    if isinstance(files, list) and any(isinstance(f, str) and LITERAL.search(f) for f in files):
        found.append("files")
    return found


def _template(c: Checks, where: str, item: dict, site: Site, targets: dict[str, str]) -> bool:
    """An item with literals in its fields: what is written is checked by the same rules,
    each field that holds a literal only as text (its rules run on the value at the op's start)."""
    before = len(c.problems.errors)
    fields = _literal_fields(item)
    for key in fields:
        if key not in LITERAL_FIELDS and key != "files":
            c.problems.add(join(where, key), f"a literal may stand only in {', '.join(LITERAL_FIELDS)} and files names")
    if len(c.problems.errors) != before:
        return False
    placeholder = dict(item)
    for key in fields:
        if key == "files":
            names = item["files"]
            del placeholder["files"]
            if len(names) > MAX_FILES:
                c.problems.add(join(where, "files"), f"expected at most {MAX_FILES} files, got {len(names)}")
                continue
            for i, name in enumerate(names):
                if isinstance(name, str) and LITERAL.search(name):
                    if _template_text(c, join(join(where, "files"), i), name):
                        site(join(join(where, "files"), i), name)
            if written_names := [f for f in names if not (isinstance(f, str) and LITERAL.search(f))]:
                placeholder["files"] = written_names
        else:
            if _template_text(c, join(where, key), item[key]):
                site(join(where, key), item[key])
            placeholder[key] = {"target": "/filled-later", "url": "s3://filled/later", "repo": "filled/later",
                                "revision": "filled-later", "model": "filled-later"}[key]
    written = _one(c, where, placeholder, "written")  # every rule over what is written as it is
    if written is not None and "target" not in fields and written.target in targets:
        c.problems.add(join(where, "target"), f"{written.target!r} is already the target of {targets[written.target]}")
    elif written is not None and "target" not in fields:
        targets[written.target] = where
    return len(c.problems.errors) == before


def _template_text(c: Checks, path: str, value: str) -> bool:
    if len(value) > MAX_TEXT:
        c.problems.add(path, f"expected at most {MAX_TEXT} characters, got {len(value)}")
        return False
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        c.problems.add(path, "control characters are not allowed")
        return False
    return True


def _decode(label: str, value: str) -> list[Any]:
    """A spread literal's value: a JSON resource object or an array of them."""
    text = value.strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        raise ValueError(f"{label}: {text[:80]!r} is not JSON (expected a resource object or an array of them)") from None
    items = decoded if isinstance(decoded, list) else [decoded]
    if len(items) > MAX_RESOURCES:
        raise ValueError(f"{label}: more than {MAX_RESOURCES} resources in this op")
    return items


def _filled(item: dict, values_of: Callable[[str], list[str]]) -> dict:
    """`item` with its literals filled in, as literals.py fills strings: a result's values
    joined with spaces; a `files` name that is exactly one literal gives all its values."""

    def text(value: str) -> str:
        return LITERAL.sub(lambda m: " ".join(values_of(m.group(0))), value)

    out = dict(item)
    for key in LITERAL_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = text(out[key])
    if isinstance(out.get("files"), list):
        names: list[Any] = []
        for name in out["files"]:
            if is_one_literal(name):
                names.extend(values_of(name))
            else:
                names.append(text(name) if isinstance(name, str) else name)
            if len(names) > MAX_FILES:
                raise ValueError(f"files: more than {MAX_FILES} names")
        out["files"] = names
    return out


def _one(c: Checks, where: str, item: Any, mode: str) -> Resource | None:
    """One resource object. mode: "written" (a job's file), "as-is" (a list with no literals
    anywhere), "filled" (a value filled in at the op's start: no literal may be left in it)."""
    if not c.object(where, item, None):
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
    text = lambda key: _text(c, p(key), item[key], mode)  # noqa: E731
    allow_write = False
    if "allowWrite" in item and c.expect(p("allowWrite"), item["allowWrite"], bool, "a boolean"):
        allow_write = item["allowWrite"]
    if "target" in item:
        target = _target(c, p("target"), item["target"], mode)
    elif kind == "Ollama":
        target = OLLAMA_TARGET
    else:
        c.problems.add(p("target"), "required")
        target = None
    files = _files(c, p("files"), item["files"], mode) if "files" in item else None
    resource: Resource | None = None
    if kind == "S3":
        url = text("url") if "url" in item else _required(c, p("url"))
        if url is not None and _url(c, p("url"), url) and target:
            resource = S3Resource(target, url=url.rstrip("/"), files=files, allow_write=allow_write)
    elif kind == "HF":
        repo = text("repo") if "repo" in item else _required(c, p("repo"))
        if repo is not None and not HF_REPO_RE.match(repo):
            c.problems.add(p("repo"), f"expected a Hugging Face repo id like owner/name, got {repo!r}")
            repo = None
        revision = text("revision") if "revision" in item else "main"
        if revision is not None and (not HF_REVISION_RE.match(revision) or ".." in revision):
            c.problems.add(p("revision"), f"expected a branch, tag or commit, got {revision!r}")
            revision = None
        if repo and revision and target:
            resource = HFResource(target, repo=repo, revision=revision, files=files, allow_write=allow_write)
    else:
        model = text("model") if "model" in item else _required(c, p("model"))
        if model is not None and not OLLAMA_RE.match(model):
            c.problems.add(p("model"), f"expected an Ollama model like name, name:tag or namespace/name:tag, got {model!r}")
            model = None
        if model and target:
            resource = OllamaResource(target, model=model, allow_write=allow_write)
    return resource if len(c.problems.errors) == before else None


def _required(c: Checks, path: str) -> None:
    c.problems.add(path, "required")
    return None


def _text(c: Checks, path: str, value: Any, mode: str) -> str | None:
    s = c.string(path, value)
    if s is None:
        return None
    if len(s) > MAX_TEXT:
        c.problems.add(path, f"expected at most {MAX_TEXT} characters, got {len(s)}")
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in s):
        c.problems.add(path, "control characters are not allowed")
        return None
    if LITERAL.search(s):
        c.problems.add(path, NESTED if mode == "filled" else NO_LITERALS)
        return None
    return s


def _target(c: Checks, path: str, value: Any, mode: str) -> str | None:
    s = _text(c, path, value, mode)
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


def _files(c: Checks, path: str, value: Any, mode: str) -> tuple[str, ...] | None:
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
        name = _text(c, join(path, i), item, mode)
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
