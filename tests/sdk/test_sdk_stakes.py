"""`crowd.stakes` over a live localnet (real HTTP): the off-chain reward and unlock figures
against what the program pays, every refusal made before anything is sent (counted at a
proxy), the staking program's errors named from its IDL, config resolution, and the sync
facade."""

from __future__ import annotations

import asyncio

import pytest
from solders.keypair import Keypair

from crowdcompute.client import SyncCrowdClient
from crowdcompute.client.crowd import CrowdClient
from crowdcompute.client.errors import InsufficientFunds, InvalidInput, ProgramError, StakeNotFound, StakingConfigNotFound
from crowdcompute.client.staking.program import DAY, StakingSettings
from crowdcompute.client.staking.accounts import FRACTION_BITS, StakeView, unlocked

from .staking_fixtures import SHORT_LOCKS, TOKENS, counting_proxy, new_wallet, staking_config, wait_for_clock  # noqa: F401 - fixtures


def test_claimable_is_exactly_what_claim_pays(localnet, wallets, new_wallet, staking_config):
    """Three stakes of different weights; someone else deposits fees between weight changes
    (a topup and an extend settle at the old weight, an unstake drops it to 0). Each stake's
    off-chain `claimable` equals what its claim moves, to the base unit, and what stays in
    the pool is exactly the stakes' dust plus the config's remainder."""
    config, _ = staking_config
    a, b, c, depositor = new_wallet(), new_wallet(), new_wallet(), new_wallet(tokens=2_000 * TOKENS)

    async def go():
        async with CrowdClient(localnet.url, a.keypair) as ca, CrowdClient(localnet.url, b.keypair) as cb, \
                CrowdClient(localnet.url, c.keypair) as cc, CrowdClient(localnet.url, depositor.keypair) as cd:
            await ca.stakes.create(config, 1_000_003, "30d")
            await cb.stakes.create(config, 777_777, "3d")
            await cc.stakes.create(config, 5, 2)
            await cd.stakes.deposit_fees(config, 1_001)
            await ca.stakes.topup(config, 12_345)
            await cd.stakes.deposit_fees(config, 999_999_937)
            await cb.stakes.extend(config, "10d")
            await cc.stakes.unstake(config)
            await cd.stakes.deposit_fees(config, "0.000007tokens")
            dusts = []
            for crowd in (ca, cb, cc):
                view = await crowd.stakes.view(config)
                assert view.claimable > 0
                before = await crowd.token_balance(wallets.mint)
                moved = await crowd.stakes.claim(config)
                paid = await crowd.token_balance(wallets.mint) - before
                assert paid == moved.amount == view.claimable
                after = await crowd.stakes.view(config)
                assert after.claimable == 0 and after.stake.rewards_claimed == paid
                dusts.append(after.stake.reward_dust)
            return await ca.stakes.get_config(config), dusts

    cfg, dusts = asyncio.run(go())
    assert cfg.rewards_deposited == 1_001 + 999_999_937 + 7 and cfg.rewards_unowned == 0
    assert (cfg.in_pool << FRACTION_BITS) == sum(dusts) + cfg.reward_remainder


def test_unlock_schedule_partial_and_full_withdraw_then_close(localnet, wallets, new_wallet, staking_config):
    config, _ = staking_config
    owner = new_wallet()
    base = 3_000_000

    async def go():
        async with CrowdClient(localnet.url, owner.keypair) as crowd:
            tokens_before = await crowd.token_balance(wallets.mint)
            created = await crowd.stakes.create(config, base, 4)
            assert created.amount == base
            staked = await crowd.stakes.view(config)
            assert (staked.stake.state, staked.stake.unlock_end, staked.withdrawable, staked.unlocked) == ("staked", None, 0, 0)
            await crowd.stakes.unstake(config)
            view = await crowd.stakes.view(config)
            s = view.stake
            assert (s.state, s.weight, s.unlock_base, s.unlock_end) == ("unlocking", 0, base, s.unlock_start + 4)
            assert view.unlocked == unlocked(base, 4, view.now - s.unlock_start) == view.withdrawable
            await wait_for_clock(crowd, s.unlock_start + 2)
            halfway = await crowd.stakes.view(config)
            assert halfway.withdrawable >= base // 2
            first = await crowd.stakes.withdraw(config)
            # The transaction ran at the same clock or later: at least what was withdrawable.
            assert halfway.withdrawable <= first.amount <= base
            await wait_for_clock(crowd, s.unlock_end)
            done = await crowd.stakes.view(config)
            assert done.unlocked == base and done.withdrawable == base - first.amount
            rest = await crowd.stakes.withdraw(config) if done.withdrawable else None
            assert first.amount + (rest.amount if rest else 0) == base
            assert await crowd.token_balance(wallets.mint) == tokens_before
            with pytest.raises(InvalidInput, match="nothing left to withdraw"):
                await crowd.stakes.withdraw(config)
            sol_before = await crowd.balance()
            await crowd.stakes.close(config)
            with pytest.raises(StakeNotFound):
                await crowd.stakes.get_stake(config)
            assert await crowd.balance() > sol_before  # the rent came back, less the fee
            return (await crowd.stakes.get_config(config)).stakes

    assert asyncio.run(go()) == 0


def test_refusals_send_nothing(localnet, wallets, new_wallet, staking_config, counting_proxy):
    """Each refusal raises before signing: the proxy in front of the localnet sees no
    sendTransaction for any of them."""
    config, authority = staking_config
    owner, fresh = new_wallet(tokens=10_000), new_wallet()
    unknown = Keypair().pubkey()

    async def refused(call, error, match):
        sends = counting_proxy.sends
        with pytest.raises(error, match=match):
            await call
        assert counting_proxy.sends == sends, "a refusal sent a transaction"

    async def go():
        async with CrowdClient(counting_proxy.url, owner.keypair) as crowd:
            st = crowd.stakes
            bounds = f"outside staking config {config}'s bounds: 2s to 30d"
            await refused(st.create(config, 1_000, 1), InvalidInput, f"a lock of 1s is {bounds}")
            await refused(st.create(config, 1_000, "31d"), InvalidInput, f"a lock of 31d is {bounds}")
            await refused(st.create(config, 10_001, "30d"), InsufficientFunds, "not enough tokens to stake: 0.010001 .* holds 0.01$")
            await refused(st.create(config, "1.5", "30d"), InvalidInput, "not an amount: '1.5'")
            await refused(st.create(config, "1.0000001tokens", "30d"), InvalidInput, "finer than the mint's 6 decimals")
            await refused(st.create(config, 1_000, "ten days"), InvalidInput, "not a duration")
            await refused(st.create(unknown, 1_000, "30d"), StakingConfigNotFound, f"staking config not found: {unknown}")
            for verb in (st.unstake, st.withdraw, st.restake, st.claim, st.close):
                await refused(verb(config), StakeNotFound, f"{owner.pubkey} has no stake under staking config {config}")
            await refused(st.extend(config, "20d"), StakeNotFound, "has no stake")
            await refused(st.topup(config, 5), StakeNotFound, "has no stake")

            await st.create(config, 1_000, "10d")
            await refused(st.create(config, 1_000, "10d"), InvalidInput, "already has a stake under staking config .*: top it up or extend it")
            await refused(st.extend(config, "9d"), InvalidInput, "a lock can only be extended: the stake is locked for 10d, 9d is shorter")
            await refused(st.extend(config, "10d"), InvalidInput, "already locked for 10d")
            await refused(st.extend(config, "31d"), InvalidInput, f"a lock of 31d is {bounds}")
            await refused(st.topup(config, 9_001), InsufficientFunds, "not enough tokens to top up with")
            await refused(st.withdraw(config), InvalidInput, "the stake is locked \\(staked\\): unstake it first")
            await refused(st.restake(config), InvalidInput, "not unlocking")
            await refused(st.claim(config), InvalidInput, "no rewards to claim yet")
            await refused(st.close(config), InvalidInput, "still holds 0.001 tokens: unstake it, then withdraw")

            await st.unstake(config)
            # 1,000 base units over 10 days: not one unit unlocks for 864 s.
            await refused(st.withdraw(config), InvalidInput, "nothing has unlocked yet: 0 of 0.001 tokens so far, all by 20")
            await refused(st.topup(config, 5), InvalidInput, "unlocking \\(unstaked\\): topping it up needs it staked; restake it first")
            await refused(st.extend(config, "20d"), InvalidInput, "extending its lock needs it staked; restake it first")
            await refused(st.unstake(config), InvalidInput, "already unstaked: it unlocks until 20")
            await refused(st.close(config), InvalidInput, "withdraw the rest as it unlocks")

            await refused(st.resolve(), InvalidInput, "name the staking config one way")
            await refused(st.resolve(config=config, market=unknown), InvalidInput, "name the staking config one way")
            await refused(st.resolve(authority=unknown), InvalidInput, "needs its mint too")
            await refused(st.resolve(config="xyz"), InvalidInput, "not a staking config address: 'xyz'")

        async with CrowdClient(counting_proxy.url, authority.keypair) as crowd:
            st = crowd.stakes
            await refused(st.init_config(wallets.mint), InvalidInput, f"already has a staking config for mint {wallets.mint}: {config}")
            await refused(st.init_config(unknown), InvalidInput, f"not an SPL Token mint: {unknown}")
            await refused(st.init_config(wallets.mint, settings=StakingSettings(min_duration=10, max_duration=5)), InvalidInput,
                          "lock bounds 10s to 5s: need 1s <= min <= max <= 3650d")
            await refused(st.init_config(wallets.mint, settings=StakingSettings(max_multiplier=101_000_000)), InvalidInput,
                          "multipliers 1x to 101x: need 1x <= min <= max <= 100x")

        async with CrowdClient(counting_proxy.url, fresh.keypair) as crowd:
            await refused(crowd.stakes.init_config(wallets.mint, treasury=unknown), InvalidInput,
                          f"the treasury {unknown} is not a token account of mint {wallets.mint}")

    asyncio.run(go())


def test_program_errors_are_named_from_the_staking_idl(localnet, new_wallet, staking_config):
    """What the SDK would refuse, built by hand and sent: the staking program's refusal
    comes back named from its own IDL (its 6000+ codes are not the jobs program's)."""
    config, _ = staking_config
    owner = new_wallet()

    async def go():
        async with CrowdClient(localnet.url, owner.keypair) as crowd:
            await crowd.stakes.create(config, 1_000, "10d")
            ix = crowd.stakes.program.extend(owner=crowd.pubkey, config=config, duration=3)
            with pytest.raises(ProgramError) as caught:
                await crowd.send([ix], [owner.keypair])
            return caught.value

    error = asyncio.run(go())
    assert (error.code, error.name) == (6026, "DurationShorter")
    assert str(error) == "DurationShorter (6026): A lock can only be extended, never shortened"


def test_config_resolution(localnet, wallets, market, staking_config):
    """By address, by authority and mint, or by market (the market's `staking_config`,
    `Stakes.config_for_market`; a market that names none is refused)."""
    from crowdcompute.client import MarketSettings

    config, authority = staking_config
    plain, market_authority = market

    async def go():
        async with CrowdClient(localnet.url, market_authority) as crowd:
            st = crowd.stakes
            assert await st.resolve(config=str(config)) == config
            assert await st.resolve(authority=authority.pubkey, mint=wallets.mint) == config
            assert await st.config_for_market(plain) is None
            with pytest.raises(InvalidInput, match=f"market {plain} names no staking config"):
                await st.resolve(market=plain)
            derived = st.config_of(market_authority.pubkey(), wallets.mint)
            with pytest.raises(StakingConfigNotFound, match=f"staking config not found: {derived}"):
                await st.get_config(derived)
            made = await st.init_config(wallets.mint)
            assert made == derived
            got = await st.get_config(derived)
            assert (got.authority, got.mint, got.decimals, got.treasury) == (market_authority.pubkey(), wallets.mint, 6,
                                                                             _ata(market_authority.pubkey(), wallets.mint))
            assert (got.min_duration, got.max_duration, got.min_multiplier, got.max_multiplier, got.slash_to) == \
                (14 * DAY, 365 * DAY, 1_000_000, 4_000_000, "rewards_pool")
            assert got.slasher_program == crowd.program.program_id  # the jobs program slashes by default
            named = await crowd.open_market(wallets.mint, MarketSettings(price_per_second=10, max_timeout=600, staking_config=made))
            assert await st.resolve(market=named) == made

    asyncio.run(go())


def test_sync_facade_and_the_weight_curve(localnet, new_wallet, staking_config):
    """SyncCrowdClient.stakes: the same calls, blocking. The weight follows the config's
    curve through create, extend and topup; restake locks again at the same duration."""
    config, _ = staking_config
    owner = new_wallet()
    mid = 15 * DAY
    with SyncCrowdClient(localnet.url, owner.keypair) as crowd:
        st = crowd.stakes
        cfg = st.get_config(config)
        assert st.config_of(cfg.authority, cfg.mint) == config
        assert st.create(config, "2tokens", 2).amount == 2 * TOKENS
        view = st.view(config)
        assert isinstance(view, StakeView)
        assert (view.multiplier, view.stake.weight) == (1_000_000, 2 * TOKENS)
        st.extend(config, "15d")
        view = st.view(config)
        assert view.multiplier == SHORT_LOCKS.multiplier(mid) and view.stake.weight == SHORT_LOCKS.weight(2 * TOKENS, mid)
        assert st.topup(config, "1tokens").amount == TOKENS
        assert st.view(config).stake.weight == SHORT_LOCKS.weight(3 * TOKENS, mid)
        st.extend(config, "30d")
        assert st.view(config).stake.weight == 12 * TOKENS
        with pytest.raises(InvalidInput, match="can only be extended"):
            st.extend(config, "15d")
        st.unstake(config)
        assert st.view(config).stake.weight == 0 and st.get_config(config).total_weight == 0
        st.restake(config)
        view = st.view(config)
        assert (view.stake.state, view.stake.duration, view.stake.weight) == ("staked", 30 * DAY, 12 * TOKENS)
        assert st.get_config(config).total_weight == 12 * TOKENS


def _ata(owner, mint):
    from crowdcompute.common.token import associated_token_address

    return associated_token_address(owner, mint)
