"""CIDv0 <-> the 32-byte digest the chain stores, both ways, and the CIDs we refuse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcompute.client.storage import InvalidCid
from crowdcompute.client.storage.cid import Cid, cid_to_digest, digest_to_cid

HELLO = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
HELLO_DIGEST = "46d44814b9c5af141c3aaab7c05dc5e844ead5f91f12858b021eba45768b4c0e"
# The same dag-pb node as a base32 CIDv1 (`ipfs cid format -v 1 -b base32 QmT78z...`):
# 0x01 (version) 0x70 (dag-pb) 0x12 0x20 (sha2-256, 32 bytes) || digest, "b" + base32.
HELLO_V1 = "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"


def test_digest_and_cid_both_ways():
    assert cid_to_digest(HELLO).hex() == HELLO_DIGEST
    assert digest_to_cid(bytes.fromhex(HELLO_DIGEST)) == HELLO
    assert Cid.from_hex(HELLO_DIGEST) == Cid.parse(HELLO)
    assert Cid.parse(HELLO).hex == HELLO_DIGEST


def test_cidv1_of_a_dag_pb_node_names_the_same_digest():
    assert Cid.parse(HELLO_V1) == Cid.parse(HELLO)
    assert Cid.parse(f"/ipfs/{HELLO}") == Cid.parse(HELLO)  # the path form kubo's RPC takes


@given(st.binary(min_size=32, max_size=32))
def test_round_trip(digest):
    text = digest_to_cid(digest)
    assert text.startswith("Qm") and len(text) == 46
    assert cid_to_digest(text) == digest


@pytest.mark.parametrize("text, says", [
    ("", "expected a CIDv0"),
    ("hello", "expected a CIDv0"),
    ("Qm" + "0" * 44, "not base58"),  # 0 is not in the base58 alphabet
    (HELLO[:-1], "expected a CIDv0"),
    ("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o1", "expected a CIDv0"),
    # base32 CIDv1 of a raw leaf (kubo's --cid-version=1 for "hello world"): another digest rule
    ("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "raw-leaves"),
    ("bafy!!!", "not base32"),
])
def test_invalid_cids_are_refused_with_a_reason(text, says):
    with pytest.raises(InvalidCid, match=says):
        Cid.parse(text)


def test_invalid_cid_is_also_a_value_error():
    with pytest.raises(ValueError):
        Cid.parse("nope")
    with pytest.raises(ValueError):
        Cid(b"short")
    with pytest.raises(ValueError):
        Cid.from_hex("zz")


def test_a_non_sha256_multihash_is_refused():
    import based58

    blake = based58.b58encode(bytes([0x13, 0x20]) + bytes(32)).decode()  # sha2-512 code, 32 bytes
    with pytest.raises(InvalidCid):
        Cid.parse(blake)
