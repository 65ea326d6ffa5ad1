"""The service runtime's parts without containers: health checks against real local
servers (http, websocket, a server that never answers, one that answers too much), the
restart policy's decisions, and the bundle's service fields (read back, bounded, and
absent from a batch op's record)."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest
from aiohttp import web

from crowdcompute.client.bundle import (
    HEALTH_DETAIL_CAP, Bundle, BundleError, HealthEvent, OpRecord, PortHealth, timestamp,
)
from crowdcompute.client.jobspec.model import ExposedPort, HealthCheck, RestartPolicy
from crowdcompute.worker.service import RestartBudget, check_port, run_check, tcp_check
from crowdcompute.worker.service.health_checks import DETAIL_CAP


async def _server(handlers: dict[str, object]) -> tuple[web.AppRunner, int]:
    app = web.Application()
    for path, handler in handlers.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def test_http_and_websocket_checks_against_a_real_server():
    seen: list[tuple[str, str, str]] = []

    async def post(request: web.Request) -> web.Response:
        seen.append((request.method, request.headers.get("X-Key", ""), await request.text()))
        return web.Response(status=201, text="made")

    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(text="x" * (4 << 20))  # read up to the cap only

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        await socket_.send_str(request.query.get("say", "ready"))
        await asyncio.sleep(0.5)
        await socket_.close()
        return socket_

    async def scenario():
        runner, port = await _server({"/make": post, "/big": big, "/ws": ws})
        target = ("127.0.0.1", port)
        try:
            async with aiohttp.ClientSession() as session:
                made = await run_check(session, target, HealthCheck(
                    "http", path="/make", method="POST", expected_status=201, headers=(("X-Key", "k1"),), body='{"a":1}'))
                wrong = await run_check(session, target, HealthCheck("http", path="/make"))
                missing = await run_check(session, target, HealthCheck("http", path="/nothing"))
                large = await run_check(session, target, HealthCheck("http", path="/big"))
                ws_ok = await run_check(session, target, HealthCheck("websocket", path="/ws", expected_response="ready"))
                ws_bad = await run_check(session, target, HealthCheck("websocket", path="/ws?say=" + "n" * 500, expected_response="ready"))
                ws_none = await run_check(session, target, HealthCheck("websocket", path="/make", expected_response="ready"))
                # as Nosana's curl --include: the answer's head counts too
                ws_head = await run_check(session, target, HealthCheck("websocket", path="/ws?say=x", expected_response="101 Switching"))
                ws_any = await run_check(session, target, HealthCheck("websocket", path="/ws"))
        finally:
            await runner.cleanup()
        assert ws_head[0] and ws_any[0] and ws_any[1].startswith("websocket /ws -> HTTP/1.1 101"), (ws_head, ws_any)
        return made, wrong, missing, large, ws_ok, ws_bad, ws_none

    made, wrong, missing, large, ws_ok, ws_bad, ws_none = asyncio.run(scenario())
    assert made[0] and made[1].startswith("POST /make -> 201 in "), made
    assert seen[0] == ("POST", "k1", '{"a":1}')
    assert wrong == (False, wrong[1]) and wrong[1].startswith("GET /make -> 201, expected 200")
    assert not missing[0] and "-> 404, expected 200" in missing[1]
    assert large[0]
    assert ws_ok[0] and ws_ok[1].startswith("websocket /ws: expected response in")
    assert not ws_bad[0] and "no expected response" in ws_bad[1] and len(ws_bad[1]) <= DETAIL_CAP, ws_bad
    assert not ws_none[0] and ws_none[1].startswith("websocket /make -> HTTP/1.1 201 Created: no expected response"), ws_none


def test_checks_are_bounded_by_their_timeout_and_a_closed_port_fails():
    """A server that accepts and never answers: the check ends at its timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    async def scenario():
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            started = loop.time()
            http = await run_check(session, ("127.0.0.1", port), HealthCheck("http"), timeout=0.5)
            ws = await run_check(session, ("127.0.0.1", port), HealthCheck("websocket", expected_response="x"), timeout=0.5)
            took = loop.time() - started
            tcp = await tcp_check(("127.0.0.1", closed_port), timeout=0.5)
            tcp_ok = await tcp_check(("127.0.0.1", port), timeout=0.5)
            none = await check_port(session, ("127.0.0.1", port), ExposedPort(port), startup=True, timeout=0.5)
        return http, ws, took, tcp, tcp_ok, none

    try:
        http, ws, took, tcp, tcp_ok, none = asyncio.run(scenario())
    finally:
        silent.close()
    assert http == (False, "GET /: no answer in 0.5 s") and ws == (False, "websocket /: no answer in 0.5 s")
    assert took < 5  # two checks, each cut at 0.5 s (a loose bound: a shared machine)
    assert not tcp[0] and tcp[1].startswith(f"tcp connect to port {closed_port}")
    assert tcp_ok[0] and none[0]  # no checks: a TCP connect is enough


def test_continuous_phase_runs_only_continuous_checks():
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def scenario():
        runner, port = await _server({"/ok": ok})
        port_ = ExposedPort(port, health_checks=(HealthCheck("http", path="/ok"), HealthCheck("http", path="/gone", continuous=False),
                                                  HealthCheck("http", path="/ok", continuous=True)))
        try:
            async with aiohttp.ClientSession() as session:
                startup = await check_port(session, ("127.0.0.1", port), port_, startup=True)
                later = await check_port(session, ("127.0.0.1", port), port_, startup=False)
        finally:
            await runner.cleanup()
        return startup, later

    startup, later = asyncio.run(scenario())
    assert not startup[0] and "GET /gone -> 404" in startup[1]  # every check at startup
    assert later[0]  # only the continuous one later


@pytest.mark.parametrize("policy, ends, expect", [
    (RestartPolicy("no"), [(3, None)], [(False, "exited with 3 (restart_policy no)")]),
    (RestartPolicy("no"), [(0, None)], [(False, None)]),
    (RestartPolicy("on-failure", 1), [(0, None)], [(False, None)]),
    (RestartPolicy("on-failure", 1), [(1, None), (None, "port 80: down")],
     [(True, None), (False, "restarted 1 times (restart_policy on-failure, 1 restarts allowed), still failing: unhealthy: port 80: down")]),
    (RestartPolicy("on-failure"), [(1, None), (1, None), (1, None)],  # 0 tries: no cap of its own, the node's
     [(True, None), (True, None), (False, "restarted 2 times (the node's cap: 2 within 600 s), still failing: exited with 1")]),
    (RestartPolicy("on-failure", 5), [(1, None), (1, None), (1, None)],  # the node's cap is lower
     [(True, None), (True, None), (False, "restarted 2 times (the node's cap: 2 within 600 s), still failing: exited with 1")]),
    (RestartPolicy("always"), [(0, None), (0, None), (0, None)],
     [(True, None), (True, None), (False, "restarted 2 times (the node's cap: 2 within 600 s), still failing: exited with 0")]),
])
def test_restart_decisions(policy, ends, expect):
    budget = RestartBudget(policy, max_restarts=2, backoff=1.0)
    got = [budget.after(code, unhealthy, now=100.0) for code, unhealthy in ends]
    assert [(d.restart, d.error) for d in got] == expect
    delays = [d.delay for d in got if d.restart]
    assert delays == sorted(delays) and all(0 < d <= 30 for d in delays)  # bounded, growing backoff


def test_always_restarts_again_once_the_window_has_passed():
    budget = RestartBudget(RestartPolicy("unless-stopped"), max_restarts=2, window=60)
    assert budget.after(1, None, now=0).restart and budget.after(1, None, now=1).restart
    assert not budget.after(1, None, now=2).restart  # two within the window: the cap
    assert budget.after(1, None, now=100).restart and budget.restarts == 3


def _bundle(*ops: OpRecord) -> Bundle:
    t = timestamp(0)
    return Bundle("job", "node", "bafy", "stopped", t, t, ops)


def test_bundle_service_fields_read_back_and_batch_ops_are_unchanged():
    plain = OpRecord("batch", 0, None, timestamp(0), timestamp(1))
    assert "restarts" not in plain.to_json() and "health" not in plain.to_json()  # same bytes as before
    service = OpRecord("web", 143, "stopped", timestamp(0), timestamp(2), restarts=1, health=(
        PortHealth(8080, (HealthEvent(timestamp(0), "starting", "opened"), HealthEvent(timestamp(1), "healthy", "GET / -> 200"))),))
    bundle = _bundle(plain, service)
    assert Bundle.from_bytes(bundle.to_bytes()) == bundle
    assert "port 8080 1970-01-01T00:00:01.000Z healthy: GET / -> 200" in bundle.render()


@pytest.mark.parametrize("change, problem", [
    (lambda op: op.update(restarts=-1), "ops[0].restarts: expected an integer >= 0"),
    (lambda op: op.update(health=[]), "ops[0].health: expected an array of 1 to 64 ports"),
    (lambda op: op["health"][0]["history"][0].update(detail="d" * (HEALTH_DETAIL_CAP + 1)), "ops[0].health[0].history[0].detail"),
    (lambda op: op["health"][0]["history"].extend([op["health"][0]["history"][0]] * 64), "ops[0].health[0].history: expected an array of at most 64"),
    (lambda op: op["health"][0].update(secret="x"), "ops[0].health[0].secret: unknown field"),
])
def test_bundle_service_fields_are_bounded(change, problem):
    record = OpRecord("web", 0, None, restarts=0, health=(PortHealth(80, (HealthEvent(timestamp(0), "healthy", "ok"),)),))
    obj = _bundle(record).to_json()
    change(obj["ops"][0])
    from crowdcompute.client.jobspec.canonical import canonical_json

    with pytest.raises(BundleError) as info:
        Bundle.from_bytes(canonical_json(obj))
    assert problem in str(info.value), str(info.value)
    json.dumps(obj)
