"""A stand-in executor for the node-loop tests: each op's command runs as a local process
(`/bin/sh -c`), in order, with the Executor interface the node uses (run, cleanup_job,
leftovers). The chain, the storage and the node are real; only the container is not, so
these tests exercise the loop, settlement and recovery without a container engine. The
e2e tests (test_e2e_*.py) run the real executor with Docker.

Loaded by a node subprocess through CROWD_NODE_EXECUTOR=tests.worker.process_executor:make."""

from __future__ import annotations

import asyncio
import os
import signal
import shutil
import time
from pathlib import Path

from crowdcompute.client.bundle import Bundle, Log, OpRecord, timestamp


def make(*, work_dir: Path, log_dir: Path, gpus: int) -> "ProcessExecutor":
    return ProcessExecutor(work_dir=work_dir, log_dir=log_dir, gpus=gpus)


class ProcessExecutor:
    def __init__(self, *, work_dir: Path, log_dir: Path, gpus: int = 0) -> None:
        self.work_dir = Path(work_dir)
        self.log_dir = Path(log_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    async def run(self, definition, run, *, stop: asyncio.Event | None = None) -> Bundle:
        stop = stop or asyncio.Event()
        folder = self.work_dir / run.job
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pid").write_text("")  # a leftover marker while it runs
        started = time.time()
        records, status = [], "succeeded"
        for op in definition.ops:
            if stop.is_set():
                records.append(OpRecord(op.id, None, "the job was stopped before this op started"))
                status = "stopped"
                continue
            argv = list(op.args.cmd or ())
            t0 = timestamp(time.time())
            proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                        start_new_session=True)  # its own group: kill takes its children too
            (folder / "pid").write_text(str(proc.pid))
            communicate = asyncio.ensure_future(proc.communicate())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait([communicate, stopper], return_when=asyncio.FIRST_COMPLETED)
            error = None
            if not communicate.done():
                os.killpg(proc.pid, signal.SIGKILL)
                error = "stopped: " + ("the deadline" if time.time() >= run.deadline else "the node stopped it")
                status = "stopped"
            stopper.cancel()
            out, err = await communicate
            with (self.log_dir / f"{run.job}.log").open("ab") as f:
                f.write(out + err)
            code = proc.returncode
            if code and status == "succeeded":
                status = "failed"
            records.append(OpRecord(op.id, code, error, t0, timestamp(time.time()), Log.capture(out), Log.capture(err)))
        return Bundle(run.job, run.node, run.definition_cid, status, timestamp(started), timestamp(time.time()), tuple(records))

    async def cleanup_job(self, job: str) -> None:
        shutil.rmtree(self.work_dir / job, ignore_errors=True)

    async def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.work_dir.iterdir() if p.is_dir())
