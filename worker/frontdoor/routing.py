"""Which requests go to an endpoint, and the URLs the node API gives for one.

A node with a wildcard DNS record serves endpoint E at `E.<public host>` (its own origin:
web apps work unchanged); every node also serves it at `<public URL>/e/E/` (the prefix is
stripped before proxying), for nodes without a wildcard record or behind an IP address.
Everything else is the node API. The Host header only picks WHICH endpoint: where a
request is sent is always the registry's target for that endpoint.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["PublicAddress", "PATH_PREFIX"]

PATH_PREFIX = "/e/"


@dataclass(frozen=True)
class PublicAddress:
    """The node's public URL, as posters reach it (`--public-url`)."""

    scheme: str
    host: str  # lowercase, no port, no trailing dot
    port: int | None  # None for the scheme's default
    base_path: str  # "" or "/prefix": a node behind a path of a shared host (whose proxy strips it)

    @classmethod
    def parse(cls, public_url: str) -> PublicAddress:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"public_url must be http(s)://host[:port], not {public_url!r}")
        default = 443 if parts.scheme == "https" else 80
        port = parts.port if parts.port not in (None, default) else None
        return cls(parts.scheme, parts.hostname.lower().rstrip("."), port, parts.path.rstrip("/"))

    @property
    def wildcard(self) -> bool:
        """Whether endpoints get host names: not under an IP address (no DNS to wildcard)."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return True
        return False

    def origin(self, host: str | None = None) -> str:
        host = host or self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port else "")

    def url(self) -> str:
        return self.origin() + self.base_path

    def host_url(self, endpoint: str) -> str | None:
        return self.origin(f"{endpoint}.{self.host}") + "/" if self.wildcard else None

    def path_url(self, endpoint: str) -> str:
        return f"{self.url()}{PATH_PREFIX}{endpoint}/"

    def endpoint_of_host(self, host_header: str | None) -> str | None:
        """The endpoint id a Host header names (`<id>.<public host>`), else None."""
        if not host_header or not self.wildcard:
            return None
        host = host_header.strip().lower()
        if host.startswith("["):
            return None  # an IPv6 literal names no endpoint
        host = host.rsplit(":", 1)[0] if ":" in host else host
        host = host.rstrip(".")
        suffix = "." + self.host
        if not host.endswith(suffix):
            return None
        label = host[: -len(suffix)]
        return label if label and "." not in label else None


def endpoint_of_path(path: str) -> tuple[str, str] | None:
    """(endpoint id, the rest of the path, from its "/") for `/e/<id>/rest`, else None.
    `/e/<id>` alone gives rest "" (the door redirects to `/e/<id>/`)."""
    if not path.startswith(PATH_PREFIX):
        return None
    endpoint, slash, rest = path[len(PATH_PREFIX):].partition("/")
    if not endpoint:
        return None
    return endpoint.lower(), slash + rest
