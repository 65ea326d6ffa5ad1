"""What a fresh localnet holds from its genesis on, over JSON-RPC: the feature accounts of
the runtime's feature set, the native mints (and wrapping SOL with them), the genesis block."""

from __future__ import annotations

import base64

import pytest
from solana.rpc.api import Client
from solana.rpc.commitment import Confirmed
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from spl.token.instructions import CloseAccountParams, SyncNativeParams, close_account, create_associated_token_account, get_associated_token_address, sync_native

from crowdcompute.common.token import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from crowdcompute.localnet.runtime.features import FEATURE_PROGRAM, features
from crowdcompute.localnet.ledger.genesis import NATIVE_MINT, NATIVE_MINT_2022

from .localnet_helpers import ThreadServer, funded, rpc, send

LOADER_V4_GATE = "2aQJYqER2aKyb3cZw22v4SL2xMX7vwXBRWfvS4pTrtED"  # enable_loader_v4 in agave 3.1
DISABLE_NEW_LOADER_V3_DEPLOYMENTS = "EmhbpdVtZ2hWRGFWBDjn2i3SJD8Z36z4mpMcZJEnebnP"  # LiteSVM's, dropped by agave
ALPENGLOW = "mustRekeyVm2QHYB3JPefBiU4BY3Z6JkW2k3Scw5GWP"  # solana-test-validator deactivates it
EXTEND_PROGRAM_CHECKED = "2oMRZEDWT2tqtYMofhmmfQ8SsjqUFzT6sYXppQDavxwz"  # newer than the runtime


def result(server, method: str, params: object = None):
    reply = rpc(server.url, method, params)
    assert "error" not in reply, reply
    return reply["result"]


def test_feature_accounts_are_the_runtime_feature_set(server):
    visible = [str(f) for f in features().visible]
    rent = result(server, "getMinimumBalanceForRentExemption", [9])
    for start in range(0, len(visible), 100):
        chunk = visible[start:start + 100]
        values = result(server, "getMultipleAccounts", [chunk, {"encoding": "base64"}])["value"]
        for fid, value in zip(chunk, values):
            assert value is not None, fid
            assert value["owner"] == str(FEATURE_PROGRAM) and not value["executable"] and value["lamports"] == rent
            assert base64.b64decode(value["data"][0]) == b"\x01" + bytes(8), fid  # Some(activated at slot 0)
    assert LOADER_V4_GATE in visible
    for absent in (DISABLE_NEW_LOADER_V3_DEPLOYMENTS, ALPENGLOW, EXTEND_PROGRAM_CHECKED):
        assert result(server, "getAccountInfo", [absent])["value"] is None, absent
    listed = result(server, "getProgramAccounts", [str(FEATURE_PROGRAM), {"encoding": "base64", "dataSlice": {"offset": 0, "length": 0}}])
    assert sorted(a["pubkey"] for a in listed) == sorted(visible)


@pytest.mark.parametrize("mint, program", [(NATIVE_MINT, TOKEN_PROGRAM_ID), (NATIVE_MINT_2022, TOKEN_2022_PROGRAM_ID)], ids=["spl-token", "token-2022"])
def test_native_mint_exists_at_genesis(server, mint, program):
    supply = result(server, "getTokenSupply", [str(mint)])["value"]
    assert (supply["amount"], supply["decimals"]) == ("0", 9)
    assert isinstance(result(server, "getTokenLargestAccounts", [str(mint)])["value"], list)
    value = result(server, "getAccountInfo", [str(mint), {"encoding": "jsonParsed"}])["value"]
    assert value["owner"] == str(program)
    info = value["data"]["parsed"]["info"]
    assert value["data"]["parsed"]["type"] == "mint"
    assert (info["decimals"], info["supply"], info["isInitialized"], info["mintAuthority"], info["freezeAuthority"]) == (9, "0", True, None, None)


@pytest.mark.parametrize("mint, program", [(NATIVE_MINT, TOKEN_PROGRAM_ID), (NATIVE_MINT_2022, TOKEN_2022_PROGRAM_ID)], ids=["spl-token", "token-2022"])
def test_wrap_and_unwrap_sol(server, client: Client, mint, program):
    owner = funded(client, 5 * 10**9)
    account = get_associated_token_address(owner.pubkey(), mint, program)
    wrapped = 1_500_000_000
    send(client, [create_associated_token_account(owner.pubkey(), owner.pubkey(), mint, program),
                  transfer(TransferParams(from_pubkey=owner.pubkey(), to_pubkey=account, lamports=wrapped)),
                  sync_native(SyncNativeParams(program, account))], [owner])
    balance = result(server, "getTokenAccountBalance", [str(account), {"commitment": "confirmed"}])["value"]
    assert (balance["amount"], balance["decimals"]) == (str(wrapped), 9)
    data = base64.b64decode(result(server, "getAccountInfo", [str(account), {"encoding": "base64", "commitment": "confirmed"}])["value"]["data"][0])
    assert data[109:113] == b"\x01\x00\x00\x00"  # is_native: COption::Some(rent-exempt reserve)
    reserve = int.from_bytes(data[113:121], "little")
    assert reserve == result(server, "getMinimumBalanceForRentExemption", [len(data)])
    if program == TOKEN_PROGRAM_ID:  # (jsonParsed of Token-2022 accounts with extensions is not served yet)
        parsed = result(server, "getAccountInfo", [str(account), {"encoding": "jsonParsed", "commitment": "confirmed"}])["value"]["data"]["parsed"]["info"]
        assert parsed["isNative"] is True and parsed["mint"] == str(mint) and parsed["tokenAmount"]["amount"] == str(wrapped)
        assert parsed["rentExemptReserve"]["amount"] == str(reserve)
    largest = result(server, "getTokenLargestAccounts", [str(mint), {"commitment": "confirmed"}])["value"]
    assert str(account) in [entry["address"] for entry in largest]
    before = client.get_balance(owner.pubkey(), Confirmed).value
    send(client, [close_account(CloseAccountParams(program, account, owner.pubkey(), owner.pubkey()))], [owner])
    assert result(server, "getAccountInfo", [str(account), {"commitment": "confirmed"}])["value"] is None
    assert client.get_balance(owner.pubkey(), Confirmed).value == before + wrapped + reserve - 5000


def test_genesis_block_is_available_from_the_first_answer(tmp_path):
    fresh = ThreadServer(tmp_path / "ledger", slot_ms=10_000)  # slot 1 lasts 10 s: nothing else finishes
    try:
        for commitment in ("confirmed", "finalized"):
            block = result(fresh, "getBlock", [0, {"commitment": commitment, "transactionDetails": "full", "maxSupportedTransactionVersion": 0}])
            assert (block["blockHeight"], block["parentSlot"], block["transactions"]) == (0, 0, [])
            assert result(fresh, "getSlot", [{"commitment": commitment}]) == 0
        assert result(fresh, "getBlocks", [0]) == [0]
        assert result(fresh, "getBlockTime", [0]) == block["blockTime"]
        assert result(fresh, "getSlot", [{"commitment": "processed"}]) == 1
    finally:
        fresh.stop()


def test_feature_data_matches_the_runtime():
    """The generated data names exactly the features LiteSVM's runtime knows (a solders
    upgrade that changes them needs scripts/gen-feature-list.py run against its agave)."""
    from solders.litesvm import FeatureSet

    known = {str(f) for f in FeatureSet.all_enabled().active}
    data = features()
    assert {str(f) for f in data.runtime_active + data.runtime_inactive} == known
    assert Pubkey.from_string(DISABLE_NEW_LOADER_V3_DEPLOYMENTS) in data.runtime_inactive
