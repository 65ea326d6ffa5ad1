"""Service jobs in the definition: which jobs are services, restart policies, endpoint
literals, expose literals filled in at run time, dependencies on a service, egress."""

from __future__ import annotations

import json

import pytest

from crowdcompute.client.jobspec import (
    ExposedPort,
    HealthCheck,
    LiteralError,
    RestartPolicy,
    RunContext,
    ValidationError,
    parse,
    plan,
    resolve_args,
)
from crowdcompute.client.jobspec.expose import MAX_PORTS


def op(op_id, group=None, deps=None, results=None, **args):
    out = {"type": "container/run", "id": op_id, "args": {"image": "alpine", **args}}
    if group or deps is not None:
        out["execution"] = {"group": group or op_id, **({"depends_on": deps} if deps is not None else {})}
    if results:
        out["results"] = results
    return out


def job(*ops, **top):
    return {"version": "0.1", "type": "container", "ops": list(ops), **top}


def problems(obj) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(obj)
    return [str(p) for p in info.value.problems]


def context(**kw):
    return RunContext("job", "node", "poster", **kw)


# ---- which jobs are services ---------------------------------------------------------------
def test_is_service_and_needs_egress():
    batch = parse(job(op("a")))
    assert not batch.is_service and not batch.needs_egress and not batch.ops[0].is_service
    svc = parse(job(op("web", expose=80), op("worker"), meta={"crowdcompute": {"egress": True}}))
    assert svc.is_service and svc.needs_egress
    assert [o.is_service for o in svc.ops] == [True, False]
    volume_only = parse(job({"type": "container/create-volume", "id": "v", "args": {"name": "v"}}))
    assert not volume_only.is_service


def test_egress_must_be_a_boolean_and_sits_beside_ops():
    assert not parse(job(op("a"), meta={"crowdcompute": {"egress": False}})).needs_egress
    assert problems(job(op("a"), meta={"crowdcompute": {"egress": "yes"}})) == [
        "meta.crowdcompute.egress: expected a boolean, got a string"]
    d = parse(job(op("a"), meta={"crowdcompute": {"egress": True, "ops": {"a": {"limits": {"pids": 10}}}}}))
    assert d.needs_egress and d.ops[0].args.limits.pids == 10
    assert problems(job(op("a"), meta={"crowdcompute": {"internet": True}})) == [
        "meta.crowdcompute.internet: unknown field (Nosana's job definition has none such; our extensions go under "
        "meta.crowdcompute)"]


# ---- restart policies ------------------------------------------------------------------------
@pytest.mark.parametrize("raw, policy", [
    ("no", RestartPolicy("no")),
    ("always", RestartPolicy("always")),
    ("unless-stopped", RestartPolicy("unless-stopped")),
    ("on-failure", RestartPolicy("on-failure", 0)),
    ({"policy": "on-failure"}, RestartPolicy("on-failure", 0)),
    ({"policy": "on-failure", "restart_tries": 5}, RestartPolicy("on-failure", 5)),
    ({"policy": "always"}, RestartPolicy("always")),
])
def test_a_service_may_restart_without_a_cap(raw, policy):
    assert parse(job(op("web", expose=80, restart_policy=raw))).ops[0].args.restart == policy


def test_a_sidecar_of_a_service_may_restart_always_too():
    d = parse(job(op("web", expose=80), op("db", restart_policy="always")))
    assert d.op("db").args.restart == RestartPolicy("always")


@pytest.mark.parametrize("raw", ["always", "unless-stopped", "on-failure", {"policy": "on-failure"}])
def test_a_batch_job_may_not(raw):
    (line,) = problems(job(op("a", restart_policy=raw)))
    assert line.startswith(f"ops[0].args.restart_policy: not supported: {json.dumps(raw, sort_keys=True)}: a container "
                           "restarted without a cap never ends")


@pytest.mark.parametrize("raw, message", [
    ({"policy": "always", "restart_tries": 3}, 'ops[0].args.restart_policy.restart_tries: expected none with policy "always"'),
    ({"policy": "on-failure", "restart_tries": 0}, "ops[0].args.restart_policy.restart_tries: expected 1 to 100, got 0"),
    ({"policy": "on-failure", "restart_tries": "3"}, "ops[0].args.restart_policy.restart_tries: expected a whole number"),
    ({"policy": "sometimes"}, "ops[0].args.restart_policy.policy: expected one of no, on-failure, always, unless-stopped"),
    ({"restart_tries": 3}, "ops[0].args.restart_policy.policy: required"),
    (3, "ops[0].args.restart_policy: expected an object, got a number"),
])
def test_bad_restart_policies_even_in_a_service(raw, message):
    assert problems(job(op("web", expose=80, restart_policy=raw)))[0].startswith(message)


def test_should_restart():
    assert not RestartPolicy("no").should_restart(1, 0)
    assert RestartPolicy("always").should_restart(0, 1000) and RestartPolicy("unless-stopped").should_restart(0, 5)
    capped = RestartPolicy("on-failure", 2)
    assert [capped.should_restart(1, n) for n in range(4)] == [True, True, False, False]
    assert not capped.should_restart(0, 0)
    assert RestartPolicy("on-failure").should_restart(1, 10**6) and not RestartPolicy("on-failure").should_restart(0, 0)
    assert [RestartPolicy(p).endless for p in ("no", "always", "unless-stopped", "on-failure")] == [False, True, True, True]
    assert not capped.endless


# ---- endpoint literals -------------------------------------------------------------------------
def test_endpoint_literals_are_filled_in_from_the_run_context():
    d = parse(job(op("api", expose=[8000, 8001]),
                  op("ui", expose=3000, env={"API_URL": "https://%%ops.api.endpoint.8000%%/v1",
                                             "SELF": "%%ops.ui.endpoint.3000%%"})))
    ctx = context(endpoints={("api", 8000): "abc.node.example", ("ui", 3000): "def.node.example"})
    env = resolve_args(d, d.op("ui"), ctx).env_dict()
    assert env == {"API_URL": "https://abc.node.example/v1", "SELF": "def.node.example"}
    with pytest.raises(LiteralError, match="op 'api' has no endpoint for port 8000 on this node"):
        resolve_args(d, d.op("ui"), context(endpoints={("ui", 3000): "x"}))


def test_an_endpoint_literal_needs_the_port_exposed():
    assert problems(job(op("api", expose=8000), op("ui", cmd=["%%ops.api.endpoint.9000%%"]))) == [
        "ops[1].args.cmd[0]: %%ops.api.endpoint.9000%%: op 'api' does not expose port 9000 (exposes: 8000)"]
    assert problems(job(op("ui", cmd=["%%ops.ghost.endpoint.80%%"]))) == [
        "ops[0].args.cmd[0]: %%ops.ghost.endpoint.80%%: no op has id 'ghost'"]
    volume = {"type": "container/create-volume", "id": "v", "args": {"name": "v"}}
    assert problems(job(volume, op("ui", cmd=["%%ops.v.endpoint.80%%"]))) == [
        "ops[1].args.cmd[0]: %%ops.v.endpoint.80%%: op 'v' is a container/create-volume op: it exposes no port"]


def test_an_endpoint_of_an_op_whose_ports_come_at_run_time_is_checked_then():
    producer = op("p", results={"ports": "[0-9]+"})
    d = parse(job(producer, op("svc", expose="%%ops.p.results.ports%%"), op("ui", cmd=["%%ops.svc.endpoint.8123%%"])))
    assert d.op("ui").args.cmd == ("%%ops.svc.endpoint.8123%%",)


# ---- expose literals at run time ----------------------------------------------------------------
PRODUCER = op("p", results={"ports": "ports=(.*)"})


def svc_with(expose):
    return parse(job(PRODUCER, op("svc", expose=expose)))


@pytest.mark.parametrize("values, expected", [
    (["8080"], [8080]),
    (["8000-8002"], [8000, 8001, 8002]),
    (["[8080, 8081]"], [8080, 8081]),
    (["9000", "9001"], [9000, 9001]),
    (['[{"port": 9000, "type": "api", "health_checks": [{"type": "http", "path": "/h", "method": "GET", '
      '"expected_status": 200}]}]'], [9000]),
    (['{"port": 9000}'], [9000]),
    (["[[9000], [9001]]"], [9000, 9001]),
])
def test_an_expose_literal_is_read_like_the_file(values, expected):
    d = svc_with([80, "%%ops.p.results.ports%%"])
    args = resolve_args(d, d.op("svc"), context(results={"p": {"ports": values}}))
    assert [p.port for p in args.expose] == [80, *expected] and args.expose_literals == ()


def test_a_spread_expose_keeps_health_checks():
    d = svc_with([{"__spread__": "%%ops.p.results.ports%%"}])
    value = json.dumps([{"port": 9000, "type": "api", "health_checks": [
        {"type": "http", "path": "/v1/models", "method": "POST", "expected_status": 200, "body": {"a": 1},
         "continuous": True}]}])
    (port,) = resolve_args(d, d.op("svc"), context(results={"p": {"ports": [value]}})).expose
    assert port == ExposedPort(9000, "api", (HealthCheck("http", path="/v1/models", method="POST", expected_status=200,
                                                          body='{"a":1}', continuous=True),))


@pytest.mark.parametrize("values, message", [
    (["80"], "port 80 is exposed twice"),
    (["0"], "expected a port from 1 to 65535, got 0"),
    (["1-65535"], f"a range of at most {MAX_PORTS} ports"),
    (["[not json"], "is not JSON"),
    (["%%ops.p.results.ports%%"], "a value filled in at run time cannot hold another literal"),
    (['[{"__spread__": "%%ops.p.results.ports%%"}]'], "a value filled in at run time cannot hold another literal"),
    (['[{"port": 9000, "health_checks": [{"type": "http", "path": "nope", "method": "GET", "expected_status": 200}]}]'],
     "expected a path starting with one '/'"),
    (['[{"port": 9000, "health_checks": [{"type": "http", "path": "/", "method": "GET", "expected_status": 200, '
      '"headers": {"Transfer-Encoding": "chunked"}}]}]'], "is set by the node's checker"),
    ([json.dumps(list(range(1000, 1000 + MAX_PORTS)))], f"at most {MAX_PORTS} exposed ports per op"),
    ([json.dumps(list(range(1000, 1000 + 10 * MAX_PORTS)))], f"more than {4 * MAX_PORTS} items"),
    (["true"], "expected a port or a range \"start-end\", got 'true'"),
])
def test_hostile_values_of_an_expose_literal_fail_the_op_before_it_starts(values, message):
    d = svc_with([80, "%%ops.p.results.ports%%"])
    with pytest.raises(LiteralError, match="expose %%ops.p.results.ports%%") as info:
        resolve_args(d, d.op("svc"), context(results={"p": {"ports": values}}))
    assert message in str(info.value)


def test_an_expose_literal_without_results_is_a_literal_error():
    d = svc_with("%%ops.p.results.ports%%")
    with pytest.raises(LiteralError, match="op 'p' has no results"):
        resolve_args(d, d.op("svc"), context())


def test_an_expose_literal_must_name_something_that_ends_first():
    assert problems(job(op("svc", expose="%%ops.p.results.ports%%"), PRODUCER)) == [
        "ops[0].args.expose: %%ops.p.results.ports%%: op 'p' must end before 'svc' starts: put it in an earlier "
        "group or list it in 'svc''s execution.depends_on"]


# ---- dependencies on a service -------------------------------------------------------------------
def test_a_dependent_of_a_service_starts_once_it_is_up_and_of_a_batch_op_once_it_ended():
    d = parse(job(op("db", "g", expose=5432), op("migrate", "g", ["db"]), op("app", "g", ["db", "migrate"], expose=80)))
    (stage,) = plan(d)
    assert [o.id for o in stage.ready(ended=())] == ["db"]
    assert [o.id for o in stage.ready(ended=(), up={"db"})] == ["db", "migrate"]
    assert [o.id for o in stage.ready(ended={"migrate"}, up={"db"})] == ["db", "app"]
    assert [o.id for o in stage.ready(ended={"db"})] == ["migrate"]  # a service that ended counts too


def test_results_of_a_service_in_the_same_group_are_not_known_to_its_dependents():
    (line,) = problems(job(op("svc", "g", expose=80, results={"k": "k=.*"}),
                           op("use", "g", ["svc"], cmd=["%%ops.svc.results.k%%"])))
    assert line == ("ops[1].args.cmd[0]: %%ops.svc.results.k%%: op 'svc' exposes a port, so it runs until the job "
                    "ends and its results are known only then; 'use' would wait for it to be up, not to end: put it "
                    "in an earlier group")
    # an earlier group has ended (the service exited) before a later one starts
    assert parse(job(op("svc", expose=80, results={"k": "k=.*"}), op("use", cmd=["%%ops.svc.results.k%%"])))


def test_a_batch_op_before_a_service_on_the_chain_still_counts_as_ended():
    d = parse(job(op("setup", "g", results={"k": "k=.*"}), op("svc", "g", ["setup"], expose=80),
                  op("use", "g", ["svc"], cmd=["%%ops.setup.results.k%%"])))
    assert d.op("use").args.cmd == ("%%ops.setup.results.k%%",)
