"""`load(path)`: a job definition file, JSON or YAML, read and parsed.

Problems reading the file (missing, too big, not UTF-8, not JSON or YAML, a key given
twice, nested too deeply, too many values: bounds.py) raise LoadError with one line;
problems in the definition raise ValidationError. The size and the bracket depth are
checked before decoding, the decoded shape before anything walks it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import CrowdError
from .bounds import MAX_DEPTH, shape_problem, text_depth
from .model import JobDefinition
from .parsing import parse

MAX_DEFINITION_BYTES = 1 << 20  # 1 MiB: a definition is a recipe, not data
YAML_SUFFIXES = (".yaml", ".yml")


class LoadError(CrowdError, ValueError):
    """The file could not be read as JSON or YAML; the message is one line."""


def load(path: str | os.PathLike[str]) -> JobDefinition:
    return parse(read(path))


def read(path: str | os.PathLike[str]) -> Any:
    """The decoded document. By extension: .json is JSON, .yaml/.yml is YAML; any other
    name is read as JSON when it parses as JSON, else as YAML."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = f.read(MAX_DEFINITION_BYTES + 1)
    except OSError as exc:
        raise LoadError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_DEFINITION_BYTES:
        raise LoadError(f"{p}: larger than {MAX_DEFINITION_BYTES} bytes")
    suffix = p.suffix.lower()
    fmt = "json" if suffix == ".json" else "yaml" if suffix in YAML_SUFFIXES else "guess"
    return loads(data, name=str(p), fmt=fmt)


def loads(data: bytes | str, *, name: str = "<input>", fmt: str = "guess") -> Any:
    """`fmt`: "json", "yaml" or "guess" (JSON first: a JSON error message is clearer).
    Bytes from anywhere (a file, storage): bounded in size, depth and values (bounds.py)."""
    if len(data) > MAX_DEFINITION_BYTES:
        raise LoadError(f"{name}: larger than {MAX_DEFINITION_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise LoadError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    if text_depth(text) > MAX_DEPTH:
        raise LoadError(f"{name}: nested deeper than {MAX_DEPTH} levels")
    try:
        document = _decode(text, name, fmt)
    except RecursionError:  # YAML's block style nests by indentation, which text_depth cannot see
        raise LoadError(f"{name}: nested deeper than {MAX_DEPTH} levels") from None
    problem = shape_problem(document)
    if problem:
        raise LoadError(f"{name}: {problem}")
    return document


def _decode(text: str, name: str, fmt: str) -> Any:
    if fmt in ("json", "guess"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise LoadError(f"{name}: {exc}") from None
        except ValueError as exc:
            if fmt == "json":
                raise LoadError(f"{name}: not valid JSON: {exc}") from None
    return _yaml(text, name, guessed=fmt == "guess")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"key {key!r} given twice in one object")
        out[key] = value
    return out


def _yaml(text: str, name: str, *, guessed: bool) -> Any:
    import yaml  # loaded on first use: most definitions are JSON

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice (PyYAML keeps the last silently)."""

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        loader.flatten_mapping(node)
        pairs = [
            (loader.construct_object(k, deep=True), loader.construct_object(v, deep=True))
            for k, v in node.value
        ]
        try:
            return _unique_keys(pairs)
        except _DuplicateKey as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    what = "JSON or YAML" if guessed else "YAML"
    try:
        documents = list(yaml.load_all(text, Loader=StrictLoader))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise LoadError(f"{name}: not valid {what}: {detail}") from None
    if len(documents) != 1:
        raise LoadError(f"{name}: expected one {what} document, found {len(documents)}")
    return documents[0]
