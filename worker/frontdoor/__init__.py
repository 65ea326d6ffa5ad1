"""The node's front door: one aiohttp server for the node API and the reverse proxy to
the ports that service jobs expose (README.md in worker/, "Node API").

    door.py          FrontDoor: the server, and which requests go where
    routing.py       PublicAddress: the public URL, endpoint host names and path form
    proxy.py         Proxy: HTTP streamed both ways, websockets, to the registry's target only
    api.py           the node API's routes (info, endpoints, logs, stats) and the owner check
    feeds.py         JobFeeds: what the node provides about a job (owner, log file, stats)
    engine_feeds.py  EngineFeeds: JobFeeds over the container engine and the log folder
    log_feed.py      a job's log lines from its file: the last MiB, or followed as it grows
    stats.py         an op's stats from the engine's, GPU figures from NVML
"""

from .door import FrontDoor
from .engine_feeds import EngineFeeds
from .feeds import JobFeeds

__all__ = ["FrontDoor", "JobFeeds", "EngineFeeds"]
