"""What the node API client raises: all under the package's root, `CrowdError`."""

from __future__ import annotations

from ..errors import CrowdError, Transient

__all__ = ["NodeApiError", "NodeUnauthorized", "NodeUnreachable"]


class NodeApiError(CrowdError):
    """The node answered, but not with what was asked (an error status, a body that is not
    the API's JSON). `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NodeUnauthorized(NodeApiError, PermissionError):
    """The node refused the request's signature (HTTP 401), or the signature check failed
    on the node's side (`verify_auth`): missing, malformed, expired, another wallet's, or
    made for another job or node. The message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 401)


class NodeUnreachable(Transient, NodeApiError, ConnectionError):
    """No answer from the node in time (refused, reset, timed out)."""
