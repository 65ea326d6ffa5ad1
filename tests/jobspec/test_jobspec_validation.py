"""Validation: every problem at once, each with the path of the bad field."""

from __future__ import annotations

import copy

import pytest

from crowdcompute.client.jobspec import ValidationError, parse
from crowdcompute.client.jobspec.kinds import wants_gpu


def run_op(op_id="a", **args):
    return {"type": "container/run", "id": op_id, "args": {"image": "alpine", **args}}


def job(*ops, **top):
    return {"version": "0.1", "type": "container", "ops": list(ops), **top}


def problems(obj) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(obj)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


MANY = {
    "version": 0.1,
    "type": "vm",
    "colour": "blue",
    "global": {"gpu": "yes", "env": {"N": 3}},
    "ops": [
        {"type": "container/run", "id": "fetch", "args": {"cmd": 42, "expose": 70000}},
        {"type": "container/run", "id": "fetch", "args": {"image": "alpine"}},
        {"type": "container/exec", "id": "bad id!", "args": {}},
        {"type": "container/run", "id": "use",
         "args": {"image": "alpine", "cmd": ["echo", "%%ops.nobody.results.x%%", "%%global.variables.MISSING%%"],
                  "restart_policy": "always", "gpu": 1},
         "results": {"n": "("},
         "execution": {"depends_on": ["use", "ghost"]}},
    ],
}


def test_a_file_with_many_problems_reports_them_all_in_document_order():
    assert problems(MANY) == [
        "colour: unknown field (Nosana's job definition has none such; our extensions go under meta.crowdcompute)",
        'version: expected "0.1", got 0.1 (quote it in YAML)',
        "type: expected \"container\", got 'vm'",
        "global.gpu: expected a boolean, got a string",
        "global.env.N: expected a string, got a number (quote it in YAML)",
        "ops[0].args.image: required (or set global.image)",
        "ops[0].args.cmd: expected an array of strings, got a number",
        "ops[0].args.expose: expected a port from 1 to 65535, got 70000",
        "ops[1].id: duplicate id 'fetch' (also ops[0])",
        "ops[2].id: expected letters, digits, '.', '-' or '_' (at most 63, starting with a letter or digit), got 'bad id!'",
        "ops[2].type: expected \"container/run\" or \"container/create-volume\", got 'container/exec'",
        "ops[3].args.gpu: expected a boolean, got a number",
        "ops[3].results.n: invalid regular expression: missing ): ( (results are matched by RE2, in linear time: "
        "no backreferences, and lookaround only as a plain-text (?<=prefix) at the start or (?=suffix) at the end)",
    ]


def test_cross_op_problems_are_reported_once_the_ops_themselves_are_sound():
    obj = job(
        run_op("a", cmd=["echo", "%%ops.nobody.results.x%%", "%%global.variables.MISSING%%", "%%ops.b.results.k%%"]),
        {**run_op("b"), "results": {"k": "k=(.*)"}, "execution": {"depends_on": ["b", "ghost"]}},
    )
    assert problems(obj) == [
        "ops[1].execution.depends_on[0]: 'b' cannot depend on itself",
        "ops[1].execution.depends_on[1]: no op has id 'ghost'",
        "ops[1].execution.depends_on: dependency cycle: b -> b",
        "ops[0].args.cmd[1]: %%ops.nobody.results.x%%: no op has id 'nobody'",
        "ops[0].args.cmd[2]: %%global.variables.MISSING%%: no variable 'MISSING' in global.variables (has: none)",
        "ops[0].args.cmd[3]: %%ops.b.results.k%%: op 'b' must end before 'a' starts: put it in an earlier "
        "group or list it in 'a''s execution.depends_on",
    ]


def test_nothing_is_half_accepted():
    with pytest.raises(ValidationError):
        parse(job(run_op("a"), run_op("b", cmd=7)))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("expose", [8000, 8000], "ops[0].args.expose[1]: port 8000 is exposed twice"),
        ("private", 1, "ops[0].args.private: expected a boolean, got a number"),
        ("resources", [{"type": "HF", "repo": "o/n", "target": "/m", "accessToken": "hf_x"}], "ops[0].args.resources[0].accessToken: not supported: a token would be public"),
        ("authentication", {"docker": {"username": "u", "password": "p"}}, "ops[0].args.authentication: not supported: registry credentials"),
        ("output", "/output", "ops[0].args.output: not supported: Nosana's artifact upload"),
        ("restart_policy", "on-failure", 'ops[0].args.restart_policy: not supported: "on-failure": a container restarted without a cap'),
        ("restart_policy", {"policy": "unless-stopped"}, 'ops[0].args.restart_policy: not supported: {"policy": "unless-stopped"}: a container'),
        ("restart_policy", {"policy": "on-failure"}, 'ops[0].args.restart_policy: not supported: {"policy": "on-failure"}: a container'),
        ("restart_policy", {"policy": "on-failure", "restart_tries": 101}, "ops[0].args.restart_policy.restart_tries: expected 1 to 100"),
        ("restart_policy", "sometimes", 'ops[0].args.restart_policy: expected "no", "on-failure", "always", "unless-stopped" or'),
        ("required_vram", -1, "ops[0].args.required_vram: expected a number of GB >= 0"),
        ("volumes", [{"name": "v", "dest": "data"}], "ops[0].args.volumes[0].dest: expected an absolute path"),
        ("work_dir", "relative", "ops[0].args.work_dir: expected an absolute path"),
        ("ports", [80], "ops[0].args.ports: unknown field"),
    ],
)
def test_each_unhonoured_or_bad_field_is_named(field, value, message):
    (line,) = problems(job(run_op(**{field: value})))
    assert line.startswith(message)


@pytest.mark.parametrize(
    "top, message",
    [
        ({"logistics": {"send": {"type": "api", "args": {}}}}, "logistics: not supported:"),
        ({"meta": []}, "meta: expected an object, got an array"),
        ({"ops": []}, "ops: expected at least one operation"),
        ({"ops": {"a": {}}}, "ops: expected an array of operations, got an object"),
    ],
)
def test_top_level_problems(top, message):
    (line,) = problems({**job(run_op()), **top})
    assert line.startswith(message)


def test_empty_expose_and_resources_and_private_false_are_accepted():
    (op,) = parse(job(run_op(expose=[], resources=[], private=False))).ops
    assert op.args.image == "alpine"


def test_not_an_object():
    assert problems([1, 2]) == ["expected a job definition (an object), got an array"]


def test_global_defaults_merge_into_each_op():
    obj = job(
        {"type": "container/run", "id": "a", "args": {"env": {"B": "op", "C": "c"}}},
        {"type": "container/run", "id": "b", "args": {"image": "busybox", "gpu": False, "entrypoint": "/init"}},
        **{"global": {"image": "alpine", "gpu": True, "entrypoint": ["tini", "--"], "env": {"A": "g", "B": "g"},
                      "work_dir": "/w"}},
    )
    a, b = parse(obj).ops
    assert (a.args.image, a.args.gpu, a.args.entrypoint, a.args.work_dir) == ("alpine", True, ("tini", "--"), "/w")
    assert a.args.env_dict() == {"A": "g", "B": "op", "C": "c"}
    # Nosana: gpu is op.gpu || global.gpu; a string entrypoint is one program, not a shell line
    assert (b.args.image, b.args.gpu, b.args.entrypoint) == ("busybox", True, ("/init",))


def test_empty_cmd_and_remove_if_empty_marker_keep_the_image_default():
    a, b = parse(job(run_op("a", cmd=[]), run_op("b", cmd=["__remove-if-empty__"]))).ops
    assert a.args.cmd is None and b.args.cmd is None


def test_literals_in_global_are_refused_as_nosana_does_not_fill_them():
    obj = job(run_op(), **{"global": {"env": {"X": "%%global.variables.V%%"}, "variables": {"V": "v"}}})
    assert problems(obj) == ["global.env.X: literals are filled in only in an op's args (as Nosana does), not in global"]


def test_required_vram_is_the_largest_asked():
    obj = job(run_op("a", required_vram=4, gpu=True), run_op("b"), meta={"system_requirements": {"required_vram": 6}})
    d = parse(obj)
    assert d.required_vram == 6 and wants_gpu(d)


def test_notes_for_fields_accepted_with_no_effect():
    obj = job(
        {**run_op(), "results": {"r": {"regex": "x", "logType": ["stdout", "nodeerr"]}}},
        deployment_id="dep-1",
        meta={"system_resources": {"required_vram": 2, "cpu": 4}},
    )
    assert [str(n) for n in parse(obj).notes] == [
        "deployment_id: ignored: Nosana's deployments (one endpoint name shared by the jobs of a deployment) "
        "do not exist here; each endpoint is named after its job, op and port",
        "meta.system_resources.cpu: ignored: workers check only required_vram",
        "ops[0].results.r.logType: nodeerr: no such lines are kept, so they match nothing",
    ]


def test_volumes_must_be_created_by_an_earlier_op_of_the_same_job():
    create = {"type": "container/create-volume", "id": "mk", "args": {"name": "v"}}
    use = run_op("use", volumes=[{"name": "v", "dest": "/v"}])
    assert parse(job(create, use)).ops[1].args.volumes[0].name == "v"
    assert problems(job(use, create)) == [
        "ops[0].args.volumes[0].name: volume 'v' is created by op 'mk', which must end first: put it in an "
        "earlier group or list it in execution.depends_on"
    ]
    assert problems(job(run_op("use", volumes=[{"name": "hosts-docker", "dest": "/v"}]))) == [
        "ops[0].args.volumes[0].name: no container/create-volume op of this job creates 'hosts-docker' "
        "(a job mounts only its own volumes)"
    ]


def test_extension_outputs_and_limits():
    obj = job(run_op("a"), meta={"crowdcompute": {"ops": {"a": {
        "outputs": ["/out/x.txt"], "limits": {"cpus": 0.5, "memory": "1GiB", "pids": 32, "timeout": 30}}}}})
    (op,) = parse(obj).ops
    assert op.args.outputs == ("/out/x.txt",)
    assert (op.args.limits.cpus, op.args.limits.memory, op.args.limits.pids, op.args.limits.timeout) == (0.5, 2**30, 32, 30)


def test_extension_problems():
    obj = job(run_op("a"), meta={"crowdcompute": {"ops": {
        "a": {"outputs": ["rel", "/o/../etc/passwd", "/x", "/x"], "limits": {"memory": "1 gig", "cpus": 0, "disk": 1}},
        "zz": {}}, "extra": 1}})
    assert problems(obj) == [
        "meta.crowdcompute.extra: unknown field (Nosana's job definition has none such; our extensions go under meta.crowdcompute)",
        "meta.crowdcompute.ops.a.outputs[0]: expected an absolute path, got 'rel'",
        "meta.crowdcompute.ops.a.outputs[1]: expected a file path without '..' or a trailing '/', got '/o/../etc/passwd'",
        "meta.crowdcompute.ops.a.outputs[3]: duplicate path '/x'",
        "meta.crowdcompute.ops.a.limits.disk: unknown field (Nosana's job definition has none such; our extensions go under meta.crowdcompute)",
        "meta.crowdcompute.ops.a.limits.cpus: expected a number > 0, got 0",
        "meta.crowdcompute.ops.a.limits.memory: expected bytes > 0 or a size like \"512MiB\" (B, KiB, MiB, GiB, TiB), got '1 gig'",
        "meta.crowdcompute.ops.zz: no op has id 'zz'",
    ]


def test_parse_does_not_change_its_input():
    obj = job(run_op("a", cmd="echo"), **{"global": {"env": {"A": "1"}}})
    before = copy.deepcopy(obj)
    d = parse(obj)
    assert obj == before and d.source == before


def test_to_bytes_is_canonical_json_of_the_nosana_document():
    d = parse(job(run_op("a", cmd="echo é")))
    assert d.to_bytes() == (
        '{"ops":[{"args":{"cmd":"echo é","image":"alpine"},"id":"a","type":"container/run"}],'
        '"type":"container","version":"0.1"}'
    ).encode()


def test_yaml_non_string_keys_are_named():
    obj = job({**run_op(env={1: "x"}), "results": {2: "y"}})
    assert problems(obj) == [
        "ops[0].args.env: expected non-empty string keys, got 1",
        "ops[0].results: expected string keys, got 2",
    ]


def test_another_version_number_is_read_as_the_one_format_with_a_note():
    """Nosana's validator takes any version string; its older files say "0.0.1"."""
    (note,) = parse({**job(run_op()), "version": "0.0.1"}).notes
    assert str(note).startswith('version: read as "0.1"')
    assert problems({**job(run_op()), "version": "banana"}) == ["version: expected \"0.1\", got 'banana'"]
    assert problems({**job(run_op()), "version": 1})[0].startswith('version: expected "0.1", got 1 (quote it in YAML)')
