"""The localnet's JSON-RPC (HTTP) API: one POST endpoint, Solana's methods and error codes.

Errors: -32700 parse error, -32600 invalid request (also: body over MAX_BODY bytes, batch
over MAX_BATCH), -32601 method not found, -32602 invalid params, -32002 failed preflight
(data: the simulation result with its logs), -32003 signature verification failure, -32004
block not available, -32015 transaction version not supported, -32016 minContextSlot not
reached. Results carry `context: {slot, apiVersion}` where Solana's do. Commitment levels are
mapped as bank.py documents: getSlot/getBlockHeight/getLatestBlockhash and every context slot
follow the requested level; transaction lookups (getSignatureStatuses, getTransaction,
getSignaturesForAddress, getBlock) report each transaction's own level and hide what is
below the requested one. Account reads (getBalance, getAccountInfo, getProgramAccounts,
token reads, getSupply, ...) at `finalized` (the default, as on Solana) show the accounts as
of the root, their context slot; at processed and confirmed they show the latest state (a
processed transaction is confirmed within milliseconds, by its commit). Simulation, and
sendTransaction's preflight (`preflightCommitment`, default finalized as on agave), run in
the bank of their commitment: at finalized on the root's accounts and blockhashes, so a
blockhash newer than the root is not found there, as on solana-test-validator.

Methods: getHealth getVersion getIdentity getGenesisHash getSlot getBlockHeight getEpochInfo
getEpochSchedule getTransactionCount getFirstAvailableBlock minimumLedgerSlot
getLatestBlockhash isBlockhashValid getFeeForMessage getMinimumBalanceForRentExemption
getRecentPrioritizationFees getBalance getAccountInfo getMultipleAccounts
getProgramAccounts getTokenAccountBalance getTokenSupply getTokenAccountsByOwner
getTokenAccountsByDelegate getTokenLargestAccounts sendTransaction simulateTransaction
requestAirdrop getSignatureStatuses getTransaction getSignaturesForAddress getBlock
getBlockTime getBlocks getBlocksWithLimit getClusterNodes getVoteAccounts getSlotLeader
getSlotLeaders getLeaderSchedule getMaxRetransmitSlot getMaxShredInsertSlot
getHighestSnapshotSlot getBlockCommitment getInflationGovernor getInflationRate getSupply
getLargestAccounts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from typing import Any, Awaitable, Callable

import based58
from solders.message import MessageV0, from_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from ..runtime.fees import compute_budget
from ..runtime.bank import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, ProcessResult, TxRecord, err_json, is_mint, is_token_account
from ..runtime.message_keys import is_writable
from ..runtime.nonce import durable_nonce_valid
from ..runtime.sigverify import verify as verify_signatures
from .parsed import parse_compiled, parse_inner_instructions
from ..ledger.store import StoreFailed
from .encoding import RpcError, check_encoding, encode_account, encode_data, invalid_params, matches, parse_filters, parse_mint, ui_amount

__all__ = ["RpcHandler", "METHODS", "VERSION", "MAX_BODY", "error_body"]

log = logging.getLogger("crowdcompute.localnet.rpc.methods")

VERSION = {"solana-core": "2.2.0", "feature-set": 3294202862}
API_VERSION = VERSION["solana-core"]
MAX_BODY = 2 * 1024 * 1024
MAX_BATCH = 256
MAX_TX_BYTES = 1232
MAX_MULTIPLE = 100
MAX_SIGNATURES = 256

Handler = Callable[[Any, list], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str):
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn

    return register


# -- params ----------------------------------------------------------------------------
def _params(params: Any, required: int, maximum: int) -> list:
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("Invalid params: expected an array")
    if len(params) < required:
        raise invalid_params(f"Invalid params: expected at least {required} parameter(s)")
    if len(params) > maximum:
        raise invalid_params(f"Invalid params: expected at most {maximum} parameter(s)")
    return params + [None] * (maximum - len(params))


def _bounded_list(value: Any, maximum: int) -> list:
    """A list parameter of at most `maximum` items (Solana's wording for the error)."""
    if not isinstance(value, list) or len(value) > maximum:
        raise invalid_params(f"Too many inputs provided; max {maximum}")
    return value


def _config(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_params("Invalid params: the configuration must be an object")
    return value


def _pubkey(value: Any) -> Pubkey:
    if not isinstance(value, str):
        raise invalid_params("Invalid params: pubkey must be a base58 string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None


def _commitment(config: dict) -> str:
    c = config.get("commitment") or "finalized"
    c = {"recent": "processed", "single": "confirmed", "singleGossip": "confirmed", "root": "finalized", "max": "finalized"}.get(c, c)
    if c not in ("processed", "confirmed", "finalized"):
        raise invalid_params(f"Invalid params: unknown commitment `{c}`")
    return c


def _encoding_config(value: Any) -> dict:
    """getTransaction and getBlock accept an encoding name in place of the config object."""
    return _config({"encoding": value} if isinstance(value, str) else value)


def _uint(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 2**64:
        raise invalid_params(f"Invalid params: {what} must be an unsigned integer")
    return value


class Ctx:
    """What a method sees: the server, plus helpers."""

    def __init__(self, net) -> None:
        self.net = net
        self.bank = net.bank
        self.history = net.history

    def slot(self, config: dict) -> int:
        slot = self.bank.slot_for(_commitment(config))
        min_slot = config.get("minContextSlot")
        if min_slot is not None and isinstance(min_slot, int) and slot < min_slot:
            raise RpcError(-32016, "Minimum context slot has not been reached", {"contextSlot": slot})
        return slot

    def context(self, slot: int) -> dict:
        return {"slot": slot, "apiVersion": API_VERSION}

    def with_context(self, config: dict, value: Any) -> dict:
        return {"context": self.context(self.slot(config)), "value": value}

    def reader(self, config: dict):
        """`pubkey -> Account | None` as a read at the config's commitment sees it."""
        return self.bank.account_reader(_commitment(config))

    def account_json(self, pubkey: Pubkey, config: dict, read=None) -> dict | None:
        encoding = config.get("encoding")
        check_encoding(encoding)
        read = read or self.reader(config)
        return encode_account(read(pubkey), encoding, config.get("dataSlice"), mint_lookup=read)


def _decode_tx(data: Any, encoding: str) -> VersionedTransaction:
    return _decode_wire_tx(data, encoding)[0]


def _decode_wire_tx(data: Any, encoding: str) -> tuple[VersionedTransaction, bytes]:
    """The transaction and its bytes as received (the signature check parses those)."""
    if not isinstance(data, str):
        raise invalid_params("Invalid params: transaction must be a string")
    try:
        if encoding == "base58":
            if len(data) > 1683:
                raise RpcError(-32602, f"base58 encoded solana_transaction::versioned::VersionedTransaction too large: {len(data)} bytes (max: encoded/raw 1683/{MAX_TX_BYTES})")
            raw = based58.b58decode(data.encode())
        elif encoding == "base64":
            if len(data) > 1644:
                raise RpcError(-32602, f"base64 encoded solana_transaction::versioned::VersionedTransaction too large: {len(data)} bytes (max: encoded/raw 1644/{MAX_TX_BYTES})")
            raw = base64.b64decode(data, validate=True)
        else:
            raise invalid_params(f"Invalid params: unsupported encoding: {encoding}. Supported encodings: base58, base64")
    except (ValueError, binascii.Error):
        raise invalid_params(f"invalid {encoding} encoding") from None
    return tx_from_wire(raw), raw


def tx_from_wire(raw: bytes) -> VersionedTransaction:
    """A sendTransaction's transaction from its decoded bytes (the native front end decodes
    base58/base64 itself, then calls this)."""
    try:
        tx = VersionedTransaction.from_bytes(raw)
        tx.sanitize()
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the client's
        raise invalid_params(f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {exc}") from None
    if len(tx.signatures) == 0:
        raise invalid_params("invalid transaction: no signatures")
    return tx


_ERR_TEXT = {
    "BlockhashNotFound": "Blockhash not found",
    "AlreadyProcessed": "This transaction has already been processed",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "SignatureFailure": "Transaction did not pass signature verification",
}


def _err_text(ejson: Any) -> str:
    if isinstance(ejson, str):
        return _ERR_TEXT.get(ejson, ejson)
    if isinstance(ejson, dict) and "InstructionError" in ejson:
        index, inner = ejson["InstructionError"]
        if isinstance(inner, dict) and "Custom" in inner:
            return f"Error processing Instruction {index}: custom program error: {hex(inner['Custom'])}"
        return f"Error processing Instruction {index}: {inner}"
    if isinstance(ejson, dict) and "InsufficientFundsForRent" in ejson:
        return f"Transaction results in an account ({ejson['InsufficientFundsForRent']['account_index']}) with insufficient funds for rent"
    return json.dumps(ejson)


def _sim_value(err, logs, units, return_data, accounts=None, replacement=None) -> dict:
    rd = None
    if return_data is not None and bytes(return_data.data):
        rd = {"programId": str(return_data.program_id), "data": [base64.b64encode(bytes(return_data.data)).decode(), "base64"]}
    return {"err": err_json(err), "logs": logs, "accounts": accounts, "unitsConsumed": units, "returnData": rd, "innerInstructions": None, "replacementBlockhash": replacement}


# -- cluster ---------------------------------------------------------------------------
@method("getHealth")
async def get_health(ctx: Ctx, params) -> Any:
    _healthy(ctx)
    return "ok"


def _healthy(ctx: Ctx) -> None:
    """Refuses what needs the ledger once its writer is gone (nothing could be made durable)."""
    failed = ctx.net.store.failed
    if failed is not None:
        raise RpcError(-32005, f"Node is unhealthy: {failed}", {})


@method("getVersion")
async def get_version(ctx: Ctx, params) -> Any:
    return dict(VERSION)


@method("getIdentity")
async def get_identity(ctx: Ctx, params) -> Any:
    return {"identity": str(ctx.bank.faucet.pubkey())}


@method("getGenesisHash")
async def get_genesis_hash(ctx: Ctx, params) -> Any:
    return ctx.bank.genesis_hash


@method("getSlot")
async def get_slot(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    return ctx.slot(_config(config))


@method("getBlockHeight")
async def get_block_height(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    return ctx.slot(_config(config))


def _tx_count(ctx: Ctx, config: dict) -> int:
    if _commitment(config) == "finalized":
        return ctx.bank.finality.tx_count_at_root(ctx.bank.tx_count)
    return ctx.bank.tx_count


@method("getTransactionCount")
async def get_transaction_count(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    config = _config(config)
    ctx.slot(config)
    return _tx_count(ctx, config)


@method("getEpochInfo")
async def get_epoch_info(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    config = _config(config)
    slot = ctx.slot(config)
    schedule = ctx.bank.epoch_schedule
    epoch, index = schedule.get_epoch_and_slot_index(slot)
    return {"absoluteSlot": slot, "blockHeight": slot, "epoch": epoch, "slotIndex": index, "slotsInEpoch": schedule.get_slots_in_epoch(epoch), "transactionCount": _tx_count(ctx, config)}


@method("getEpochSchedule")
async def get_epoch_schedule(ctx: Ctx, params) -> Any:
    s = ctx.bank.epoch_schedule
    return {"firstNormalEpoch": s.first_normal_epoch, "firstNormalSlot": s.first_normal_slot, "leaderScheduleSlotOffset": s.leader_schedule_slot_offset, "slotsPerEpoch": s.slots_per_epoch, "warmup": s.warmup}


@method("getFirstAvailableBlock")
@method("minimumLedgerSlot")  # the ledger keeps every block since its first
async def get_first_available_block(ctx: Ctx, params) -> Any:
    return ctx.bank.first_slot


# -- blockhashes and fees --------------------------------------------------------------
@method("getLatestBlockhash")
async def get_latest_blockhash(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    config = _config(config)
    slot = ctx.slot(config)
    return {"context": ctx.context(slot), "value": {"blockhash": str(ctx.bank.blockhash(slot)), "lastValidBlockHeight": ctx.bank.last_valid_block_height(slot)}}


@method("isBlockhashValid")
async def is_blockhash_valid(ctx: Ctx, params) -> Any:
    blockhash, config = _params(params, 1, 2)
    if not isinstance(blockhash, str):
        raise invalid_params("Invalid params: blockhash must be a string")
    config = _config(config)
    slot = ctx.slot(config)
    return {"context": ctx.context(slot), "value": ctx.bank.is_blockhash_valid(blockhash, slot)}


@method("getFeeForMessage")
async def get_fee_for_message(ctx: Ctx, params) -> Any:
    data, config = _params(params, 1, 2)
    try:
        message = from_bytes_versioned(base64.b64decode(data, validate=True))
    except Exception:  # noqa: BLE001
        raise invalid_params("Invalid params: invalid base64 message") from None
    config = _config(config)
    slot = ctx.slot(config)
    usable = ctx.bank.is_blockhash_valid(message.recent_blockhash, slot) or durable_nonce_valid(ctx.bank.svm, message)
    fee = compute_budget(message).fee if usable else None
    return {"context": ctx.context(slot), "value": fee}


@method("getMinimumBalanceForRentExemption")
async def get_minimum_balance_for_rent_exemption(ctx: Ctx, params) -> Any:
    size, config = _params(params, 1, 2)
    size = _uint(size, "data length")
    if size > 10 * 1024 * 1024:
        raise invalid_params("Invalid params: data length too large")
    return ctx.bank.svm.minimum_balance_for_rent_exemption(size)


@method("getRecentPrioritizationFees")
async def get_recent_prioritization_fees(ctx: Ctx, params) -> Any:
    (addresses,) = _params(params, 0, 1)
    if addresses is not None and (not isinstance(addresses, list) or len(addresses) > 128):
        raise invalid_params("Invalid params: at most 128 addresses")
    keys = [_pubkey(a) for a in addresses or []]
    return ctx.bank.recent_fees.recent(ctx.bank.slot, keys)


# -- accounts --------------------------------------------------------------------------
@method("getBalance")
async def get_balance(ctx: Ctx, params) -> Any:
    pubkey, config = _params(params, 1, 2)
    config = _config(config)
    account = ctx.reader(config)(_pubkey(pubkey))
    return ctx.with_context(config, account.lamports if account else 0)


@method("getAccountInfo")
async def get_account_info(ctx: Ctx, params) -> Any:
    pubkey, config = _params(params, 1, 2)
    config = _config(config)
    key = _pubkey(pubkey)
    return ctx.with_context(config, ctx.account_json(key, config))


@method("getMultipleAccounts")
async def get_multiple_accounts(ctx: Ctx, params) -> Any:
    pubkeys, config = _params(params, 1, 2)
    config = _config(config)
    pubkeys = _bounded_list(pubkeys, MAX_MULTIPLE)
    keys = [_pubkey(p) for p in pubkeys]
    read = ctx.reader(config)
    return ctx.with_context(config, [ctx.account_json(k, config, read) for k in keys])


@method("getProgramAccounts")
async def get_program_accounts(ctx: Ctx, params) -> Any:
    program, config = _params(params, 1, 2)
    config = _config(config)
    owner = _pubkey(program)
    check_encoding(config.get("encoding"))
    filters = parse_filters(config.get("filters"))
    read, commitment = ctx.reader(config), _commitment(config)
    out = []
    for key in ctx.bank.keys_at(commitment, ctx.bank.program_accounts(owner), owner):
        account = read(key)
        if account is None or account.owner != owner or not matches(bytes(account.data), filters):
            continue
        out.append({"pubkey": str(key), "account": encode_account(account, config.get("encoding"), config.get("dataSlice"), mint_lookup=read)})
    if config.get("withContext"):
        return ctx.with_context(config, out)
    ctx.slot(config)
    return out


# -- tokens ----------------------------------------------------------------------------
def _token_account(ctx: Ctx, pubkey: Pubkey, config: dict):
    read = ctx.reader(config)
    account = read(pubkey)
    if account is None or account.owner not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID) or not is_token_account(account):
        raise invalid_params("Invalid param: not a Token account")
    mint = read(Pubkey(bytes(account.data)[0:32]))
    if mint is None or parse_mint(bytes(mint.data)[:82]) is None:
        raise invalid_params("Invalid param: Token mint could not be unpacked")
    return account, bytes(mint.data)[44]


@method("getTokenAccountBalance")
async def get_token_account_balance(ctx: Ctx, params) -> Any:
    pubkey, config = _params(params, 1, 2)
    config = _config(config)
    account, decimals = _token_account(ctx, _pubkey(pubkey), config)
    return ctx.with_context(config, ui_amount(int.from_bytes(bytes(account.data)[64:72], "little"), decimals))


@method("getTokenSupply")
async def get_token_supply(ctx: Ctx, params) -> Any:
    pubkey, config = _params(params, 1, 2)
    config = _config(config)
    mint = ctx.reader(config)(_pubkey(pubkey))
    if mint is None or not is_mint(mint):
        raise invalid_params("Invalid param: not a Token mint")
    data = bytes(mint.data)
    return ctx.with_context(config, ui_amount(int.from_bytes(data[36:44], "little"), data[44]))


def _owned_by(data: bytes, owner: Pubkey) -> bool:
    return data[32:64] == bytes(owner)


def _delegated_to(data: bytes, delegate: Pubkey) -> bool:
    return data[72:76] == b"\x01\x00\x00\x00" and data[76:108] == bytes(delegate)


async def _token_accounts(ctx: Ctx, params, keys_for, belongs) -> Any:
    """getTokenAccountsBy*: the index's candidates (`keys_for`), each read at the
    commitment and kept if `belongs(data, target)` there (at finalized, accounts written
    since the root are candidates too: their owner or delegate may have changed)."""
    target, which, config = _params(params, 2, 3)
    config = _config(config)
    key = _pubkey(target)
    if not isinstance(which, dict) or len(which) != 1 or not ({"mint", "programId"} & set(which)):
        raise invalid_params("Invalid params: expected {\"mint\": ...} or {\"programId\": ...}")
    check_encoding(config.get("encoding"))
    mint = _pubkey(which["mint"]) if "mint" in which else None
    program = _pubkey(which["programId"]) if "programId" in which else None
    if program is not None and program not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        raise invalid_params("Invalid param: unrecognized Token program id")
    read, commitment = ctx.reader(config), _commitment(config)
    candidates = keys_for(key)
    for program_id in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        candidates = ctx.bank.keys_at(commitment, candidates, program_id)
    out = []
    for pubkey in candidates:
        account = read(pubkey)
        if account is None or account.owner not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID) or not is_token_account(account):
            continue
        data = bytes(account.data)
        if not belongs(data, key):
            continue
        if program is not None and account.owner != program:
            continue
        if mint is not None and Pubkey(data[0:32]) != mint:
            continue
        out.append({"pubkey": str(pubkey), "account": encode_account(account, config.get("encoding"), config.get("dataSlice"), mint_lookup=read)})
    return ctx.with_context(config, out)


@method("getTokenAccountsByOwner")
async def get_token_accounts_by_owner(ctx: Ctx, params) -> Any:
    return await _token_accounts(ctx, params, ctx.bank.token_accounts_by_owner, _owned_by)


@method("getTokenAccountsByDelegate")
async def get_token_accounts_by_delegate(ctx: Ctx, params) -> Any:
    def delegated(delegate: Pubkey) -> list[Pubkey]:
        # no delegate index: every token account (the read at the commitment checks the delegate)
        return ctx.bank.program_accounts(TOKEN_PROGRAM_ID) + ctx.bank.program_accounts(TOKEN_2022_PROGRAM_ID)

    return await _token_accounts(ctx, params, delegated, _delegated_to)


# -- transactions ----------------------------------------------------------------------
@method("sendTransaction")
async def send_transaction(ctx: Ctx, params) -> Any:
    data, config = _params(params, 1, 2)
    config = _config(config)
    tx, raw = _decode_wire_tx(data, config.get("encoding") or "base58")
    signature, future = start_send(ctx, tx, raw, config)
    if future is None:
        return signature
    return send_outcome(await future, signature, bool(config.get("skipPreflight")))


def start_send(ctx: Ctx, tx: VersionedTransaction, raw: bytes, config: dict, *, verdict: bool | None = None,
               signature: str | None = None, then: Any = None) -> tuple[str, Any]:
    """sendTransaction up to its execution: (signature, a future of its ProcessResult), or
    (signature, None) when the answer is the signature already. `verdict`: whether its
    signatures verify, and `signature` (base58), when the native front end found them;
    `then` (intake.Then): settled instead of a future, and the second item is then True
    (front.py's fast path)."""
    _healthy(ctx)
    signature = signature or str(tx.signatures[0])
    skip_preflight = bool(config.get("skipPreflight"))
    if skip_preflight and ctx.bank.seen(signature):
        return signature, None
    # The signatures are checked on the way in (intake.py), with the others of this loop
    # turn; the preflight runs right before execution, so a batch's sends see each other.
    preflight = None if skip_preflight else _preflight(ctx, tx, signature, config)
    future = ctx.net.execute(tx, signature, preflight=preflight, raw=raw, verdict=verdict, then=then)
    return signature, True if then is not None else future


def send_outcome(result: ProcessResult, signature: str, skip_preflight: bool) -> str:
    """sendTransaction's answer once its transaction ran: the signature, or the RpcError.
    With skipPreflight, a transaction that did not land (a repeat, a bad signature, an
    unknown blockhash, a payer that cannot pay its fee) is answered with its signature too,
    as agave answers whatever decodes and sanitizes then (no signature check, no simulation)
    and drops it later: it never lands, its status stays null. With preflight it is refused."""
    if result.record is None:
        if skip_preflight:
            return signature
        value = _sim_value(result.err, result.logs, result.units, None)
        if err_json(result.err) == "SignatureFailure":
            raise RpcError(-32003, "Transaction signature verification failure")
        raise RpcError(-32002, f"Transaction simulation failed: {_err_text(value['err'])}", value)
    return signature


def _preflight(ctx: Ctx, tx: VersionedTransaction, signature: str, config: dict) -> Callable[[bool], None]:
    """sendTransaction's preflight, given whether the signatures verified: raises the
    error to answer, or returns and the transaction executes."""

    def check(verified: bool) -> None:
        if not verified:
            raise RpcError(-32003, "Transaction signature verification failure")
        if ctx.bank.seen(signature):
            return  # executed, it is refused as AlreadyProcessed
        commitment = _commitment({"commitment": config.get("preflightCommitment")})
        err, logs, units, _, return_data = ctx.bank.simulate(tx, sig_verify=True, commitment=commitment, verified=True)
        if err is not None:
            value = _sim_value(err, logs, units, return_data)
            raise RpcError(-32002, f"Transaction simulation failed: {_err_text(value['err'])}", value)

    return check


@method("simulateTransaction")
async def simulate_transaction(ctx: Ctx, params) -> Any:
    data, config = _params(params, 1, 2)
    config = _config(config)
    tx = _decode_tx(data, config.get("encoding") or "base58")
    sig_verify = bool(config.get("sigVerify"))
    replace = bool(config.get("replaceRecentBlockhash"))
    if sig_verify and replace:
        raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
    if sig_verify and not verify_signatures(tx):
        raise RpcError(-32003, "Transaction signature verification failure")
    slot = ctx.slot(config)
    accounts_cfg = config.get("accounts")
    addresses: list[Pubkey] = []
    if accounts_cfg is not None:
        if not isinstance(accounts_cfg, dict) or not isinstance(accounts_cfg.get("addresses"), list):
            raise invalid_params("Invalid params: accounts.addresses must be a list")
        check_encoding(accounts_cfg.get("encoding"))
        addresses = [_pubkey(a) for a in accounts_cfg["addresses"]]
    commitment = _commitment(config)
    err, logs, units, post, return_data = ctx.bank.simulate(tx, sig_verify=sig_verify, replace_blockhash=replace, commitment=commitment, verified=sig_verify)
    accounts = None
    if accounts_cfg is not None:
        encoding = accounts_cfg.get("encoding") or "base64"
        read = ctx.reader(config)
        accounts = None if err is not None else [
            encode_account(post.get(a) or read(a), encoding, mint_lookup=read) for a in addresses
        ]
    # the blockhash of the bank simulated in (the root's at finalized)
    top = slot if commitment == "finalized" and not ctx.bank.finality.immediate else ctx.bank.slot
    replacement = {"blockhash": str(ctx.bank.blockhash(top)), "lastValidBlockHeight": ctx.bank.last_valid_block_height(top)} if replace else None
    return {"context": ctx.context(slot), "value": _sim_value(err, logs, units, return_data, accounts, replacement)}


@method("requestAirdrop")
async def request_airdrop(ctx: Ctx, params) -> Any:
    pubkey, lamports, config = _params(params, 2, 3)
    key = _pubkey(pubkey)
    lamports = _uint(lamports, "lamports")
    _healthy(ctx)
    faucet = ctx.bank.get_account(ctx.bank.faucet.pubkey())
    if lamports == 0 or faucet is None or lamports > faucet.lamports // 2:
        raise RpcError(-32600, "Invalid request: airdrop amount out of range")
    result = await ctx.net.execute(ctx.bank.airdrop_transaction(key, lamports), verified=True)  # the faucet signs it here
    if result.record is None:
        raise RpcError(-32600, f"airdrop failed: {_err_text(err_json(result.err))}")
    # As agave: the faucet's transaction is sent without preflight, so one that fails in
    # execution (e.g. too few lamports for a new account's rent) still answers its
    # signature, and its status carries the error.
    return result.signature


def _status(ctx: Ctx, slot: int, err: Any, level: str) -> dict:
    return {
        "slot": slot,
        "confirmations": ctx.bank.confirmations(slot, level),
        "err": err,
        "status": {"Ok": None} if err is None else {"Err": err},
        "confirmationStatus": level,
    }


@method("getSignatureStatuses")
async def get_signature_statuses(ctx: Ctx, params) -> Any:
    signatures, config = _params(params, 1, 2)
    config = _config(config)
    signatures = _bounded_list(signatures, MAX_SIGNATURES)
    if not all(isinstance(sig, str) for sig in signatures):
        raise invalid_params("Invalid params: signatures must be strings")
    statuses = await ctx.history.statuses(signatures, bool(config.get("searchTransactionHistory")))
    return {"context": ctx.context(ctx.bank.slot), "value": [None if s is None else _status(ctx, *s) for s in statuses]}


def _parsed_account_keys(message, meta: dict) -> list[dict]:
    """jsonParsed's account list: the static keys, then those loaded from lookup tables."""
    keys = [{"pubkey": str(k), "signer": i < message.header.num_required_signatures, "source": "transaction", "writable": is_writable(message, i)}
            for i, k in enumerate(message.account_keys)]
    loaded = meta.get("loadedAddresses") or {}
    keys += [{"pubkey": k, "signer": False, "source": "lookupTable", "writable": True} for k in loaded.get("writable", [])]
    keys += [{"pubkey": k, "signer": False, "source": "lookupTable", "writable": False} for k in loaded.get("readonly", [])]
    return keys


def _ui_message(tx: VersionedTransaction, record: TxRecord, parsed: bool) -> dict:
    message = tx.message
    keys = list(message.account_keys)

    instructions = []
    all_keys = _all_keys(tx, record) if parsed else []
    for ix in message.instructions:
        if parsed:  # jsonParsed: known programs parsed as agave does (parsed.py)
            instructions.append(parse_compiled(all_keys, ix.program_id_index, bytes(ix.accounts), bytes(ix.data), None))
        else:
            instructions.append({"programIdIndex": ix.program_id_index, "accounts": list(bytes(ix.accounts)), "data": based58.b58encode(bytes(ix.data)).decode(), "stackHeight": None})
    header = message.header
    account_keys = _parsed_account_keys(message, record.meta) if parsed else [str(k) for k in keys]
    out = {"accountKeys": account_keys, "recentBlockhash": str(message.recent_blockhash), "instructions": instructions}
    if not parsed:
        out["header"] = {"numRequiredSignatures": header.num_required_signatures, "numReadonlySignedAccounts": header.num_readonly_signed_accounts, "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts}
    if isinstance(message, MessageV0):
        out["addressTableLookups"] = [{"accountKey": str(l.account_key), "writableIndexes": list(bytes(l.writable_indexes)), "readonlyIndexes": list(bytes(l.readonly_indexes))} for l in message.address_table_lookups]
    return out


def _encoded_tx(record: TxRecord, encoding: str, max_version: Any) -> dict:
    tx = VersionedTransaction.from_bytes(record.tx_bytes)
    is_v0 = isinstance(tx.message, MessageV0)
    if is_v0 and max_version is None:
        raise RpcError(-32015, "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0")
    if encoding in ("base64", "base58"):
        transaction: Any = encode_data(record.tx_bytes, encoding) if encoding == "base64" else [based58.b58encode(record.tx_bytes).decode(), "base58"]
    elif encoding in ("json", "jsonParsed"):
        transaction = {"signatures": [str(s) for s in tx.signatures], "message": _ui_message(tx, record, encoding == "jsonParsed")}
    else:
        raise invalid_params(f"Invalid params: unknown encoding `{encoding}`")
    out = {"transaction": transaction, "meta": dict(record.meta)}
    if encoding == "jsonParsed":
        # agave parses inner instructions too, and leaves loadedAddresses out (the account
        # list carries them, with their source).
        if out["meta"].get("innerInstructions") is not None:
            out["meta"]["innerInstructions"] = parse_inner_instructions(out["meta"]["innerInstructions"], _all_keys(tx, record))
        out["meta"].pop("loadedAddresses", None)
    if max_version is not None:
        out["version"] = 0 if is_v0 else "legacy"
    return out


def _all_keys(tx: VersionedTransaction, record: TxRecord) -> list[str]:
    """The keys compiled instructions index: static, then loaded writable, then loaded readonly."""
    loaded = record.meta.get("loadedAddresses") or {}
    return [str(k) for k in tx.message.account_keys] + list(loaded.get("writable", [])) + list(loaded.get("readonly", []))


_ACCOUNTS_META = ("err", "status", "fee", "preBalances", "postBalances", "preTokenBalances", "postTokenBalances")


def _accounts_only(record: TxRecord, max_version: Any) -> dict:
    """A transaction as getBlock's transactionDetails "accounts" shows it: signatures, the
    parsed account list (static keys, then those loaded from lookup tables), and the
    balance part of the meta."""
    tx = VersionedTransaction.from_bytes(record.tx_bytes)
    is_v0 = isinstance(tx.message, MessageV0)
    if is_v0 and max_version is None:
        raise RpcError(-32015, "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0")
    meta = record.meta
    out = {"transaction": {"accountKeys": _parsed_account_keys(tx.message, meta), "signatures": [str(s) for s in tx.signatures]}, "meta": {k: meta[k] for k in _ACCOUNTS_META if k in meta}}
    if max_version is not None:
        out["version"] = 0 if is_v0 else "legacy"
    return out


@method("getTransaction")
async def get_transaction(ctx: Ctx, params) -> Any:
    signature, config = _params(params, 1, 2)
    config = _encoding_config(config)
    if not isinstance(signature, str):
        raise invalid_params("Invalid params: signature must be a string")
    commitment = _commitment(config)
    if commitment == "processed":
        raise invalid_params("Method does not support commitment below `confirmed`")
    record = (await ctx.history.records([signature])).get(signature)
    if record is None or not ctx.bank.meets(record, commitment):
        return None
    out = _encoded_tx(record, config.get("encoding") or "json", config.get("maxSupportedTransactionVersion"))
    return {"slot": record.slot, "blockTime": record.block_time, **out}


@method("getSignaturesForAddress")
async def get_signatures_for_address(ctx: Ctx, params) -> Any:
    address, config = _params(params, 1, 2)
    config = _config(config)
    key = _pubkey(address)
    commitment = _commitment(config)
    if commitment == "processed":
        raise invalid_params("Method does not support commitment below `confirmed`")
    limit = config.get("limit") or 1000
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise invalid_params("Invalid limit; max 1000")
    before, until = config.get("before"), config.get("until")
    for name, value in (("before", before), ("until", until)):
        if value is not None and not isinstance(value, str):
            raise invalid_params(f"Invalid params: {name} must be a signature")
    # The ledger holds exactly the committed (confirmed and finalized) transactions.
    rows = await ctx.history.signatures_for_address(key, before=before, until=until, limit=limit)
    out = []
    for sig, slot, block_time, err in rows:
        level = ctx.bank.level(slot)
        if commitment == "finalized" and level != "finalized":
            continue
        out.append({"signature": sig, "slot": slot, "err": err, "memo": None, "blockTime": block_time, "confirmationStatus": level})
    return out


# -- blocks ----------------------------------------------------------------------------
async def _block_available(ctx: Ctx, slot: Any, config: dict):
    slot = _uint(slot, "slot")
    commitment = _commitment(config)
    if commitment == "processed":
        raise invalid_params("Method does not support commitment below `confirmed`")
    top = ctx.bank.finalized_slot() if commitment == "finalized" else ctx.bank.confirmed_slot()
    block = None
    if slot <= top and ctx.bank.block_committed(slot):
        block = await ctx.history.block(slot)
    if block is None:
        raise RpcError(-32004, f"Block not available for slot {slot}")
    return block


def block_json(block, config: dict, records: dict[str, TxRecord], signatures: list[str] | None = None) -> dict:
    """Solana's UiConfirmedBlock for `block` (its transactions limited to `signatures`);
    `records` holds at least the records of those transactions."""
    details = config.get("transactionDetails") or "full"
    sigs = block.signatures if signatures is None else signatures
    out: dict = {"blockHeight": block.slot, "blockTime": block.block_time, "blockhash": block.blockhash, "parentSlot": block.parent_slot, "previousBlockhash": block.previous_blockhash}
    if details == "full":
        out["transactions"] = [_encoded_tx(records[s], config.get("encoding") or "json", config.get("maxSupportedTransactionVersion")) for s in sigs]
    elif details == "accounts":
        out["transactions"] = [_accounts_only(records[s], config.get("maxSupportedTransactionVersion")) for s in sigs]
    elif details == "signatures":
        out["signatures"] = list(sigs)
    elif details != "none":
        raise invalid_params("Invalid params: transactionDetails must be full, accounts, signatures or none")
    if config.get("rewards") is not False and config.get("showRewards") is not False:
        out["rewards"] = []
    return out


@method("getBlock")
async def get_block(ctx: Ctx, params) -> Any:
    slot, config = _params(params, 1, 2)
    config = _encoding_config(config)
    block = await _block_available(ctx, slot, config)
    details = config.get("transactionDetails") or "full"
    records = await ctx.history.records(block.signatures) if details in ("full", "accounts") else {}
    return block_json(block, config, records)


@method("getBlockTime")
async def get_block_time(ctx: Ctx, params) -> Any:
    """As agave: a rooted slot's time from the ledger; a slot above the root whose bank
    exists (up to the processed slot, the one being produced included) its clock's time;
    a slot ahead of it "Block not available"."""
    (slot,) = _params(params, 1, 1)
    slot = _uint(slot, "slot")
    if slot == ctx.bank.slot:
        return ctx.bank.block_time  # the working bank's clock
    block = await ctx.history.block(slot) if slot < ctx.bank.slot else None
    if block is None:
        raise RpcError(-32004, f"Block not available for slot {slot}")
    return block.block_time


@method("getBlocks")
async def get_blocks(ctx: Ctx, params) -> Any:
    start, end, config = _params(params, 1, 3)
    if isinstance(end, dict):
        end, config = None, end
    start = _uint(start, "start slot")
    top = ctx.bank.slot_for(_commitment(_config(config)))
    top = min(top, ctx.bank.slot - 1)
    end = top if end is None else min(_uint(end, "end slot"), top)
    if end - start > 500_000:
        raise invalid_params("Slot range too large; max 500000")
    return list(range(max(start, ctx.bank.first_slot), end + 1))  # every slot has its block


# -- a one-node cluster -----------------------------------------------------------------
@method("getClusterNodes")
async def get_cluster_nodes(ctx: Ctx, params) -> Any:
    address = ctx.net.address or ("127.0.0.1", 8899)
    return [{"pubkey": str(ctx.bank.faucet.pubkey()), "gossip": None, "tpu": None, "tpuQuic": None, "rpc": f"{address[0]}:{address[1]}",
             "pubsub": f"{address[0]}:{address[1] + 1}", "version": VERSION["solana-core"], "featureSet": VERSION["feature-set"], "shredVersion": 0}]


@method("getVoteAccounts")
async def get_vote_accounts(ctx: Ctx, params) -> Any:
    return {"current": [], "delinquent": []}


@method("getSlotLeader")
async def get_slot_leader(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    ctx.slot(_config(config))
    return str(ctx.bank.faucet.pubkey())


@method("getSlotLeaders")
async def get_slot_leaders(ctx: Ctx, params) -> Any:
    start, limit = _params(params, 2, 2)
    _uint(start, "start slot")
    limit = _uint(limit, "limit")
    if limit > 5000:
        raise invalid_params("Invalid limit; max 5000")
    return [str(ctx.bank.faucet.pubkey())] * limit


@method("getLeaderSchedule")
async def get_leader_schedule(ctx: Ctx, params) -> Any:
    slot, config = _params(params, 0, 2)
    if isinstance(slot, dict):
        slot, config = None, slot
    config = _config(config)
    schedule = ctx.bank.epoch_schedule
    epoch, _ = schedule.get_epoch_and_slot_index(ctx.bank.slot if slot is None else _uint(slot, "slot"))
    identity = str(ctx.bank.faucet.pubkey())
    if config.get("identity") not in (None, identity):
        return {}
    return {identity: list(range(schedule.get_slots_in_epoch(epoch)))}


@method("getMaxRetransmitSlot")
@method("getMaxShredInsertSlot")  # one node: it has every shred of the current slot
async def get_max_retransmit_slot(ctx: Ctx, params) -> Any:
    return ctx.bank.slot


@method("getHighestSnapshotSlot")
async def get_highest_snapshot_slot(ctx: Ctx, params) -> Any:
    raise RpcError(-32008, "No snapshot")


@method("getBlockCommitment")
async def get_block_commitment(ctx: Ctx, params) -> Any:
    (slot,) = _params(params, 1, 1)
    _uint(slot, "slot")
    return {"commitment": None, "totalStake": 0}


@method("getInflationGovernor")
async def get_inflation_governor(ctx: Ctx, params) -> Any:
    return {"foundation": 0.0, "foundationTerm": 0.0, "initial": 0.0, "taper": 0.0, "terminal": 0.0}


@method("getInflationRate")
async def get_inflation_rate(ctx: Ctx, params) -> Any:
    epoch, _ = ctx.bank.epoch_schedule.get_epoch_and_slot_index(ctx.bank.slot)
    return {"epoch": epoch, "foundation": 0.0, "total": 0.0, "validator": 0.0}


@method("getRecentPerformanceSamples")
async def get_recent_performance_samples(ctx: Ctx, params) -> Any:
    """Per 60-second period of block time, most recent first: slots and transactions (a
    one-node cluster has no vote transactions, so every transaction is non-vote)."""
    (limit,) = _params(params, 0, 1)
    limit = 720 if limit is None else _uint(limit, "limit")
    if limit > 720:
        raise invalid_params("Invalid limit; max 720")
    return await ctx.history.performance(limit)


@method("getBlockProduction")
async def get_block_production(ctx: Ctx, params) -> Any:
    """The one leader produced every slot since the first block (none skipped)."""
    (config,) = _params(params, 0, 1)
    config = _config(config)
    first = ctx.bank.first_slot
    last = ctx.bank.slot
    window = config.get("range") or {}
    first = _uint(window.get("firstSlot", first), "firstSlot")
    last = _uint(window.get("lastSlot", last), "lastSlot")
    identity = str(ctx.bank.faucet.pubkey())
    if config.get("identity") not in (None, identity):
        return ctx.with_context(config, {"byIdentity": {}, "range": {"firstSlot": first, "lastSlot": last}})
    produced = max(0, min(last, ctx.bank.slot - 1) - max(first, ctx.bank.first_slot) + 1)  # no slot is skipped
    return ctx.with_context(config, {"byIdentity": {identity: [produced, produced]}, "range": {"firstSlot": first, "lastSlot": last}})


@method("getInflationReward")
async def get_inflation_reward(ctx: Ctx, params) -> Any:
    """No inflation on this cluster: no address has a reward (null per address)."""
    addresses, _config_value = _params(params, 1, 2)
    if not isinstance(addresses, list):
        raise invalid_params("Invalid params: expected an array of addresses")
    for address in addresses:
        _pubkey(address)
    return [None for _ in addresses]


@method("getStakeMinimumDelegation")
async def get_stake_minimum_delegation(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    return ctx.with_context(_config(config), 1_000_000_000)  # 1 SOL, as on mainnet since feature activation


@method("getSupply")
async def get_supply(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    config = _config(config)
    read = ctx.reader(config)
    total = sum(a.lamports for a in (read(k) for k in ctx.bank.keys_at(_commitment(config), ctx.bank.all_accounts())) if a is not None)
    return ctx.with_context(config, {"total": total, "circulating": total, "nonCirculating": 0, "nonCirculatingAccounts": []})


@method("getLargestAccounts")
async def get_largest_accounts(ctx: Ctx, params) -> Any:
    (config,) = _params(params, 0, 1)
    config = _config(config)
    read = ctx.reader(config)
    accounts = [(a.lamports, k) for k in ctx.bank.keys_at(_commitment(config), ctx.bank.all_accounts()) if (a := read(k)) is not None]
    accounts.sort(key=lambda x: (-x[0], bytes(x[1])))
    return ctx.with_context(config, [{"address": str(k), "lamports": l} for l, k in accounts[:20]])


@method("getTokenLargestAccounts")
async def get_token_largest_accounts(ctx: Ctx, params) -> Any:
    pubkey, config = _params(params, 1, 2)
    config = _config(config)
    key = _pubkey(pubkey)
    read, commitment = ctx.reader(config), _commitment(config)
    mint = read(key)
    if mint is None or not is_mint(mint):
        raise invalid_params("Invalid param: not a Token mint")
    decimals = bytes(mint.data)[44]
    candidates = ctx.bank.token_accounts_by_mint(key)
    for program_id in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
        candidates = ctx.bank.keys_at(commitment, candidates, program_id)
    found = []
    for k in candidates:
        account = read(k)
        if account is not None and account.owner in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID) and is_token_account(account) \
                and bytes(account.data)[0:32] == bytes(key):
            found.append((int.from_bytes(bytes(account.data)[64:72], "little"), k))
    found.sort(key=lambda x: (-x[0], bytes(x[1])))
    return ctx.with_context(config, [{"address": str(k), **ui_amount(amount, decimals)} for amount, k in found[:20]])


@method("getBlocksWithLimit")
async def get_blocks_with_limit(ctx: Ctx, params) -> Any:
    start, limit, config = _params(params, 2, 3)
    start, limit = _uint(start, "start slot"), _uint(limit, "limit")
    if limit > 500_000:
        raise invalid_params("Limit too large; max 500000")
    top = min(ctx.bank.slot_for(_commitment(_config(config))), ctx.bank.slot - 1)
    start = max(start, ctx.bank.first_slot)  # every slot from there on has its block
    return list(range(start, min(top, start + limit - 1) + 1)) if limit else []


# -- the app ---------------------------------------------------------------------------
def _error(rid: Any, error: dict) -> dict:
    return {"jsonrpc": "2.0", "error": error, "id": rid}


async def _one(ctx: Ctx, req: Any) -> dict:
    if not isinstance(req, dict):
        return _error(None, {"code": -32600, "message": "Invalid request"})
    rid = req.get("id")
    if req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str) or not isinstance(rid, (str, int, type(None))) or isinstance(rid, bool):
        return _error(rid if isinstance(rid, (str, int)) else None, {"code": -32600, "message": "Invalid request"})
    fn = METHODS.get(req["method"])
    if fn is None:
        return _error(rid, {"code": -32601, "message": "Method not found"})
    try:
        result = await fn(ctx, req.get("params"))
    except Exception as exc:  # noqa: BLE001 - never crash on a request
        return error_reply(rid, exc, req["method"])
    return {"jsonrpc": "2.0", "result": result, "id": rid}


def error_reply(rid: Any, exc: Exception, method_name: str) -> dict:
    """The JSON-RPC error answering a request whose handler raised `exc`."""
    if isinstance(exc, RpcError):
        return _error(rid, exc.to_json())
    if isinstance(exc, StoreFailed):  # the writer died while this request waited for its commit
        return _error(rid, {"code": -32005, "message": f"Node is unhealthy: {exc}", "data": {}})
    log.error("internal error in %s", method_name, exc_info=exc)
    return _error(rid, {"code": -32603, "message": "Internal error"})


_encode = json.JSONEncoder(separators=(",", ":")).encode  # made once: json.dumps with options builds one per call


def dumps(payload: Any) -> bytes:
    return _encode(payload).encode()


def error_body(message: str) -> bytes:
    return dumps(_error(None, {"code": -32600, "message": f"Invalid request: {message}"}))


class RpcHandler:
    """Turns one HTTP body into one HTTP reply: a request or a batch."""

    def __init__(self, net) -> None:
        self.ctx = Ctx(net)

    async def __call__(self, body: bytes) -> tuple[int, bytes]:
        if len(body) > MAX_BODY:
            return 413, error_body("body too large")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return 200, dumps(_error(None, {"code": -32700, "message": "Parse error"}))
        if isinstance(payload, list):
            if not payload:
                return 200, dumps(_error(None, {"code": -32600, "message": "Invalid request"}))
            if len(payload) > MAX_BATCH:
                return 200, dumps(_error(None, {"code": -32600, "message": f"Invalid request: batch larger than {MAX_BATCH}"}))
            # Concurrently: each request runs up to its first wait in order (transactions
            # execute in the batch's order), and the sends of a batch share commits
            # instead of waiting for one fsync each.
            return 200, dumps(list(await asyncio.gather(*(_one(self.ctx, req) for req in payload))))
        return 200, dumps(await _one(self.ctx, payload))
