"""The node API's proof of ownership: one definition, used by the poster's client (to sign)
and by the node's front door (to check).

A job's logs, stats and private endpoints are its poster's only. The poster signs, with
the wallet that posted the job, a short message naming the job, the node and an expiry:

    crowdcompute node api v1
    job <job address>
    node <node address>
    expires <unix seconds>

and sends it as one header:

    Authorization: CrowdSig <signer address>:<expires>:<signature, base58>

(a browser's WebSocket cannot set headers: the same value may come as the query parameter
`auth`). The node accepts it when the signer is the job's poster, the signature is over
this job and this node, and the expiry is in the future but at most MAX_AHEAD_S ahead, so
a header seen by someone else (plain-HTTP nodes) works for that job on that node for ten
minutes at most. Job and node names are addresses (base58; `-` and `_` are let through too, never a
colon, a space or a newline), so the message and the header
each have one reading.
"""

from __future__ import annotations

import time

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from .errors import NodeUnauthorized

__all__ = ["SCHEME", "QUERY_PARAMETER", "MAX_AHEAD_S", "DEFAULT_TTL_S", "auth_message", "auth_header", "verify_auth"]

SCHEME = "CrowdSig"
QUERY_PARAMETER = "auth"  # the header's value, for clients that cannot set headers (browsers' WebSocket)
MAX_AHEAD_S = 600  # the node refuses an expiry further ahead: a leaked header dies soon
DEFAULT_TTL_S = 120
HEADER_CAP = 512  # a real header is about 150 characters; longer ones are not parsed


def _name(what: str, value: str) -> str:
    if not value or len(value) > 64 or not value.isascii() or not value.replace("-", "").replace("_", "").isalnum():
        raise NodeUnauthorized(f"{what} {value[:80]!r} is not an address")
    return value


def auth_message(job: str, node: str, expires: int) -> bytes:
    """The bytes the poster's wallet signs (ed25519)."""
    return (
        f"crowdcompute node api v1\njob {_name('job', job)}\nnode {_name('node', node)}\nexpires {int(expires)}"
    ).encode()


def auth_header(keypair: Keypair, job: str, node: str, expires: int | None = None) -> str:
    """The `Authorization` value proving `keypair` (the job's poster) asks, valid until
    `expires` (unix seconds; default: DEFAULT_TTL_S from now)."""
    expires = int(time.time()) + DEFAULT_TTL_S if expires is None else int(expires)
    signature = keypair.sign_message(auth_message(job, node, expires))
    return f"{SCHEME} {keypair.pubkey()}:{expires}:{signature}"


def verify_auth(header: str | None, job: str, node: str, owner: str | None, now: float) -> None:
    """None when `header` proves that `owner` asks about `job` on `node` at `now`; else
    NodeUnauthorized, whose message says what is wrong."""
    if owner is None:
        raise NodeUnauthorized(f"job {job} does not run on this node")
    if not header:
        raise NodeUnauthorized(f"missing Authorization header ({SCHEME} <signer>:<expires>:<signature>)")
    if len(header) > HEADER_CAP:
        raise NodeUnauthorized(f"Authorization header longer than {HEADER_CAP} characters")
    scheme, _, token = header.strip().partition(" ")
    if scheme != SCHEME:
        raise NodeUnauthorized(f"Authorization scheme must be {SCHEME}, not {scheme[:20]!r}")
    parts = token.strip().split(":")
    if len(parts) != 3:
        raise NodeUnauthorized(f"malformed Authorization header: expected {SCHEME} <signer>:<expires>:<signature>")
    signer_text, expires_text, signature_text = parts
    try:
        signer = Pubkey.from_string(signer_text)
        signature = Signature.from_string(signature_text)
        expires = int(expires_text)
    except ValueError as exc:
        raise NodeUnauthorized(f"malformed Authorization header: {exc}") from exc
    if str(signer) != owner:
        raise NodeUnauthorized(f"signed by {signer}, but job {job} is {owner}'s")
    if expires <= now:
        raise NodeUnauthorized(f"signature expired {now - expires:.0f} s ago")
    if expires > now + MAX_AHEAD_S:
        raise NodeUnauthorized(f"signature expires {expires - now:.0f} s from now; this node accepts at most {MAX_AHEAD_S} s")
    if not signature.verify(signer, auth_message(job, node, expires)):
        raise NodeUnauthorized(f"signature is not {signer}'s over job {job} on node {node}")
