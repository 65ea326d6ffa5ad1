"""Helpers for the worker tests: node daemons as real subprocesses (so kill -9 is real),
job definitions, and waits on chain state; the storage server thread is tests/storage's."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.keypair import write_keypair
from tests.storage.storage_thread import StorageThread  # noqa: F401 - also imported from here

REPO = Path(__file__).resolve().parents[2]


def job(*ops: dict) -> dict:
    """A Nosana-format definition with these ops."""
    return {"version": "0.1", "type": "container", "ops": list(ops)}


def op(op_id: str, cmd, *, image: str = "crowdcompute/busybox:local", **extra) -> dict:
    return {"type": "container/run", "id": op_id, "args": {"image": image, "cmd": cmd, **extra}}


CROWD = "import sys; from crowdcompute.cli import main; sys.exit(main())"  # the `crowd` console script (also `-m crowdcompute.cli`)


class Worker:
    """`python -m crowdcompute.worker` (or, with cli=True, `crowd node start`) as a
    subprocess, its log in a file."""

    def __init__(self, tmp: Path, url: str, keypair: Keypair, market: Pubkey, storage: str, *, name: str = "worker",
                 executor: str | None = "tests.worker.process_executor:make", gpus: str = "0", state_dir: Path | None = None,
                 extra: tuple[str, ...] = (), cli: bool = False, answer: str | None = None) -> None:
        """`answer`: typed on the process's stdin (then closed), for its prompts."""
        self.keypair = keypair
        self.answer = answer
        self.keyfile = write_keypair(keypair, tmp / f"{name}.json")
        self.state_dir = state_dir or tmp / f"{name}-state"
        self.logfile = tmp / f"{name}.log"
        command = [sys.executable, "-c", CROWD, "node", "start"] if cli else [sys.executable, "-m", "crowdcompute.worker"]
        self.args = [*command, "--market", str(market), "-u", url, "-k", str(self.keyfile),
                     "--storage", storage, "--state-dir", str(self.state_dir), "--gpus", gpus, *extra]
        self.env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        if executor:
            self.env["CROWD_NODE_EXECUTOR"] = executor
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def pubkey(self) -> Pubkey:
        return self.keypair.pubkey()

    def start(self) -> None:
        log = self.logfile.open("ab")
        stdin = subprocess.PIPE if self.answer is not None else None
        self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdin=stdin, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if self.answer is not None:
            self.proc.stdin.write(self.answer.encode())
            self.proc.stdin.close()

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 60, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}) before {pattern!r}:\n{text[-4000:]}")
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the worker's log within {timeout}s:\n{self.log()[-4000:]}")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


async def wait_until(check, timeout: float = 60, interval: float = 0.2):
    """Polls an async `check()` until it returns a truthy value (tests only: the node itself
    never polls like this)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(interval)


async def entries_of(url: str, market: Pubkey, node: Pubkey) -> tuple[list, list]:
    from crowdcompute.worker.chain import MyEntries

    async with CrowdClient(url) as crowd:
        mine = MyEntries.of(await crowd.get_market(market), node)
    return list(mine.running), list(mine.waiting)
