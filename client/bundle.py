"""The result bundle: what a worker hands back for a job, stored by content id.

One canonical JSON document (sorted keys, no insignificant whitespace, UTF-8, integers
only), so the same run always gives the same bytes and so the same content id:

    {"format": "crowdcompute/result-bundle", "version": 1,
     "job": <job address>, "node": <node address>, "definition": <definition CID>,
     "status": "succeeded" | "failed" | "timed-out" | "stopped",
     "started_at": <time>, "ended_at": <time>,
     "ops": [{"id", "exit_code": int | null, "error": str | null,
              "started_at": <time> | null, "ended_at": <time> | null,
              "stdout": <log>, "stderr": <log>,
              "results": {key: [str, ...]},
              "outputs": [{"path", "size", "sha256", "content", "error"}]}]}

  <time>  RFC 3339 in UTC with milliseconds: "2025-06-01T12:00:00.250Z".
  <log>   {"text": str, "bytes": original size, "truncated": bool}. Logs over LOG_CAP
          bytes keep their first and last LOG_CAP/2 bytes around a marker line that
          says how many bytes were left out; bytes that are not UTF-8 become U+FFFD.
          `truncated` is true for every log over LOG_CAP, and for a shorter one cut to
          keep the whole bundle under BUNDLE_CAP (the op's `error` then says so).
  op      `exit_code` null means the container never ran to an exit (image missing,
          an unresolvable literal, the job ended first); `error` then says why. Both
          may be set (killed at the timeout: exit_code 137, error says so).
  results what `results` regexes extracted, over the whole log before truncation
          (crowdcompute.client.jobspec.extract_results): Nosana's list of strings.
  outputs the files declared in meta.crowdcompute.ops.<id>.outputs, in that order:
          `content` is base64 of the whole file; a file over OUTPUT_FILE_CAP, or past
          the bundle's OUTPUT_TOTAL_CAP, keeps size and sha256 with content null and
          `error` saying so; a missing file has size, sha256 and content null.
<<<<<<< HEAD
  service ops (an op that exposes ports) have two more fields, absent on every other op
  (so a bundle of batch ops is the same bytes as before they existed):
          "restarts": int, how many times the node started a fresh container for it;
          "health": [{"port": int, "history": [{"at": <time>, "state": str, "detail": str}]}]
          each exposed port's health transitions (starting, healthy, unhealthy, stopped),
          the last HEALTH_HISTORY_CAP kept, each detail at most HEALTH_DETAIL_CAP characters.
          The endpoint's id is not recorded: a private endpoint's id is its secret.
=======
  resources (optional; absent when the job had none, so older bundles read the same) the
          models and data the node mounted (worker/resources): [{"type": "S3" | "HF" |
          "Ollama", "source", "digest", "size", "cached": bool, "download_ms": int | null}],
          `digest` what the content is keyed by (HF commit, Ollama manifest digest, S3
          listing digest), `download_ms` null when it was already held ("cached").
>>>>>>> 4e8ba69 (worker/resources: a verified, single-flight, LRU resource cache (S3, HF via huggingface_hub, Ollama over the OCI distribution API); executor mounts resources read-only; bundle.resources)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .errors import CrowdError
from .jobspec.canonical import canonical_json
from .jobspec.problems import Problem, Problems, join

FORMAT = "crowdcompute/result-bundle"
VERSION = 1
LOG_CAP = 1 << 20  # bytes kept per stream
OUTPUT_FILE_CAP = 4 << 20
OUTPUT_TOTAL_CAP = 16 << 20
# The whole bundle's bytes: a worker cuts logs, results and outputs to stay under it, so
# that every client can fetch it (storage's DEFAULT_MAX_FETCH is 64 MiB).
BUNDLE_CAP = 48 << 20
JOB_STATUSES = ("succeeded", "failed", "timed-out", "stopped")
HEALTH_HISTORY_CAP = 64  # transitions kept per exposed port
HEALTH_DETAIL_CAP = 240  # characters of one transition's detail
HEALTH_PORTS_CAP = 64  # exposed ports recorded per op
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BundleError(CrowdError, ValueError):
    """Bytes that are not a valid, canonical bundle; one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def timestamp(moment: dt.datetime | float) -> str:
    """A bundle time from an aware datetime or unix seconds."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.fromtimestamp(moment, dt.timezone.utc)
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: give a time zone")
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Log:
    text: str = ""
    size: int = 0  # bytes the stream held
    truncated: bool = False

    @classmethod
    def capture(cls, data: bytes, cap: int = LOG_CAP) -> Log:
        if len(data) <= cap:
            return cls(data.decode("utf-8", "replace"), len(data), False)
        half = cap // 2
        return cls.from_ends(data[:half], data[-half:], len(data), cap)

    @classmethod
    def from_ends(cls, head: bytes, tail: bytes, size: int, cap: int = LOG_CAP) -> Log:
        """The same Log as `capture` of a `size`-byte stream, from its first and last
        cap/2 bytes only: a worker streams a log and never holds all of it."""
        half = cap // 2
        if size <= cap:
            return cls.capture(head + tail, cap)
        if len(head) != half or len(tail) != half:
            raise ValueError(f"expected {half} bytes at each end of a {size}-byte log")
        omitted = size - 2 * half
        marker = f"\n[crowdcompute: {omitted} bytes left out here; the log held {size} bytes]\n"
        text = head.decode("utf-8", "replace") + marker + tail.decode("utf-8", "replace")
        return cls(text, size, True)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "bytes": self.size, "truncated": self.truncated}


@dataclass(frozen=True)
class OutputFile:
    path: str
    size: int | None = None
    sha256: str | None = None
    content: bytes | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "content": None if self.content is None else base64.b64encode(self.content).decode("ascii"),
            "error": self.error,
        }


@dataclass(frozen=True)
class FileDigest:
    """A file over OUTPUT_FILE_CAP, measured while streaming it (a worker does not hold it)."""

    size: int
    sha256: str


def capture_outputs(files: Iterable[tuple[str, bytes | FileDigest | None]]) -> tuple[OutputFile, ...]:
    """Output entries for (path, bytes, or a FileDigest of a file over the cap, or None
    when missing), caps applied in order."""
    out: list[OutputFile] = []
    budget = OUTPUT_TOTAL_CAP
    for path, data in files:
        if data is None:
            out.append(OutputFile(path, error="not found"))
            continue
        if isinstance(data, FileDigest):
            if data.size <= OUTPUT_FILE_CAP:
                raise ValueError(f"{path}: a FileDigest is for files over {OUTPUT_FILE_CAP} bytes; pass the bytes")
            out.append(OutputFile(path, data.size, data.sha256, None, f"larger than {OUTPUT_FILE_CAP} bytes: content left out"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > OUTPUT_FILE_CAP:
            out.append(OutputFile(path, len(data), digest, None, f"larger than {OUTPUT_FILE_CAP} bytes: content left out"))
        elif len(data) > budget:
            out.append(OutputFile(path, len(data), digest, None, f"the bundle's outputs reached {OUTPUT_TOTAL_CAP} bytes: content left out"))
        else:
            budget -= len(data)
            out.append(OutputFile(path, len(data), digest, data, None))
    return tuple(out)


@dataclass(frozen=True)
class HealthEvent:
    """One health transition of an exposed port: when, the new state, and why."""

    at: str  # <time>
    state: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class PortHealth:
    """An exposed port's health history over the op's life (restarts included)."""

    port: int
    history: tuple[HealthEvent, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port, "history": [e.to_json() for e in self.history]}


@dataclass(frozen=True)
class OpRecord:
    id: str
    exit_code: int | None = None
    error: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    stdout: Log = Log()
    stderr: Log = Log()
    results: Mapping[str, Sequence[str]] = field(default_factory=dict)
    outputs: tuple[OutputFile, ...] = ()
    restarts: int | None = None  # service ops only (else absent from the JSON)
    health: tuple[PortHealth, ...] = ()  # service ops only (else absent from the JSON)

    def __post_init__(self) -> None:
        # One shape whatever the caller passed (extract_results gives lists), so a bundle
        # equals itself read back.
        object.__setattr__(self, "results", {k: tuple(v) for k, v in self.results.items()})
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "health", tuple(self.health))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "exit_code": self.exit_code,
            "error": self.error,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "stdout": self.stdout.to_json(),
            "stderr": self.stderr.to_json(),
            "results": {k: list(v) for k, v in self.results.items()},
            "outputs": [o.to_json() for o in self.outputs],
            **({"restarts": self.restarts} if self.restarts is not None else {}),
            **({"health": [h.to_json() for h in self.health]} if self.health else {}),
        }


@dataclass(frozen=True)
class ResourceRecord:
    """One resource the node mounted for the job: where from, what, and whether it was fetched."""

    type: str
    source: str
    digest: str
    size: int
    cached: bool
    download_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "source": self.source, "digest": self.digest, "size": self.size,
                "cached": self.cached, "download_ms": self.download_ms}


@dataclass(frozen=True)
class Bundle:
    job: str
    node: str
    definition: str
    status: str
    started_at: str
    ended_at: str
    ops: tuple[OpRecord, ...] = ()
    resources: tuple[ResourceRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "job": self.job,
            "node": self.node,
            "definition": self.definition,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "ops": [op.to_json() for op in self.ops],
            **({"resources": [r.to_json() for r in self.resources]} if self.resources else {}),
        }

    def to_bytes(self) -> bytes:
        """The canonical bytes; refuses a bundle that from_bytes would refuse."""
        data = canonical_json(self.to_json())
        Bundle.from_bytes(data)
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleError([Problem("", f"not UTF-8 JSON: {exc}")]) from None
        reader = _Reader()
        bundle = reader.bundle(obj)
        if not reader.problems.errors and canonical_json(obj) != data:
            reader.problems.add("", "not in canonical form (sorted keys, no spaces, UTF-8)")
        if reader.problems.errors or bundle is None:
            raise BundleError(reader.problems.errors)
        return bundle

    def render(self) -> str:
        """Human text for `crowd job logs`: status, then per op its exit, logs, results, files."""
        lines = [
            f"job {self.job}: {self.status}",
            f"node {self.node}, definition {self.definition}",
            f"ran {self.started_at} .. {self.ended_at} ({_duration(self.started_at, self.ended_at)})",
        ]
        for r in self.resources:
            how = "cached" if r.cached else f"downloaded in {r.download_ms} ms"
            lines.append(f"resource {r.type} {r.source}: {r.size} bytes, {r.digest}, {how}")
        for op in self.ops:
            if op.exit_code is not None:
                outcome = f"exit {op.exit_code}"
            else:
                outcome = "did not run to an exit"
            if op.error:
                outcome += f": {op.error}"
            lines.append("")
            lines.append(f"== op {op.id}: {outcome} ({_duration(op.started_at, op.ended_at)})")
            for name, log in (("stdout", op.stdout), ("stderr", op.stderr)):
                if not log.size:
                    continue
                cut = f", truncated to {LOG_CAP}" if log.truncated else ""
                lines.append(f"-- {name} ({log.size} bytes{cut})")
                lines.append(log.text.rstrip("\n"))
            for key, values in op.results.items():
                lines.append(f"result {key} = {json.dumps(list(values), ensure_ascii=False)}")
            for out in op.outputs:
                if out.size is None:
                    lines.append(f"file {out.path}: {out.error}")
                else:
                    note = f" ({out.error})" if out.error else ""
                    lines.append(f"file {out.path}: {out.size} bytes, sha256 {out.sha256}{note}")
            if op.restarts is not None:
                lines.append(f"restarts {op.restarts}")
            for port in op.health:
                for event in port.history:
                    lines.append(f"port {port.port} {event.at} {event.state}{': ' + event.detail if event.detail else ''}")
        return "\n".join(lines) + "\n"


def _duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return "no times"
    seconds = (parse_timestamp(end) - parse_timestamp(start)).total_seconds()
    return f"{seconds:.3f} s"


class _Reader:
    """Checks a decoded bundle, collecting every problem."""

    def __init__(self) -> None:
        self.problems = Problems()

    def keys(self, path: str, obj: Any, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        if not isinstance(obj, dict):
            self.problems.add(path, "expected an object")
            return False
        for key in obj:
            if key not in keys and key not in optional:
                self.problems.add(join(path, key), "unknown field")
        for key in keys:
            if key not in obj:
                self.problems.add(join(path, key), "required")
        return all(key in obj for key in keys)

    def check(self, path: str, value: Any, ok: bool, what: str) -> Any:
        if not ok:
            self.problems.add(path, f"expected {what}, got {value!r:.60}")
        return value if ok else None

    def text(self, path: str, value: Any, *, null: bool = False) -> Any:
        ok = isinstance(value, str) or (null and value is None)
        return self.check(path, value, ok, "a string" + (" or null" if null else ""))

    def integer(self, path: str, value: Any, *, null: bool = False, minimum: int | None = None) -> Any:
        ok = (isinstance(value, int) and not isinstance(value, bool) and (minimum is None or value >= minimum)) or (
            null and value is None
        )
        return self.check(path, value, ok, "an integer" + (f" >= {minimum}" if minimum is not None else "") + (" or null" if null else ""))

    def time(self, path: str, value: Any, *, null: bool = False) -> Any:
        ok = (isinstance(value, str) and bool(_TIME.match(value))) or (null and value is None)
        if ok and value is not None:
            try:
                parse_timestamp(value)
            except ValueError:
                ok = False
        return self.check(path, value, ok, 'an RFC 3339 UTC time like "2025-06-01T12:00:00.250Z"' + (" or null" if null else ""))

    def bundle(self, obj: Any) -> Bundle | None:
        keys = ("format", "version", "job", "node", "definition", "status", "started_at", "ended_at", "ops")
        if not self.keys("", {k: v for k, v in obj.items() if k != "resources"} if isinstance(obj, dict) else obj, keys):
            return None
        resources = self.resources(obj["resources"]) if "resources" in obj else ()
        self.check("format", obj["format"], obj["format"] == FORMAT, repr(FORMAT))
        self.check("version", obj["version"], obj["version"] == VERSION, str(VERSION))
        for key in ("job", "node", "definition"):
            self.check(key, obj[key], isinstance(obj[key], str) and bool(obj[key]), "a non-empty string")
        self.check("status", obj["status"], obj["status"] in JOB_STATUSES, " or ".join(JOB_STATUSES))
        self.time("started_at", obj["started_at"])
        self.time("ended_at", obj["ended_at"])
        ops: list[OpRecord] = []
        if self.check("ops", obj["ops"], isinstance(obj["ops"], list), "an array"):
            seen: set[str] = set()
            for i, raw in enumerate(obj["ops"]):
                op = self.op(join("ops", i), raw)
                if op is not None:
                    if op.id in seen:
                        self.problems.add(join(join("ops", i), "id"), f"duplicate op id {op.id!r}")
                    seen.add(op.id)
                    ops.append(op)
        if self.problems.errors:
            return None
        return Bundle(obj["job"], obj["node"], obj["definition"], obj["status"], obj["started_at"], obj["ended_at"], tuple(ops),
                      resources)

    def resources(self, obj: Any) -> tuple[ResourceRecord, ...]:
        out: list[ResourceRecord] = []
        if not self.check("resources", obj, isinstance(obj, list) and bool(obj), "a non-empty array"):
            return ()
        for i, raw in enumerate(obj):
            path = join("resources", i)
            if not self.keys(path, raw, ("type", "source", "digest", "size", "cached", "download_ms")):
                continue
            before = len(self.problems.errors)
            for key in ("type", "source", "digest"):
                self.text(join(path, key), raw[key])
            self.integer(join(path, "size"), raw["size"], minimum=0)
            self.check(join(path, "cached"), raw["cached"], isinstance(raw["cached"], bool), "a boolean")
            self.integer(join(path, "download_ms"), raw["download_ms"], null=True, minimum=0)
            if len(self.problems.errors) == before:
                out.append(ResourceRecord(raw["type"], raw["source"], raw["digest"], raw["size"], raw["cached"], raw["download_ms"]))
        return tuple(out)

    def op(self, path: str, obj: Any) -> OpRecord | None:
        keys = ("id", "exit_code", "error", "started_at", "ended_at", "stdout", "stderr", "results", "outputs")
        if not self.keys(path, obj, keys, optional=("restarts", "health")):
            return None
        before = len(self.problems.errors)
        self.text(join(path, "id"), obj["id"])
        self.integer(join(path, "exit_code"), obj["exit_code"], null=True)
        self.text(join(path, "error"), obj["error"], null=True)
        if obj["exit_code"] is None and not obj["error"]:
            self.problems.add(join(path, "error"), "required when exit_code is null (say why the op has no exit)")
        self.time(join(path, "started_at"), obj["started_at"], null=True)
        self.time(join(path, "ended_at"), obj["ended_at"], null=True)
        logs = [self.log(join(path, name), obj[name]) for name in ("stdout", "stderr")]
        results: dict[str, tuple[str, ...]] = {}
        if self.check(join(path, "results"), obj["results"], isinstance(obj["results"], dict), "an object"):
            for key, values in obj["results"].items():
                ok = isinstance(values, list) and all(isinstance(v, str) for v in values)
                if self.check(join(join(path, "results"), key), values, ok, "an array of strings"):
                    results[key] = tuple(values)
        outputs: list[OutputFile] = []
        if self.check(join(path, "outputs"), obj["outputs"], isinstance(obj["outputs"], list), "an array"):
            for i, raw in enumerate(obj["outputs"]):
                out = self.output(join(join(path, "outputs"), i), raw)
                if out is not None:
                    outputs.append(out)
        restarts = None
        if "restarts" in obj:
            restarts = self.integer(join(path, "restarts"), obj["restarts"], minimum=0)
        health = self.health(join(path, "health"), obj["health"]) if "health" in obj else ()
        if len(self.problems.errors) > before:
            return None
        return OpRecord(
            obj["id"], obj["exit_code"], obj["error"], obj["started_at"], obj["ended_at"],
            logs[0] or Log(), logs[1] or Log(), results, tuple(outputs), restarts, health,
        )

    def health(self, path: str, obj: Any) -> tuple[PortHealth, ...]:
        ports: list[PortHealth] = []
        ok = isinstance(obj, list) and 0 < len(obj) <= HEALTH_PORTS_CAP
        if not self.check(path, obj, ok, f"an array of 1 to {HEALTH_PORTS_CAP} ports"):
            return ()
        for i, raw in enumerate(obj):
            at = join(path, i)
            if not self.keys(at, raw, ("port", "history")):
                continue
            port = self.integer(join(at, "port"), raw["port"], minimum=1)
            history = raw["history"]
            ok = isinstance(history, list) and len(history) <= HEALTH_HISTORY_CAP
            if not self.check(join(at, "history"), history, ok, f"an array of at most {HEALTH_HISTORY_CAP} events"):
                continue
            events: list[HealthEvent] = []
            for k, event in enumerate(history):
                where = join(join(at, "history"), k)
                if not self.keys(where, event, ("at", "state", "detail")):
                    continue
                self.time(join(where, "at"), event["at"])
                self.text(join(where, "state"), event["state"])
                detail = event["detail"]
                self.check(join(where, "detail"), detail, isinstance(detail, str) and len(detail) <= HEALTH_DETAIL_CAP,
                           f"a string of at most {HEALTH_DETAIL_CAP} characters")
                events.append(HealthEvent(event["at"], event["state"], detail))
            if port is not None:
                ports.append(PortHealth(port, tuple(events)))
        return tuple(ports)

    def log(self, path: str, obj: Any) -> Log | None:
        if not self.keys(path, obj, ("text", "bytes", "truncated")):
            return None
        text = self.text(join(path, "text"), obj["text"])
        size = self.integer(join(path, "bytes"), obj["bytes"], minimum=0)
        truncated = self.check(join(path, "truncated"), obj["truncated"], isinstance(obj["truncated"], bool), "a boolean")
        if size is not None and isinstance(truncated, bool) and size > LOG_CAP and not truncated:
            self.problems.add(join(path, "truncated"), f"expected true for a log of {size} bytes (cap {LOG_CAP})")
        if text is None or size is None or truncated is None:
            return None
        return Log(text, size, truncated)

    def output(self, path: str, obj: Any) -> OutputFile | None:
        if not self.keys(path, obj, ("path", "size", "sha256", "content", "error")):
            return None
        before = len(self.problems.errors)
        self.text(join(path, "path"), obj["path"])
        size = self.integer(join(path, "size"), obj["size"], null=True, minimum=0)
        digest = obj["sha256"]
        self.check(join(path, "sha256"), digest, digest is None or (isinstance(digest, str) and bool(_SHA256.match(digest))), "64 lowercase hex digits or null")
        self.text(join(path, "error"), obj["error"], null=True)
        content = None
        if obj["content"] is not None:
            try:
                content = base64.b64decode(self.text(join(path, "content"), obj["content"]) or "", validate=True)
            except (binascii.Error, ValueError):
                self.problems.add(join(path, "content"), "expected base64 or null")
            else:
                if len(content) != size or hashlib.sha256(content).hexdigest() != digest:
                    self.problems.add(join(path, "content"), "does not match size and sha256")
        elif not obj["error"]:
            self.problems.add(join(path, "error"), "required when content is null (say why)")
        if (size is None) != (digest is None):
            self.problems.add(path, "size and sha256 are both set or both null")
        if len(self.problems.errors) > before:
            return None
        return OutputFile(obj["path"], obj["size"], obj["sha256"], content, obj["error"])
