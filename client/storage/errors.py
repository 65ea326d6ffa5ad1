"""The storage errors, in one place. Each derives from the package's root `CrowdError`
(client/errors.py), so that one `except` catches every error of ours, and also inherits a
stdlib type, so that callers that know nothing of ours (``except ValueError``, ``except
OSError``) still catch them. `StorageUnavailable` is `Transient`: retry loops try again."""

from __future__ import annotations

from ..errors import CrowdError, Transient


class StorageError(CrowdError):
    """Base of every storage error; its message is one line meant for a human."""


class InvalidCid(StorageError, ValueError):
    """A string that is not a CID we can use (a CIDv0, or a CIDv1 of a dag-pb sha2-256 node)."""


class UnknownScheme(StorageError, ValueError):
    """A storage spec whose URL scheme no backend opens (schemes.py lists those that do)."""


class ContentNotFound(StorageError, LookupError):
    """The storage does not hold the content."""


class ContentMismatch(StorageError):
    """The bytes fetched (or the CID a server answered) do not match the CID asked for."""

    def __init__(self, expected: object, actual: object, where: str) -> None:
        super().__init__(f"content mismatch from {where}: asked for {expected}, the bytes have CID {actual}")
        self.expected = expected
        self.actual = actual


class ContentTooLarge(StorageError):
    """More bytes than the limit a caller or a server set."""


class StorageUnavailable(StorageError, Transient, ConnectionError):
    """The storage could not be reached, answered something that is not the kubo RPC, or
    failed on its side (a 5xx answer that is not "not found"): trying again may succeed."""
