"""set_node_profile and close_node_profile on the real SBF build in LiteSVM: a node publishes
its public URL and hardware digest in its profile, PDA ["node_profile", node], and every
call an attacker could build instead is refused with the program's error, the profile (and
the attacker's target) left as they were.

Attacks tried: another signer writing or closing a node's profile, the node's signature
left off, a wrong PDA (another node's, a fresh keypair, a job account), URLs that are not
http(s), too long, with non-printable bytes or spaces or padding, a zero hardware digest,
a second initialisation, accounts passed twice, substituted system program and clock."""

from __future__ import annotations

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.sysvar import CLOCK, RENT

from crowdcompute.client.jobs import instruction_plan as plan
from crowdcompute.client.jobs.accounts import account_discriminator
from crowdcompute.client.jobs.layout import MAX_URL_LEN, NODE_PROFILE_SIZE
from crowdcompute.client.jobs.profile import NodeProfile, encode_url
from crowdcompute.sandbox import Sandbox, digest
from tests.support import assert_refused, event

URL = "https://node-1.example.org:8443"
HARDWARE = digest("hardware summary of node 1")


# -- helpers ----------------------------------------------------------------------------

def raw_set(sandbox: Sandbox, node: Pubkey, *, url: bytes = URL.encode(), url_len: int | None = None, hardware: bytes = HARDWARE,
            payer: Pubkey | None = None) -> Instruction:
    """set_node_profile with the bytes given as they are (no client-side URL check)."""
    return sandbox.jobs.set_node_profile(node=node, payer=payer or node, url_len=len(url) if url_len is None else url_len,
                                         url=url.ljust(MAX_URL_LEN, b"\0"), hardware=hardware)


def with_account(ix: Instruction, index: int, pubkey: Pubkey | None = None, *, signer: bool | None = None) -> Instruction:
    """The instruction with account `index` replaced (address and/or signer flag)."""
    metas = list(ix.accounts)
    old = metas[index]
    metas[index] = AccountMeta(pubkey or old.pubkey, old.is_signer if signer is None else signer, old.is_writable)
    return Instruction(ix.program_id, ix.data, metas)


def profile_of(sandbox: Sandbox, node: Pubkey) -> NodeProfile | None:
    address = sandbox.jobs.node_profile(node)
    account = sandbox.chain.account(address)
    if account is None or not account.lamports:
        return None
    return NodeProfile.from_decoded(address, sandbox.jobs.decode_node_profile(bytes(account.data)))


def snapshot(sandbox: Sandbox, *addresses: Pubkey) -> list:
    """Bytes, lamports and owner of each account (None when absent)."""
    out = []
    for address in addresses:
        account = sandbox.chain.account(address)
        out.append(None if account is None else (bytes(account.data), account.lamports, account.owner))
    return out


def publish(sandbox: Sandbox, node: Keypair, url: str = URL, hardware: bytes = HARDWARE):
    return sandbox.chain.send(plan.set_node_profile(sandbox.jobs, node=node.pubkey(), url=url, hardware=hardware), [node])


@pytest.fixture
def node(sandbox: Sandbox) -> Keypair:
    return sandbox.chain.funded()


@pytest.fixture
def published(sandbox: Sandbox, node: Keypair) -> Keypair:
    """`node` with its profile published (URL, HARDWARE)."""
    sandbox.must(publish(sandbox, node))
    return node


# -- the honest calls ---------------------------------------------------------------------

def test_first_call_creates_the_profile_at_the_nodes_pda(sandbox, node):
    payer = sandbox.chain.funded()
    before = sandbox.chain.lamports(node.pubkey())
    ixs = plan.set_node_profile(sandbox.jobs, node=node.pubkey(), url=URL, hardware=HARDWARE, payer=payer.pubkey())
    outcome = sandbox.must(sandbox.chain.send(ixs, [payer, node]))
    address = sandbox.jobs.node_profile(node.pubkey())
    account = sandbox.chain.account(address)
    assert account.owner == sandbox.jobs.program_id
    assert len(account.data) == NODE_PROFILE_SIZE and bytes(account.data)[:8] == account_discriminator("NodeProfile")
    assert account.lamports == sandbox.chain.rent_exempt(NODE_PROFILE_SIZE)
    assert sandbox.chain.lamports(node.pubkey()) == before  # the payer paid the rent and the fee
    profile = profile_of(sandbox, node.pubkey())
    assert (profile.node, profile.url, profile.hardware, profile.updated_at) == (node.pubkey(), URL, HARDWARE, sandbox.chain.now())
    assert Pubkey.find_program_address([b"node_profile", bytes(node.pubkey())], sandbox.jobs.program_id) == (address, profile.bump)
    data = event(sandbox, outcome, "NodeProfileSet")
    assert (data.node, bytes(data.hardware), data.created, bytes(data.url)[: data.url_len].decode()) == (node.pubkey(), HARDWARE, 1, URL)


def test_a_later_call_overwrites_in_place_and_zeroes_the_old_url(sandbox, published):
    address = sandbox.jobs.node_profile(published.pubkey())
    lamports = sandbox.chain.lamports(address)
    sandbox.chain.advance(120)
    outcome = sandbox.must(publish(sandbox, published, "http://10.0.0.7", digest("new hardware")))
    profile = profile_of(sandbox, published.pubkey())
    assert (profile.url, profile.hardware, profile.updated_at) == ("http://10.0.0.7", digest("new hardware"), sandbox.chain.now())
    data = bytes(sandbox.chain.account(address).data)
    assert len(data) == NODE_PROFILE_SIZE and sandbox.chain.lamports(address) == lamports
    url_at = NODE_PROFILE_SIZE - MAX_URL_LEN
    assert data[url_at:] == b"http://10.0.0.7".ljust(MAX_URL_LEN, b"\0")
    assert event(sandbox, outcome, "NodeProfileSet").created == 0


def test_the_longest_url_fits(sandbox, node):
    url = "https://" + "a" * (MAX_URL_LEN - len("https://"))
    sandbox.must(publish(sandbox, node, url))
    assert profile_of(sandbox, node.pubkey()).url == url


def test_a_pre_funded_profile_address_is_still_created(sandbox, node):
    """Lamports sent to the PDA first (to block it) do not stop the node."""
    griefer = sandbox.chain.funded()
    address = sandbox.jobs.node_profile(node.pubkey())
    sandbox.must(sandbox.chain.send([transfer(TransferParams(from_pubkey=griefer.pubkey(), to_pubkey=address, lamports=1))], [griefer]))
    sandbox.must(publish(sandbox, node))
    assert profile_of(sandbox, node.pubkey()).url == URL


def test_close_returns_the_rent_to_the_receiver_and_the_node_may_publish_again(sandbox, published):
    receiver = Keypair().pubkey()
    address = sandbox.jobs.node_profile(published.pubkey())
    rent = sandbox.chain.lamports(address)
    outcome = sandbox.must(sandbox.chain.send([sandbox.jobs.close_node_profile(node=published.pubkey(), receiver=receiver)], [published]))
    assert profile_of(sandbox, published.pubkey()) is None
    assert sandbox.chain.lamports(receiver) == rent
    assert event(sandbox, outcome, "NodeProfileClosed").node == published.pubkey()
    sandbox.must(publish(sandbox, published, "http://again.example"))
    assert profile_of(sandbox, published.pubkey()).url == "http://again.example"


# -- hostile calls ------------------------------------------------------------------------

def test_another_signer_cannot_write_a_nodes_profile(sandbox, node, errors):
    """The attacker signs as `node` of its own instruction but names the victim's profile:
    refused on creation (not the attacker's PDA) and on overwrite (not the attacker's)."""
    attacker = sandbox.chain.funded()
    victim_profile = sandbox.jobs.node_profile(node.pubkey())
    ix = with_account(raw_set(sandbox, attacker.pubkey(), url=b"https://evil.example"), 2, victim_profile)
    assert_refused(sandbox.chain.send([ix], [attacker]), errors, "NodeProfileMismatch")
    assert sandbox.chain.account(victim_profile) is None
    sandbox.must(publish(sandbox, node))
    before = snapshot(sandbox, victim_profile)
    assert_refused(sandbox.chain.send([ix], [attacker]), errors, "NodeProfileMismatch")
    assert snapshot(sandbox, victim_profile) == before


def test_the_node_must_sign(sandbox, published, errors):
    attacker = sandbox.chain.funded()
    ix = with_account(raw_set(sandbox, published.pubkey(), url=b"https://evil.example", payer=attacker.pubkey()), 0, signer=False)
    before = snapshot(sandbox, sandbox.jobs.node_profile(published.pubkey()))
    assert_refused(sandbox.chain.send([ix], [attacker]), errors, "SignatureMissing")
    assert snapshot(sandbox, sandbox.jobs.node_profile(published.pubkey())) == before
    close = with_account(sandbox.jobs.close_node_profile(node=published.pubkey(), receiver=attacker.pubkey()), 0, signer=False)
    assert_refused(sandbox.chain.send([close], [attacker]), errors, "SignatureMissing")
    assert snapshot(sandbox, sandbox.jobs.node_profile(published.pubkey())) == before


@pytest.mark.parametrize("wrong", ["other_nodes_pda", "keypair", "other_seed"])
def test_a_profile_account_that_is_not_the_nodes_pda_is_refused(sandbox, node, errors, wrong):
    other = Keypair()
    address = {
        "other_nodes_pda": sandbox.jobs.node_profile(other.pubkey()),
        "keypair": other.pubkey(),
        "other_seed": Pubkey.find_program_address([b"node_profil", bytes(node.pubkey())], sandbox.jobs.program_id)[0],
    }[wrong]
    ix = with_account(raw_set(sandbox, node.pubkey()), 2, address)
    signers = [node, other] if wrong == "keypair" else [node]
    if wrong == "keypair":  # the keypair signs too: still not the PDA
        ix = Instruction(ix.program_id, ix.data, [*ix.accounts[:2], AccountMeta(address, True, True), *ix.accounts[3:]])
    assert_refused(sandbox.chain.send([ix], signers), errors, "NodeProfileMismatch")
    assert sandbox.chain.account(address) is None or sandbox.chain.account(address).owner != sandbox.jobs.program_id


def test_an_account_of_another_type_is_not_a_profile(sandbox, node, market, errors):
    """Type cosplay: a market (owned by the program) passed as the profile."""
    before = snapshot(sandbox, market)
    assert_refused(sandbox.chain.send([with_account(raw_set(sandbox, node.pubkey()), 2, market)], [node]), errors, "AccountDiscriminatorInvalid")
    close = sandbox.jobs.close_node_profile(node=node.pubkey(), receiver=node.pubkey(), profile=market)
    assert_refused(sandbox.chain.send([close], [node]), errors, "AccountDiscriminatorInvalid")
    assert snapshot(sandbox, market) == before


@pytest.mark.parametrize("url, url_len", [
    (b"ftp://files.example", None),
    (b"node.example", None),
    (b"HTTP://node.example", None),
    (b"http://", None),
    (b"https://", None),
    (b"", None),
    (b"http://a b", None),
    (b"http://a\x07b", None),
    (b"http://a\x1b[2J", None),
    (b"http://\xc3\xa9.example", None),
    (b"http://a\x7f", None),
    (b"http://node.example\0x", 19),  # non-zero padding after the length
    (b"https://" + b"a" * (MAX_URL_LEN - 8), MAX_URL_LEN + 1),  # a length over the maximum
    (b"https://node.example", 255),
], ids=lambda v: repr(v)[:24])
def test_a_bad_url_is_refused(sandbox, published, errors, url, url_len):
    address = sandbox.jobs.node_profile(published.pubkey())
    before = snapshot(sandbox, address)
    assert_refused(sandbox.chain.send([raw_set(sandbox, published.pubkey(), url=url, url_len=url_len)], [published]), errors, "UrlInvalid")
    assert snapshot(sandbox, address) == before


def test_a_bad_url_creates_nothing(sandbox, node, errors):
    assert_refused(sandbox.chain.send([raw_set(sandbox, node.pubkey(), url=b"javascript:alert(1)")], [node]), errors, "UrlInvalid")
    assert sandbox.chain.account(sandbox.jobs.node_profile(node.pubkey())) is None


def test_an_over_long_url_does_not_fit_the_instruction(sandbox, node, errors):
    """201 bytes of URL: the data has the wrong length (the URL field is 200 bytes)."""
    ix = raw_set(sandbox, node.pubkey())
    data = bytes(ix.data)
    long = data[:9] + b"https://" + b"a" * 193 + data[9 + MAX_URL_LEN:]
    assert_refused(sandbox.chain.send([Instruction(ix.program_id, long, ix.accounts)], [node]), errors, "InstructionDataInvalid")
    assert_refused(sandbox.chain.send([Instruction(ix.program_id, data[:-1], ix.accounts)], [node]), errors, "InstructionDataInvalid")


def test_a_zero_hardware_digest_is_refused(sandbox, node, errors):
    assert_refused(sandbox.chain.send([raw_set(sandbox, node.pubkey(), hardware=bytes(32))], [node]), errors, "HardwareMissing")


def test_a_second_initialisation_only_overwrites(sandbox, node, errors):
    """Two set_node_profile in one transaction: one account, created once, the second call
    overwriting it (its rent paid once)."""
    payer = sandbox.chain.funded()
    before = sandbox.chain.lamports(payer.pubkey())
    ixs = [raw_set(sandbox, node.pubkey(), payer=payer.pubkey()), raw_set(sandbox, node.pubkey(), url=b"http://second", payer=payer.pubkey())]
    outcome = sandbox.must(sandbox.chain.send(ixs, [payer, node]))
    assert [e.data.created for e in sandbox.jobs.events(outcome.logs)] == [1, 0]
    assert profile_of(sandbox, node.pubkey()).url == "http://second"
    assert before - sandbox.chain.lamports(payer.pubkey()) == sandbox.chain.rent_exempt(NODE_PROFILE_SIZE) + 5_000 * 2


def test_accounts_passed_twice_are_refused(sandbox, published, errors):
    profile = sandbox.jobs.node_profile(published.pubkey())
    # The node's own wallet as its profile (and as the payer).
    ix = raw_set(sandbox, published.pubkey())
    assert_refused(sandbox.chain.send([with_account(ix, 2, published.pubkey())], [published]), errors, "AccountAliased")
    # The profile as the receiver of its own rent.
    before = snapshot(sandbox, profile)
    close = sandbox.jobs.close_node_profile(node=published.pubkey(), receiver=profile)
    assert_refused(sandbox.chain.send([close], [published]), errors, "AccountAliased")
    assert snapshot(sandbox, profile) == before


def test_substituted_system_program_and_clock_are_refused(sandbox, node, errors):
    ix = raw_set(sandbox, node.pubkey())
    assert_refused(sandbox.chain.send([with_account(ix, 3, Pubkey.new_unique())], [node]), errors, "ProgramIdInvalid")
    assert_refused(sandbox.chain.send([with_account(ix, 4, RENT)], [node]), errors, "SysvarInvalid")
    assert_refused(sandbox.chain.send([with_account(ix, 5, CLOCK)], [node]), errors, "SysvarInvalid")
    assert sandbox.chain.account(sandbox.jobs.node_profile(node.pubkey())) is None


def test_nobody_closes_another_nodes_profile(sandbox, published, errors):
    attacker = sandbox.chain.funded()
    profile = sandbox.jobs.node_profile(published.pubkey())
    before = snapshot(sandbox, profile)
    close = sandbox.jobs.close_node_profile(node=attacker.pubkey(), receiver=attacker.pubkey(), profile=profile)
    assert_refused(sandbox.chain.send([close], [attacker]), errors, "NodeProfileMismatch")
    assert snapshot(sandbox, profile) == before


def test_closing_a_profile_that_does_not_exist_is_refused(sandbox, node, errors):
    assert_refused(sandbox.chain.send([sandbox.jobs.close_node_profile(node=node.pubkey(), receiver=node.pubkey())], [node]),
                   errors, "AccountOwnerInvalid")


def test_the_client_refuses_bad_urls_before_sending():
    from crowdcompute.client.errors import InvalidInput

    assert encode_url(URL) == (len(URL), URL.encode().ljust(MAX_URL_LEN, b"\0"))
    for url in ["ftp://x", "http://", "http://a b", "http://\x07", "https://é.example", "https://" + "a" * MAX_URL_LEN]:
        with pytest.raises(InvalidInput, match="^url: "):
            encode_url(url)
