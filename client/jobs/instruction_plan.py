"""Which accounts each jobs-program instruction needs, decided from decoded state.

A market's settings add optional accounts to the instructions its jobs and nodes send: a
network fee (`fee_bps`) adds the fee accounts to post and extend, a minimum stake
(`min_stake`) the node's stake to work, a slash penalty (`slash_penalty`) the bond on work,
leave, finish and end, and the slash accounts on quit and reclaim. This module is the one
place that reads those settings to pick accounts: `CrowdClient`, the worker's `NodeChain`
and the test sandbox fetch state, call a function here and send what it returns. A new
optional account is one change, here.

Pure: no I/O. Each function takes the decoded views (`Market`, `Job` of accounts.py), the
actors' keys and, for a slash, where the market's staking config sends slashes (the caller
reads it: `slash_config` says which config, and whether one is needed). It returns the
instructions to send, in order, built by `JobsProgram`.

Token accounts: a payee's account left out (None) is its associated token account of the
market's mint, created first in the same transaction (idempotent, so a retry or an existing
account costs nothing but the check); an account given is the caller's and is used as is.
A payer's account is never created: it must hold the tokens already.

A job may be given by its address alone when its account is gone (the sandbox sends to
closed jobs to see the program refuse): none of its terms add accounts then.
"""

from __future__ import annotations

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from .accounts import Job, Market
from .profile import encode_url
from .program import Bond, JobsProgram, QuitSlash, ReclaimSlash
from ..token import associated_token_address, create_associated_token_account

__all__ = ["bond", "slash_config", "quit_slash", "reclaim_slash", "post", "extend", "work", "leave", "finish", "end", "quit", "reclaim",
           "set_node_profile", "close_node_profile"]


# -- what the settings ask -----------------------------------------------------------------
def bond(market: Market, node: Pubkey) -> Bond | None:
    """The stake that backs `node`'s job or waiting entry in `market` (finish, end and leave
    pass it to release the lock `work` put on it); None without a slash penalty."""
    return Bond(config=market.staking, node=node) if market.slash_penalty and market.staking else None


def slash_config(market: Market, job: Job | Pubkey | None = None) -> Pubkey | None:
    """The staking config whose slash destination the caller must read before a quit (no
    `job`: the market's penalty decides) or a reclaim of `job` (the penalty the job was
    posted under decides); None when nothing would be slashed."""
    if job is None:
        penalty = market.slash_penalty
    else:
        terms = _terms(job)
        penalty = terms.slash_penalty if terms is not None else 0
    return market.staking if penalty else None


def quit_slash(market: Market, node: Pubkey, destination: Pubkey | None) -> QuitSlash | None:
    """What quit passes in a market with a slash penalty (a quit at or past the deadline is
    slashed as a reclaim): the node's stake and where slashes go."""
    config = slash_config(market)
    if config is None or destination is None:
        return None
    return QuitSlash(config=config, node=node, destination=destination)


def reclaim_slash(market: Market, job: Job | Pubkey, node: Pubkey | None, destination: Pubkey | None,
                  bounty_to: Pubkey) -> ReclaimSlash | None:
    """The accounts of the silent `node`'s slash for a job with a slash penalty; None for a
    job without one, or with no node to slash."""
    config = slash_config(market, job)
    if config is None or node is None or destination is None:
        return None
    return ReclaimSlash(config=config, node=node, destination=destination, bounty_to=bounty_to)


# -- the poster's instructions ---------------------------------------------------------------
def post(jobs: JobsProgram, market: Market, *, poster: Pubkey, payer: Pubkey, job: Pubkey, definition: bytes, timeout: int,
         max_price_per_second: int, max_fee_bps: int, payer_token: Pubkey | None = None) -> list[Instruction]:
    """With a network fee, the market's staking config and its rewards pool go along."""
    return [jobs.post(poster=poster, payer=payer, job=job, market=market.address, payer_token=payer_token or _ata(payer, market),
                      definition=definition, timeout=timeout, max_price_per_second=max_price_per_second, max_fee_bps=max_fee_bps,
                      fee_config=market.staking if market.fee_bps else None)]


def extend(jobs: JobsProgram, market: Market, job: Job | Pubkey, *, poster: Pubkey, payer: Pubkey, extra: int,
           payer_token: Pubkey | None = None) -> list[Instruction]:
    """The fee accounts go along when the job pays a network fee (its own terms: the market's
    fee may have changed since it was posted)."""
    terms = _terms(job)
    return [jobs.extend(poster=poster, payer=payer, job=_address(job), market=market.address, payer_token=payer_token or _ata(payer, market),
                        extra=extra, fee_config=market.staking if terms is not None and terms.fee_bps else None)]


def end(jobs: JobsProgram, market: Market, job: Job | Pubkey, *, poster: Pubkey, node: Pubkey | None, node_token: Pubkey | None = None,
        payer_token: Pubkey | None = None) -> list[Instruction]:
    """Ends a running job: `node` is the one running it (its bond is released), paid to its
    associated token account unless `node_token` is given (then `node` may be None)."""
    creates = _create_ata(poster, node, market) if node_token is None and node is not None else []
    node_token = node_token or _ata(_required(node, "node"), market)
    return creates + [jobs.end(poster=poster, job=_address(job), market=market.address, node_token=node_token,
                               payer_token=payer_token or _payer_ata(job, market), bond=bond(market, node) if node is not None else None)]


# -- the node's instructions -----------------------------------------------------------------
def work(jobs: JobsProgram, market: Market, node: Pubkey) -> list[Instruction]:
    """With a minimum stake, the node's stake goes along (admission); with a slash penalty,
    the accounts that lock the penalty on it."""
    return [jobs.work(node=node, market=market.address, stake_config=market.staking if market.min_stake else None,
                      bond_config=market.staking if market.slash_penalty else None)]


def leave(jobs: JobsProgram, market: Market, *, node: Pubkey, slot: int, waiting: Pubkey | None = None) -> list[Instruction]:
    """`node` signs: the waiting node, or the market's authority removing `waiting`'s entry
    from a Closing market (the bond released is the waiting node's)."""
    return [jobs.leave(node=node, market=market.address, slot=slot, bond=bond(market, waiting or node))]


def finish(jobs: JobsProgram, market: Market, job: Job | Pubkey, *, node: Pubkey, result: bytes, node_token: Pubkey | None = None,
           payer_token: Pubkey | None = None) -> list[Instruction]:
    creates = _create_ata(node, node, market) if node_token is None else []
    return creates + [jobs.finish(node=node, job=_address(job), market=market.address, node_token=node_token or _ata(node, market),
                                  payer_token=payer_token or _payer_ata(job, market), result=result, bond=bond(market, node))]


def attach_result(jobs: JobsProgram, job: Job | Pubkey, *, node: Pubkey, result: bytes) -> list[Instruction]:
    """The node of a job its poster ended records the bundle's digest (no accounts but the
    job: no money moves)."""
    return [jobs.attach_result(node=node, job=_address(job), result=result)]


def quit(jobs: JobsProgram, market: Market, job: Job | Pubkey, *, node: Pubkey, slash_destination: Pubkey | None,
         payer_token: Pubkey | None = None) -> list[Instruction]:
    """`slash_destination`: where `slash_config(market)` sends slashes, when it names one."""
    return [jobs.quit(node=node, job=_address(job), market=market.address, payer_token=payer_token or _payer_ata(job, market),
                      slash=quit_slash(market, node, slash_destination))]


def set_node_profile(jobs: JobsProgram, *, node: Pubkey, url: str, hardware: bytes, payer: Pubkey | None = None) -> list[Instruction]:
    """Publishes the node's public URL and hardware digest (its profile, created on the first
    call). The URL is checked against the program's rule first (InvalidInput names it);
    `payer` (the rent, once) defaults to the node."""
    url_len, padded = encode_url(url)
    return [jobs.set_node_profile(node=node, payer=payer or node, url_len=url_len, url=padded, hardware=hardware)]


def close_node_profile(jobs: JobsProgram, *, node: Pubkey, receiver: Pubkey | None = None) -> list[Instruction]:
    """Withdraws the node's profile; the rent goes to `receiver` (default: the node)."""
    return [jobs.close_node_profile(node=node, receiver=receiver or node)]


# -- anyone's ----------------------------------------------------------------------------------
def reclaim(jobs: JobsProgram, market: Market, job: Job | Pubkey, *, caller: Pubkey, node: Pubkey | None, slash_destination: Pubkey | None,
            bounty_to: Pubkey | None = None, payer_token: Pubkey | None = None) -> list[Instruction]:
    """Reclaims a timed-out job from its silent `node`. With a slash penalty the node is
    slashed (`slash_destination`: where `slash_config(market, job)` sends slashes) and the
    bounty goes to `bounty_to`, by default the caller's associated token account."""
    slash = reclaim_slash(market, job, node, slash_destination, bounty_to or _ata(caller, market))
    creates = _create_ata(caller, caller, market) if slash is not None and bounty_to is None else []
    return creates + [jobs.reclaim(job=_address(job), market=market.address, payer_token=payer_token or _payer_ata(job, market), slash=slash)]


# -- helpers -----------------------------------------------------------------------------------
def _terms(job: Job | Pubkey) -> Job | None:
    return job if isinstance(job, Job) else None


def _address(job: Job | Pubkey) -> Pubkey:
    return job.address if isinstance(job, Job) else job


def _ata(owner: Pubkey, market: Market) -> Pubkey:
    return associated_token_address(owner, market.mint)


def _payer_ata(job: Job | Pubkey, market: Market) -> Pubkey:
    """The job's payer's associated token account (refunds go there)."""
    terms = _terms(job)
    if terms is None:
        raise ValueError(f"job {job} is gone: give its payer's token account")
    return _ata(terms.payer, market)


def _create_ata(payer: Pubkey, owner: Pubkey, market: Market) -> list[Instruction]:
    return [create_associated_token_account(payer, owner, market.mint)]


def _required(key: Pubkey | None, what: str) -> Pubkey:
    if key is None:
        raise ValueError(f"no {what} given: give its token account")
    return key
