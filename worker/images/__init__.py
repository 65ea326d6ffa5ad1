"""The images a node's jobs name: pulled from their registries (when the node pulls) within
a pull timeout and a maximum size, kept in a cache within a disk budget, least recently
used removed first. See cache.py for the order of a pull, problems.py for how one ends.

    cache = ImageCache(engine, budget_bytes, state_file, pull=True, pull_timeout=600, max_size=20 << 30)
    config = await cache.ensure(image)        # the image's Config, or raises ImageProblem

The cache (and the Docker SDK under it) loads on first use of its names, so reading the
record (`crowd node status`) needs no engine client.
"""

from typing import Any

from .problems import ImageMissing, ImageProblem, ImageTooLarge, NoRoom, PullStopped, PullTimedOut, RegistryUnreachable, human
from .record import CACHE_FILE, cache_status, read as read_record
from .reference import Reference

__all__ = [
    "ImageCache", "cache_status", "read_record", "CACHE_FILE", "Reference", "human",
    "IMAGE_CACHE_BUDGET", "MAX_IMAGE_SIZE", "PIN_S", "PULL_TIMEOUT_S",
    "ImageProblem", "ImageMissing", "ImageTooLarge", "NoRoom", "PullStopped", "PullTimedOut", "RegistryUnreachable",
]

_CACHE_NAMES = {"ImageCache", "IMAGE_CACHE_BUDGET", "MAX_IMAGE_SIZE", "PIN_S", "PULL_TIMEOUT_S"}


def __getattr__(name: str) -> Any:
    if name in _CACHE_NAMES:
        from . import cache

        return getattr(cache, name)
    raise AttributeError(name)
