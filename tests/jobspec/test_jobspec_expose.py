"""`args.expose`: each of Nosana's forms, and each hostile value refused with its field's path."""

from __future__ import annotations

import pytest

from crowdcompute.client.jobspec import ExposedPort, HealthCheck, ValidationError, parse
from crowdcompute.client.jobspec.expose import MAX_BODY, MAX_CHECKS, MAX_CHECKS_PER_PORT, MAX_HEADERS, MAX_PORTS


def job(expose, **args):
    return {"version": "0.1", "type": "container",
            "ops": [{"type": "container/run", "id": "svc", "args": {"image": "alpine", "expose": expose, **args}}]}


def exposed(expose, **args) -> tuple[ExposedPort, ...]:
    return parse(job(expose, **args)).ops[0].args.expose


def problems(expose, **args) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse(job(expose, **args))
    return [str(p) for p in info.value.problems]


def http(**fields):
    return {"type": "http", "path": "/health", "method": "GET", "expected_status": 200, **fields}


# ---- forms ----------------------------------------------------------------------------------
def test_a_port_number():
    assert exposed(8080) == (ExposedPort(8080, "none"),)


def test_a_range_becomes_its_ports():
    assert [p.port for p in exposed("8000-8003")] == [8000, 8001, 8002, 8003]
    assert [p.port for p in exposed("8000:8003")] == [8000, 8001, 8002, 8003]  # as Nosana's message writes one


def test_a_list_of_ports_ranges_and_objects():
    ports = exposed([80, "9000-9001", {"port": 3000, "type": "web"}, {"port": "7000-7001", "type": "api"}])
    assert [(p.port, p.type) for p in ports] == [
        (80, "none"), (9000, "none"), (9001, "none"), (3000, "web"), (7000, "api"), (7001, "api")]


@pytest.mark.parametrize("kind", ["web", "api", "webapi", "websocket", "none"])
def test_each_service_type(kind):
    assert exposed([{"port": 80, "type": kind}])[0].type == kind


def test_http_check_with_headers_and_a_json_body():
    check = http(method="POST", headers={"Content-Type": "application/json", "X-Token": "t"},
                 body={"model": "m", "messages": [{"role": "user"}]}, expected_status=201, continuous=True)
    (port,) = exposed([{"port": 9000, "health_checks": [check]}])
    assert port.health_checks == (HealthCheck(
        "http", path="/health", method="POST", expected_status=201,
        headers=(("Content-Type", "application/json"), ("X-Token", "t")),
        body='{"model":"m","messages":[{"role":"user"}]}', continuous=True),)


def test_a_string_body_is_sent_as_written():
    (port,) = exposed([{"port": 9000, "health_checks": [http(method="PUT", body='{"a": 1}')]}])
    assert port.health_checks[0].body == '{"a": 1}'


def test_a_body_on_get_is_dropped_with_a_note_as_nosanas_node_drops_it():
    d = parse(job([{"port": 9000, "health_checks": [http(body="x")]}]))
    assert d.ops[0].args.expose[0].health_checks[0].body is None
    assert [str(n) for n in d.notes] == [
        "ops[0].args.expose[0].health_checks[0].body: ignored: a body is sent only with POST or PUT (as Nosana's node does)"]


def test_websocket_check():
    (port,) = exposed([{"port": 9000, "type": "websocket",
                        "health_checks": [{"type": "websocket", "expected_response": "pong", "continuous": True}]}])
    assert port.health_checks == (HealthCheck("websocket", expected_response="pong", continuous=True),)


def test_a_ranges_checks_apply_to_each_of_its_ports():
    ports = exposed([{"port": "8000-8001", "health_checks": [http()]}])
    assert [len(p.health_checks) for p in ports] == [1, 1]


def test_literals_and_spread_markers_are_kept_for_run_time():
    producer = {"type": "container/run", "id": "p", "args": {"image": "alpine"}, "results": {"ports": "p=.*"}}
    for expose, kept in [
        ("%%ops.p.results.ports%%", ("%%ops.p.results.ports%%",)),
        ({"__spread__": "%%ops.p.results.ports%%"}, ("%%ops.p.results.ports%%",)),
        ([80, "%%ops.p.results.ports%%", {"__spread__": "%%global.variables.MORE%%"}],
         ("%%ops.p.results.ports%%", "%%global.variables.MORE%%")),
    ]:
        obj = job(expose)
        obj["ops"].insert(0, producer)
        obj["global"] = {"variables": {"MORE": "[81]"}}
        op = parse(obj).ops[1]
        assert op.args.expose_literals == kept and op.is_service


def test_empty_expose_and_private_false_are_not_services():
    d = parse(job([], private=False))
    assert d.ops[0].args.expose == () and not d.is_service


def test_private_is_kept_and_alone_has_no_effect():
    assert parse(job(80, private=True)).ops[0].args.private
    d = parse(job([], private=True))
    assert [str(n) for n in d.notes] == [
        "ops[0].args.private: no effect: it makes exposed endpoints private, and this op exposes none"]


# ---- refusals: each names the field ------------------------------------------------------
@pytest.mark.parametrize("expose, message", [
    (0, "ops[0].args.expose: expected a port from 1 to 65535, got 0"),
    (65536, "ops[0].args.expose: expected a port from 1 to 65535, got 65536"),
    (-1, "ops[0].args.expose: expected a port from 1 to 65535, got -1"),
    (80.5, "ops[0].args.expose: expected a port (a whole number) or a range \"start-end\", got a number"),
    (True, "ops[0].args.expose: expected a port (a whole number) or a range \"start-end\", got a boolean"),
    (None, "ops[0].args.expose: expected a port (a whole number) or a range \"start-end\", got null"),
    ("8080", "ops[0].args.expose: write a port as a number (8080), not a string, got '8080'"),
    ("9000-8000", "ops[0].args.expose: expected a range start-end with 1 <= start < end <= 65535, got '9000-8000'"),
    ("80-80", "ops[0].args.expose: expected a range start-end with 1 <= start < end <= 65535, got '80-80'"),
    ("0-10", "ops[0].args.expose: expected a range start-end with 1 <= start < end <= 65535, got '0-10'"),
    ("65530-70000", "ops[0].args.expose: expected a range start-end with 1 <= start < end <= 65535, got '65530-70000'"),
    ("1-65535", f"ops[0].args.expose: a range of at most {MAX_PORTS} ports, got '1-65535' (65535)"),
    ("http://evil", "ops[0].args.expose: expected a port or a range \"start-end\", got 'http://evil'"),
    ([{"port": "%%ops.x.results.p%%"}], "ops[0].args.expose[0].port: expected a port or a range \"start-end\", got '%%ops.x.results.p%%'"),
    ({"port": 80}, "ops[0].args.expose: expected a port, a range \"a-b\", a literal"),
    ([80, 80], "ops[0].args.expose[1]: port 80 is exposed twice"),
    ([80, "79-81"], "ops[0].args.expose[1]: port 80 is exposed twice"),
    (["1-10", "10-20"], "ops[0].args.expose[1]: port 10 is exposed twice"),
    ([{"port": 80, "type": "ftp"}], "ops[0].args.expose[0].type: expected one of web, api, webapi, websocket, none, got 'ftp'"),
    ([{"type": "web"}], "ops[0].args.expose[0].port: required"),
    ([{"port": 80, "tunnel": True}], "ops[0].args.expose[0].tunnel: unknown field"),
    ([{"port": 80, "health_checks": {}}], "ops[0].args.expose[0].health_checks: expected an array of health checks, got an object"),
    (["%%ops.x.results.p%% and more"], "ops[0].args.expose[0]: expected exactly one literal and nothing around it"),
    ([{"__spread__": "80"}], "ops[0].args.expose[0].__spread__: expected exactly one literal"),
    ([{"__spread__": "%%ops.x.results.p%%", "port": 80}], "ops[0].args.expose[0]: a __spread__ marker has no other keys"),
])
def test_bad_ports(expose, message):
    assert problems(expose)[0].startswith(message)


def test_at_most_max_ports_per_op_counting_ranges():
    assert len(exposed(list(range(1000, 1000 + MAX_PORTS)))) == MAX_PORTS
    assert problems([f"1000-{1000 + MAX_PORTS - 1}", 2000]) == [
        f"ops[0].args.expose[1]: at most {MAX_PORTS} exposed ports per op (a range counts each of its ports)"]
    assert len(problems(list(range(1000, 1000 + 10 * MAX_PORTS)))) == 1  # said once


def test_health_check_count_caps():
    many = [http()] * (MAX_CHECKS_PER_PORT + 1)
    assert problems([{"port": 80, "health_checks": many}]) == [
        f"ops[0].args.expose[0].health_checks: at most {MAX_CHECKS_PER_PORT} health checks per port, got {MAX_CHECKS_PER_PORT + 1}"]
    per_port = [http()] * MAX_CHECKS_PER_PORT
    ports = MAX_CHECKS // MAX_CHECKS_PER_PORT + 1
    (line,) = problems([{"port": f"8000-{8000 + ports - 1}", "health_checks": per_port}])
    assert line == f"ops[0].args.expose[0].port: at most {MAX_CHECKS} health checks per op (a range repeats its checks for each port)"


CHECK = "ops[0].args.expose[0].health_checks[0]"


@pytest.mark.parametrize("check, message", [
    ({"path": "/"}, f"{CHECK}.type: required (http or websocket)"),
    ({"type": "tcp"}, f"{CHECK}.type: expected http or websocket, got 'tcp'"),
    ([], f"{CHECK}: expected a health check (an object), got an array"),
    (http(path="health"), f"{CHECK}.path: expected a path starting with one '/'"),
    (http(path="//evil.example/x"), f"{CHECK}.path: expected a path starting with one '/'"),
    (http(path="/a b"), f"{CHECK}.path: expected a path starting with one '/'"),
    (http(path="/a\r\nHost: evil"), f"{CHECK}.path: expected a path starting with one '/'"),
    (http(path="/" + "a" * 5000), f"{CHECK}.path: at most 2048 characters, got 5001"),
    (http(path=""), f"{CHECK}.path: expected a non-empty string, got ''"),
    (http(path="/%%ops.a.results.k%%"), f"{CHECK}.path: literals are not filled in here"),
    ({"type": "http", "method": "GET", "expected_status": 200}, f"{CHECK}.path: required"),
    (http(method="TRACE"), f"{CHECK}.method: expected one of GET, POST, PUT, DELETE, got 'TRACE'"),
    (http(method="get"), f"{CHECK}.method: expected one of GET, POST, PUT, DELETE, got 'get'"),
    ({"type": "http", "path": "/", "expected_status": 200}, f"{CHECK}.method: required"),
    (http(expected_status=99), f"{CHECK}.expected_status: expected an HTTP status from 100 to 599, got 99"),
    (http(expected_status=600), f"{CHECK}.expected_status: expected an HTTP status from 100 to 599, got 600"),
    (http(expected_status="200"), f"{CHECK}.expected_status: expected an HTTP status from 100 to 599, got '200'"),
    (http(expected_status=True), f"{CHECK}.expected_status: expected an HTTP status from 100 to 599, got a boolean"),
    ({"type": "http", "path": "/", "method": "GET"}, f"{CHECK}.expected_status: required"),
    (http(continuous="yes"), f"{CHECK}.continuous: expected a boolean, got a string"),
    (http(interval=1), f"{CHECK}.interval: unknown field"),
    (http(expected_response="x"), f"{CHECK}.expected_response: unknown field"),
    (http(headers=[]), f"{CHECK}.headers: expected an object of header names and values, got an array"),
    (http(headers={f"X-{i}": "v" for i in range(MAX_HEADERS + 1)}), f"{CHECK}.headers: at most {MAX_HEADERS} headers"),
    (http(headers={"Bad Name": "v"}), f"{CHECK}.headers[\"Bad Name\"]: expected a header name"),
    (http(headers={"X" * 300: "v"}), f"{CHECK}.headers.{'X' * 300}: expected a header name"),
    (http(headers={"X-A": "v\r\nHost: evil"}), f"{CHECK}.headers.X-A: expected at most 4096 printable ASCII characters"),
    (http(headers={"X-A": "v\x00"}), f"{CHECK}.headers.X-A: expected at most 4096 printable ASCII characters"),
    (http(headers={"X-A": "caf\u00e9"}), f"{CHECK}.headers.X-A: expected at most 4096 printable ASCII characters"),
    (http(headers={"X-A": "v" * 5000}), f"{CHECK}.headers.X-A: expected at most 4096 printable ASCII characters"),
    (http(headers={"X-A": 1}), f"{CHECK}.headers.X-A: expected a string, got a number"),
    (http(headers={"Content-Length": "0"}), f"{CHECK}.headers.Content-Length: 'Content-Length' is set by the node's checker"),
    (http(headers={"transfer-encoding": "chunked"}), f"{CHECK}.headers.transfer-encoding: 'transfer-encoding' is set by"),
    (http(method="POST", body="x" * (MAX_BODY + 1)), f"{CHECK}.body: at most {MAX_BODY} bytes, got {MAX_BODY + 1}"),
    (http(method="POST", body={"k": "é" * (MAX_BODY // 2)}), f"{CHECK}.body: at most {MAX_BODY} bytes"),
    (http(method="POST", body=float("nan")), f"{CHECK}.body: expected a string or a JSON value, got a number"),
    (http(method="POST", body={"when": __import__("datetime").date(2024, 1, 1)}), f"{CHECK}.body: expected a string or a JSON value, got an object"),
    ({"type": "websocket"}, f"{CHECK}.expected_response: required"),
    ({"type": "websocket", "expected_response": ""}, f"{CHECK}.expected_response: expected a non-empty string"),
    ({"type": "websocket", "expected_response": "x" * 5000}, f"{CHECK}.expected_response: at most 4096 characters"),
    ({"type": "websocket", "expected_response": "ok", "path": "/"}, f"{CHECK}.path: unknown field"),
])
def test_bad_health_checks(check, message):
    assert problems([{"port": 80, "health_checks": [check]}])[0].startswith(message)


def test_every_problem_of_one_port_is_reported_and_none_of_its_ports_kept():
    bad = {"port": 80, "type": "ftp", "health_checks": [http(path="x", method="X", expected_status=0)]}
    assert [p.split(":")[0] for p in problems([bad, 81])] == [
        "ops[0].args.expose[0].type",
        "ops[0].args.expose[0].health_checks[0].path",
        "ops[0].args.expose[0].health_checks[0].method",
        "ops[0].args.expose[0].health_checks[0].expected_status",
    ]
