"""Nosana's own example definitions: what we accept as is, and what we refuse, and why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from crowdcompute.client.jobspec import ValidationError, parse, plan
from crowdcompute.client.jobspec.loader import loads

from . import nosana_shapes as shapes


def problems(obj) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(obj)
    return [str(p) for p in info.value.problems]


def test_hello_world_runs_as_exec_form():
    d = parse(shapes.HELLO_WORLD)
    (op,) = d.ops
    assert op.args.image == "ubuntu"
    assert op.args.cmd == ("echo", "hello", "world")
    assert [s.group for s in plan(d)] == ["hello-world"]  # no group: the op's own id


def test_string_cmds_run_by_a_shell_and_ungrouped_ops_run_one_after_another():
    d = parse(shapes.COUNT_MULTIPLE)
    assert [op.args.cmd[:2] for op in d.ops] == [("/bin/sh", "-c")] * 2
    assert [[op.id for op in s.ops] for s in plan(d)] == [["count-1"], ["count-2"]]


def test_volumes_and_global_defaults():
    d = parse(shapes.VOLUMES)
    create, run, run2 = d.ops
    assert create.args.name == "random-id-volume"
    assert [(v.name, v.dest) for v in run.args.volumes] == [("random-id-volume", "/nosana/outputs")]
    assert run.args.work_dir == "/home/podman"  # the op's own wins over global
    assert run2.args.work_dir == "/home/"
    assert run2.args.env_dict() == {"DEBUG": "1"}


def test_restart_policy_on_failure_with_tries():
    (op,) = parse(shapes.RESTART_POLICY).ops
    assert (op.args.restart.policy, op.args.restart.restart_tries) == ("on-failure", 3)


def test_a_broken_result_regex_is_refused_before_posting():
    assert problems(shapes.RESULT_EXTRACTING) == [
        "ops[0].results.throw-error.regex: invalid regular expression: trailing \\ (results are matched by RE2, "
        "in linear time: no backreferences, and lookaround only as a plain-text (?<=prefix) at the start or "
        "(?=suffix) at the end)"
    ]


def test_a_service_with_a_health_checked_port_and_a_dependent_web_ui():
    d = parse(shapes.VLLM_OPEN_WEBUI)
    server, ui = d.ops
    assert d.is_service and server.is_service and ui.is_service
    (port,) = server.args.expose
    assert (port.port, port.type) == (9000, "none")
    (check,) = port.health_checks
    assert (check.type, check.path, check.method, check.expected_status, check.continuous) == (
        "http", "/v1/models", "GET", 200, True)
    assert [p.port for p in ui.args.expose] == [8080]
    (stage,) = plan(d)
    assert [op.id for op in stage.ready(ended=())] == ["vllm-server"]  # the UI waits for the server
    assert [op.id for op in stage.ready(ended=(), up=("vllm-server",))] == ["vllm-server", "open-webui"]


def test_remote_resources_are_parsed():
    (op,) = parse(shapes.RESOURCES).ops
    assert [(r.kind, r.target) for r in op.args.resources] == [("S3", "/root/.ollama/models"), ("HF", "/data-models")]


def test_the_literals_pipeline_from_nosanas_docs():
    d = parse(shapes.STORY_PIPELINE)
    assert [[op.id for op in s.ops] for s in plan(d)] == [["story"], ["image", "video"], ["download"]]


# Nosana's real example files, read from a local snapshot of their repository when this
# machine has one (never copied into ours). Expected: the verdicts shown by the tests above.
NOSANA_CLI = Path("/work/.mirror/nosana-ci+nosana-cli/repo")
REAL = {
    "job-examples/hello-world.json": [],
    "job-examples/count-multiple.json": [],
    "job-examples/job-definition.json": [],
    "job-examples/restart-policy.json": [],
    "job-examples/gpu.json": [],
    "job-examples/result-extracting.json": ["ops[0].results.throw-error.regex"],
    "job-examples/nginx.json": [],
    "job-examples/private-docker.json": ["ops[0].args.authentication"],
    "job-examples/output.json": ["ops[0].args.output"],
    "job-examples/confidential.json": ["logistics", "ops"],
    "job-examples/yaml/nginx-multi-ops.yaml": [],
    "job-examples/test-node-server.json": [],
    "job-examples/ollama.json": [],
}


@pytest.mark.skipif(not NOSANA_CLI.is_dir(), reason="no snapshot of nosana-ci/nosana-cli on this machine")
@pytest.mark.parametrize("path", sorted(REAL))
def test_real_nosana_example_files(path):
    show = subprocess.run(["git", "-C", str(NOSANA_CLI), "show", f"HEAD:{path}"], capture_output=True)
    if show.returncode:
        pytest.skip(f"{path} is not in this snapshot")
    obj = loads(show.stdout, name=path, fmt="yaml" if path.endswith(".yaml") else "json")
    try:
        parse(obj)
        paths: list[str] = []
    except ValidationError as exc:
        paths = [p.path for p in exc.problems]
    assert paths == REAL[path], json.dumps(obj)[:300]
