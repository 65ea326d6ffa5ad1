"""The node API's client side: what a job's poster asks a node's front door
(worker/frontdoor/) about its job, and the signed header that proves it is the poster.

    auth.py       auth_message, auth_header, verify_auth: the one definition of the proof (both sides)
    client.py     NodeApi: info, endpoints, stats, logs, follow_logs (websocket)
    sync.py       SyncNodeApi: the same, blocking
    log_lines.py  LogLine, parse_log_line: the log file's line format
    errors.py     NodeApiError, NodeUnauthorized, NodeUnreachable (CrowdError; the last Transient)

Needs aiohttp and solders only (never docker, pynvml or the worker).
"""

from .auth import DEFAULT_TTL_S, MAX_AHEAD_S, SCHEME, auth_header, auth_message, verify_auth
from .client import NodeApi
from .errors import NodeApiError, NodeUnauthorized, NodeUnreachable
from .log_lines import LogLine, parse_log_line
from .sync import SyncNodeApi

__all__ = [
    "DEFAULT_TTL_S", "MAX_AHEAD_S", "SCHEME", "auth_header", "auth_message", "verify_auth",
    "NodeApi", "SyncNodeApi", "NodeApiError", "NodeUnauthorized", "NodeUnreachable", "LogLine", "parse_log_line",
]
