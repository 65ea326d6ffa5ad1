"""The RPC side of the SDK: read accounts, list program accounts, send a transaction and
turn its failure into a `ProgramError` named from the IDL. Standard JSON-RPC only (solana-py's
AsyncClient), so it works the same against the localnet, a validator, devnet or mainnet."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Sequence

import httpx
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment
from solana.rpc.core import RPCException
from solana.rpc.types import MemcmpOpts, TxOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction

from ..errors import ClusterUnavailable, ProgramError, RpcError, TransactionExpired, TransactionFailed

__all__ = ["RpcChain"]

SYSVAR_CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
_CUSTOM = re.compile(r"Program (\w+) failed: custom program error: 0x([0-9a-fA-F]+)")

# While a sent transaction is not seen, it is sent again this often (same bytes, same
# signature: it lands at most once). A real cluster may drop a transaction (a leader that
# never forwards it, a full queue); the localnet never does.
RESEND_EVERY = 2.0


class RpcChain:
    def __init__(self, url: str, commitment: str, *, program_id: Pubkey, errors: Any, timeout: float = 30) -> None:
        self.url = url
        self.commitment = Commitment(commitment)
        self.rpc = AsyncClient(url, commitment=self.commitment, timeout=timeout)
        self.program_id = program_id
        self.errors = errors  # JobsErrorCode
        # Each program's IDL errors by its id: a failure is named from the program that failed.
        self._errors_by_program: dict[str, Any] = {str(program_id): errors}
        self._sent: set[bytes] = set()
        self._valid_until: dict[Any, int] = {}  # blockhash -> its lastValidBlockHeight

    async def close(self) -> None:
        await self.rpc.close()

    def name_errors_of(self, program_id: Pubkey, errors: Any) -> None:
        """Names another program's failures from its IDL too (the staking program's)."""
        self._errors_by_program[str(program_id)] = errors

    async def call(self, what: str, coro: Any) -> Any:
        """Awaits an RPC call; a cluster that does not answer becomes ClusterUnavailable."""
        try:
            return await coro
        except RPCException as exc:
            if what == "sendTransaction":
                raise  # a preflight failure: send() names it from the program's logs
            payload = exc.args[0] if exc.args else exc
            raise RpcError(f"the cluster at {self.url} refused {what}: {getattr(payload, 'message', None) or payload}") from None
        except (SolanaRpcException, httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
            cause = exc.__cause__ or exc
            raise ClusterUnavailable(f"the cluster at {self.url} did not answer ({what}): {type(cause).__name__}: {cause}".rstrip(": ")) from None

    # -- reads -------------------------------------------------------------------------
    async def account_data(self, address: Pubkey) -> tuple[bytes, Pubkey, int] | None:
        """(data, owner, lamports) or None when there is no account."""
        reply = await self.call("getAccountInfo", self.rpc.get_account_info(address, self.commitment))
        if reply.value is None:
            return None
        return bytes(reply.value.data), reply.value.owner, reply.value.lamports

    async def program_accounts(self, filters: Sequence[int | MemcmpOpts]) -> list[tuple[Pubkey, bytes]]:
        reply = await self.call("getProgramAccounts", self.rpc.get_program_accounts(self.program_id, self.commitment, encoding="base64", filters=list(filters)))
        return [(keyed.pubkey, bytes(keyed.account.data)) for keyed in reply.value]

    async def clock(self) -> int:
        """The cluster's Clock sysvar `unix_timestamp` (the time its programs compare
        deadlines with), at `processed`: the newest bank's. It need not be this machine's
        time: the localnet's follows it, solana-test-validator's runs 1-2 s behind, a real
        cluster's drifts either way."""
        reply = await self.call("getAccountInfo", self.rpc.get_account_info(SYSVAR_CLOCK, Commitment("processed")))
        if reply.value is None or len(reply.value.data) < 40:
            raise RpcError(f"the cluster at {self.url} has no Clock sysvar")
        return int.from_bytes(bytes(reply.value.data)[32:40], "little", signed=True)

    async def transaction_logs(self, signature: Signature) -> list[str] | None:
        """A landed transaction's log messages (None when the cluster does not have it)."""
        reply = await self.call("getTransaction", self.rpc.get_transaction(signature, "json", self.commitment, max_supported_transaction_version=0))
        if reply.value is None:
            return None
        meta = reply.value.transaction.meta
        return list(meta.log_messages or []) if meta else []

    async def lamports(self, address: Pubkey) -> int:
        return (await self.call("getBalance", self.rpc.get_balance(address, self.commitment))).value

    async def rent_exempt(self, size: int) -> int:
        return (await self.call("getMinimumBalanceForRentExemption", self.rpc.get_minimum_balance_for_rent_exemption(size, self.commitment))).value

    # -- writes ------------------------------------------------------------------------
    async def message(self, instructions: Sequence[Instruction], fee_payer: Pubkey) -> Message:
        """A message with a recent blockhash. The same instructions sent twice under one
        blockhash would be one transaction (the second is AlreadyProcessed: a node queueing
        twice, say), so a message this client already sent waits for the next blockhash."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:
            latest = (await self.call("getLatestBlockhash", self.rpc.get_latest_blockhash(self.commitment))).value
            blockhash = latest.blockhash
            if len(self._valid_until) > 1024:
                self._valid_until.clear()
            self._valid_until[blockhash] = latest.last_valid_block_height
            message = Message.new_with_blockhash(list(instructions), fee_payer, blockhash)
            if bytes(message) not in self._sent or loop.time() > deadline:
                return message
            await asyncio.sleep(0.1)

    async def fee(self, message: Message) -> int:
        """The fee the cluster would charge for `message` (signature fees if it cannot say)."""
        try:
            value = (await self.call("getFeeForMessage", self.rpc.get_fee_for_message(message, self.commitment))).value
        except RpcError:
            value = None
        return value if value is not None else 5000 * message.header.num_required_signatures

    async def send(self, message: Message, signers: Sequence[Keypair]) -> Signature:
        """Signs, sends with preflight at our commitment and waits until confirmed at it.
        A preflight failure sends nothing; it is raised as ProgramError or TransactionFailed."""
        tx = Transaction(list(_unique(signers)), message, message.recent_blockhash)
        if len(self._sent) > 1024:
            self._sent.clear()  # blockhashes expire after 150 slots: old entries can never match
        self._sent.add(bytes(message))
        opts = TxOpts(skip_confirmation=True, preflight_commitment=self.commitment)
        try:
            signature = (await self.call("sendTransaction", self.rpc.send_raw_transaction(bytes(tx), opts))).value
        except RPCException as exc:
            raise self._failure(exc) from None
        await self.confirm(signature, bytes(tx), self._valid_until.get(message.recent_blockhash))
        return signature

    async def confirm(self, signature: Signature, raw: bytes | None = None, valid_until: int | None = None, timeout: float = 90) -> None:
        """Waits until `signature` reaches our commitment. While the cluster has not seen it,
        the same bytes are sent again every RESEND_EVERY seconds; once the block height
        passes the blockhash's lastValidBlockHeight it can no longer land: TransactionExpired.
        `timeout` is a backstop for a cluster that will not say its block height (and the
        only limit for what this client did not sign, `raw` None: an airdrop)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        resend_at = loop.time() + RESEND_EVERY
        while True:
            reply = await self.call("getSignatureStatuses", self.rpc.get_signature_statuses([signature]))
            status = reply.value[0]
            if status is not None:
                if status.err is not None:
                    logs = await self._logs(signature)
                    raise self._from_logs(str(status.err), logs)
                if _reached(status.confirmation_status, self.commitment):
                    return
            elif loop.time() >= resend_at:
                resend_at = loop.time() + RESEND_EVERY
                if valid_until is not None and await self._block_height() > valid_until and not await self._seen(signature):
                    raise TransactionExpired(f"transaction {signature} expired unconfirmed (the block height passed its blockhash's "
                                             f"last valid height {valid_until}): it can no longer land, nothing was changed")
                if raw is not None:
                    await self._resend(raw)
            if loop.time() > deadline:
                raise TransactionFailed(f"transaction {signature} not confirmed within {timeout:g}s (it may still land)")
            await asyncio.sleep(0.2)

    async def _block_height(self) -> int:
        return (await self.call("getBlockHeight", self.rpc.get_block_height(self.commitment))).value

    async def _seen(self, signature: Signature) -> bool:
        reply = await self.call("getSignatureStatuses", self.rpc.get_signature_statuses([signature], search_transaction_history=True))
        return reply.value[0] is not None

    async def _resend(self, raw: bytes) -> None:
        """Sends the signed bytes again, without preflight (it ran on the first send; a copy
        that already landed would fail it as AlreadyProcessed). Failures are ignored: the
        status poll decides."""
        try:
            await self.rpc.send_raw_transaction(raw, TxOpts(skip_confirmation=True, skip_preflight=True))
        except Exception:  # noqa: BLE001 - a refused or lost copy changes nothing; the status poll decides
            pass

    async def _logs(self, signature: Signature) -> list[str]:
        try:
            reply = await self.rpc.get_transaction(signature, "json", self.commitment, max_supported_transaction_version=0)
            meta = reply.value.transaction.meta if reply.value else None
            return list(meta.log_messages or []) if meta else []
        except Exception:  # the logs only make the message better; the failure stands without them
            return []

    def _failure(self, exc: RPCException) -> TransactionFailed:
        payload = exc.args[0] if exc.args else exc
        data = getattr(payload, "data", None)
        logs = list(getattr(data, "logs", None) or [])
        err = getattr(data, "err", None)
        message = getattr(payload, "message", None) or str(payload)
        return self._from_logs(str(err) if err is not None else message, logs)

    def _from_logs(self, err: str, logs: list[str]) -> TransactionFailed:
        # The first failure logged is the program that failed: a program that called it by
        # CPI logs the same code after it, and its own IDL may give that code another name.
        for line in logs:
            match = _CUSTOM.search(line)
            if match:
                errors = self._errors_by_program.get(match.group(1))
                code = int(match.group(2), 16)
                entry = errors.by_code.get(code) if errors is not None else None
                if entry is not None:
                    return ProgramError(code, entry["name"], entry["msg"], logs)
                break
        return TransactionFailed(f"transaction failed: {_short(err)}", logs)


def _short(text: str) -> str:
    return " ".join(text.split())[:300]


def _unique(signers: Sequence[Keypair]) -> list[Keypair]:
    seen: dict[Pubkey, Keypair] = {}
    for s in signers:
        seen.setdefault(s.pubkey(), s)
    return list(seen.values())


_ORDER = {"processed": 0, "confirmed": 1, "finalized": 2}


def _reached(status: Any, commitment: str) -> bool:
    if status is None:
        return False
    name = str(status).rsplit(".", 1)[-1].lower()
    return _ORDER.get(name, 0) >= _ORDER[str(commitment)]
