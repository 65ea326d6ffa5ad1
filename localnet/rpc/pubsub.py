"""The localnet's PubSub (websocket) server, on rpc_port + 1, as Solana's.

Subscriptions: accountSubscribe, programSubscribe (filters), signatureSubscribe,
logsSubscribe ("all", "allWithVotes", {"mentions": [pubkey]}), slotSubscribe,
slotsUpdatesSubscribe (slot_updates.py), rootSubscribe, blockSubscribe ("all",
{"mentionsAccountOrProgram": pubkey}; confirmed: once its slot is over and all its
transactions are committed; finalized: once its slot is rooted), and their unsubscribes.
voteSubscribe and voteUnsubscribe are refused with "Method not found", as agave refuses
them without --rpc-pubsub-enable-vote-subscription (its default): the localnet models no
vote account (getVoteAccounts is empty), so a subscription would never be notified. A text frame holding a
JSON array of requests gets one JSON array of answers (a JSON-RPC 2.0 batch).

Commitment (see bank.py): each subscription hears only of its own level (default:
finalized). processed: per transaction, right after execution; confirmed: per transaction,
right after its SQLite commit (account and program notifications carry the account as that
transaction left it). finalized: per rooted slot, as agave notifies from its root bank: an
account written in the slot is notified once with its value at the end of that slot, each
transaction's signature and logs once, the block once. So each subscriber hears of each
change once.

Each connection has a bounded outgoing queue and its own sender task: a client that reads
too slowly is disconnected when its queue fills, and never delays anyone else.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from solders.pubkey import Pubkey

from . import slot_updates
from ..runtime.bank import Bank, Block, ProcessResult, TxRecord, reaches
from .encoding import RpcError, check_encoding, deleted_account, encode_account, matches, parse_filters
from ..ledger.finality import CURRENT

__all__ = ["Hub", "serve_pubsub"]

log = logging.getLogger("crowdcompute.localnet.rpc.pubsub")
LEVELS = ("processed", "confirmed", "finalized")
QUEUE_LIMIT = 10_000
MAX_MESSAGE = 64 * 1024


@dataclass(eq=False)
class Sub:
    id: int
    conn: "Conn"
    kind: str
    key: object
    commitment: str
    encoding: str | None = None
    filters: list = field(default_factory=list)


class Conn:
    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self.subs: dict[int, Sub] = {}
        self.closed = False
        self.task = asyncio.ensure_future(self._sender())

    def send(self, message: dict | list) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(json.dumps(message))
        except asyncio.QueueFull:
            log.warning("a websocket client is too slow: disconnecting it")
            self.closed = True
            asyncio.ensure_future(self.ws.close(code=1008, reason="too slow"))

    async def _sender(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                await self.ws.send(text)
        except (ConnectionClosed, ConnectionError, RuntimeError, asyncio.CancelledError):
            self.closed = True


def _commitment(config: dict) -> str:
    c = (config.get("commitment") if isinstance(config, dict) else None) or "finalized"
    if c in ("recent",):
        return "processed"
    if c in ("single", "singleGossip"):
        return "confirmed"
    if c in ("max", "root"):
        return "finalized"
    if c not in LEVELS:
        raise RpcError(-32602, f"Invalid params: unknown commitment `{c}`")
    return c


class Hub:
    """Every subscription, and the publication of chain events to them."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.ids = itertools.count(1)
        self.subs: dict[int, Sub] = {}
        self.by_account: dict[Pubkey, set[Sub]] = {}
        self.by_program: dict[Pubkey, set[Sub]] = {}
        self.by_signature: dict[str, set[Sub]] = {}
        self.logs_all: set[Sub] = set()
        self.logs_mentions: dict[Pubkey, set[Sub]] = {}
        self.slot_subs: set[Sub] = set()
        self.slot_update_subs: set[Sub] = set()
        self.root_subs: set[Sub] = set()
        self.block_subs: set[Sub] = set()
        # finalized subscriptions, for what a rooted slot must notify
        self.final_signatures: set[Sub] = set()
        self.final_accounts = 0  # how many account and program subscriptions are at finalized

    # -- subscribe -----------------------------------------------------------------------
    def subscribe(self, conn: Conn, method: str, params: list) -> int:
        if not isinstance(params, list):
            raise RpcError(-32602, "Invalid params")
        config = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        sid = next(self.ids)
        if method == "accountSubscribe":
            key = _pubkey(params)
            check_encoding(config.get("encoding"))
            sub = Sub(sid, conn, "account", key, _commitment(config), config.get("encoding") or "base58")
            self.by_account.setdefault(key, set()).add(sub)
            self.final_accounts += sub.commitment == "finalized"
        elif method == "programSubscribe":
            key = _pubkey(params)
            check_encoding(config.get("encoding"))
            sub = Sub(sid, conn, "program", key, _commitment(config), config.get("encoding") or "base58", parse_filters(config.get("filters")))
            self.by_program.setdefault(key, set()).add(sub)
            self.final_accounts += sub.commitment == "finalized"
        elif method == "signatureSubscribe":
            if not params or not isinstance(params[0], str):
                raise RpcError(-32602, "Invalid params: signature expected")
            sub = Sub(sid, conn, "signature", params[0], _commitment(config))
            status = self.bank.recent_status(params[0])
            if status is not None and reaches(status[2], sub.commitment):
                # Already there: answer the subscription, then notify at once.
                self._register(sub)
                return sid
            self.by_signature.setdefault(params[0], set()).add(sub)
            if sub.commitment == "finalized":
                self.final_signatures.add(sub)
        elif method == "logsSubscribe":
            target = params[0] if params else None
            sub = Sub(sid, conn, "logs", None, _commitment(config))
            if target in ("all", "allWithVotes"):
                self.logs_all.add(sub)
            elif isinstance(target, dict) and isinstance(target.get("mentions"), list) and len(target["mentions"]) == 1:
                sub.key = _parse_pubkey(target["mentions"][0])
                self.logs_mentions.setdefault(sub.key, set()).add(sub)
            else:
                raise RpcError(-32602, "Invalid params: logsSubscribe takes \"all\", \"allWithVotes\" or {\"mentions\": [one pubkey]}")
        elif method == "blockSubscribe":
            target = params[0] if params else None
            commitment = _commitment(config)
            if commitment == "processed":
                raise RpcError(-32602, "Invalid params: blockSubscribe supports confirmed and finalized")
            sub = Sub(sid, conn, "block", None, commitment, config.get("encoding") or "json")
            sub.filters = [dict(config)]
            if isinstance(target, dict) and "mentionsAccountOrProgram" in target:
                sub.filters.append(_parse_pubkey(target["mentionsAccountOrProgram"]))
            elif target != "all":
                raise RpcError(-32602, "Invalid params: blockSubscribe takes \"all\" or {\"mentionsAccountOrProgram\": pubkey}")
            if (sub.filters[0].get("transactionDetails") or "full") not in ("full", "accounts", "signatures", "none"):
                raise RpcError(-32602, "Invalid params: transactionDetails must be full, accounts, signatures or none")
            self.block_subs.add(sub)
        elif method == "slotSubscribe":
            sub = Sub(sid, conn, "slot", None, "processed")
            self.slot_subs.add(sub)
        elif method == "slotsUpdatesSubscribe":
            sub = Sub(sid, conn, "slotsUpdates", None, "processed")
            self.slot_update_subs.add(sub)
        elif method == "rootSubscribe":
            sub = Sub(sid, conn, "root", None, "finalized")
            self.root_subs.add(sub)
        else:
            raise RpcError(-32601, "Method not found")
        self._register(sub)
        return sid

    def _register(self, sub: Sub) -> None:
        self.subs[sub.id] = sub
        sub.conn.subs[sub.id] = sub

    def after_subscribe(self, sub_id: int) -> None:
        """A signature subscription for a transaction already at its level: notify now."""
        sub = self.subs.get(sub_id)
        if sub is None or sub.kind != "signature" or sub in self.by_signature.get(sub.key, ()):
            return
        slot, err, _ = self.bank.recent_status(sub.key)
        self._notify(sub, "signatureNotification", {"context": {"slot": slot}, "value": {"err": err}})
        self.unsubscribe(sub.id)

    def unsubscribe(self, sub_id: int, conn: Conn | None = None) -> bool:
        sub = self.subs.get(sub_id)
        if sub is None or (conn is not None and sub.conn is not conn):
            return False
        del self.subs[sub_id]
        sub.conn.subs.pop(sub_id, None)
        if sub.kind in ("account", "program") and sub.commitment == "finalized":
            self.final_accounts -= 1
        self.final_signatures.discard(sub)
        for table in (self.by_account, self.by_program, self.by_signature, self.logs_mentions):
            subs = table.get(sub.key) if sub.key is not None else None
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    table.pop(sub.key, None)
        for group in (self.logs_all, self.slot_subs, self.slot_update_subs, self.root_subs, self.block_subs):
            group.discard(sub)
        return True

    def drop(self, conn: Conn) -> None:
        for sid in list(conn.subs):
            self.unsubscribe(sid)

    # -- publish -------------------------------------------------------------------------
    def _notify(self, sub: Sub, method: str, result: object) -> None:
        sub.conn.send({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sub.id}})

    def publish_tx(self, result: ProcessResult, level: str) -> None:
        if not self.subs:
            return  # the common case under load: nobody listens, so nothing to match
        record = result.record
        ctx = {"slot": record.slot}
        writable = set(result.writable)
        for row in result.accounts:
            if row.pubkey not in writable:
                continue
            for sub in list(self.by_account.get(row.pubkey, ())):
                if sub.commitment == level:
                    value = _encode(self.bank, row.account, sub.encoding) if row.account else deleted_account(sub.encoding)
                    self._notify(sub, "accountNotification", {"context": ctx, "value": value})
            if row.account is not None:
                for sub in list(self.by_program.get(row.account.owner, ())):
                    if sub.commitment == level and matches(bytes(row.account.data), sub.filters):
                        value = _encode(self.bank, row.account, sub.encoding)
                        self._notify(sub, "programNotification", {"context": ctx, "value": {"pubkey": str(row.pubkey), "account": value}})
        logs_value = {"signature": record.signature, "err": record.err, "logs": record.meta["logMessages"]}
        targets = {s for s in self.logs_all if s.commitment == level}
        for key in result.keys:
            targets |= {s for s in self.logs_mentions.get(key, ()) if s.commitment == level}
        for sub in sorted(targets, key=lambda s: s.id):
            self._notify(sub, "logsNotification", {"context": ctx, "value": logs_value})
        for sub in list(self.by_signature.get(record.signature, ())):
            if sub.commitment == level:
                self._notify(sub, "signatureNotification", {"context": ctx, "value": {"err": record.err}})
                self.unsubscribe(sub.id)

    def publish_block(self, block: Block, level: str = "confirmed", records: dict[str, TxRecord] | None = None) -> None:
        """A block at `level`: confirmed (finished, all its transactions committed; its
        records are in the bank's window, which forgets only published blocks) or
        finalized (rooted; `records` are its transactions' records)."""
        if not self.block_subs:
            return
        from .methods import block_json

        records = self.bank.txs if records is None else records
        for sub in sorted(self.block_subs, key=lambda s: s.id):
            if sub.commitment != level:
                continue
            config = sub.filters[0]
            signatures = None
            if len(sub.filters) > 1:
                signatures = [s for s in block.signatures if sub.filters[1] in self.bank.record_keys(records[s])]
                if not signatures:
                    continue
            try:
                value = block_json(block, config, records, signatures)
            except RpcError as exc:
                value = None
                err = exc.message
            else:
                err = None
            self._notify(sub, "blockNotification", {"context": {"slot": block.slot}, "value": {"slot": block.slot, "block": value, "err": err}})

    def publish_slot(self, block: Block, new_slot: int) -> None:
        """Slot `block.slot` ended and `new_slot` began."""
        if self.slot_update_subs:
            failed = sum(1 for s in block.signatures if self.bank.status_cache.get(s, (0, None))[1] is not None)
            self._slot_update(slot_updates.completed(block.slot))
            self._slot_update(slot_updates.frozen(block.slot, len(block.signatures) - failed, failed))
            self._slot_update(slot_updates.created_bank(new_slot, block.slot))
        for sub in list(self.slot_subs):
            self._notify(sub, "slotNotification", {"parent": block.slot, "root": self.bank.finalized_slot(), "slot": new_slot})

    def publish_confirmed_slot(self, slot: int) -> None:
        if self.slot_update_subs:
            self._slot_update(slot_updates.optimistic_confirmation(slot))

    def _slot_update(self, update: dict) -> None:
        for sub in sorted(self.slot_update_subs, key=lambda s: s.id):
            self._notify(sub, "slotsUpdatesNotification", update)

    def publish_rooted(self, slot: int, written: list) -> None:
        """`slot` is rooted; `written`: (key, its value at the end of `slot`, or CURRENT)
        for each account written in it (Finality.advance)."""
        if self.slot_update_subs:
            self._slot_update(slot_updates.root(slot))
        for sub in list(self.root_subs):
            self._notify(sub, "rootNotification", slot)
        if self.final_accounts:
            self._publish_rooted_accounts(slot, written)
        for sub in sorted(self.final_signatures, key=lambda s: s.id):
            status = self.bank.recent_status(sub.key)
            if status is not None and status[0] <= slot and status[2] == "finalized":
                self._notify(sub, "signatureNotification", {"context": {"slot": status[0]}, "value": {"err": status[1]}})
                self.unsubscribe(sub.id)

    def _publish_rooted_accounts(self, slot: int, written: list) -> None:
        ctx = {"slot": slot}
        for key, account in written:
            if account is CURRENT:
                account = self.bank.get_account(key)
            elif account is not None and account.lamports == 0 and not account.executable:
                account = None
            for sub in sorted(self.by_account.get(key, ()), key=lambda s: s.id):
                if sub.commitment == "finalized":
                    value = _encode(self.bank, account, sub.encoding) if account else deleted_account(sub.encoding)
                    self._notify(sub, "accountNotification", {"context": ctx, "value": value})
            if account is not None:
                for sub in sorted(self.by_program.get(account.owner, ()), key=lambda s: s.id):
                    if sub.commitment == "finalized" and matches(bytes(account.data), sub.filters):
                        value = _encode(self.bank, account, sub.encoding)
                        self._notify(sub, "programNotification", {"context": ctx, "value": {"pubkey": str(key), "account": value}})

    def wants_rooted_transactions(self) -> bool:
        """Whether a rooted slot's transactions must be read (finalized logs or blocks)."""
        return any(s.commitment == "finalized" for s in self.block_subs) or \
            any(s.commitment == "finalized" for s in self.logs_all) or \
            any(s.commitment == "finalized" for subs in self.logs_mentions.values() for s in subs)

    def publish_rooted_transactions(self, block: Block, records: dict[str, TxRecord]) -> None:
        """Finalized logs and block notifications of a rooted slot (its records read from
        memory or the ledger)."""
        ctx = {"slot": block.slot}
        for signature in block.signatures:
            record = records.get(signature)
            if record is None:
                continue
            targets = {s for s in self.logs_all if s.commitment == "finalized"}
            if self.logs_mentions:
                for key in self.bank.record_keys(record):
                    targets |= {s for s in self.logs_mentions.get(key, ()) if s.commitment == "finalized"}
            if targets:
                value = {"signature": signature, "err": record.err, "logs": record.meta["logMessages"]}
                for sub in sorted(targets, key=lambda s: s.id):
                    self._notify(sub, "logsNotification", {"context": ctx, "value": value})
        self.publish_block(block, "finalized", records)


def _encode(bank: Bank, account, encoding: str | None) -> dict:
    try:
        return encode_account(account, encoding, mint_lookup=bank.get_account)
    except RpcError:  # base58 of more than 128 bytes: Solana's notifications fall back too
        return encode_account(account, "base64")


def _parse_pubkey(text: object) -> Pubkey:
    try:
        return Pubkey.from_string(text)
    except (ValueError, TypeError):
        raise RpcError(-32602, "Invalid params: invalid pubkey") from None


def _pubkey(params: list) -> Pubkey:
    if not params:
        raise RpcError(-32602, "Invalid params: pubkey expected")
    return _parse_pubkey(params[0])


async def serve_pubsub(hub: Hub, host: str, port: int):
    """Starts the websocket server; returns it (close() + wait_closed() to stop)."""

    async def handler(ws: ServerConnection) -> None:
        conn = Conn(ws)
        try:
            async for message in ws:
                if isinstance(message, str):
                    handle_message(hub, conn, message)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            hub.drop(conn)
            conn.task.cancel()

    # No compression: notifications are small and deflate costs CPU per subscriber.
    return await serve(handler, host, port, max_size=MAX_MESSAGE, compression=None, ping_interval=30, ping_timeout=30, max_queue=64)


def handle_message(hub: Hub, conn: Conn, text: str) -> None:
    """One text frame: a request gets its answer; an array of requests (a batch) gets one
    array of answers, in order, as JSON-RPC 2.0 and agave's PubSub answer it. Notifications
    a subscription owes at once (a signature already at its level) follow the answers."""
    try:
        request = json.loads(text)
    except ValueError:
        conn.send({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None})
        return
    batch = isinstance(request, list)
    requests = request if batch else [request]
    if not requests or len(requests) > 100:
        conn.send({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": None})
        return
    answers, subscribed = [], []
    for req in requests:
        answers.append(_answer(hub, conn, req, subscribed))
    conn.send(answers if batch else answers[0])
    for sid in subscribed:
        hub.after_subscribe(sid)


# agave's, refused unless --rpc-pubsub-enable-vote-subscription (see the module doc)
VOTE_METHODS = frozenset({"voteSubscribe", "voteUnsubscribe"})


def _answer(hub: Hub, conn: Conn, req: object, subscribed: list[int]) -> dict:
    rid = req.get("id") if isinstance(req, dict) else None
    if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
        return {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}, "id": rid}
    method, params = req["method"], req.get("params", [])
    try:
        if method in VOTE_METHODS:
            raise RpcError(-32601, "Method not found")
        if method.endswith("Unsubscribe"):
            if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], int):
                raise RpcError(-32602, "Invalid params")
            if not hub.unsubscribe(params[0], conn):
                raise RpcError(-32602, "Invalid subscription id.")
            return {"jsonrpc": "2.0", "result": True, "id": rid}
        sid = hub.subscribe(conn, method, params if params is not None else [])
        subscribed.append(sid)
        return {"jsonrpc": "2.0", "result": sid, "id": rid}
    except RpcError as exc:
        return {"jsonrpc": "2.0", "error": exc.to_json(), "id": rid}
