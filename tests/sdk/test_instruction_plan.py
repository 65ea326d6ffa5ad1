"""The instruction plan: which optional accounts each instruction carries under a market's
settings (network fee, minimum stake, slash penalty), checked name by name against the
IDL's account order. Real decoded views (the dataclasses the client decodes into) and the
real builders; no chain: the plan does no I/O."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.sysvar import CLOCK, RENT

from crowdcompute.client.jobs import instruction_plan as plan
from crowdcompute.client.jobs.accounts import ZERO_KEY, Job, Market
from crowdcompute.client.jobs.program import JobsProgram
from crowdcompute.client.staking.pda import rewards_pool_address, stake_address, stake_vault_address
from crowdcompute.client.token import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID, associated_token_address

from tests.idl_accounts import IdlAccounts

JOBS = JobsProgram()
IDL = IdlAccounts("jobs")
STAKING = JOBS.staking_program_id
CONFIG = Keypair().pubkey()
MINT = Keypair().pubkey()
DESTINATION = Keypair().pubkey()  # where the config sends slashes
DIGEST = bytes(range(1, 33))
POSTER, PAYER, NODE, CALLER = (Keypair().pubkey() for _ in range(4))


def market(*, fee_bps: int = 0, min_stake: int = 0, slash_penalty: int = 0) -> Market:
    staked = fee_bps or min_stake or slash_penalty
    return Market(Keypair().pubkey(), Keypair().pubkey(), MINT, Keypair().pubkey(), price_per_second=10, max_timeout=3600, min_stake=min_stake,
                  retention=60, max_attempts=3, max_entries_per_node=4, state="Open", jobs=0, escrowed=0, queue_side="Empty", queue_len=0,
                  queue_head=0, staking_config=CONFIG if staked else ZERO_KEY, slash_penalty=slash_penalty, reclaim_bounty_bps=0,
                  fee_bps=fee_bps, entries=())


def job(m: Market, *, fee_bps: int = 0, slash_penalty: int = 0) -> Job:
    return Job(Keypair().pubkey(), m.address, POSTER, PAYER, DIGEST, bytes(32), ZERO_KEY, price_per_second=10, timeout=600,
               max_timeout=3600, retention=60, max_attempts=3, slash_penalty=slash_penalty, reclaim_bounty_bps=0, fee_bps=fee_bps, deposit=6000,
               paid=0, posted_at=0, closed_at=0, slot=0, attempts=0, state="Open")


def assert_accounts(name: str, ix, **expected: Pubkey) -> None:
    """`ix` carries exactly the IDL's accounts of `name` up to the last one `expected`
    names (an optional one absent before it is the jobs program's id), in the IDL's order."""
    names = IDL.names[name]
    last = max(names.index(n) for n in expected)
    assert [m.pubkey for m in ix.accounts] == [expected.get(n, JOBS.program_id) for n in names[:last + 1]]


def the_one(ixs):
    assert len(ixs) == 1
    return ixs[0]


def stake(node: Pubkey = NODE) -> Pubkey:
    return stake_address(CONFIG, node, STAKING)[0]


FEE = dict(staking_program=STAKING, staking_config=CONFIG, rewards_pool=rewards_pool_address(CONFIG, STAKING)[0])
BOND = dict(staking_program=STAKING, stake=stake(), slasher=JOBS.slasher)
SLASH = dict(staking_program=STAKING, staking_config=CONFIG, stake=stake(), stake_vault=stake_vault_address(CONFIG, STAKING)[0],
             slash_destination=DESTINATION, slasher=JOBS.slasher)


# -- post and extend: the network fee --------------------------------------------------------
def post_accounts(m: Market, job_key: Pubkey) -> dict[str, Pubkey]:
    return dict(poster=POSTER, payer=PAYER, job=job_key, market=m.address, vault=JOBS.vault(m.address), payer_token=associated_token_address(PAYER, MINT),
                system_program=SYSTEM_PROGRAM_ID, token_program=TOKEN_PROGRAM_ID, clock=CLOCK, rent=RENT)


@pytest.mark.parametrize("settings, fee", [({}, False), ({"fee_bps": 100}, True), ({"min_stake": 5, "slash_penalty": 7}, False)])
def test_post_carries_the_fee_accounts_only_with_a_network_fee(settings, fee):
    m, job_key = market(**settings), Keypair().pubkey()
    ix = the_one(plan.post(JOBS, m, poster=POSTER, payer=PAYER, job=job_key, definition=DIGEST, timeout=60, max_price_per_second=10,
                           max_fee_bps=m.fee_bps))
    assert_accounts("post", ix, **post_accounts(m, job_key), **(FEE if fee else {}))


@pytest.mark.parametrize("market_fee, job_fee", [(0, 0), (100, 0), (0, 100), (100, 100)])
def test_extend_carries_the_fee_accounts_when_the_job_pays_a_fee(market_fee, job_fee):
    """The job's own terms decide (the market's fee may have changed since it was posted)."""
    m = market(fee_bps=market_fee, min_stake=1)  # a config either way
    j = job(m, fee_bps=job_fee)
    ix = the_one(plan.extend(JOBS, m, j, poster=POSTER, payer=PAYER, extra=10))
    required = dict(poster=POSTER, payer=PAYER, job=j.address, market=m.address, vault=JOBS.vault(m.address),
                    payer_token=associated_token_address(PAYER, MINT), token_program=TOKEN_PROGRAM_ID)
    assert_accounts("extend", ix, **required, **(FEE if job_fee else {}))


def test_a_gone_job_adds_no_accounts_of_its_terms():
    m = market(fee_bps=100)
    gone = Keypair().pubkey()
    ix = the_one(plan.extend(JOBS, m, gone, poster=POSTER, payer=PAYER, extra=10))
    assert len(ix.accounts) == len(IDL.names["extend"]) - 3 and ix.accounts[2].pubkey == gone
    with pytest.raises(ValueError, match="payer's token account"):
        plan.quit(JOBS, m, gone, node=NODE, slash_destination=None)


# -- work: the minimum stake and the penalty's lock ------------------------------------------
@pytest.mark.parametrize("min_stake, penalty, fee", [(0, 0, 0), (5, 0, 0), (0, 7, 0), (5, 7, 0), (0, 0, 100)])
def test_work_carries_the_stake_for_admission_and_the_lock_for_a_penalty(min_stake, penalty, fee):
    m = market(min_stake=min_stake, slash_penalty=penalty, fee_bps=fee)
    ix = the_one(plan.work(JOBS, m, NODE))
    optional: dict[str, Pubkey] = {}
    if min_stake or penalty:
        optional["stake"] = stake()
    if penalty:
        optional.update(staking_program=STAKING, staking_config=CONFIG, slasher=JOBS.slasher)
    assert_accounts("work", ix, node=NODE, market=m.address, clock=CLOCK, **optional)


# -- leave, finish, end: the bond ----------------------------------------------------------------
@pytest.mark.parametrize("penalty", [0, 7])
def test_leave_releases_the_waiting_nodes_bond(penalty):
    m = market(slash_penalty=penalty, min_stake=5, fee_bps=100)
    authority = m.authority
    ix = the_one(plan.leave(JOBS, m, node=authority, slot=3, waiting=NODE))
    assert_accounts("leave", ix, node=authority, market=m.address, **(BOND if penalty else {}))


@pytest.mark.parametrize("penalty", [0, 7])
def test_finish_creates_the_nodes_token_account_and_releases_its_bond(penalty):
    m = market(slash_penalty=penalty, fee_bps=100)
    j = job(m, slash_penalty=penalty, fee_bps=100)
    create, ix = plan.finish(JOBS, m, j, node=NODE, result=DIGEST)
    node_token = associated_token_address(NODE, MINT)
    assert create.program_id == ASSOCIATED_TOKEN_PROGRAM_ID and create.accounts[1].pubkey == node_token
    assert_accounts("finish", ix, node=NODE, job=j.address, market=m.address, vault=JOBS.vault(m.address), node_token=node_token,
                    payer_token=associated_token_address(PAYER, MINT), token_program=TOKEN_PROGRAM_ID, clock=CLOCK, **(BOND if penalty else {}))
    given = Keypair().pubkey()
    assert plan.finish(JOBS, m, j, node=NODE, result=DIGEST, node_token=given)[0].accounts[4].pubkey == given  # given: nothing created


@pytest.mark.parametrize("penalty", [0, 7])
def test_end_pays_the_running_node_and_releases_its_bond(penalty):
    m = market(slash_penalty=penalty)
    j = job(m, slash_penalty=penalty)
    create, ix = plan.end(JOBS, m, j, poster=POSTER, node=NODE)
    node_token = associated_token_address(NODE, MINT)
    assert create.accounts[0].pubkey == POSTER and create.accounts[1].pubkey == node_token  # the poster pays its rent
    assert_accounts("end", ix, poster=POSTER, job=j.address, market=m.address, vault=JOBS.vault(m.address), node_token=node_token,
                    payer_token=associated_token_address(PAYER, MINT), token_program=TOKEN_PROGRAM_ID, clock=CLOCK, **(BOND if penalty else {}))


# -- quit and reclaim: the slash -------------------------------------------------------------------
@pytest.mark.parametrize("penalty", [0, 7])
def test_quit_carries_the_slash_accounts_with_a_penalty(penalty):
    m = market(slash_penalty=penalty, min_stake=5)
    j = job(m, slash_penalty=penalty)
    assert plan.slash_config(m) == (CONFIG if penalty else None)
    ix = the_one(plan.quit(JOBS, m, j, node=NODE, slash_destination=DESTINATION if penalty else None))
    assert_accounts("quit", ix, node=NODE, job=j.address, market=m.address, vault=JOBS.vault(m.address),
                    payer_token=associated_token_address(PAYER, MINT), token_program=TOKEN_PROGRAM_ID, clock=CLOCK, **(SLASH if penalty else {}))


@pytest.mark.parametrize("penalty", [0, 7])
def test_reclaim_slashes_the_silent_node_and_pays_the_bounty_to_the_caller(penalty):
    m = market(slash_penalty=7)
    j = job(m, slash_penalty=penalty)  # the job's own terms decide
    assert plan.slash_config(m, j) == (CONFIG if penalty else None)
    ixs = plan.reclaim(JOBS, m, j, caller=CALLER, node=NODE, slash_destination=DESTINATION if penalty else None)
    bounty_to = associated_token_address(CALLER, MINT)
    optional = dict(SLASH, bounty_to=bounty_to) if penalty else {}
    assert_accounts("reclaim", ixs[-1], job=j.address, market=m.address, vault=JOBS.vault(m.address),
                    payer_token=associated_token_address(PAYER, MINT), token_program=TOKEN_PROGRAM_ID, clock=CLOCK, **optional)
    if penalty:  # the caller's account for the bounty is created first
        assert len(ixs) == 2 and ixs[0].accounts[1].pubkey == bounty_to
        given = Keypair().pubkey()
        assert plan.reclaim(JOBS, m, j, caller=CALLER, node=NODE, slash_destination=DESTINATION, bounty_to=given)[0].program_id == JOBS.program_id
    else:
        assert len(ixs) == 1


def test_no_node_no_slash():
    m = market(slash_penalty=7)
    j = job(m, slash_penalty=7)
    assert plan.reclaim_slash(m, j, None, DESTINATION, CALLER) is None
    assert len(plan.reclaim(JOBS, m, j, caller=CALLER, node=None, slash_destination=DESTINATION)) == 1
