"""One health check of an exposed port, run by the node against the endpoint's target.

The target is the container's address on the job's network (the registry's, never an
address the job chose). Every check is bounded: one `timeout` for the whole check
(connect, send, answer), at most READ_CAP bytes read of an answer, and a one-line
`detail` of at most DETAIL_CAP characters (it goes into the registry and the bundle).

  http       `method path` with the check's headers and body; passes when the status is
             `expected_status` ("GET /health -> 200 in 3 ms")
  websocket  connect (the HTTP upgrade), then the first message must be
             `expected_response` (Nosana's check: it sends nothing, waits for that message)
  tcp        (an exposed port without checks) a TCP connect succeeds

`check_port` runs an exposed port's checks in order and stops at the first that fails,
as Nosana's ExposedPortHealthCheck does: at startup all of them, later only the ones
marked `continuous`.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from ...client.jobspec.model import ExposedPort, HealthCheck

__all__ = ["CHECK_TIMEOUT_S", "READ_CAP", "DETAIL_CAP", "run_check", "tcp_check", "check_port", "continuous_checks"]

CHECK_TIMEOUT_S = 3.0
READ_CAP = 64 << 10  # bytes of an answer read (the rest is not waited for)
DETAIL_CAP = 200


def clip(text: str) -> str:
    """One line, at most DETAIL_CAP characters: details go into the bundle."""
    line = " ".join(str(text).split())
    return line if len(line) <= DETAIL_CAP else line[: DETAIL_CAP - 3] + "..."


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


async def tcp_check(target: tuple[str, int], timeout: float = CHECK_TIMEOUT_S) -> tuple[bool, str]:
    host, port = target
    started = time.monotonic()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        return False, f"tcp connect to port {port}: no answer in {timeout:g} s"
    except OSError as exc:
        return False, clip(f"tcp connect to port {port}: {exc.strerror or exc}")
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), timeout)
    except (OSError, asyncio.TimeoutError):
        pass
    return True, f"tcp connect to port {port} in {_ms(started)}"


async def run_check(
    session: aiohttp.ClientSession, target: tuple[str, int], check: HealthCheck, timeout: float = CHECK_TIMEOUT_S
) -> tuple[bool, str]:
    """(passed, detail) of one check; never raises for the service's own failures."""
    try:
        return await asyncio.wait_for(_run(session, target, check, timeout), timeout)
    except asyncio.TimeoutError:
        return False, clip(f"{_what(check)}: no answer in {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return False, clip(f"{_what(check)}: {type(exc).__name__}: {exc}")


def _what(check: HealthCheck) -> str:
    path = check.path if len(check.path) <= 60 else check.path[:57] + "..."  # room in the detail for the outcome
    return f"{check.method} {path}" if check.type == "http" else f"websocket {path}"


def _url(scheme: str, target: tuple[str, int], path: str) -> str:
    host, port = target
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}{path if path.startswith('/') else '/' + path}"


async def _run(session: aiohttp.ClientSession, target: tuple[str, int], check: HealthCheck, timeout: float) -> tuple[bool, str]:
    started = time.monotonic()
    limit = aiohttp.ClientTimeout(total=timeout)
    if check.type == "http":
        async with session.request(
            check.method, _url("http", target, check.path), headers=dict(check.headers),
            data=check.body.encode() if check.body is not None else None,
            allow_redirects=False, timeout=limit,
        ) as response:
            await response.content.read(READ_CAP)  # the answer, capped (a closed body is fine)
            passed = response.status == check.expected_status
            wanted = "" if passed else f", expected {check.expected_status}"
            return passed, clip(f"{_what(check)} -> {response.status}{wanted} in {_ms(started)}")
    if check.type == "websocket":
        async with session.ws_connect(
            _url("ws", target, check.path), headers=dict(check.headers), max_msg_size=READ_CAP,
        ) as ws:  # bounded by run_check's wait_for
            if check.expected_response is None:
                return True, f"{_what(check)}: connected in {_ms(started)}"
            message = await ws.receive(timeout=max(0.0, timeout - (time.monotonic() - started)))
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return False, clip(f"{_what(check)}: no message ({message.type.name.lower()})")
            data = message.data if isinstance(message.data, str) else message.data.decode("utf-8", "replace")
            if data == check.expected_response:
                return True, f"{_what(check)}: expected message in {_ms(started)}"
            return False, clip(f"{_what(check)}: unexpected message {data[:60]!r}")
    return False, f"unknown health check type {check.type!r}"


def continuous_checks(port: ExposedPort) -> tuple[HealthCheck, ...]:
    return tuple(c for c in port.health_checks if c.continuous)


async def check_port(
    session: aiohttp.ClientSession, target: tuple[str, int], port: ExposedPort, *, startup: bool,
    timeout: float = CHECK_TIMEOUT_S,
) -> tuple[bool, str]:
    """An exposed port's checks (all at startup, the continuous ones later), first failure
    first; a port with no checks passes once a TCP connect does."""
    checks = port.health_checks if startup else continuous_checks(port)
    if not checks:
        return await tcp_check(target, timeout)
    detail = ""
    for check in checks:
        passed, detail = await run_check(session, target, check, timeout)
        if not passed:
            return False, detail
    return True, detail
