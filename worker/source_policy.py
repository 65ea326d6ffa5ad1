"""Where the node's own requests for a job may go: public addresses only.

A poster names hosts the node then contacts from the host itself, not from the job's fenced
network: the registry of a job's image (its manifest is read before the pull), the token
realm and the redirects that registry answers with, and the host of an `https://` S3
resource. Without a rule, a job could name the cloud's metadata service
(169.254.169.254), the node's own storage or RPC on loopback, or a service on the
operator's LAN, and have the answer downloaded into its own volume (an S3 resource) or
sent on as a bearer token to a registry it controls. So every such request goes only to
globally routable addresses: never loopback, private (RFC 1918, ULA), link-local,
shared (CGNAT), multicast or reserved ones, unless the operator names the host
(`--allow-private-source HOST[:PORT]`, repeatable: a registry or a mirror on its own
network, and the tests' servers on loopback).

Sources the operator configures (`--s3-endpoint`, `--hf-endpoint`, `--ollama-registry`)
are the operator's choice and are not checked. Redirects are followed by hand, each hop
checked. A host name is resolved and every address it has must be public; the connection
then resolves again, so a name that changes its answer in between (DNS rebinding) could
still pass once: left for a resolver pinned per connection.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Iterable
from urllib.parse import urlsplit

from ..client.errors import CrowdError

__all__ = ["SourcePolicy", "SourceRefused", "MAX_REDIRECTS"]

MAX_REDIRECTS = 5


class SourceRefused(CrowdError):
    """A job named a host the node does not contact for it."""


class SourcePolicy:
    def __init__(self, allowed: Iterable[str] = ()) -> None:
        """`allowed`: "host" (any port) or "host:port" the operator lets through although
        not public."""
        self.allowed = frozenset(a.strip().lower() for a in allowed if a.strip())

    def check_url(self, url: str) -> None:
        """Raises SourceRefused unless `url` is http(s) to a public address or an allowed host.
        Blocking (it may resolve a name): run it off the event loop."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceRefused(f"{_shown(url)}: only http(s) URLs with a host are fetched")
        self.check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    def check_host(self, host: str, port: int) -> None:
        host = host.strip("[]").lower()
        if host in self.allowed or f"{host}:{port}" in self.allowed or f"[{host}]:{port}" in self.allowed:
            return
        try:
            addresses = {ipaddress.ip_address(host)}
        except ValueError:
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise SourceRefused(f"{host}: the name does not resolve ({exc.strerror or exc})") from None
            addresses = {ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found}
        private = sorted(str(a) for a in addresses if not public(a))
        if private:
            raise SourceRefused(f"{host} is not a public address ({', '.join(private)}): the node fetches nothing for a job "
                                "from its own host, its network or the cloud's metadata service (an operator may allow a "
                                "host with --allow-private-source)")


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "..."
