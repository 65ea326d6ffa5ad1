"""Client SDK: the high-level API for dApps (`CrowdClient`, `SyncCrowdClient`), and under it
the programs' IDLs, PDAs, instruction builders, account and event decoding.

    from crowdcompute.client import SyncCrowdClient, load_keypair
    with SyncCrowdClient("localnet", load_keypair()) as crowd:
        print(crowd.get_market("Market111..."))

The names below load on first use: the IDL and instruction builders pull in anchorpy, which
takes about 0.2 s to import, and the localnet (which needs only token constants from
`crowdcompute.common.token`) must start in under half a second.
"""

from .lazy import lazy_attributes

_HOMES = {
    "JobsProgram": ".jobs.program", "MarketSettings": ".jobs.program", "load_idl": ".idl", "program_id": ".idl", "vault_address": ".jobs.pda",
    "CrowdClient": ".crowd", "Posted": ".crowd", "JobView": ".jobs.accounts", "SyncCrowdClient": ".sync",
    "Cluster": ".rpc.cluster", "load_keypair": ".keypair", "write_keypair": ".keypair", "default_keypair_path": ".keypair",
    "parse_duration": ".durations", "Market": ".jobs.accounts", "Job": ".jobs.accounts", "JobStatus": ".jobs.accounts", "QueueEntry": ".jobs.accounts",
    "Explanation": ".jobs.explain",
    "Stakes": ".staking.stakes", "Moved": ".staking.stakes", "StakingSettings": ".staking.settings", "StakingProgram": ".staking.program",
    "StakingConfig": ".staking.accounts", "Stake": ".staking.accounts", "StakeView": ".staking.accounts", "TokenAmount": ".amounts",
    "Admission": ".staking.admission", "Remedy": ".staking.admission",
    **dict.fromkeys(["CrowdError", "Transient", "InvalidInput", "NotFound", "JobNotFound", "MarketNotFound", "StakingConfigNotFound", "StakeNotFound", "InsufficientFunds",
                     "ClusterUnavailable", "RpcError", "TransactionFailed", "TransactionExpired", "ProgramError", "WaitTimeout"], ".errors"),
}
__all__ = sorted(_HOMES)


__getattr__ = lazy_attributes(__name__, _HOMES, globals())
