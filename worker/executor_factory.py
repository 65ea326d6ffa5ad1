"""The daemon's executor: the container Executor with the node's settings, or the factory
that $CROWD_NODE_EXECUTOR names (tests and embedders: settings.EXECUTOR_ENV)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from .settings import EXECUTOR_ENV, EXECUTOR_RESERVE_S, STOP_GRACE_S

__all__ = ["make_executor", "custom_executor", "images_options", "images_line"]


def custom_executor() -> bool:
    """Whether $CROWD_NODE_EXECUTOR replaces the container executor (then no engine is needed)."""
    return bool(os.environ.get(EXECUTOR_ENV))


def images_options(args: Any, state_dir: Path) -> dict[str, Any]:
    """The Executor's image arguments from `crowd node start`'s flags: the node pulls unless
    --no-pull; its record in the state folder (where `crowd node status` reads it)."""
    from .images import CACHE_FILE, IMAGE_CACHE_BUDGET, MAX_IMAGE_SIZE, PULL_TIMEOUT_S

    def given(name: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    return {"pull": getattr(args, "pull", True), "pull_timeout": float(given("pull_timeout", PULL_TIMEOUT_S)),
            "max_image_size": given("max_image_size", MAX_IMAGE_SIZE), "image_cache": given("image_cache", IMAGE_CACHE_BUDGET),
            "image_record": Path(state_dir) / CACHE_FILE}


def images_line(options: dict[str, Any]) -> str:
    """What the node does with images, one line for its start."""
    from .images import human

    cache = f"cache of {human(options['image_cache'])} in {options['image_record']}"
    if not options["pull"]:
        return f"not pulled (--no-pull): jobs run only images already here; {cache}"
    return (f"pulled when missing, without credentials (timeout {options['pull_timeout']:g} s, at most "
            f"{human(options['max_image_size'])} each); {cache}")


def make_executor(*, work_dir: Path, log_dir: Path, gpus: int, node: str, max_ops: int | None = None,
                  disk_budget: int | None = None, endpoints: Any = None, allow_egress: bool = False,
                  endpoint_url: Any = None, images: dict[str, Any] | None = None,
                  resources: dict[str, Any] | None = None, allow_private_sources: tuple[str, ...] = ()) -> Any:
    """`resources`: make_cache's settings (worker/resources), state_dir among them;
    `allow_private_sources`: hosts a job may name although not public (--allow-private-source)."""
    spec = os.environ.get(EXECUTOR_ENV)
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)(work_dir=work_dir, log_dir=log_dir, gpus=gpus)
    from .engine import Engine
    from .executor import Executor

    # `node` labels its containers: leftovers() and clean-up after a restart touch only this
    # node's, never another node's sharing the engine.
    extra = {k: v for k, v in (("max_ops", max_ops), ("disk_budget", disk_budget)) if v is not None}
    # The node removes what a job left once it is settled (JobTask's clean-up), so the
    # executor does not first (clean_after_run).
    # `endpoints`: the table the front door serves (services_setup.py); `allow_egress`: --allow-egress.
    from .resources import make_cache
    from .source_policy import SourcePolicy

    engine = Engine()
    # One policy for every host a job names: its image's registry and its S3 URLs.
    policy = SourcePolicy(allow_private_sources)
    cache = make_cache(engine, node=node, policy=policy, **resources) if resources is not None else None
    return Executor(engine, resources=cache, source_policy=policy, work_dir=work_dir, log_dir=log_dir, gpus=gpus, stop_grace=STOP_GRACE_S, reserve=EXECUTOR_RESERVE_S,
                    node=node, clean_after_run=False, endpoints=endpoints, allow_egress=allow_egress,
                    endpoint_url=endpoint_url, **extra, **(images or {}))
