"""The node daemon's own settings: where its state lives, what it needs to start, how it
builds its executor. `crowd node health|start|status` all read them from here, so the three
commands look at one state folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MIN_SOL", "EXECUTOR_ENV", "STOP_GRACE_S", "EXECUTOR_RESERVE_S", "default_state_dir", "state_dir"]

MIN_SOL = 10_000_000  # lamports (0.01 SOL): a few thousand transaction fees; less is refused at start

# Tests and embedders may give another executor factory: "module:callable", called as
# factory(work_dir=, log_dir=, gpus=) and returning an object with Executor's interface.
EXECUTOR_ENV = "CROWD_NODE_EXECUTOR"

# The node stops a job itself (its `stop` event) at the settle deadline, which `extend` may
# move, so the executor keeps no reserve of its own; a short grace between SIGTERM and
# SIGKILL keeps a container that ignores SIGTERM within the settle margin (>= 2 s).
STOP_GRACE_S = 1.0
EXECUTOR_RESERVE_S = 0.0


def default_state_dir(node: str | None = None) -> Path:
    """$XDG_STATE_HOME/crowdcompute/node/<address> (default ~/.local/state/...): one folder per
    node key, so two nodes on one host never share a cache; without an address, the folder
    that holds them."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "crowdcompute" / "node"
    return base / node if node else base


def state_dir(given: str | os.PathLike[str] | None, node: str | None) -> Path:
    """The folder `--state-dir` names, else the node's default one."""
    return Path(given).expanduser() if given else default_state_dir(node)
