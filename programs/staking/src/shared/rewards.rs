//! Reward accounting (reflection style; the math is `staking_interface::math`): deposits
//! raise the config's per-weight accumulator, a stake settles what it earned since its
//! snapshot before its weight changes or it claims.

use staking_interface::error::StakingError;
use staking_interface::math::{add, sub, PerWeight};
use staking_interface::pod::PodU64;
use staking_interface::state::{Config, Stake};

#[inline(always)]
fn accumulator(config: &Config) -> PerWeight {
    PerWeight { int: config.reward_per_weight.get(), frac: config.reward_per_weight_frac.get() }
}

/// Adds what the stake earned since its snapshot to `rewards_owed` (whole base units; the
/// fraction stays in `reward_dust` for next time) and moves the snapshot to now.
#[inline(always)]
pub fn settle(config: &Config, stake: &mut Stake) -> Result<(), StakingError> {
    let now = accumulator(config);
    let weight = stake.weight.get();
    if weight != 0 {
        let since = now.minus(PerWeight { int: stake.reward_snapshot.get(), frac: stake.reward_snapshot_frac.get() });
        let (earned, dust) = since.earned(weight, stake.reward_dust.get())?;
        stake.rewards_owed = PodU64::new(add(stake.rewards_owed.get(), earned)?);
        stake.reward_dust = PodU64::new(dust);
    }
    stake.reward_snapshot = PodU64::new(now.int);
    stake.reward_snapshot_frac = PodU64::new(now.frac);
    Ok(())
}

/// Settles, then sets the stake's weight (and the config's total).
#[inline(always)]
pub fn set_weight(config: &mut Config, stake: &mut Stake, weight: u64) -> Result<(), StakingError> {
    settle(config, stake)?;
    let total = add(sub(config.total_weight.get(), stake.weight.get())?, weight)?;
    config.total_weight = PodU64::new(total);
    stake.weight = PodU64::new(weight);
    Ok(())
}

/// Books `amount` paid into the rewards pool and shares it over the total weight; with no
/// weight it is no staker's: it joins `rewards_unowned`, which `sweep` sends to the
/// treasury. Returns the total weight it was shared over.
///
/// Nothing here can stop a deposit for good: the running totals and the accumulator wrap
/// (only their differences are read, and each difference is at most what the pool holds);
/// `rewards_unowned` is at most what the pool holds.
#[inline(always)]
pub fn distribute(config: &mut Config, amount: u64) -> Result<u64, StakingError> {
    config.rewards_deposited = PodU64::new(config.rewards_deposited.get().wrapping_add(amount));
    let total_weight = config.total_weight.get();
    if total_weight == 0 {
        config.rewards_unowned = PodU64::new(add(config.rewards_unowned.get(), amount)?);
        return Ok(0);
    }
    let (increment, remainder) = PerWeight::share(amount, config.reward_remainder.get(), total_weight);
    let accumulator = accumulator(config).plus(increment);
    config.reward_per_weight = PodU64::new(accumulator.int);
    config.reward_per_weight_frac = PodU64::new(accumulator.frac);
    config.reward_remainder = PodU64::new(remainder);
    Ok(total_weight)
}

/// The stake's weight for its amount and duration under the config's curve.
#[inline(always)]
pub fn weight_of(config: &Config, amount: u64, duration: i64) -> Result<u64, StakingError> {
    let multiplier = staking_interface::math::multiplier(
        duration,
        config.min_duration.get(),
        config.max_duration.get(),
        config.min_multiplier.get(),
        config.max_multiplier.get(),
    )?;
    staking_interface::math::weight(amount, multiplier)
}
