"""Account subscriptions over Solana's PubSub websocket, the one client the SDK's waits and the
worker's watcher share: accountSubscribe / accountUnsubscribe by address (base64, at one
commitment), each change handed on as an `AccountUpdate` (the account's data, owner and
lamports, and the slot; data None when there is no account: never created, or closed, which
the cluster notifies as 0 lamports owned by the System program).

    async with AccountSubscriptions.of(crowd) as subscriptions:
        await subscriptions.subscribe(address)
        async for update in subscriptions:      # or on_update=callback, or changes()
            ...

Nothing is lost across a drop: every subscription is answered by one read of its account
(getMultipleAccounts) once the cluster confirms it, so a change made before it took effect
(or while the websocket was down) is read; the websocket reconnects with backoff and
subscribes to every address again. While it is down, every address is read each `poll_s`
(and at once after a drop); while it is up, each `recheck_s` (a notification lost on the
way costs at most that). An update never goes back in time: one of a slot older than what
was handed on for its address is dropped. Reads and notifications are handled by one task,
in the order they come, so a notification that follows a read is never hidden by it.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

import websockets
from solana.rpc.commitment import Commitment
from solders.pubkey import Pubkey

from ..errors import ClusterUnavailable, RpcError

if TYPE_CHECKING:
    from .chain import RpcChain
    from ..core import ClientCore

__all__ = ["AccountSubscriptions", "AccountUpdate", "OnUpdate", "POLL_S", "RECHECK_S"]

log = logging.getLogger("crowdcompute.client.rpc.subscriptions")
log.addHandler(logging.NullHandler())  # a dApp that configures no logging sees no warnings on stderr

POLL_S = 5.0  # every read while the websocket is down
RECHECK_S = 30.0  # every read while it is up: a safety net for a lost notification
FIRST_RETRY_S, MAX_RETRY_S = 0.2, 10.0  # reconnection backoff, doubled after each failure
READ_CHUNK = 100  # getMultipleAccounts' limit on agave


@dataclass(frozen=True)
class AccountUpdate:
    """An account as the cluster had it at `slot` (a notification or a read)."""

    address: Pubkey
    slot: int
    data: bytes | None  # None: no account at this address
    owner: Pubkey | None
    lamports: int

    @property
    def exists(self) -> bool:
        return self.data is not None


OnUpdate = Callable[[AccountUpdate], "Awaitable[None] | None"]
_CLOSED = object()  # ends the iterator


class AccountSubscriptions:
    def __init__(self, chain: RpcChain, ws_url: str, *, commitment: str, on_update: OnUpdate | None = None,
                 poll_s: float = POLL_S, recheck_s: float = RECHECK_S) -> None:
        """`chain` reads (the poll fallback, and the read after each subscription);
        `on_update`: called with each update, in order, one at a time (sync or async; what
        it raises is logged, never stops the subscriptions); without it, iterate over the
        subscriptions (or call `changes()`)."""
        self.chain = chain
        self.ws_url = ws_url
        self.commitment = commitment
        self.on_update = on_update
        self.poll_s = poll_s
        self.recheck_s = recheck_s
        self.connected = asyncio.Event()  # set while the websocket is up and subscribed
        self.addresses: set[Pubkey] = set()
        self._updates: asyncio.Queue = asyncio.Queue()
        self._ws: Any = None
        self._closed = False
        self._runner: asyncio.Task | None = None
        self._wake = asyncio.Event()  # a new address to read while polling
        self._ids = itertools.count(1)
        # This connection's subscriptions: request id -> address, subscription id <-> address.
        self._requests: dict[int, Pubkey] = {}
        self._address_of: dict[int, Pubkey] = {}
        self._subscription_of: dict[Pubkey, int] = {}
        self._answered: set[Pubkey] = set()  # the cluster answered its subscribe: safe to read
        self._unread: set[Pubkey] = set()  # to read at the next chance
        self._slots: dict[Pubkey, int] = {}  # the newest slot queued per address
        self._next_poll = 0.0  # loop time of the next read of everything while disconnected

    @classmethod
    def of(cls, crowd: ClientCore, **options: Any) -> AccountSubscriptions:
        """At the client's cluster (its ws_url) and commitment."""
        return cls(crowd.chain, crowd.cluster.ws_url, commitment=crowd.commitment, **options)

    async def __aenter__(self) -> AccountSubscriptions:
        self._runner = asyncio.create_task(self.run(), name="account-subscriptions")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what to watch -------------------------------------------------------------------
    async def subscribe(self, address: Pubkey) -> None:
        """Watches `address` (which may not exist yet); its current state comes as an update
        too, once the subscription holds (or at once while the websocket is down)."""
        if address in self.addresses:
            return
        self.addresses.add(address)
        self._unread.add(address)
        if self._ws is None:
            self._wake.set()
            return
        try:
            await self._send_subscribe(address)
        except websockets.ConnectionClosed:
            pass  # the reconnection subscribes to every address

    async def unsubscribe(self, address: Pubkey) -> None:
        """No update of `address` is handed on after this returns."""
        self.addresses.discard(address)
        for table in (self._answered, self._unread):
            table.discard(address)
        self._slots.pop(address, None)
        subscription = self._subscription_of.pop(address, None)
        if subscription is not None:
            self._address_of.pop(subscription, None)
            await self._send_unsubscribe(subscription)

    # -- updates -------------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[AccountUpdate]:
        return self

    async def __anext__(self) -> AccountUpdate:
        update = await self._next()
        if update is None:
            raise StopAsyncIteration
        return update

    async def changes(self) -> list[AccountUpdate]:
        """Waits for the next update, and returns it with every other already queued (for a
        caller that reads afresh once per batch of changes)."""
        first = await self._next()
        if first is None:
            raise RuntimeError("the subscriptions are closed")
        batch = [first]
        while not self._updates.empty():
            update = await self._next()
            if update is None:
                break
            batch.append(update)
        return batch

    async def _next(self) -> AccountUpdate | None:
        while True:
            update = await self._updates.get()
            if update is _CLOSED:
                self._updates.put_nowait(_CLOSED)  # for every other waiter
                return None
            if update.address in self.addresses:  # not unsubscribed since it was queued
                return update

    def _queue(self, update: AccountUpdate) -> None:
        if update.slot < self._slots.get(update.address, -1):
            return  # older than what was handed on already
        self._slots[update.address] = update.slot
        self._updates.put_nowait(update)

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        """Connects, subscribes, reconnects after a drop and polls while it cannot, until
        close(). With `on_update`, hands each update to it."""
        dispatcher = asyncio.create_task(self._dispatch()) if self.on_update is not None else None
        delay = FIRST_RETRY_S
        try:
            while not self._closed:
                try:
                    async with websockets.connect(self.ws_url, open_timeout=5, max_size=None, ping_interval=20, ping_timeout=20) as ws:
                        await self._subscribe_all(ws)
                        if delay != FIRST_RETRY_S:
                            log.info("websocket %s connected again: subscriptions restored", self.ws_url)
                        delay = FIRST_RETRY_S
                        self.connected.set()
                        await self._receive(ws)
                except (OSError, asyncio.TimeoutError, websockets.WebSocketException, ValueError) as exc:  # ValueError: not JSON
                    if not self._closed:
                        log.warning("websocket %s unusable (%s: %s); polling every %gs, reconnecting in %.1fs", self.ws_url,
                                    type(exc).__name__, _short(exc), self.poll_s, delay)
                finally:
                    if self.connected.is_set():
                        self._next_poll = 0.0  # it was up: read everything at once
                    self._forget_connection()
                if self._closed:
                    break
                await self._poll_for(delay)
                delay = min(MAX_RETRY_S, delay * 2)
        finally:
            if dispatcher is not None:
                dispatcher.cancel()

    async def close(self) -> None:
        """Stops run() (the flag ends its loop even if a cancellation is lost inside a
        wait_for, as asyncio before 3.12 can) and ends the iteration."""
        self._closed = True
        self._wake.set()
        self._updates.put_nowait(_CLOSED)
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.wait([self._runner], timeout=5)

    async def _dispatch(self) -> None:
        while (update := await self._next()) is not None:
            try:
                result = self.on_update(update)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # the subscriber's bug: the next update still comes
                log.exception("on_update failed for %s", update.address)

    async def _subscribe_all(self, ws: Any) -> None:
        self._ws = ws
        self._unread |= self.addresses  # anything may have changed while it was down
        for address in list(self.addresses):
            await self._send_subscribe(address)

    def _forget_connection(self) -> None:
        self._ws = None
        self.connected.clear()
        self._requests.clear()
        self._address_of.clear()
        self._subscription_of.clear()
        self._answered.clear()

    async def _receive(self, ws: Any) -> None:
        loop = asyncio.get_running_loop()
        recheck_at = loop.time() + self.recheck_s
        retry_at = 0.0  # after a failed read
        while not self._closed:
            now = loop.time()
            if now >= recheck_at:
                self._unread |= self.addresses
                recheck_at = now + self.recheck_s
            ready = self._unread & self._answered
            if ready and now >= retry_at:
                if not await self._read(ready):
                    retry_at = now + self.poll_s
                continue
            until = min(recheck_at, retry_at) if ready else recheck_at
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.0, until - now))
            except asyncio.TimeoutError:
                continue
            self._received(json.loads(raw))

    def _received(self, message: object) -> None:
        if not isinstance(message, dict):
            return  # we send no batches: nothing of ours
        if "id" in message:  # the answer to a subscribe (an unsubscribe's needs nothing)
            address = self._requests.pop(message["id"], None)
            if address is None:
                return
            subscription = message.get("result")
            if "result" not in message:
                log.warning("accountSubscribe %s refused: %s", address, message.get("error"))
            elif address not in self.addresses or address in self._subscription_of:
                # unsubscribed (or subscribed twice) while the request was on its way
                asyncio.ensure_future(self._send_unsubscribe(subscription))
                return
            else:
                self._address_of[subscription] = address
                self._subscription_of[address] = subscription
            self._answered.add(address)  # refused or not, it is read (then at each recheck)
            return
        params = message.get("params") or {}
        address = self._address_of.get(params.get("subscription"))
        if address is None:
            return
        result = params.get("result") or {}
        self._queue(_from_notification(address, (result.get("context") or {}).get("slot", 0), result.get("value")))

    async def _poll_for(self, seconds: float) -> None:
        """The fallback while disconnected, for `seconds`: every address is read each
        poll_s, a new one at once; a failed read waits for the next poll."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self._closed and loop.time() < end:
            if loop.time() >= self._next_poll:
                self._unread |= self.addresses
                self._next_poll = loop.time() + self.poll_s
            self._wake.clear()
            if self._unread:
                await self._read(set(self._unread))
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(end, self._next_poll) - loop.time()))
            except asyncio.TimeoutError:
                pass

    async def _read(self, addresses: set[Pubkey]) -> bool:
        """Reads `addresses` (getMultipleAccounts) and queues what it finds; False when the
        cluster did not answer (they stay unread)."""
        ordered = list(addresses)
        for start in range(0, len(ordered), READ_CHUNK):
            chunk = ordered[start:start + READ_CHUNK]
            try:
                reply = await self.chain.call("getMultipleAccounts", self.chain.rpc.get_multiple_accounts(
                    chunk, Commitment(self.commitment), encoding="base64"))
            except (ClusterUnavailable, RpcError) as exc:
                log.warning("reading %d account(s) failed (%s: %s)", len(chunk), type(exc).__name__, _short(exc))
                return False
            slot = reply.context.slot
            for address, account in zip(chunk, reply.value):
                if address not in self._unread:
                    continue  # unsubscribed while the read was on its way
                self._unread.discard(address)
                self._queue(_from_account(address, slot, account))
        return True

    async def _send_subscribe(self, address: Pubkey) -> None:
        request = next(self._ids)
        self._requests[request] = address
        await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": request, "method": "accountSubscribe",
                                        "params": [str(address), {"encoding": "base64", "commitment": self.commitment}]}))

    async def _send_unsubscribe(self, subscription: int) -> None:
        if self._ws is None:
            return
        try:
            await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": "accountUnsubscribe", "params": [subscription]}))
        except websockets.ConnectionClosed:
            pass  # the connection is going away: its subscriptions go with it


def _from_notification(address: Pubkey, slot: int, value: dict | None) -> AccountUpdate:
    lamports = (value or {}).get("lamports") or 0
    if not lamports:  # closed: agave notifies 0 lamports, no data, the System program as owner
        return AccountUpdate(address, slot, None, None, 0)
    data = base64.b64decode(value["data"][0]) if value.get("data") else b""
    return AccountUpdate(address, slot, data, Pubkey.from_string(value["owner"]), lamports)


def _from_account(address: Pubkey, slot: int, account: Any) -> AccountUpdate:
    if account is None or not account.lamports:
        return AccountUpdate(address, slot, None, None, 0)
    return AccountUpdate(address, slot, bytes(account.data), account.owner, account.lamports)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]

