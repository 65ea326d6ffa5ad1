"""What the SDK raises, and the root of everything the package raises on purpose.

`CrowdError` is that root: the storage errors (storage/errors.py), the job-definition errors
(jobspec: `ValidationError`, `LoadError`, `LiteralError`, `RegexError`), `BundleError`
(bundle.py) and the worker's errors derive from it, each also from the stdlib type it
always had (ValueError, ConnectionError, ...). `Transient` marks the failures that trying
again later may cure (a cluster or storage that does not answer); retry loops catch it.
Every message is one line meant for a person; the CLI prints it as is. Input errors
(`InvalidInput`, `InsufficientFunds` and the `NotFound`s) are raised before anything is
signed or sent."""

from __future__ import annotations

__all__ = [
    "CrowdError", "Transient", "InvalidInput", "NotFound", "JobNotFound", "MarketNotFound", "StakingConfigNotFound", "StakeNotFound",
    "NodeProfileMissing", "InsufficientFunds",
    "ClusterUnavailable", "RpcError", "TransactionFailed", "TransactionExpired", "ProgramError", "WaitTimeout",
]


class CrowdError(Exception):
    """Base of every error the package raises on purpose."""


class Transient(CrowdError):
    """Marks a failure that may pass: the same request, tried again later, may succeed.
    Mixed into the errors that are (`ClusterUnavailable(Transient, ConnectionError)`)."""


class InvalidInput(CrowdError, ValueError):
    """An argument, a file or a setting that cannot be used; nothing was sent."""


class NotFound(CrowdError, LookupError):
    def __init__(self, what: str, address: object, message: str | None = None) -> None:
        super().__init__(message or f"{what} not found: {address}")
        self.address = address


class JobNotFound(NotFound):
    def __init__(self, address: object) -> None:
        super().__init__("job", address)


class MarketNotFound(NotFound):
    def __init__(self, address: object) -> None:
        super().__init__("market", address)


class StakingConfigNotFound(NotFound):
    def __init__(self, address: object) -> None:
        super().__init__("staking config", address)


class StakeNotFound(NotFound):
    def __init__(self, address: object, *, owner: object, config: object) -> None:
        super().__init__("stake", address, f"{owner} has no stake under staking config {config}")
        self.owner, self.config = owner, config


class NodeProfileMissing(NotFound):
    """A node has published no profile (PDA ["node_profile", node]), or one older than the
    caller accepts (`updated_at`, `max_age` set): it offers no front door to reach, so a
    service job's poster has no URL for it."""

    def __init__(self, node: object, *, address: object = None, updated_at: int | None = None, max_age: float | None = None) -> None:
        if updated_at is None:
            message = f"node {node} has published no profile; it serves no endpoints"
        else:
            message = (f"node {node}'s profile was last updated at unix time {updated_at}, more than {max_age:g}s ago; "
                       "its URL may be stale (the node is down, or has not republished it)")
        super().__init__("node profile", address if address is not None else node, message)
        self.node, self.updated_at, self.max_age = node, updated_at, max_age


class InsufficientFunds(CrowdError):
    """The wallet cannot pay: checked before sending, so nothing was sent."""

    def __init__(self, message: str, *, needed: int, available: int, unit: str) -> None:
        super().__init__(message)
        self.needed, self.available, self.unit = needed, available, unit


class ClusterUnavailable(Transient, ConnectionError):
    """The RPC (or its websocket) did not answer, or answered something that is not JSON-RPC."""


class RpcError(Transient):
    """The cluster answered a request with a JSON-RPC error (a method it does not offer, a
    limit it enforces). Transient: a node behind a load balancer, or a rate limit, answers
    otherwise later (the worker has always retried it)."""


class TransactionFailed(CrowdError):
    """The cluster refused or failed a transaction for a reason that is not our program's."""

    def __init__(self, message: str, logs: list[str] | None = None) -> None:
        super().__init__(message)
        self.logs = list(logs or [])


class TransactionExpired(TransactionFailed):
    """Sent (and re-sent) but never seen before its blockhash expired: it can no longer land,
    so nothing it asked for happened and the same request may be sent again."""


class ProgramError(TransactionFailed):
    """A program of ours (jobs or staking) failed with one of its IDL errors: `code` (6000+,
    numbered per program), `name`, `message`."""

    def __init__(self, code: int, name: str, message: str, logs: list[str] | None = None) -> None:
        super().__init__(f"{name} ({code}): {message}", logs)
        self.code, self.name, self.message = code, name, message


class WaitTimeout(CrowdError, TimeoutError):
    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g}s waiting for {what}")
