"""The worker node's container side: run jobs in confined containers, report the node's health.

    engine.py       the container engine (Docker or Podman) through the Docker SDK, off the loop
    executor.py     Executor.run(definition, JobRun) -> Bundle; cleanup_job, leftovers
    containers.py   an op's container: names, labels, mounts, limits, confinement
    logs.py         streamed logs: capped for the bundle, results, the job's log file
    outputs.py      declared output files copied out of exited containers
    limits.py       the node's default and ceiling limits
    nvml.py         GPUs through NVML (pynvml)
    health.py       NodeReport: engine, GPUs, disk
    requirements.py why a job or market cannot run on this node
    local_image.py  crowdcompute/busybox:local for tests and the demo

    node.py         the daemon: recovery at start, assignments, re-entering, shutdown
    watcher.py      assignment discovery: accountSubscribe on the market and running jobs
    job_task.py     one job: definition, refusal, run, deadline, bundle, finish or quit
    chain.py        work, leave, finish, quit: chain state checked first, retries
    recovery.py     the local cache (bundles about to settle, node.json) and restart rules
    daemon.py       `crowd node start`: checks before joining, logging, signals
    options.py      the daemon's flags; settings.py its defaults (state folder, SOL, executor)
    executor_factory.py  the daemon's executor (or $CROWD_NODE_EXECUTOR's)
    status.py       `crowd node status`: entries, running jobs, earnings, health
    api.py          what the `crowd` CLI uses of the worker, and all it imports of it

README.md in this folder documents the limits and what a hostile job meets. This package
needs the `worker` extra (docker, pynvml); crowdcompute.client never imports it, and it never
imports crowdcompute.cli.
"""
