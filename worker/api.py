"""What the worker offers the `crowd` CLI (and any other front): the only worker names
cli/ imports (tests/test_import_graph.py checks it).

    add_start_arguments(parser)          `crowd node start`'s flags (options.py)
    add_state_dir_option(parser)         --state-dir, for every command that reads the node's folder
    run_daemon(args) -> exit code        the daemon: checks before joining, then the node's run (daemon.py)
    state_dir(given, address) -> Path    the node's state folder: --state-dir, else the default (settings.py)
    await node_status(crowd, market=, state_dir=) -> NodeStatus   entries, running jobs, earnings (status.py)
    await node_report(work_dir=state_dir) -> NodeReport           engine, GPUs, the folder's disk (health.py)

Names load on first use: `crowd --help` builds the `node` parser from options.py alone,
never the daemon, docker or pynvml.
"""

from __future__ import annotations

from ..client.lazy import lazy_attributes

_HOMES = {
    "add_start_arguments": ".options", "add_state_dir_option": ".options",
    "run_daemon": ".daemon",
    "state_dir": ".settings", "default_state_dir": ".settings",
    "node_status": ".status", "NodeStatus": ".status",
    "node_report": ".health", "NodeReport": ".health",
}
__all__ = sorted(_HOMES)

__getattr__ = lazy_attributes(__package__ or "crowdcompute.worker", _HOMES, globals())
