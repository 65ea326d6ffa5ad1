"""The native signature check (localnet/native, crowdcompute.localnet._native) against
solders' (localnet/runtime/sigverify.py): the same verdict for every transaction solders can parse,
valid ones, tampered ones and signatures crafted to pass a lax or cofactored check, and 0
for what it cannot parse; random mutations too (hypothesis). Then the verifier's native mode
(verifier.py, verify_thread.py): batches answered in order off the event loop with the GIL
released, and over HTTP a server that starts no verifier process, refuses bad signatures and
lands good ones.

Where cargo is on PATH the native module must be built (scripts/build-native.sh): these
tests fail rather than skip, so that a broken build is not mistaken for a missing one."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from crowdcompute.localnet.runtime.sigverify import verify
from crowdcompute.localnet.runtime.verifier import MODE_ENV, Verifier

from . import ed25519_points as ed
from .localnet_helpers import RENT_EXEMPT_0, ThreadServer, rpc

try:
    from crowdcompute.localnet import _native
except ImportError:
    _native = None
    if shutil.which("cargo"):
        pytest.fail("cargo is here but crowdcompute.localnet._native does not import: run scripts/build-native.sh", pytrace=False)
    pytestmark = pytest.mark.skip(reason="the native check is not built (no cargo)")

BLOCKHASH = Hash.new_unique()


# -- the two checks --------------------------------------------------------------------------
def solders_verdict(raw: bytes) -> bool | None:
    """sigverify.verify's verdict (solders), or None when solders cannot parse `raw`."""
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception:  # noqa: BLE001 - whatever solders refuses, the native check must too
        return None
    return verify(tx)


def expected(raw: bytes) -> bool:
    """What the native check must answer: solders' verdict, and False for unparsable bytes.
    One deliberate difference: fewer static account keys than required signatures is False
    (solders pairs signatures with the keys there are and accepts the rest unchecked; the
    bank's sanitization refuses such a transaction anyway)."""
    verdict = solders_verdict(raw)
    if not verdict:
        return False
    tx = VersionedTransaction.from_bytes(raw)
    return len(tx.message.account_keys) >= tx.message.header.num_required_signatures


def assert_same(raws: list[bytes]) -> bytes:
    verdicts = _native.verify_batch(raws)
    assert isinstance(verdicts, bytes) and len(verdicts) == len(raws)
    for raw, verdict in zip(raws, verdicts):
        assert verdict == int(expected(raw)), raw.hex()
    return verdicts


# -- transactions ----------------------------------------------------------------------------
def _instructions(payer: Pubkey, cosigners: list[Pubkey]) -> list:
    ixs = [transfer(TransferParams(from_pubkey=payer, to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0))]
    # each cosigner a required signer of its own (a transfer of 0 of its lamports)
    ixs += [transfer(TransferParams(from_pubkey=key, to_pubkey=payer, lamports=0)) for key in cosigners]
    return ixs


def legacy(signers: list[Keypair]) -> bytes:
    message = Message.new_with_blockhash(_instructions(signers[0].pubkey(), [k.pubkey() for k in signers[1:]]), signers[0].pubkey(), BLOCKHASH)
    return bytes(VersionedTransaction(message, signers))


def v0(signers: list[Keypair], *, lookup: bool = False) -> bytes:
    ixs = _instructions(signers[0].pubkey(), [k.pubkey() for k in signers[1:]])
    tables = []
    if lookup:  # the receiver comes from an address lookup table: the message has a lookup
        receiver = ixs[0].accounts[1].pubkey
        tables = [AddressLookupTableAccount(Keypair().pubkey(), [Keypair().pubkey(), receiver])]
    message = MessageV0.try_compile(signers[0].pubkey(), ixs, tables, BLOCKHASH)
    if lookup:
        assert message.address_table_lookups
    return bytes(VersionedTransaction(message, signers))


def crafted(key: bytes, signature_of, *, versioned: bool = False, blockhash: Hash = BLOCKHASH) -> bytes:
    """A transfer from the account `key` (any 32 bytes), signed with
    `signature_of(message_bytes)` (any 64 bytes)."""
    payer = Pubkey(key)
    ixs = _instructions(payer, [])
    if versioned:
        message = MessageV0.try_compile(payer, ixs, [], blockhash)
        message_bytes = to_bytes_versioned(message)
    else:
        message = Message.new_with_blockhash(ixs, payer, blockhash)
        message_bytes = bytes(message)
    return bytes(VersionedTransaction.populate(message, [Signature.from_bytes(signature_of(message_bytes))]))


def signers(count: int) -> list[Keypair]:
    return [Keypair() for _ in range(count)]


def flip(raw: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(raw)
    out[index] ^= 1 << bit
    return bytes(out)


# -- valid and tampered ----------------------------------------------------------------------
def test_valid_legacy_and_v0_with_one_to_three_signers():
    raws = [build(signers(n)) for n in (1, 2, 3) for build in (legacy, v0)]
    raws += [v0(signers(n), lookup=True) for n in (1, 3)]
    assert assert_same(raws) == b"\x01" * len(raws)
    assert _native.verify_batch([]) == b""


def test_a_flipped_bit_in_a_signature_the_message_or_a_key():
    raws = []
    for n in (1, 2, 3):
        for build in (legacy, v0):
            raw = build(signers(n))
            message = 1 + 64 * n
            keys = message + (4 if raw[message] & 0x80 else 3) + 1  # header (+ version), key count
            raws += [flip(raw, 1 + 64 * i + 10, 3) for i in range(n)]  # each signature
            raws += [flip(raw, 1 + 64 * i + 63, 7) for i in range(n)]  # S's top bit: S >= L
            raws += [flip(raw, len(raw) - 1), flip(raw, message + 3 + 1 + 32 * n + 5)]  # instruction data, blockhash / keys
            raws += [flip(raw, keys + 32 * i) for i in range(n)]  # each signer's key
    verdicts = assert_same(raws)
    assert verdicts == b"\x00" * len(raws)


def test_signature_count_other_than_the_headers():
    two = legacy(signers(2))
    message = two[1 + 128:]
    fewer = b"\x01" + two[1:65] + message  # header asks for 2
    more = b"\x03" + two[1:129] + bytes(Keypair().sign_message(message)) + message
    assert solders_verdict(fewer) is False and solders_verdict(more) is False
    # fewer static keys than the header's signers: solders checks the one pair there is
    keypair = Keypair()
    body = bytes([2, 0, 0]) + b"\x01" + bytes(keypair.pubkey()) + bytes(BLOCKHASH) + b"\x00"
    short_keys = b"\x02" + bytes(keypair.sign_message(body)) + bytes(64) + body
    assert solders_verdict(short_keys) is True  # the difference expected() allows
    assert_same([fewer, more, short_keys]) == b"\x00\x00\x00"


def test_truncated_garbage_empty_and_bad_short_vecs_are_zero_never_an_error():
    raw = legacy(signers(2))
    cut = [raw[:n] for n in range(len(raw))]
    garbage = [b"", b"\x00", b"\x01", os.urandom(7), os.urandom(300), b"\xff" * 1000]
    message = raw[1 + 128:]
    short_vecs = [
        b"\xff\xff\x03" + raw[1:],  # 65535 signatures announced: runs out
        b"\xff\xff\x04" + raw[1:],  # above u16::MAX
        b"\x80\x80\x80\x01" + raw[1:],  # a third byte that continues
        b"\x82\x00" + raw[1:],  # an alias of 2: a zero byte after the first
        raw[:129] + message[:3] + b"\xff\xff\x03" + message[4:],  # 65535 account keys
        raw[:129] + message[:3] + b"\x82\x00" + message[4:],
    ]
    versions = [raw[:129] + bytes([0x80 | version]) + message for version in (1, 2, 127)]
    raws = cut + garbage + short_vecs + versions
    verdicts = assert_same(raws)
    assert verdicts == b"\x00" * len(raws)
    assert all(solders_verdict(r) is None for r in garbage[:3] + short_vecs[1:4] + versions)


def test_bytes_after_a_complete_transaction_are_ignored_as_solders_ignores_them():
    raws = [legacy(signers(1)) + b"\x00", v0(signers(2)) + os.urandom(40)]
    assert assert_same(raws) == b"\x01\x01"


# -- ed25519 strictness ----------------------------------------------------------------------
IDENTITY = ed.encode(ed.IDENTITY)
NON_CANONICAL_IDENTITY = (ed.P + 1).to_bytes(32, "little")  # y = p + 1: decodes to y = 1


def _lax_accepts(key: bytes, signature: bytes, message: bytes) -> bool:
    """The cofactored equation [8][S]B == [8]R + [8][k]A, which batch verification and lax
    checks rely on (for a canonical S)."""
    s = int.from_bytes(signature[32:], "little")
    r, a = ed.decode(signature[:32]), ed.decode(key)
    k = ed.challenge(signature[:32], key, message)
    left = ed.mul(8, ed.mul(s, ed.B))
    right = ed.mul(8, ed.add(r, ed.mul(k, a)))
    return ed.encode(left) == ed.encode(right)


def _honest_scalar() -> tuple[int, bytes]:
    secret = int.from_bytes(os.urandom(32), "little") % ed.L
    return secret, ed.encode(ed.mul(secret, ed.B))


def test_small_order_keys_with_the_trivial_signature_are_refused():
    """R = identity, S = 0 under a small-order key: [S]B = R + [k]A holds for every message
    (the attack on checks that allow small-order keys); verify_strict refuses it."""
    raws = []
    for key in ed.SMALL_ORDER:
        signature = IDENTITY + bytes(32)
        for versioned in (False, True):
            raw = crafted(key, lambda m, s=signature: s, versioned=versioned)
            message = raw[65:]
            if key == IDENTITY:  # the uncofactored equation holds too: a lax check would accept
                assert ed.encode(ed.mul(0, ed.B)) == ed.encode(ed.add(ed.IDENTITY, ed.mul(ed.challenge(IDENTITY, key, message), ed.decode(key))))
            assert _lax_accepts(key, signature, message)
            raws.append(raw)
    raws.append(crafted(NON_CANONICAL_IDENTITY, lambda m: IDENTITY + bytes(32)))  # the identity key, non-canonically
    raws.append(crafted(IDENTITY, lambda m: NON_CANONICAL_IDENTITY + bytes(32)))
    assert assert_same(raws) == b"\x00" * len(raws)


def test_small_order_r_is_refused():
    """An honest key, R = a small-order point, S = k * secret: [S]B = [k]A = R + [k]A for R
    the identity (and cofactored for every small-order R); verify_strict refuses it."""
    secret, key = _honest_scalar()
    raws = []
    for r in ed.SMALL_ORDER:
        def sign(message: bytes, r: bytes = r) -> bytes:
            s = ed.challenge(r, key, message) * secret % ed.L
            return r + s.to_bytes(32, "little")

        raw = crafted(key, sign)
        assert _lax_accepts(key, raw[1:65], raw[65:])
        raws.append(raw)
    assert assert_same(raws) == b"\x00" * len(raws)


def test_non_canonical_s_is_refused():
    """S + L verifies the same equation as S; only S < L is accepted."""
    raws, valid = [], []
    for build in (lambda: legacy(signers(1)), lambda: v0(signers(1))):
        raw = build()
        valid.append(raw)
        s = int.from_bytes(raw[33:65], "little")
        for bigger in (s + ed.L, s + 2 * ed.L):
            if bigger < 2**256:
                raws.append(raw[:33] + bigger.to_bytes(32, "little") + raw[65:])
    secret, key = _honest_scalar()
    honest = crafted(key, lambda m: ed.sign_with(secret, key, m, nonce=12345))
    valid.append(honest)
    s = int.from_bytes(honest[33:65], "little")
    raws.append(honest[:33] + (s + ed.L).to_bytes(32, "little") + honest[65:])
    assert assert_same(valid) == b"\x01" * len(valid)  # the crafting itself is sound
    assert assert_same(raws) == b"\x00" * len(raws)


def test_mixed_order_key_only_when_the_torsion_cancels():
    """A key A + T (T of order 8) signed with A's secret: the cofactored check accepts every
    such signature, the strict one only when [k]T is the identity (k = 0 mod 8). agave and
    solders accept those; so must the native check."""
    secret, _ = _honest_scalar()
    key = ed.encode(ed.add(ed.mul(secret, ed.B), ed.TORSION8))
    by_residue: dict[bool, bytes] = {}
    nonce = 1
    while len(by_residue) < 2:
        raw = crafted(key, lambda m, n=nonce: ed.sign_with(secret, key, m, n))
        k = ed.challenge(raw[1:33], key, raw[65:])
        assert _lax_accepts(key, raw[1:65], raw[65:])
        by_residue.setdefault(k % 8 == 0, raw)
        nonce += 1
    assert solders_verdict(by_residue[True]) is True and solders_verdict(by_residue[False]) is False
    assert assert_same([by_residue[True], by_residue[False]]) == b"\x01\x00"


# -- random mutations ------------------------------------------------------------------------
POOL = [legacy(signers(1)), legacy(signers(3)), v0(signers(1)), v0(signers(2), lookup=True)]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
)


def _mutate(raw: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(raw)
    for kind, at, value in mutations:
        at = at % (len(out) + 1)
        if kind == "flip" and at < len(out):
            out[at] ^= 1 << value
        elif kind == "set" and at < len(out):
            out[at] = value
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out.insert(at, value)
        elif kind == "delete" and at < len(out):
            del out[at]
    return bytes(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(POOL))), st.lists(mutation, min_size=0, max_size=3))
def test_random_mutations_agree_with_solders(base, mutations):
    assert_same([_mutate(POOL[base], mutations)])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_agree_with_solders(raw):
    assert_same([raw])


# -- the verifier's native mode --------------------------------------------------------------
def test_native_verifier_answers_batches_in_order_without_a_process(monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    good = [legacy(signers(2)), v0(signers(1))]
    bad = [flip(good[0], 70), flip(good[1], 5)]
    txs = [VersionedTransaction.from_bytes(raw) for raw in good + bad]
    want = [True, True, False, False]

    async def run() -> list[list[bool]]:
        verifier = Verifier()
        assert verifier.native
        verifier.start()
        assert verifier.process is None
        answers: list[list[bool]] = []
        for batch in (txs, txs[2:], list(reversed(txs)), txs[:1]):
            verifier.check(batch, answers.append)
        assert answers == []  # answered from the thread, on later loop turns
        await verifier.close()  # returns once every batch is answered
        return answers

    assert asyncio.run(run()) == [want, want[2:], list(reversed(want)), want[:1]]


def test_a_native_batch_that_raises_is_verified_inline(monkeypatch):
    """Not expected (verify_batch answers 0 for any bytes), but a batch it cannot answer
    must still get sigverify's verdicts, and the batches after it the native ones."""
    monkeypatch.delenv(MODE_ENV, raising=False)
    good, bad = legacy(signers(1)), flip(legacy(signers(1)), 3)
    txs = [VersionedTransaction.from_bytes(raw) for raw in (good, bad)]

    def flaky(raws: list[bytes]) -> bytes:
        if len(raws) == 1:
            raise RuntimeError("a batch the native check cannot answer")
        return _native.verify_batch(raws)

    async def run() -> list[list[bool]]:
        verifier = Verifier()
        verifier._verify_batch = flaky
        verifier.start()
        answers: list[list[bool]] = []
        for batch in (txs, txs[1:], txs[:1], txs):
            verifier.check(batch, answers.append)
        await verifier.close()
        return answers

    assert asyncio.run(run()) == [[True, False], [False], [True], [True, False]]


def test_verify_batch_releases_the_gil():
    """While a long batch is checked, another Python thread keeps running: the longest pause
    it sees is a small part of the batch's time (with the GIL held it would be all of it)."""
    raws = POOL * 2500  # 10,000 transactions, about half a second or more
    gaps: list[float] = []
    done = threading.Event()

    def check() -> None:
        started = time.perf_counter()
        _native.verify_batch(raws)
        gaps.append(time.perf_counter() - started)
        done.set()

    worker = threading.Thread(target=check)
    last, longest = time.perf_counter(), 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    batch_s = gaps[0]
    assert batch_s > 0.2, batch_s
    assert longest < batch_s / 2, (longest, batch_s)


def _children_running(module: str) -> list[int]:
    """This process's children whose command line runs `module`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and module.encode() in cmdline:
            found.append(int(proc.name))
    return found


def test_server_with_the_native_check_refuses_bad_signatures_and_starts_no_verifier(tmp_path, monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    server = ThreadServer(tmp_path / "ledger", slot_ms=50, finality_lag=None)
    try:
        assert server.net.verifier.native and server.net.verifier.process is None
        assert _children_running("crowdcompute.localnet.ledger.writer")  # the scan sees this server's helpers
        assert not _children_running("crowdcompute.localnet.runtime.verifier")
        payer = Keypair()
        airdrop = rpc(server.url, "requestAirdrop", [str(payer.pubkey()), 10**9])["result"]
        blockhash = Hash.from_string(rpc(server.url, "getLatestBlockhash")["result"]["value"]["blockhash"])

        def transfer_tx(lamports: int) -> bytes:
            ixs = [transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=RENT_EXEMPT_0 + lamports))]
            return bytes(VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), [payer]))

        def send(raw: bytes, skip: bool) -> dict:
            return rpc(server.url, "sendTransaction", [base64.b64encode(raw).decode(), {"encoding": "base64", "skipPreflight": skip}])

        # trivially "signed" by the identity key: what a lax check would accept (and then
        # refuse for its fee payer's missing lamports: another error)
        trivial = crafted(IDENTITY, lambda m: IDENTITY + bytes(32), blockhash=blockhash)
        def dropped(raw: bytes) -> bool:
            """Refused with preflight; with skipPreflight answered with its signature (as
            agave answers it) and never landed."""
            refused = send(raw, False)
            assert refused["error"]["code"] == -32003 and "signature verification" in refused["error"]["message"], refused
            answer, signature = send(raw, True), str(VersionedTransaction.from_bytes(raw).signatures[0])
            assert answer.get("result") == signature, answer
            return rpc(server.url, "getSignatureStatuses", [[signature], {"searchTransactionHistory": True}])["result"]["value"] == [None]

        for raw in (flip(transfer_tx(10), 20), trivial):
            assert dropped(raw)
        good = transfer_tx(20)
        signature = str(VersionedTransaction.from_bytes(good).signatures[0])
        assert send(good, True)["result"] == signature
        statuses = rpc(server.url, "getSignatureStatuses", [[airdrop, signature]])["result"]["value"]
        assert all(s["err"] is None and s["confirmationStatus"] in ("confirmed", "finalized") for s in statuses), statuses
        # The check parses the bytes as received (intake passes them on): trailing bytes are
        # ignored as by the decoder, a bad signature behind them still refused, and the ledger
        # keeps the transaction as serialized, without them.
        padded = transfer_tx(30)
        assert dropped(flip(padded, 20) + b"\x07\x07")
        padded_sig = send(padded + b"\x07\x07", True)["result"]
        landed = rpc(server.url, "getTransaction", [padded_sig, {"encoding": "base64", "commitment": "confirmed"}])["result"]
        assert base64.b64decode(landed["transaction"][0]) == padded
        assert not _children_running("crowdcompute.localnet.runtime.verifier")
    finally:
        server.stop()
