//! Basis-point shares, exact in u64 (SBF links no u128): the network fee on a deposit and
//! the reclaim bounty out of a slash. Here, in the interface, so host tests check exactly
//! what the program runs and clients can quote the same figures.

use crate::state::limits::BPS;

/// `floor(amount x bps / 10,000)` and whether the division left a remainder, for
/// `bps <= 10,000` (larger rates are taken as 10,000). With amount = q x 10,000 + r,
/// amount x bps / 10,000 = q x bps + r x bps / 10,000, where q x bps <= amount and
/// r x bps < 10^8: no step overflows, and the share is at most `amount`.
#[inline(always)]
fn share(amount: u64, bps: u16) -> (u64, bool) {
    let bps = if bps > BPS { BPS } else { bps } as u64;
    let whole = BPS as u64;
    let (quotient, remainder) = (amount / whole, amount % whole);
    let part = remainder * bps;
    (quotient * bps + part / whole, part % whole != 0)
}

/// The network fee on a deposit: `ceil(deposit x fee_bps / 10,000)`. Rounded up, in the
/// network's favour, so that splitting a job into tiny deposits cannot dodge a non-zero
/// rate (a deposit of 1 pays 1). Never above the deposit.
#[inline(always)]
pub fn network_fee(deposit: u64, fee_bps: u16) -> u64 {
    let (floor, rest) = share(deposit, fee_bps);
    // floor < deposit whenever a remainder was dropped, so the sum cannot overflow.
    floor + rest as u64
}

/// The reclaim bounty out of a slash: `floor(slashed x bounty_bps / 10,000)`. Rounded
/// down: the caller never gets more than its share; the rest goes where the staking config
/// sends slashes.
#[inline(always)]
pub fn reclaim_bounty(slashed: u64, bounty_bps: u16) -> u64 {
    share(slashed, bounty_bps).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(amount: u64, bps: u16) -> (u128, u128) {
        let product = amount as u128 * bps as u128;
        (product / 10_000, product.div_ceil(10_000))
    }

    #[test]
    fn fee_rounds_up_and_bounty_rounds_down() {
        assert_eq!(network_fee(1, 1), 1);
        assert_eq!(network_fee(0, 1_000), 0);
        assert_eq!(network_fee(10_000, 1), 1);
        assert_eq!(network_fee(10_001, 1), 2);
        assert_eq!(network_fee(6_000, 250), 150);
        assert_eq!(reclaim_bounty(1, 9_999), 0);
        assert_eq!(reclaim_bounty(10_000, 2_500), 2_500);
        assert_eq!(reclaim_bounty(999, 5_000), 499);
        assert_eq!(network_fee(123, 0), 0);
        assert_eq!(reclaim_bounty(123, 10_000), 123);
    }

    #[test]
    fn shares_are_exact_over_the_whole_range() {
        let amounts = [0, 1, 2, 9_999, 10_000, 10_001, 123_456_789, u64::MAX / 3, u64::MAX - 1, u64::MAX];
        let rates = [0, 1, 7, 999, 1_000, 5_000, 9_999, 10_000];
        for &amount in &amounts {
            for &bps in &rates {
                let (floor, ceil) = exact(amount, bps);
                assert_eq!(reclaim_bounty(amount, bps) as u128, floor, "{amount} x {bps}");
                assert_eq!(network_fee(amount, bps) as u128, ceil, "{amount} x {bps}");
                assert!(network_fee(amount, bps) <= amount);
            }
        }
        // Rates above a whole are taken as a whole.
        assert_eq!(reclaim_bounty(77, u16::MAX), 77);
    }
}
