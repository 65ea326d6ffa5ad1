"""Address lookup tables over RPC, against a real server with solana-py's Client: create a
table, extend it, and send a v0 transaction whose payee is only in the table.

solders 0.26 has the table's account layout (AddressLookupTable, derive_lookup_table_address)
but no instruction builders, so CreateLookupTable and ExtendLookupTable are built by hand
from the program's bincode layout: a u32 LE instruction index, then the fields."""

from __future__ import annotations

import time

from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solana.rpc.types import TxOpts
from solders.address_lookup_table_account import ID as ALT_PROGRAM_ID
from solders.address_lookup_table_account import AddressLookupTable, AddressLookupTableAccount, derive_lookup_table_address
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from .localnet_helpers import funded, rpc, send


def create_lookup_table(authority: Pubkey, payer: Pubkey, recent_slot: int) -> tuple[Pubkey, Instruction]:
    """ProgramInstruction::CreateLookupTable { recent_slot: u64, bump_seed: u8 } (index 0)."""
    table, bump = derive_lookup_table_address(authority, recent_slot)
    data = (0).to_bytes(4, "little") + recent_slot.to_bytes(8, "little") + bytes([bump])
    accounts = [AccountMeta(table, False, True), AccountMeta(authority, True, False), AccountMeta(payer, True, True), AccountMeta(SYSTEM_PROGRAM_ID, False, False)]
    return table, Instruction(ALT_PROGRAM_ID, data, accounts)


def extend_lookup_table(table: Pubkey, authority: Pubkey, payer: Pubkey, addresses: list[Pubkey]) -> Instruction:
    """ProgramInstruction::ExtendLookupTable { new_addresses: Vec<Pubkey> } (index 2)."""
    data = (2).to_bytes(4, "little") + len(addresses).to_bytes(8, "little") + b"".join(bytes(a) for a in addresses)
    accounts = [AccountMeta(table, False, True), AccountMeta(authority, True, False), AccountMeta(payer, True, True), AccountMeta(SYSTEM_PROGRAM_ID, False, False)]
    return Instruction(ALT_PROGRAM_ID, data, accounts)


def landed(client: Client, signature) -> dict:
    """The committed transaction's raw getTransaction reply (slot, meta), after confirmation."""
    client.confirm_transaction(signature, Confirmed, sleep_seconds=0.05)
    return client.get_transaction(signature, commitment=Confirmed, max_supported_transaction_version=0).value


def wait_for_slot_after(client: Client, slot: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while client.get_slot(Confirmed).value <= slot:
        assert time.monotonic() < deadline, f"slot did not pass {slot}"
        time.sleep(0.05)


def test_create_lookup_table_at_a_recent_slot(server, client):
    payer = funded(client)
    wait_for_slot_after(client, 0)  # slot 0 is in SlotHashes even now: take a later one
    recent_slot = client.get_slot(Confirmed).value
    _, create = create_lookup_table(payer.pubkey(), payer.pubkey(), recent_slot)
    # skip_preflight: otherwise the simulation's error is raised here, not recorded below
    meta = landed(client, send(client, [create], [payer], skip_preflight=True)).transaction.meta
    assert meta.err is None, meta.log_messages


def test_v0_transfer_through_lookup_table(server, client):
    payer = funded(client)
    # The table is created at a recent finalized slot, as clients do (in SlotHashes).
    table, create = create_lookup_table(payer.pubkey(), payer.pubkey(), client.get_slot().value)
    assert landed(client, send(client, [create], [payer])).transaction.meta.err is None
    payee, readonly, other = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    extend_sig = send(client, [extend_lookup_table(table, payer.pubkey(), payer.pubkey(), [other, payee, readonly])], [payer])
    extended = landed(client, extend_sig)
    assert extended.transaction.meta.err is None
    state = AddressLookupTable.deserialize(bytes(client.get_account_info(table, Confirmed).value.data))
    assert list(state.addresses) == [other, payee, readonly]
    assert (state.meta.authority, state.meta.last_extended_slot) == (payer.pubkey(), extended.slot)
    # Addresses added in slot S are usable from slot S + 1.
    wait_for_slot_after(client, extended.slot)

    pay = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=payee, lamports=4_321_000))
    # An extra read-only account on the transfer (the System program ignores it), so that
    # the table also serves a read-only address.
    pay = Instruction(pay.program_id, bytes(pay.data), list(pay.accounts) + [AccountMeta(readonly, False, False)])
    blockhash = client.get_latest_blockhash(Confirmed).value.blockhash
    message = MessageV0.try_compile(payer.pubkey(), [pay], [AddressLookupTableAccount(table, list(state.addresses))], blockhash)
    # both addresses come from the table, none is a static key
    assert payee not in message.account_keys and readonly not in message.account_keys
    assert [(bytes(l.writable_indexes), bytes(l.readonly_indexes)) for l in message.address_table_lookups] == [(b"\x01", b"\x02")]
    sig = client.send_raw_transaction(bytes(VersionedTransaction(message, [payer])), TxOpts(preflight_commitment=Confirmed)).value
    client.confirm_transaction(sig, Confirmed, sleep_seconds=0.05)

    assert client.get_balance(payee, Confirmed).value == 4_321_000
    reply = rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}])["result"]
    assert reply["version"] == 0
    assert reply["meta"]["err"] is None
    assert reply["meta"]["loadedAddresses"] == {"writable": [str(payee)], "readonly": [str(readonly)]}
    assert reply["transaction"]["message"]["addressTableLookups"] == [{"accountKey": str(table), "writableIndexes": [1], "readonlyIndexes": [2]}]
    # pre/postBalances cover static keys, then loaded writable, then loaded read-only
    keys = len(message.account_keys)
    assert reply["meta"]["postBalances"][keys] - reply["meta"]["preBalances"][keys] == 4_321_000
    # through solana-py too
    typed = client.get_transaction(sig, commitment=Confirmed, max_supported_transaction_version=0).value.transaction
    assert typed.version == 0 and list(typed.meta.loaded_addresses.writable) == [payee]
    # jsonParsed lists the loaded keys with their source, parses the transfer to the table's
    # address, and leaves loadedAddresses out of the meta, as agave does
    parsed = rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed", "maxSupportedTransactionVersion": 0, "encoding": "jsonParsed"}])["result"]
    listed = parsed["transaction"]["message"]["accountKeys"]
    assert listed[keys:] == [{"pubkey": str(payee), "signer": False, "source": "lookupTable", "writable": True},
                             {"pubkey": str(readonly), "signer": False, "source": "lookupTable", "writable": False}]
    assert all(k["source"] == "transaction" for k in listed[:keys])
    transfers = [ix for ix in parsed["transaction"]["message"]["instructions"] if ix.get("program") == "system"]
    assert [ix["parsed"]["info"]["destination"] for ix in transfers] == [str(payee)]
    assert "loadedAddresses" not in parsed["meta"]
    # a client that cannot read v0 is told so, as Solana does
    assert rpc(server.url, "getTransaction", [str(sig), {"commitment": "confirmed"}])["error"]["code"] == -32015

    assert [s.signature for s in client.get_signatures_for_address(payee, commitment=Confirmed).value] == [sig]
    assert [s.signature for s in client.get_signatures_for_address(readonly, commitment=Confirmed).value] == [sig]
    assert client.get_signatures_for_address(other, commitment=Confirmed).value == []
