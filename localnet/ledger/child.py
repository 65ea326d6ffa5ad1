"""A helper process of the server (the ledger writer, the signature verifier) as the event
loop sees it: `python -m MODULE ARGS` with its stdin and stdout as non-blocking pipes.

Plain pipes watched by the loop (add_reader/add_writer), not asyncio's subprocess streams:
what the helper answers is handed to `on_output` in the callback that reads it, instead of
two loop turns later (StreamReader, then the coroutine reading it), and under load every
loop turn is about a millisecond of other requests. What is sent in one loop turn goes out
in one write; a full pipe is drained when it becomes writable again.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
from typing import Callable

__all__ = ["Child"]

PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size


class Child:
    def __init__(self, module: str, args: list[str], *, on_output: Callable[[bytes], None], on_exit: Callable[[int], None]) -> None:
        """`on_output(bytes)` gets whatever the helper wrote, as it arrives; `on_exit(code)`
        is called once the helper has exited (it closed its stdout, then was reaped)."""
        self.command = [sys.executable, "-m", module, *args]
        self.on_output, self.on_exit = on_output, on_exit
        self.process: subprocess.Popen | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: list[bytes] = []  # what was sent in this loop turn
        self._unsent = bytearray()  # what the pipe did not take yet
        self._writing = False
        self._in_fd: int | None = None
        self._out_fd: int | None = None
        self._exited: asyncio.Future | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._in_fd, self._out_fd = self.process.stdin.fileno(), self.process.stdout.fileno()
        try:  # room for what queues up while the helper works (the writer paces its commits)
            fcntl.fcntl(self._in_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (AttributeError, OSError):
            pass  # not Linux, or above the system's limit: the default (64 KiB) still works
        os.set_blocking(self._in_fd, False)
        os.set_blocking(self._out_fd, False)
        self._exited = self._loop.create_future()
        self._loop.add_reader(self._out_fd, self._on_readable)

    @property
    def exited(self) -> bool:
        return self._exited is not None and self._exited.done()

    def send(self, data: bytes) -> None:
        """Queues `data`; everything sent in one loop turn is written at its end."""
        if not self._outbox:
            self._loop.call_soon(self.flush)
        self._outbox.append(data)

    def flush(self) -> None:
        """Writes what is queued now (instead of at the end of the loop turn)."""
        if self._outbox:
            self._unsent += b"".join(self._outbox)
            self._outbox.clear()
        if not self._unsent or self._in_fd is None:
            return
        try:
            sent = os.write(self._in_fd, self._unsent)
        except BlockingIOError:
            sent = 0
        except (BrokenPipeError, OSError):
            self._unsent.clear()  # the helper is gone: its exit is reported by _reap
            return
        del self._unsent[:sent]
        if self._unsent and not self._writing:
            self._writing = True
            self._loop.add_writer(self._in_fd, self._on_writable)

    def _on_writable(self) -> None:
        self._writing = False
        self._loop.remove_writer(self._in_fd)
        self.flush()

    def _on_readable(self) -> None:
        try:
            data = os.read(self._out_fd, 1 << 16)
        except BlockingIOError:
            return
        if data:
            self.on_output(data)
            return
        self._loop.remove_reader(self._out_fd)
        asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        code = await self._loop.run_in_executor(None, self.process.wait)
        try:
            self.on_exit(code)
        finally:
            if not self._exited.done():
                self._exited.set_result(code)

    async def close(self, timeout: float = 30) -> None:
        """Writes what is queued, closes the helper's input (its cue to finish) and waits
        for it to exit; kills it after `timeout` seconds."""
        if self.process is None:
            return
        self.flush()
        while self._unsent and self.process.poll() is None:  # rare: a full pipe at shutdown
            await asyncio.sleep(0.01)
            self.flush()
        if self._writing:
            self._loop.remove_writer(self._in_fd)
            self._writing = False
        self.process.stdin.close()
        self._in_fd = None
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            self._loop.remove_reader(self._out_fd)
        self.process.stdout.close()
