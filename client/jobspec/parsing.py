"""`parse(obj) -> JobDefinition`: Nosana's job-definition format, checked in one pass.

Every problem is collected (path + what was expected) before `ValidationError` is
raised; nothing is half-accepted. Nosana validates with typia's `validateEquals`, which
rejects fields its schema does not name (only `meta` is open), so we reject them too:
a field dropped silently would mislead. Fields of Nosana's schema that a crowdcompute
worker cannot honour are refused with the reason (README.md, "Field table").
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from . import literals
from .bounds import shape_problem
from .checks import ID_RE, NO_LITERALS_HERE, Checks, type_name
from .kinds import KINDS, OpKind, has, quoted, with_flag
from .model import (
    PAIRS,
    SPREAD,
    Execution,
    JobDefinition,
    Limits,
    Operation,
    ResultRule,
)
from .planning import ended_before, find_cycle, group_order
from .problems import ValidationError, join
from .results import LOG_TYPES, RegexError, compile_regex, translate

VERSION = "0.1"
MAX_OPS = 100
MAX_OUTPUTS = 64
MAX_RESULT_RULES = 32  # per op: each rule is matched against every line of the op's logs
MAX_REGEX_CHARS = 1000
MEMORY_RE = re.compile(r"^([0-9]+)\s*(B|KiB|MiB|GiB|TiB)$")
MEMORY_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
EXTENSION = "crowdcompute"

TOP_KEYS = ("version", "type", "logistics", "deployment_id", "meta", "global", "ops")
GLOBAL_KEYS = ("image", "gpu", "entrypoint", "env", "work_dir", "variables")
OP_KEYS = ("id", "type", "args", "results", "execution")
EXECUTION_KEYS = ("group", "depends_on", "stop_if_dependent_stops")

NO_LITERALS_GLOBAL = "literals are filled in only in an op's args (as Nosana does), not in global"
NO_LOGISTICS = (
    "definitions and results travel through content-addressed storage, "
    "not through poster endpoints"
)


def parse(obj: Any) -> JobDefinition:
    """The job definition in `obj` (decoded JSON or YAML), or ValidationError with all problems.
    A value too deep or too large to walk (bounds.py) is refused before it is walked."""
    parser = _Parser()
    shape = shape_problem(obj)
    if shape:
        parser.problems.add("", shape)
        raise ValidationError(parser.problems.errors)
    definition = parser.parse(obj)
    if parser.problems.errors or definition is None:
        raise ValidationError(parser.problems.errors)
    return definition


class _Parser(Checks):
    """The whole definition; the small checks and the args parsers of each op kind
    (kinds.py) share its lists of problems, literal sites and VRAM asks."""

    def __init__(self) -> None:
        super().__init__()
        self.variables: dict[str, str] = {}
        self.all_ids: dict[str, int] = {}  # every op id, with the index that first used it

    # ---- top level ------------------------------------------------------------------
    def parse(self, obj: Any) -> JobDefinition | None:
        if not isinstance(obj, dict):
            self.problems.add("", f"expected a job definition (an object), got {type_name(obj)}")
            return None
        self.object("", obj, TOP_KEYS)
        version = obj.get("version")
        if "version" not in obj:
            self.problems.add("version", f'required (expected "{VERSION}")')
        elif not isinstance(version, str):
            self.problems.add("version", f'expected "{VERSION}", got {version!r} (quote it in YAML)')
        elif version != VERSION:
            # Nosana's validator takes any string here, and its older files say "0.0.1" for
            # the same format: read as "0.1", said as a note.
            if not re.fullmatch(r"[0-9]+(\.[0-9]+){0,3}", version):
                self.problems.add("version", f'expected "{VERSION}", got {version!r}')
            else:
                self.problems.note("version", f'read as "{VERSION}", the one format there is (Nosana accepts any version string)')
        kind = obj.get("type")
        if "type" not in obj:
            self.problems.add("type", 'required (expected "container")')
        elif kind != "container":
            self.problems.add("type", f'expected "container", got {kind!r}')
        if "logistics" in obj:
            self.problems.refuse("logistics", NO_LOGISTICS)
        if "deployment_id" in obj and self.string("deployment_id", obj["deployment_id"]):
            self.problems.note(
                "deployment_id", "ignored: Nosana's deployments (one endpoint name shared by the jobs of a "
                "deployment) do not exist here; each endpoint is named after its job, op and port"
            )
        meta = obj.get("meta", {})
        if not self.object("meta", meta, None):
            meta = {}
        self.meta_requirements(meta)
        glob = self.global_section(obj.get("global", {}))
        ops = self.ops(obj.get("ops"), glob) if "ops" in obj else None
        if "ops" not in obj:
            self.problems.add("ops", "required (a list of operations)")
        if not ops:
            return None
        ops = self.extension(meta.get(EXTENSION), ops)
        self.cross_checks(ops)
        self.service_checks(ops)
        required = max(self.vram) if self.vram else None
        return JobDefinition(
            version=VERSION,
            type="container",
            ops=tuple(ops),
            meta=meta,
            variables=dict(self.variables),
            required_vram=required,
            notes=tuple(self.problems.notes),
            source=obj,
        )

    def meta_requirements(self, meta: Mapping[str, Any]) -> None:
        # The dashboard reads meta.system_requirements, the schema page names
        # meta.system_resources; both hold {"required_vram": GB}.
        for key in ("system_requirements", "system_resources"):
            if key not in meta:
                continue
            path = join("meta", key)
            section = meta[key]
            if not self.object(path, section, None):
                continue
            for name, value in section.items():
                if name == "required_vram":
                    self.required_vram(join(path, name), value)
                else:
                    self.problems.note(join(path, str(name)), "ignored: workers check only required_vram")

    def global_section(self, glob: Any) -> dict[str, Any]:
        if not self.object("global", glob, GLOBAL_KEYS):
            return {}
        out: dict[str, Any] = {}
        if "image" in glob and (image := self.string("global.image", glob["image"])):
            self.no_literals("global.image", image, NO_LITERALS_GLOBAL)
            out["image"] = image
        if "gpu" in glob and self.expect("global.gpu", glob["gpu"], bool, "a boolean"):
            out["gpu"] = glob["gpu"]
        if "entrypoint" in glob:
            entry = self.argv("global.entrypoint", glob["entrypoint"], shell=False)
            for i, item in enumerate(entry or ()):
                self.no_literals(join("global.entrypoint", i), item, NO_LITERALS_GLOBAL)
            out["entrypoint"] = entry
        if "env" in glob and (env := self.string_map("global.env", glob["env"])) is not None:
            for key, value in env.items():
                self.no_literals(join("global.env", key), value, NO_LITERALS_GLOBAL)
                if key in (SPREAD, PAIRS):
                    self.problems.add(join("global.env", key), NO_LITERALS_GLOBAL)
            out["env"] = env
        if "work_dir" in glob and (wd := self.absolute("global.work_dir", glob["work_dir"])):
            self.no_literals("global.work_dir", wd, NO_LITERALS_GLOBAL)
            out["work_dir"] = wd
        if "variables" in glob:
            variables = self.string_map("global.variables", glob["variables"]) or {}
            for key, value in variables.items():
                self.no_literals(join("global.variables", key), value, NO_LITERALS_GLOBAL)
            self.variables = variables
        return out

    # ---- ops --------------------------------------------------------------------------
    def ops(self, raw: Any, glob: Mapping[str, Any]) -> list[Operation]:
        if not self.expect("ops", raw, list, "an array of operations"):
            return []
        if not raw:
            self.problems.add("ops", "expected at least one operation")
        if len(raw) > MAX_OPS:
            self.problems.add("ops", f"expected at most {MAX_OPS} operations, got {len(raw)}")
        ops: list[Operation] = []
        first_index: dict[str, int] = {}
        for i, item in enumerate(raw):
            op_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(op_id, str):
                if op_id in first_index:
                    self.problems.add(
                        f"ops[{i}].id", f"duplicate id {op_id!r} (also ops[{first_index[op_id]}])"
                    )
                    op_id = None
                else:
                    first_index[op_id] = i
            op = self.op(i, item, glob)
            if op is not None and op_id is not None:
                ops.append(op)
        self.all_ids = first_index
        return ops

    def op(self, i: int, raw: Any, glob: Mapping[str, Any]) -> Operation | None:
        path = f"ops[{i}]"
        if not self.object(path, raw, OP_KEYS):
            return None
        before = len(self.problems.errors)
        op_id = None
        if "id" not in raw:
            self.problems.add(join(path, "id"), "required")
        elif (op_id := self.string(join(path, "id"), raw["id"])) and not ID_RE.match(op_id):
            self.problems.add(
                join(path, "id"),
                f"expected letters, digits, '.', '-' or '_' (at most 63, starting with a letter or digit), got {op_id!r}",
            )
        kind = KINDS.get(raw["type"]) if isinstance(raw.get("type"), str) else None
        if "type" not in raw:
            self.problems.add(join(path, "type"), f"required (expected {quoted(list(KINDS))})")
        elif kind is None:
            self.problems.add(join(path, "type"), f"expected {quoted(list(KINDS))}, got {raw['type']!r}")
        args = None
        if "args" not in raw:
            self.problems.add(join(path, "args"), "required")
        elif kind is not None:
            args = kind.parse_args(self, join(path, "args"), raw["args"], glob, op_id or "")
        results = self.results(join(path, "results"), raw["results"], kind) if "results" in raw else ()
        execution = self.execution(join(path, "execution"), raw.get("execution", {}), op_id or "")
        if len(self.problems.errors) > before or op_id is None or kind is None or args is None:
            return None
        return Operation(op_id, kind.name, i, args, results, execution)

    def results(self, path: str, raw: Any, kind: OpKind | None) -> tuple[ResultRule, ...]:
        if not self.object(path, raw, None):
            return ()
        if kind is not None and not kind.logs:
            self.problems.add(path, f"a {kind.name} op has no logs to extract results from")
            return ()
        rules = []
        if len(raw) > MAX_RESULT_RULES:
            self.problems.add(path, f"{len(raw)} results: at most {MAX_RESULT_RULES} per op (each is matched against every line)")
            return ()
        for key, rule in raw.items():
            if not isinstance(key, str):
                self.problems.add(path, f"expected string keys, got {key!r}")
                continue
            where = join(path, key)
            log_types: tuple[str, ...] = ("stdout", "stderr")
            regex_path = where
            if isinstance(rule, str):
                regex = rule
            elif isinstance(rule, dict):
                self.object(where, rule, ("regex", "logType"))
                regex_path = join(where, "regex")
                if "regex" not in rule:
                    self.problems.add(regex_path, "required")
                    continue
                regex = self.string(regex_path, rule["regex"], empty=True)
                if regex is None:
                    continue
                if "logType" in rule:
                    log_types = self.log_types(join(where, "logType"), rule["logType"]) or log_types
            else:
                self.problems.add(where, f'expected a regex string or {{"regex", "logType"}}, got {type_name(rule)}')
                continue
            if len(regex) > MAX_REGEX_CHARS:
                self.problems.add(regex_path, f"longer than {MAX_REGEX_CHARS} characters")
                continue
            python = translate(regex)
            try:
                compile_regex(python)
            except RegexError as exc:
                self.problems.add(regex_path, f"invalid regular expression: {exc}")
                continue
            rules.append(ResultRule(key, python, log_types, regex))
        return tuple(rules)

    def log_types(self, path: str, raw: Any) -> tuple[str, ...] | None:
        items = self.strings(path, raw)
        if items is None:
            return None
        if not 1 <= len(items) <= 4 or len(set(items)) != len(items):
            self.problems.add(path, "expected 1 to 4 distinct values")
            return None
        bad = [s for s in items if s not in LOG_TYPES]
        if bad:
            self.problems.add(path, f"expected values among {', '.join(LOG_TYPES)}, got {bad[0]!r}")
            return None
        unkept = [s for s in items if s in ("stdin", "nodeerr")]
        if unkept:
            self.problems.note(path, f"{' and '.join(unkept)}: no such lines are kept, so they match nothing")
        return tuple(s for s in items if s in ("stdout", "stderr"))

    def execution(self, path: str, raw: Any, op_id: str) -> Execution:
        if not self.object(path, raw, EXECUTION_KEYS):
            return Execution(op_id)
        group = op_id
        if "group" in raw and (g := self.string(join(path, "group"), raw["group"])):
            self.no_literals(join(path, "group"), g, NO_LITERALS_HERE)
            group = g
        deps: list[str] = []
        if "depends_on" in raw:
            deps = self.strings(join(path, "depends_on"), raw["depends_on"]) or []
            if len(set(deps)) != len(deps):
                self.problems.add(join(path, "depends_on"), "expected distinct op ids")
        stop = raw.get("stop_if_dependent_stops")
        if "stop_if_dependent_stops" in raw and self.expect(
            join(path, "stop_if_dependent_stops"), stop, bool, "a boolean"
        ) and stop:
            self.problems.refuse(
                join(path, "stop_if_dependent_stops"),
                "here an op starts only after its dependencies have ended, so it would be stopped at once",
            )
        return Execution(group, tuple(deps))

    def service_checks(self, ops: list[Operation]) -> None:
        """What only a job that exposes a port may have (Checks.service_only): a batch job
        must end, a service runs until its deadline anyway."""
        if any(op.is_service for op in ops):
            return
        ids = {op.id for op in ops}
        for path, op_id, reason in self.service_only:
            if op_id in ids:
                self.problems.refuse(path, reason)

    # ---- our extension: meta.crowdcompute ----------------------------------------------
    def extension(self, raw: Any, ops: list[Operation]) -> list[Operation]:
        if raw is None:
            return ops
        path = join("meta", EXTENSION)
        if not self.object(path, raw, ("ops", "egress")):
            return ops
        if "egress" in raw:  # read by JobDefinition.needs_egress
            self.expect(join(path, "egress"), raw["egress"], bool, "a boolean")
        if "ops" not in raw:
            return ops
        path = join(path, "ops")
        if not self.object(path, raw["ops"], None):
            return ops
        by_id = {op.id: op for op in ops}
        for op_id, spec in raw["ops"].items():
            where = join(path, op_id)
            if op_id not in self.all_ids:
                self.problems.add(where, f"no op has id {op_id!r}")
                continue
            if not self.object(where, spec, ("outputs", "limits")):
                continue
            op = by_id.get(op_id)
            if op is not None and not has(op, "extension"):
                self.problems.add(where, f"only {' and '.join(with_flag('extension'))} ops have outputs and limits")
                continue
            outputs = self.outputs(join(where, "outputs"), spec["outputs"]) if "outputs" in spec else ()
            limits = self.limits(join(where, "limits"), spec["limits"]) if "limits" in spec else Limits()
            if op is not None:
                by_id[op_id] = _with_args(op, outputs, limits)
        return [by_id[op.id] for op in ops]

    def outputs(self, path: str, raw: Any) -> tuple[str, ...]:
        if not self.expect(path, raw, list, "an array of absolute file paths"):
            return ()
        if len(raw) > MAX_OUTPUTS:
            self.problems.add(path, f"expected at most {MAX_OUTPUTS} files, got {len(raw)}")
        out: list[str] = []
        for i, item in enumerate(raw):
            where = join(path, i)
            s = self.absolute(where, item)
            if s is None:
                continue
            self.no_literals(where, s, NO_LITERALS_HERE)
            if ".." in s.split("/") or s.endswith("/"):
                self.problems.add(where, f"expected a file path without '..' or a trailing '/', got {s!r}")
            elif s in out:
                self.problems.add(where, f"duplicate path {s!r}")
            else:
                out.append(s)
        return tuple(out)

    def limits(self, path: str, raw: Any) -> Limits:
        if not self.object(path, raw, ("cpus", "memory", "pids", "timeout")):
            return Limits()
        values: dict[str, Any] = {}
        if "cpus" in raw and self.expect(join(path, "cpus"), raw["cpus"], (int, float), "a number of CPUs"):
            if raw["cpus"] > 0 and math.isfinite(raw["cpus"]):
                values["cpus"] = float(raw["cpus"])
            else:
                self.problems.add(join(path, "cpus"), f"expected a number > 0, got {raw['cpus']!r}")
        if "memory" in raw:
            values["memory"] = self.memory(join(path, "memory"), raw["memory"])
        for key, unit in (("pids", "processes"), ("timeout", "seconds")):
            if key in raw and self.expect(join(path, key), raw[key], int, f"a whole number of {unit}"):
                if raw[key] > 0:
                    values[key] = raw[key]
                else:
                    self.problems.add(join(path, key), f"expected a number > 0, got {raw[key]}")
        return Limits(**values)

    def memory(self, path: str, raw: Any) -> int | None:
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            return raw
        m = MEMORY_RE.match(raw) if isinstance(raw, str) else None
        if m and int(m.group(1)) > 0:
            return int(m.group(1)) * MEMORY_UNITS[m.group(2)]
        self.problems.add(path, f'expected bytes > 0 or a size like "512MiB" (B, KiB, MiB, GiB, TiB), got {raw!r}')
        return None

    # ---- checks across ops ---------------------------------------------------------------
    def cross_checks(self, ops: list[Operation]) -> None:
        by_id = {op.id: op for op in ops}
        order = group_order(ops)
        for op in ops:
            path = f"ops[{op.index}].execution.depends_on"
            for k, dep in enumerate(op.execution.depends_on):
                where = join(path, k)
                if dep == op.id:
                    self.problems.add(where, f"{op.id!r} cannot depend on itself")
                elif dep not in self.all_ids:
                    self.problems.add(where, f"no op has id {dep!r}")
                elif dep in by_id and order[by_id[dep].execution.group] > order[op.execution.group]:
                    self.problems.add(
                        where,
                        f"{dep!r} is in a later group ({by_id[dep].execution.group!r}), which starts "
                        "only after this one has ended",
                    )
        reported: set[str] = set()
        for group in order:
            members = [op for op in ops if op.execution.group == group]
            cycle = find_cycle(members)
            if cycle and cycle[0] not in reported:
                reported.update(cycle)
                first = by_id[cycle[0]]
                self.problems.add(
                    f"ops[{first.index}].execution.depends_on", "dependency cycle: " + " -> ".join(cycle)
                )
        self.check_literals(ops, by_id)
        self.check_volumes(ops, by_id)

    def check_literals(self, ops: list[Operation], by_id: dict[str, Operation]) -> None:
        for path, op_id, value in self.literal_sites:
            if op_id not in by_id:
                continue  # that op has problems of its own
            for ref in literals.references(value):
                if isinstance(ref, str):
                    self.problems.add(path, ref)
                elif ref.kind == "variable" and ref.name not in self.variables:
                    known = ", ".join(self.variables) or "none"
                    self.problems.add(path, f"{ref.text}: no variable {ref.name!r} in global.variables (has: {known})")
                elif ref.kind in ("result", "host", "endpoint") and ref.op not in self.all_ids:
                    self.problems.add(path, f"{ref.text}: no op has id {ref.op!r}")
                elif ref.kind == "endpoint" and ref.op in by_id:
                    self.check_endpoint(path, ref, by_id[ref.op])
                elif ref.kind == "result" and ref.op in by_id:
                    producer = by_id[ref.op]
                    if ref.op == op_id:
                        self.problems.add(path, f"{ref.text}: an op cannot use its own results")
                    elif ref.name not in {r.key for r in producer.results}:
                        keys = ", ".join(r.key for r in producer.results) or "none"
                        self.problems.add(path, f"{ref.text}: op {ref.op!r} declares no result {ref.name!r} (has: {keys})")
                    elif producer.is_service and not ended_before(ops, ref.op, op_id):
                        self.problems.add(
                            path,
                            f"{ref.text}: op {ref.op!r} exposes a port, so it runs until the job ends and "
                            f"its results are known only then; {op_id!r} would wait for it to be up, not "
                            "to end: put it in an earlier group",
                        )
                    elif not ended_before(ops, ref.op, op_id):
                        self.problems.add(
                            path,
                            f"{ref.text}: op {ref.op!r} must end before {op_id!r} starts: put it in an "
                            f"earlier group or list it in {op_id!r}'s execution.depends_on",
                        )

    def check_endpoint(self, path: str, ref: literals.Reference, target: Operation) -> None:
        """%%ops.ID.endpoint.PORT%%: op ID must expose PORT (when its ports are known before
        it runs). Its address is known before any op starts, so no order is needed."""
        if not target.is_run:
            self.problems.add(path, f"{ref.text}: op {target.id!r} is a {target.type} op: it exposes no port")
            return
        args = target.args
        ports = [p.port for p in args.expose]  # type: ignore[union-attr]
        if ref.port not in ports and not args.expose_literals:  # type: ignore[union-attr]
            shown = ", ".join(map(str, ports)) or "none"
            self.problems.add(path, f"{ref.text}: op {target.id!r} does not expose port {ref.port} (exposes: {shown})")

    def check_volumes(self, ops: list[Operation], by_id: dict[str, Operation]) -> None:
        creators: dict[str, Operation] = {}
        for op in ops:
            if has(op, "creates_volume"):
                if op.args.name in creators:
                    self.problems.add(
                        f"ops[{op.index}].args.name",
                        f"volume {op.args.name!r} is already created by op {creators[op.args.name].id!r}",
                    )
                else:
                    creators[op.args.name] = op
        for op in ops:
            if not has(op, "mounts"):
                continue
            for k, volume in enumerate(op.args.volumes):
                where = f"ops[{op.index}].args.volumes[{k}].name"
                creator = creators.get(volume.name)
                if creator is None:
                    self.problems.add(
                        where,
                        f"no {' or '.join(with_flag('creates_volume'))} op of this job creates {volume.name!r} "
                        "(a job mounts only its own volumes)",
                    )
                elif not ended_before(ops, creator.id, op.id):
                    self.problems.add(
                        where,
                        f"volume {volume.name!r} is created by op {creator.id!r}, which must end first: put it "
                        f"in an earlier group or list it in execution.depends_on",
                    )


def _with_args(op: Operation, outputs: tuple[str, ...], limits: Limits) -> Operation:
    from dataclasses import replace

    return replace(op, args=replace(op.args, outputs=outputs, limits=limits))
