"""durable_nonce_valid against a plain in-process LiteSVM (no server), and what LiteSVM
itself does with durable-nonce transactions when its blockhash check is off, as in the bank."""

from __future__ import annotations

import hashlib

import pytest
from solders.account import Account
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import AdvanceNonceAccountParams, TransferParams, advance_nonce_account, create_nonce_account, transfer
from solders.sysvar import RECENT_BLOCKHASHES
from solders.transaction_status import TransactionErrorFieldless
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from crowdcompute.localnet.runtime.nonce import NONCE_ACCOUNT_SIZE, SYSTEM_PROGRAM_ID, durable_nonce_valid

NONCE_LAMPORTS = 10_000_000


def durable(blockhash: Hash) -> Hash:
    """DurableNonce::from_blockhash: the value AdvanceNonceAccount stores."""
    return Hash(hashlib.sha256(b"DURABLE_NONCE" + bytes(blockhash)).digest())


class Chain:
    """A LiteSVM as the bank configures it, a payer, and a nonce account whose authority is
    a separate keypair (so "payer signs" and "authority signs" are distinguishable)."""

    def __init__(self) -> None:
        self.svm = LiteSVM().with_blockhash_check(False)
        self.payer, self.nonce, self.authority = Keypair(), Keypair(), Keypair()
        self.to = Keypair().pubkey()
        self.svm.airdrop(self.payer.pubkey(), 10**10)
        blockhash = self.svm.latest_blockhash()
        ixs = create_nonce_account(self.payer.pubkey(), self.nonce.pubkey(), self.authority.pubkey(), NONCE_LAMPORTS)
        result = self.svm.send_transaction(Transaction([self.payer, self.nonce], Message.new_with_blockhash(list(ixs), self.payer.pubkey(), blockhash), blockhash))
        assert not isinstance(result, FailedTransactionMetadata), result

    def stored_nonce(self) -> Hash:
        return Hash(bytes(self.svm.get_account(self.nonce.pubkey()).data)[40:72])

    def advance(self, authority: Pubkey | None = None) -> Instruction:
        return advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=self.nonce.pubkey(), authorized_pubkey=authority or self.authority.pubkey()))

    def pay(self, lamports: int = 1_000) -> Instruction:
        return transfer(TransferParams(from_pubkey=self.payer.pubkey(), to_pubkey=self.to, lamports=lamports))

    def message(self, ixs: list[Instruction], blockhash: Hash | None = None) -> Message:
        return Message.new_with_blockhash(ixs, self.payer.pubkey(), blockhash or self.stored_nonce())

    def nonce_data(self, **changes: bytes) -> bytes:
        data = bytearray(self.svm.get_account(self.nonce.pubkey()).data)
        for name, value in changes.items():
            start = {"version": 0, "state": 4}[name]
            data[start:start + len(value)] = value
        return bytes(data)

    def put_nonce_account(self, data: bytes, owner: Pubkey = SYSTEM_PROGRAM_ID) -> None:
        self.svm.set_account(self.nonce.pubkey(), Account(NONCE_LAMPORTS, data, owner, False, 0))


@pytest.fixture
def chain() -> Chain:
    return Chain()


def test_created_nonce_layout(chain):
    account = chain.svm.get_account(chain.nonce.pubkey())
    data = bytes(account.data)
    assert (account.owner, len(data)) == (SYSTEM_PROGRAM_ID, NONCE_ACCOUNT_SIZE)
    assert data[:8] == b"\x01\x00\x00\x00\x01\x00\x00\x00"  # Current, Initialized
    assert Pubkey(data[8:40]) == chain.authority.pubkey()
    # InitializeNonceAccount stores the durable form of the creating transaction's blockhash
    assert chain.stored_nonce() == durable(chain.svm.latest_blockhash())


def test_valid_durable_nonce_message(chain):
    message = chain.message([chain.advance(), chain.pay()])
    assert durable_nonce_valid(chain.svm, message) is True
    v0 = MessageV0.try_compile(chain.payer.pubkey(), [chain.advance(), chain.pay()], [], chain.stored_nonce())
    assert durable_nonce_valid(chain.svm, v0) is True
    # the authority may also be the fee payer
    own = Keypair()
    blockhash = chain.svm.latest_blockhash()
    ixs = create_nonce_account(chain.payer.pubkey(), own.pubkey(), chain.payer.pubkey(), NONCE_LAMPORTS)
    chain.svm.send_transaction(Transaction([chain.payer, own], Message.new_with_blockhash(list(ixs), chain.payer.pubkey(), blockhash), blockhash))
    advance = advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=own.pubkey(), authorized_pubkey=chain.payer.pubkey()))
    assert durable_nonce_valid(chain.svm, chain.message([advance, chain.pay()], durable(blockhash))) is True


def test_wrong_nonce(chain):
    assert durable_nonce_valid(chain.svm, chain.message([chain.advance(), chain.pay()], chain.svm.latest_blockhash())) is False
    assert durable_nonce_valid(chain.svm, chain.message([chain.advance(), chain.pay()], Hash.new_unique())) is False


def test_advance_not_first(chain):
    assert durable_nonce_valid(chain.svm, chain.message([chain.pay(), chain.advance()])) is False
    # another System instruction first, naming the nonce account first: not AdvanceNonceAccount
    withdraw_like = Instruction(SYSTEM_PROGRAM_ID, (2).to_bytes(4, "little") + (1).to_bytes(8, "little"),
                                [AccountMeta(chain.nonce.pubkey(), False, True), AccountMeta(chain.authority.pubkey(), True, True)])
    assert durable_nonce_valid(chain.svm, chain.message([withdraw_like, chain.advance()])) is False
    # AdvanceNonceAccount's data sent to another program
    other = Instruction(Pubkey.new_unique(), bytes(chain.advance().data), list(chain.advance().accounts))
    assert durable_nonce_valid(chain.svm, chain.message([other, chain.pay()])) is False
    assert durable_nonce_valid(chain.svm, chain.message([])) is False


def test_authority_must_sign_the_advance(chain):
    # named but not signing
    unsigned = Instruction(SYSTEM_PROGRAM_ID, (4).to_bytes(4, "little"), [
        AccountMeta(chain.nonce.pubkey(), False, True),
        AccountMeta(RECENT_BLOCKHASHES, False, False),
        AccountMeta(chain.authority.pubkey(), False, False),
    ])
    assert durable_nonce_valid(chain.svm, chain.message([unsigned, chain.pay()])) is False
    # the payer signs as "authority", but the stored authority is someone else
    assert durable_nonce_valid(chain.svm, chain.message([chain.advance(chain.payer.pubkey()), chain.pay()])) is False
    # the authority signs the message, but through another instruction, not the advance
    by_authority = transfer(TransferParams(from_pubkey=chain.authority.pubkey(), to_pubkey=chain.to, lamports=1))
    message = chain.message([chain.advance(chain.payer.pubkey()), by_authority])
    assert message.is_signer(list(message.account_keys).index(chain.authority.pubkey()))
    assert durable_nonce_valid(chain.svm, message) is False


def test_nonce_account_must_be_writable(chain):
    readonly = Instruction(SYSTEM_PROGRAM_ID, (4).to_bytes(4, "little"), [
        AccountMeta(chain.nonce.pubkey(), False, False),
        AccountMeta(RECENT_BLOCKHASHES, False, False),
        AccountMeta(chain.authority.pubkey(), True, False),
    ])
    assert durable_nonce_valid(chain.svm, chain.message([readonly])) is False


def test_not_a_nonce_account(chain):
    message = chain.message([chain.advance(), chain.pay()])
    good = chain.nonce_data()
    chain.put_nonce_account(good, owner=Pubkey.new_unique())  # right bytes, wrong owner
    assert durable_nonce_valid(chain.svm, message) is False
    chain.put_nonce_account(chain.nonce_data(state=b"\x00\x00\x00\x00"))  # Uninitialized
    assert durable_nonce_valid(chain.svm, message) is False
    chain.put_nonce_account(good[:4] + b"\x00\x00\x00\x00" + bytes(72))  # Uninitialized, zeroed
    assert durable_nonce_valid(chain.svm, message) is False
    chain.put_nonce_account(b"\x00\x00\x00\x00" + good[4:])  # Legacy version: retired
    assert durable_nonce_valid(chain.svm, message) is False
    chain.put_nonce_account(good + b"\x00")  # not 80 bytes
    assert durable_nonce_valid(chain.svm, message) is False
    chain.put_nonce_account(good)  # restored: valid again, so each case above failed on its own
    assert durable_nonce_valid(chain.svm, message) is True
    # a plain wallet (System-owned, no data) as the "nonce account", and a missing account
    wallet = Instruction(SYSTEM_PROGRAM_ID, (4).to_bytes(4, "little"), [
        AccountMeta(chain.payer.pubkey(), True, True),
        AccountMeta(RECENT_BLOCKHASHES, False, False),
        AccountMeta(chain.authority.pubkey(), True, False),
    ])
    assert durable_nonce_valid(chain.svm, chain.message([wallet])) is False
    missing = advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=Pubkey.new_unique(), authorized_pubkey=chain.authority.pubkey()))
    assert durable_nonce_valid(chain.svm, chain.message([missing])) is False


def test_litesvm_executes_and_advances_without_blockhash_check(chain):
    """What the bank can rely on once it accepts a durable-nonce transaction."""
    n0 = chain.stored_nonce()
    message = chain.message([chain.advance(), chain.pay(1_000)], n0)
    tx = Transaction([chain.payer, chain.authority], message, n0)
    assert not isinstance(chain.svm.send_transaction(tx), FailedTransactionMetadata)
    assert chain.svm.get_balance(chain.to) == 1_000
    # LiteSVM runs instructions with the transaction's recent_blockhash as "the" blockhash,
    # so the nonce advances to durable(n0), whatever LiteSVM's own latest_blockhash is.
    n1 = chain.stored_nonce()
    assert n1 == durable(n0) != n0
    assert durable_nonce_valid(chain.svm, message) is False  # a replay is BlockhashNotFound
    # the same signature again: LiteSVM's history refuses it
    assert chain.svm.send_transaction(tx).err() == TransactionErrorFieldless.AlreadyProcessed
    # A different transaction on the stale nonce is refused by LiteSVM only because
    # durable(n0) is stored already (NonceBlockhashNotExpired, Custom(7)), after the fee was
    # taken: the bank must check durable_nonce_valid before sending, not rely on this.
    stale = Transaction([chain.payer, chain.authority], chain.message([chain.advance(), chain.pay(2_000)], n0), n0)
    before = chain.svm.get_balance(chain.payer.pubkey())
    result = chain.svm.send_transaction(stale)
    assert isinstance(result, FailedTransactionMetadata) and "Custom(7)" in str(result.err())
    assert chain.svm.get_balance(chain.payer.pubkey()) == before - 10_000  # two signatures' fee
    # the next nonce works, via a v0 transaction too
    v0 = MessageV0.try_compile(chain.payer.pubkey(), [chain.advance(), chain.pay(3_000)], [], n1)
    assert durable_nonce_valid(chain.svm, v0) is True
    assert not isinstance(chain.svm.send_transaction(VersionedTransaction(v0, [chain.payer, chain.authority])), FailedTransactionMetadata)
    assert chain.stored_nonce() == durable(n1)
    assert chain.svm.get_balance(chain.to) == 4_000


def test_litesvm_does_not_advance_the_nonce_of_a_failed_transaction(chain):
    # Solana advances the nonce (and charges the fee) even when a durable-nonce transaction
    # fails, so it cannot be retried; LiteSVM rolls the nonce back with everything else and
    # only takes the fee, so the same nonce stays valid for another transaction.
    n0 = chain.stored_nonce()
    tx = Transaction([chain.payer, chain.authority], chain.message([chain.advance(), chain.pay(10**12)], n0), n0)
    result = chain.svm.send_transaction(tx)
    assert isinstance(result, FailedTransactionMetadata) and "InstructionError((1," in str(result.err())
    assert chain.stored_nonce() == n0
    assert durable_nonce_valid(chain.svm, chain.message([chain.advance(), chain.pay()], n0)) is True
