"""`container/run` args: parsed and checked, with `global` merged in (Nosana's node merges
it the same way: `op.x` or `global.x`; `gpu` is `op.gpu or global.gpu`; env: global, then
the op's own over it). Fields of Nosana's schema that a worker cannot honour are refused
with the reason (README.md, "Field table")."""

from __future__ import annotations

import json
from typing import Any, Mapping

from . import expose as exposing
from . import literals
from .checks import ID_RE, NO_LITERALS_HERE, Checks
from .model import PAIRS, SPREAD, ExposedPort, RestartPolicy, RunArgs, VolumeMount
from .problems import join
from .resources import read_resources

MAX_RESTART_TRIES = 100
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
RUN_KEYS = (
    "image", "aliases", "cmd", "volumes", "expose", "private", "gpu", "work_dir", "output",
    "entrypoint", "env", "required_vram", "resources", "authentication", "restart_policy",
)
NO_AUTH = "registry credentials would be public once the definition is stored; use a public or local image"
NO_OUTPUT = (
    "Nosana's artifact upload (not implemented by Nosana's node either); declare files "
    "under meta.crowdcompute.ops.<id>.outputs"
)
ENDLESS = (
    "a container restarted without a cap never ends, and a job that exposes no port must end; "
    'use {"policy": "on-failure", "restart_tries": N} (no cap is for services)'
)


def parse_run_args(c: Checks, path: str, raw: Any, glob: Mapping[str, Any], op_id: str) -> RunArgs | None:
    if not c.object(path, raw, RUN_KEYS):
        return None
    p = lambda key: join(path, key)  # noqa: E731
    site = lambda where, s: c.literal_sites.append((where, op_id, s))  # noqa: E731

    image = c.string(p("image"), raw["image"]) if "image" in raw else glob.get("image")
    if "image" not in raw and image is None:
        c.problems.add(p("image"), "required (or set global.image)")
    if "image" in raw and image:
        site(p("image"), image)

    cmd = None
    if "cmd" in raw:
        cmd = c.argv(p("cmd"), raw["cmd"], shell=True)
        if isinstance(raw["cmd"], str):
            site(p("cmd"), raw["cmd"])
        else:
            for i, item in enumerate(raw["cmd"] if isinstance(raw["cmd"], list) else ()):
                if isinstance(item, str):
                    site(join(p("cmd"), i), item)
    entrypoint = glob.get("entrypoint")
    if "entrypoint" in raw:
        entrypoint = c.argv(p("entrypoint"), raw["entrypoint"], shell=False)
        items = raw["entrypoint"] if isinstance(raw["entrypoint"], list) else [raw["entrypoint"]]
        for i, item in enumerate(items):
            if isinstance(item, str):
                site(join(p("entrypoint"), i) if isinstance(raw["entrypoint"], list) else p("entrypoint"), item)

    env = dict(glob.get("env", {}))
    if "env" in raw and (own := c.string_map(p("env"), raw["env"])) is not None:
        for key, value in own.items():
            where = join(p("env"), key)
            if key in (SPREAD, PAIRS) and not literals.LITERAL.fullmatch(value):
                c.problems.add(where, f"expected exactly one literal, like %%ops.ID.results.KEY%%, got {value!r}")
            site(where, value)
        env.update(own)

    work_dir = glob.get("work_dir")
    if "work_dir" in raw:
        work_dir = c.string(p("work_dir"), raw["work_dir"])
        if work_dir:
            site(p("work_dir"), work_dir)
            if not work_dir.startswith("/") and not literals.LITERAL.match(work_dir):
                c.problems.add(p("work_dir"), f"expected an absolute path, got {work_dir!r}")

    gpu = bool(glob.get("gpu", False))
    if "gpu" in raw and c.expect(p("gpu"), raw["gpu"], bool, "a boolean"):
        gpu = gpu or raw["gpu"]  # Nosana: op.gpu || global.gpu
    vram = c.required_vram(p("required_vram"), raw["required_vram"]) if "required_vram" in raw else None

    volumes = _volumes(c, p("volumes"), raw["volumes"]) if "volumes" in raw else ()
    aliases = _aliases(c, p("aliases"), raw["aliases"], site) if "aliases" in raw else ()
    restart = _restart(c, p("restart_policy"), raw["restart_policy"]) if "restart_policy" in raw else None
    if restart is not None and restart.endless:
        c.service_only.append((p("restart_policy"), op_id, f"{_said(raw['restart_policy'])}: {ENDLESS}"))

    expose: tuple[ExposedPort, ...] = ()
    expose_literals: list[str] = []
    if "expose" in raw:
        expose, sites = exposing.read(c.problems, p("expose"), raw["expose"])
        for where, literal in sites:
            site(where, literal)
            expose_literals.append(literal)
    private = False
    if "private" in raw and c.expect(p("private"), raw["private"], bool, "a boolean"):
        private = raw["private"]
        if private and not expose and not expose_literals:
            c.problems.note(p("private"), "no effect: it makes exposed endpoints private, and this op exposes none")
    resources, resource_literals = read_resources(c, p("resources"), raw["resources"], site) if "resources" in raw else ((), ())
    if "authentication" in raw:
        c.problems.refuse(p("authentication"), NO_AUTH)
    if "output" in raw:
        c.problems.refuse(p("output"), NO_OUTPUT)

    if image is None:
        return None
    return RunArgs(
        image=image,
        cmd=cmd,
        entrypoint=entrypoint,
        env=tuple(env.items()),
        work_dir=work_dir,
        gpu=gpu,
        required_vram=vram,
        volumes=volumes,
        aliases=aliases,
        restart=restart or RestartPolicy("no"),
        expose=expose,
        private=private,
        expose_literals=tuple(expose_literals),
        resources=resources,
        resource_literals=resource_literals,
    )


def _volumes(c: Checks, path: str, raw: Any) -> tuple[VolumeMount, ...]:
    if not c.expect(path, raw, list, "an array of {name, dest}"):
        return ()
    out = []
    for i, item in enumerate(raw):
        where = join(path, i)
        if not c.object(where, item, ("name", "dest")):
            continue
        for key in ("name", "dest"):
            if key not in item:
                c.problems.add(join(where, key), "required")
        name = c.string(join(where, "name"), item["name"]) if "name" in item else None
        dest = c.absolute(join(where, "dest"), item["dest"]) if "dest" in item else None
        for key, value in (("name", name), ("dest", dest)):
            if value:
                c.no_literals(join(where, key), value, NO_LITERALS_HERE)
        if name and dest:
            out.append(VolumeMount(name, dest))
    return tuple(out)


def _aliases(c: Checks, path: str, raw: Any, site: Any) -> tuple[str, ...]:
    if isinstance(raw, str):  # Nosana: a comma-separated string, or a list
        names = raw.split(",")
        site(path, raw)
    else:
        names = c.strings(path, raw) or []
        for i, name in enumerate(names):
            site(join(path, i), name)
    for name in names:
        if not name or not (ID_RE.match(name) or literals.LITERAL.search(name)):
            c.problems.add(path, f"expected host names (letters, digits, '.', '-', '_'), got {name!r}")
    return tuple(names)


def _said(raw: Any) -> str:
    """A restart policy as written, for a message: "always", {"policy": "on-failure"}."""
    return json.dumps(raw, sort_keys=True)


def _restart(c: Checks, path: str, raw: Any) -> RestartPolicy | None:
    """Nosana's restart policies (its `RestartPolicy` type): a name, or
    {"policy": "on-failure", "restart_tries": N}. Which of them a job may use: parsing.py."""
    expected = 'expected "no", "on-failure", "always", "unless-stopped" or {"policy": "on-failure", "restart_tries": N}'
    if isinstance(raw, str):
        if raw in RESTART_POLICIES:
            return RestartPolicy(raw)
        c.problems.add(path, f"{expected}, got {raw!r}")
        return None
    if not c.object(path, raw, ("policy", "restart_tries")):
        return None
    policy = raw.get("policy")
    if "policy" not in raw:
        c.problems.add(join(path, "policy"), "required")
        return None
    if policy not in RESTART_POLICIES:
        c.problems.add(join(path, "policy"), f"expected one of {', '.join(RESTART_POLICIES)}, got {policy!r}")
        return None
    tries_path = join(path, "restart_tries")
    if policy != "on-failure":
        if "restart_tries" in raw:
            c.problems.add(tries_path, f'expected none with policy "{policy}" (only "on-failure" counts tries)')
            return None
        return RestartPolicy(policy)
    if "restart_tries" not in raw:
        return RestartPolicy("on-failure")  # no cap: a service's policy (parsing.py)
    tries = raw["restart_tries"]
    if c.expect(tries_path, tries, int, "a whole number"):
        if 1 <= tries <= MAX_RESTART_TRIES:
            return RestartPolicy("on-failure", tries)
        c.problems.add(tries_path, f"expected 1 to {MAX_RESTART_TRIES}, got {tries}")
    return None
