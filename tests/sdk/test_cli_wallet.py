"""crowd address | balance | airdrop, and the options every command shares."""

from __future__ import annotations

from tests.localnet.localnet_helpers import free_port_pair


def test_address_is_the_keypair_files(crowd, poster):
    result = crowd("address", "--output", "json")
    assert result.code == 0
    assert result.json() == {"address": str(poster[0].pubkey())}
    assert crowd("address").out.strip() == str(poster[0].pubkey())


def test_balance_and_tokens(crowd, poster, wallets):
    result = crowd("balance", "--mint", str(wallets.mint), "--output", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["lamports"] == 10 * 10**9 and data["tokens"] == 1_000_000
    assert "10 SOL, 1000000 tokens" in crowd("balance", "--mint", str(wallets.mint)).out


def test_airdrop_adds_lamports(crowd, poster):
    result = crowd("airdrop", "1.5", "--output", "json")
    assert result.code == 0, result.err
    assert result.json()["lamports"] == 11_500_000_000


def test_missing_keypair_is_one_line(crowd, tmp_path):
    result = crowd("balance", keypair=str(tmp_path / "nope.json"))
    assert result.code == 1
    assert result.error_line == f"error: keypair file not found: {tmp_path / 'nope.json'}"


def test_not_a_keypair_file(crowd, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]")
    assert crowd("address", keypair=str(bad)).error_line == f"error: not a keypair file (a JSON array of 64 bytes): {bad}"


def test_rpc_that_does_not_answer(crowd):
    port = free_port_pair()
    result = crowd("balance", url=f"http://127.0.0.1:{port}")
    assert result.code == 1
    assert result.error_line.startswith(f"error: the cluster at http://127.0.0.1:{port} did not answer (getBalance)")


def test_bad_url_moniker(crowd):
    result = crowd("balance", url="mainnet")
    assert result.code == 1
    assert "not a cluster URL or moniker: 'mainnet'" in result.error_line


def test_json_errors_are_json_too(crowd, tmp_path):
    result = crowd("balance", "--output", "json", keypair=str(tmp_path / "nope.json"))
    assert result.code == 1
    assert result.json() == {"error": f"keypair file not found: {tmp_path / 'nope.json'}"}
