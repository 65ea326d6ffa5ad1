"""What the node keeps on disk, and how a restart decides each job's fate.

The chain is the truth; the disk is a cache that only saves work. Per job the node keeps the
bundle bytes it is about to settle with (`jobs/<job>.bundle`), written before the bundle is
stored and `finish` sent, removed once the job is settled (by us or anyone). A restart with
that file (and the job still running on this node) stores it again (content-addressed: the
same bytes give the same CID) and finishes; without it (crashed mid-run, or an empty
folder) the job is re-run only when the node is back within `rerun_grace` of the job's
on-chain start, else quit (back to the queue, unpaid, to another node).

Why: `finish` pays price x (now - the on-chain start), and a crash does not move that
start. A re-run after a long crash would charge the poster for the crashed run and the
downtime too (a 3-second job re-run after two crashes cost 13 seconds). So the node re-runs
only when that overhead is small (at most rerun_grace: a tenth of the timeout, 2 to 30 s);
otherwise it gives the job back, and the next node's run starts a fresh on-chain clock:
the poster pays for one run. What a node that crashed cannot do without the chain's help
is charge less than the elapsed time; docs/architecture.md says what would.
Nothing here can pay twice: `finish` and `quit` check the chain first (chain.py), and the
program refuses a second settlement.

`node.json` is the daemon's status for `crowd node status` (pid, market, jobs, earnings
so far, last problem), rewritten atomically on each change.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ..client.bundle import Bundle, BundleError

__all__ = ["LocalState", "rerun_allowed", "rerun_grace", "RERUN_FRACTION", "settle_margin"]

RERUN_FRACTION = 0.5


def settle_margin(timeout: int) -> float:
    """Seconds kept before the on-chain deadline to store the bundle and send `finish`: a
    tenth of the timeout, at least 2 s (a confirmed transaction on a real cluster takes
    about 1 s), at most 30 s."""
    return min(30.0, max(2.0, 0.1 * timeout))


def rerun_grace(timeout: int) -> float:
    """Seconds after the on-chain start within which a restarted node may still re-run a
    job (what the poster may pay beyond the run itself): the settle margin's size."""
    return settle_margin(timeout)


def rerun_allowed(started_at: float, timeout: int, now: float | None = None) -> bool:
    """Whether a node restarted without the job's bundle re-runs it (else it quits it):
    back within rerun_grace of the start, with at least RERUN_FRACTION of the timeout left."""
    now = time.time() if now is None else now
    left = started_at + timeout - settle_margin(timeout) - now
    return now - started_at <= rerun_grace(timeout) and left >= RERUN_FRACTION * timeout


class LocalState:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        (self.folder / "jobs").mkdir(parents=True, exist_ok=True)

    # -- bundles about to be settled -----------------------------------------------------
    def _bundle_path(self, job: str) -> Path:
        return self.folder / "jobs" / f"{job}.bundle"

    def save_bundle(self, job: str, data: bytes) -> None:
        _write_atomic(self._bundle_path(job), data)

    def load_bundle(self, job: str) -> bytes | None:
        """The saved bundle of `job`, if it is a valid bundle of that job (a torn or foreign
        file is ignored and the job re-run or quit as if there were none)."""
        try:
            data = self._bundle_path(job).read_bytes()
            if Bundle.from_bytes(data).job == job:
                return data
        except (OSError, BundleError):
            pass
        return None

    def forget(self, job: str) -> None:
        try:
            self._bundle_path(job).unlink()
        except FileNotFoundError:
            pass

    def saved_jobs(self) -> list[str]:
        return sorted(p.name[: -len(".bundle")] for p in (self.folder / "jobs").glob("*.bundle"))

    # -- the daemon's status -------------------------------------------------------------
    def write_status(self, status: dict[str, Any]) -> None:
        _write_atomic(self.folder / "node.json", json.dumps(status, sort_keys=True, indent=1).encode())

    def read_status(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder / "node.json").read_text())
        except (OSError, ValueError):
            return None


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
