"""One health check of an exposed port, run by the node against the endpoint's target.

The target is the container's address on the job's network (the registry's, never an
address the job chose). Every check is bounded: one `timeout` for the whole check
(connect, send, answer), at most READ_CAP bytes read of an answer, and a one-line
`detail` of at most DETAIL_CAP characters (it goes into the registry and the bundle).

  http       `method path` with the check's headers and body; passes when the status is
             `expected_status` ("GET /health -> 200 in 3 ms")
  websocket  the upgrade to a websocket (GET `path` with the check's headers); passes when
             the answer (status line, headers, then the messages the service sends)
             contains `expected_response` (Nosana's node runs `curl --include ws://...`
             and looks for it in the output), or, with none expected, on "101"
  tcp        (an exposed port without checks) a TCP connect succeeds

`check_port` runs an exposed port's checks in order and stops at the first that fails,
as Nosana's ExposedPortHealthCheck does: at startup all of them, later only the ones
marked `continuous`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
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
    except (aiohttp.ClientError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
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
        return await _websocket(target, check, started)
    return False, f"unknown health check type {check.type!r}"


async def _websocket(target: tuple[str, int], check: HealthCheck, started: float) -> tuple[bool, str]:
    """The upgrade by hand (bounded by run_check's wait_for): what curl --include shows is
    the answer's head, then the frames' payloads; at most READ_CAP bytes of it are read."""
    host, port = target
    reader, writer = await asyncio.open_connection(host, port, limit=READ_CAP)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in check.headers if "\r" not in name + value and "\n" not in name + value)
        writer.write((f"GET {check.path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode("latin-1"))
        await writer.drain()
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except asyncio.LimitOverrunError:
            return False, f"{_what(check)}: an answer's head over {READ_CAP} bytes"
        status = head.split("\r\n", 1)[0]
        expected = check.expected_response
        if expected is None:
            passed = " 101" in status
            return passed, clip(f"{_what(check)} -> {status}{'' if passed else ', expected 101'} in {_ms(started)}")
        seen = head
        while expected not in seen and " 101" in status and len(seen) < READ_CAP:
            payload = await _frame(reader, READ_CAP - len(seen))
            if payload is None:  # closed by the service
                break
            seen += payload.decode("utf-8", "replace")
        if expected in seen:
            return True, f"{_what(check)}: expected response in {_ms(started)}"
        return False, clip(f"{_what(check)} -> {status}: no expected response in {len(seen)} characters")
    finally:
        writer.close()


async def _frame(reader: asyncio.StreamReader, room: int) -> bytes | None:
    """One frame's payload (at most `room` bytes of it), None once the service closes."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack(">H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack(">Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4) if second & 0x80 else b""
    if first & 0x0F == 0x8:
        return None
    data = await reader.readexactly(min(size, room))
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return data if first & 0x0F in (0x0, 0x1, 0x2) else b""


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
