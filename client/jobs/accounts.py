"""Typed views of the jobs program's accounts and events, and the byte offsets of the Job
account's fields (for getProgramAccounts memcmp filters), all computed from the IDL.

anchorpy decodes into its own containers with camelCase-free snake names and enum objects;
these dataclasses turn them into plain values: Pubkeys, bytes, ints and state names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from solders.pubkey import Pubkey

from ..idl import load_idl_json

__all__ = ["Market", "Job", "JobView", "QueueEntry", "Event", "JobStatus", "job_field_offset", "account_discriminator", "ZERO_KEY"]

ZERO_KEY = Pubkey.default()
DISCRIMINATOR_LEN = 8
_SIZES = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8, "publicKey": 32, "bool": 1}


def account_discriminator(name: str) -> bytes:
    import hashlib

    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


def _size(ty: Any, types: dict[str, dict]) -> int:
    if isinstance(ty, str):
        return _SIZES[ty]
    if "array" in ty:
        inner, count = ty["array"]
        return _size(inner, types) * count
    if "defined" in ty:
        defined = types[ty["defined"]]["type"]
        if defined["kind"] == "enum":
            return 1  # unit variants only: one byte
        return sum(_size(f["type"], types) for f in defined["fields"])
    raise ValueError(f"no fixed size for {ty!r}")


@lru_cache(maxsize=None)
def _offsets(account: str) -> dict[str, tuple[int, int]]:
    """field (snake_case) -> (offset in the account data, size), for fixed-size fields."""
    idl = load_idl_json("jobs")
    types = {t["name"]: t for t in idl["types"]}
    fields = next(a for a in idl["accounts"] if a["name"] == account)["type"]["fields"]
    out: dict[str, tuple[int, int]] = {}
    offset = DISCRIMINATOR_LEN
    for f in fields:
        if isinstance(f["type"], dict) and "vec" in f["type"]:
            break
        size = _size(f["type"], types)
        out[_snake(f["name"])] = (offset, size)
        offset += size
    return out


def job_field_offset(name: str) -> int:
    """Offset of a Job field in the account data (discriminator included)."""
    return _offsets("Job")[name][0]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _variant(value: Any) -> str:
    return type(value).__name__


class JobStatus:
    """A job's status as a poster sees it: the account's state, and for an open job whether
    it waits in the queue or runs (the market's queue entry says which)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ENDED = "ended"
    FAILED = "failed"
    CLOSED = "closed"  # the account is gone: cancelled or cleaned
    SETTLED = (DONE, ENDED, FAILED)
    ALL = (QUEUED, RUNNING, DONE, ENDED, FAILED, CLOSED)


@dataclass(frozen=True)
class QueueEntry:
    index: int
    state: str  # Free, QueuedJob, QueuedNode, Running
    job: Pubkey
    node: Pubkey
    since: int
    prev: int
    next: int


@dataclass(frozen=True)
class Market:
    address: Pubkey
    authority: Pubkey
    mint: Pubkey
    vault: Pubkey
    price_per_second: int
    max_timeout: int
    min_stake: int
    retention: int
    max_attempts: int
    max_entries_per_node: int
    state: str  # Open, Closing
    jobs: int
    escrowed: int
    queue_side: str  # Empty, Jobs, Nodes
    queue_len: int
    queue_head: int
    # Staking (ZERO_KEY: none): the config, and what a silent node loses per reclaim, the
    # caller's share of it, and the network fee on every deposit (basis points).
    staking_config: Pubkey
    slash_penalty: int
    reclaim_bounty_bps: int
    fee_bps: int
    entries: tuple[QueueEntry, ...] = field(repr=False)

    @property
    def capacity(self) -> int:
        return len(self.entries)

    @classmethod
    def from_decoded(cls, address: Pubkey, raw: Any) -> Market:
        entries = tuple(
            QueueEntry(i, _variant(e.state), e.job, e.node, e.since, e.prev, e.next) for i, e in enumerate(raw.entries)
        )
        return cls(address, raw.authority, raw.mint, raw.vault, raw.price_per_second, raw.max_timeout, raw.min_stake, raw.retention,
                   raw.max_attempts, raw.max_entries_per_node, _variant(raw.state), raw.jobs, raw.escrowed, _variant(raw.queue.side),
                   raw.queue.len, raw.queue.head, raw.staking_config, raw.slash_penalty, raw.reclaim_bounty_bps, raw.fee_bps, entries)

    @property
    def staking(self) -> Pubkey | None:
        """The staking config, or None."""
        return self.staking_config if self.staking_config != ZERO_KEY else None

    def queue(self) -> list[QueueEntry]:
        """The waiting entries, front first (jobs or nodes: never both)."""
        out: list[QueueEntry] = []
        index = self.queue_head
        while index < len(self.entries) and len(out) < self.queue_len:
            entry = self.entries[index]
            out.append(entry)
            index = entry.next
        return out

    def waiting_nodes(self) -> list[Pubkey]:
        return [e.node for e in self.queue() if e.state == "QueuedNode"]

    def running(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.state == "Running"]

    def to_json(self) -> dict[str, Any]:
        return {
            "address": str(self.address), "authority": str(self.authority), "mint": str(self.mint), "vault": str(self.vault),
            "price_per_second": self.price_per_second, "max_timeout": self.max_timeout, "min_stake": self.min_stake,
            "retention": self.retention, "max_attempts": self.max_attempts, "max_entries_per_node": self.max_entries_per_node,
            "state": self.state.lower(), "jobs": self.jobs, "escrowed": self.escrowed, "capacity": self.capacity,
            "staking_config": str(self.staking) if self.staking else None, "slash_penalty": self.slash_penalty,
            "reclaim_bounty_bps": self.reclaim_bounty_bps, "fee_bps": self.fee_bps,
            "queue": {"side": self.queue_side.lower(), "len": self.queue_len},
            "running": len(self.running()),
        }


@dataclass(frozen=True)
class Job:
    address: Pubkey
    market: Pubkey
    poster: Pubkey
    payer: Pubkey
    definition: bytes
    result: bytes
    node: Pubkey  # set when it settles (finish, end)
    price_per_second: int
    timeout: int
    max_timeout: int
    retention: int
    max_attempts: int
    slash_penalty: int
    reclaim_bounty_bps: int
    fee_bps: int
    deposit: int
    paid: int
    posted_at: int
    closed_at: int
    slot: int
    attempts: int
    state: str  # Open, Done, Ended, Failed

    @classmethod
    def from_decoded(cls, address: Pubkey, raw: Any) -> Job:
        return cls(address, raw.market, raw.poster, raw.payer, bytes(raw.definition), bytes(raw.result), raw.node, raw.price_per_second,
                   raw.timeout, raw.max_timeout, raw.retention, raw.max_attempts, raw.slash_penalty, raw.reclaim_bounty_bps, raw.fee_bps,
                   raw.deposit, raw.paid, raw.posted_at, raw.closed_at,
                   raw.slot, raw.attempts, _variant(raw.state))

    @property
    def is_open(self) -> bool:
        return self.state == "Open"

    def entry(self, market: Market) -> QueueEntry | None:
        """Its queue entry in `market` while open (None once settled)."""
        if not self.is_open or self.slot >= market.capacity:
            return None
        entry = market.entries[self.slot]
        return entry if entry.job == self.address and entry.state in ("QueuedJob", "Running") else None

    def status(self, market: Market | None) -> str:
        if not self.is_open:
            return self.state.lower()
        entry = self.entry(market) if market else None
        return JobStatus.RUNNING if entry is not None and entry.state == "Running" else JobStatus.QUEUED

    def running_node(self, market: Market) -> Pubkey | None:
        entry = self.entry(market)
        return entry.node if entry is not None and entry.state == "Running" else None

    def to_json(self, market: Market | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": str(self.address), "market": str(self.market), "poster": str(self.poster), "payer": str(self.payer),
            "definition": self.definition.hex(), "result": self.result.hex() if any(self.result) else None,
            "node": str(self.node) if self.node != ZERO_KEY else None,
            "price_per_second": self.price_per_second, "timeout": self.timeout, "max_timeout": self.max_timeout,
            "retention": self.retention, "max_attempts": self.max_attempts, "slash_penalty": self.slash_penalty,
            "reclaim_bounty_bps": self.reclaim_bounty_bps, "fee_bps": self.fee_bps, "deposit": self.deposit, "paid": self.paid,
            "posted_at": self.posted_at, "closed_at": self.closed_at or None, "slot": self.slot, "attempts": self.attempts,
            "state": self.state.lower(),
        }
        if market is not None:
            out["status"] = self.status(market)
            entry = self.entry(market)
            if entry is not None and entry.state == "Running":
                out["node"] = str(entry.node)
                out["started_at"] = entry.since
        return out


@dataclass(frozen=True)
class Event:
    """A decoded program event: its IDL name and fields (snake_case)."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class JobView:
    """A job with its market read at the same time: enough to say queued or running."""

    job: Job
    market: Market | None

    @property
    def status(self) -> str:
        return self.job.status(self.market)

    @property
    def node(self) -> Pubkey | None:
        if self.job.node != ZERO_KEY:
            return self.job.node
        return self.job.running_node(self.market) if self.market else None

    def to_json(self) -> dict[str, Any]:
        out = self.job.to_json(self.market)
        out["status"] = self.status
        return out
