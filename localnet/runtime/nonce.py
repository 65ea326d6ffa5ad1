"""Durable transaction nonces: is a message's recent_blockhash a valid durable nonce?

Solana accepts a transaction whose recent_blockhash is not a recent blockhash when it uses
a durable nonce (agave's `get_durable_nonce` and `verify_nonce_account`):

- its FIRST instruction calls the System program with AdvanceNonceAccount (data starts with
  the instruction index 4 as u32 little-endian);
- that instruction's first account, the nonce account, is a static key of the message (not
  one loaded from a lookup table) and writable;
- the nonce account is owned by the System program and holds nonce state version Current
  (Legacy nonces were retired when durable nonces left the blockhash domain) in state
  Initialized, whose stored durable nonce equals the message's recent_blockhash;
- the nonce authority stored in that state is among the instruction's accounts that sign
  the message.

Nonce account data (bincode of `nonce::state::Versions`, 80 bytes):
    0..4    version  u32 LE, 0 = Legacy, 1 = Current
    4..8    state    u32 LE, 0 = Uninitialized, 1 = Initialized
    8..40   authority          Pubkey
    40..72  durable nonce      Hash
    72..80  lamports_per_signature u64 LE
"""

from __future__ import annotations

import hashlib

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey

from .message_keys import is_writable

__all__ = ["durable_nonce_valid", "durable_nonce_after", "advance_after_failure", "NONCE_ACCOUNT_SIZE"]

SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
NONCE_ACCOUNT_SIZE = 80
_ADVANCE_NONCE = (4).to_bytes(4, "little")
_CURRENT_INITIALIZED = (1).to_bytes(4, "little") + (1).to_bytes(4, "little")


def durable_nonce_valid(svm: LiteSVM, message: Message | MessageV0) -> bool:
    """True when `message` is a durable-nonce transaction whose nonce is current (see the
    module docstring); reads only the nonce account, changes nothing."""
    if not message.instructions:
        return False
    ix = message.instructions[0]
    keys = message.account_keys  # static keys only, for MessageV0 too
    if ix.program_id_index >= len(keys) or keys[ix.program_id_index] != SYSTEM_PROGRAM_ID:
        return False
    if bytes(ix.data)[:4] != _ADVANCE_NONCE:
        return False
    accounts = bytes(ix.accounts)
    if not accounts:
        return False
    nonce_index = accounts[0]
    # Past the static keys is an address from a lookup table: Solana refuses those as nonce
    # accounts (require_static_nonce_account), since a table could be changed under a signer.
    if nonce_index >= len(keys) or not is_writable(message, nonce_index):
        return False
    account = svm.get_account(keys[nonce_index])
    if account is None or account.owner != SYSTEM_PROGRAM_ID:
        return False
    data = bytes(account.data)
    if len(data) != NONCE_ACCOUNT_SIZE or data[:8] != _CURRENT_INITIALIZED:
        return False
    if Hash(data[40:72]) != message.recent_blockhash:
        return False
    authority = Pubkey(data[8:40])
    return any(i < len(keys) and message.is_signer(i) and keys[i] == authority for i in accounts)


def durable_nonce_after(blockhash: Hash) -> Hash:
    """DurableNonce::from_blockhash: what AdvanceNonceAccount stores. LiteSVM advances with
    the transaction's own recent_blockhash, i.e. the nonce it used."""
    return Hash(hashlib.sha256(b"DURABLE_NONCE" + bytes(blockhash)).digest())


def advance_after_failure(svm: LiteSVM, message: Message | MessageV0) -> Pubkey:
    """Solana advances the nonce of a durable-nonce transaction that failed (it paid its fee
    and must not be replayable); LiteSVM rolls the advance back with the rest of the
    transaction. Stores the advanced nonce, as a successful AdvanceNonceAccount would have,
    and returns the nonce account. Call only for a message durable_nonce_valid accepted."""
    key = message.account_keys[bytes(message.instructions[0].accounts)[0]]
    account = svm.get_account(key)
    data = bytearray(account.data)
    data[40:72] = bytes(durable_nonce_after(message.recent_blockhash))
    svm.set_account(key, Account(account.lamports, bytes(data), account.owner, account.executable, account.rent_epoch))
    return key
