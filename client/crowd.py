"""`CrowdClient`: the poster's (and a market authority's) high-level async API over any
cluster URL. One instance holds one RPC connection and, optionally, a wallet and a storage.

    async with CrowdClient("devnet", keypair=load_keypair()) as crowd:
        job = await crowd.post(market, definition=load("job.json"), timeout=600)
        done = await crowd.wait_for(job.address, JobStatus.SETTLED)

Rules it keeps: reads and waits at `confirmed` unless told otherwise; every input error
(unknown market or job, not enough SOL or tokens, a timeout over the market's cap) is raised
before anything is signed; a program failure is a `ProgramError` named from the IDL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from solana.rpc.types import MemcmpOpts
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from .keys import parse_address
from .jobs.accounts import ZERO_KEY, Event, Job, JobStatus, JobView, Market, account_discriminator, job_field_offset
from .rpc.chain import RpcChain
from .rpc.cluster import DEFAULT_COMMITMENT, COMMITMENTS, Cluster
from .errors import InsufficientFunds, InvalidInput, JobNotFound, MarketNotFound, NodeProfileMissing
from .jobs import instruction_plan as plan
from .jobs.program import JobsProgram, MarketSettings, network_fee
from .jobs.layout import JOB_SIZE, NODE_PROFILE_SIZE, market_size
from .jobs.profile import NodeProfile, encode_url
from .token import associated_token_address, create_associated_token_account, token_account_amount

if TYPE_CHECKING:
    from .staking.stakes import Stakes

__all__ = ["CrowdClient", "Posted", "JobView"]

_STATE_BYTE = {"Open": 0, "Done": 1, "Ended": 2, "Failed": 3}


@dataclass(frozen=True)
class Posted:
    """What `post` did: the job's address, the transaction, the digest stored on-chain, the
    deposit escrowed and the network fee paid (0 without one), at the terms read before
    signing (the post is refused if the market asks more when it lands)."""

    job: Pubkey
    signature: Signature
    digest: bytes
    deposit: int
    fee: int


class CrowdClient:
    def __init__(self, url: str | Cluster = "localnet", keypair: Keypair | None = None, *, commitment: str = DEFAULT_COMMITMENT,
                 program_id: Pubkey | None = None, storage: Any = None, ws_url: str | None = None, timeout: float = 30) -> None:
        if commitment not in COMMITMENTS:
            raise InvalidInput(f"unknown commitment {commitment!r} (use {', '.join(COMMITMENTS)})")
        self.cluster = url if isinstance(url, Cluster) else Cluster.resolve(url, ws_url)
        self.commitment = commitment
        self.keypair = keypair
        self.program = JobsProgram(program_id)
        self.chain = RpcChain(self.cluster.url, commitment, program_id=self.program.program_id, errors=self.program.errors, timeout=timeout)
        self._storage_spec = storage
        self._storage: Any = None

    async def __aenter__(self) -> CrowdClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._storage is not None and hasattr(self._storage, "close"):
            await self._storage.close()
        await self.chain.close()

    @property
    def wallet(self) -> Keypair:
        if self.keypair is None:
            raise InvalidInput("this needs a wallet: give CrowdClient a keypair (the CLI: --keypair)")
        return self.keypair

    @property
    def pubkey(self) -> Pubkey:
        return self.wallet.pubkey()

    @cached_property
    def stakes(self) -> Stakes:
        """The staking program's calls over this client (stakes.py)."""
        from .staking.stakes import Stakes

        return Stakes(self)

    # -- reads -------------------------------------------------------------------------
    async def get_market(self, market: Pubkey | str) -> Market:
        address = parse_address(market, "market")
        found = await self.chain.account_data(address)
        if found is None or found[1] != self.program.program_id or found[0][:8] != account_discriminator("Market"):
            raise MarketNotFound(address)
        return Market.from_decoded(address, self.program.decode_market(found[0]))

    async def get_job(self, job: Pubkey | str) -> Job:
        address = parse_address(job, "job")
        found = await self.chain.account_data(address)
        if found is None or found[1] != self.program.program_id or found[0][:8] != account_discriminator("Job"):
            raise JobNotFound(address)
        return Job.from_decoded(address, self.program.decode_job(found[0]))

    async def view(self, job: Pubkey | str) -> JobView:
        """The job and its market (one read each)."""
        found = await self.get_job(job)
        try:
            market = await self.get_market(found.market)
        except MarketNotFound:
            market = None
        return JobView(found, market)

    async def list_markets(self, *, authority: Pubkey | str | None = None, mint: Pubkey | str | None = None) -> list[Market]:
        filters: list[Any] = [MemcmpOpts(offset=0, bytes=_b58(account_discriminator("Market")))]
        if authority is not None:
            filters.append(MemcmpOpts(offset=8, bytes=str(parse_address(authority, "authority"))))
        if mint is not None:
            filters.append(MemcmpOpts(offset=40, bytes=str(parse_address(mint, "mint"))))
        rows = await self.chain.program_accounts(filters)
        return sorted((Market.from_decoded(a, self.program.decode_market(d)) for a, d in rows), key=lambda m: str(m.address))

    async def list_jobs(self, *, market: Pubkey | str | None = None, state: str | None = None, poster: Pubkey | str | None = None,
                        payer: Pubkey | str | None = None, node: Pubkey | str | None = None) -> list[JobView]:
        """Jobs by getProgramAccounts with memcmp filters on the Job account's fields.

        `state`: queued, running, done, ended or failed (queued and running are both the
        account's Open state; the market's queue tells them apart). `node`: a settled job
        records its node in the account (filtered on-chain); a running one only in its
        market's queue entry, so those are found through the markets' running entries."""
        if state is not None and state not in JobStatus.ALL[:-1]:
            raise InvalidInput(f"unknown job state {state!r} (use {', '.join(JobStatus.ALL[:-1])})")
        # Solana RPCs take at most 4 filters: the size (only Job accounts have JOB_SIZE bytes)
        # and up to three fields on-chain; the discriminator and any further field are
        # checked here, on what comes back.
        wanted: list[MemcmpOpts] = []
        if market is not None:
            wanted.append(_memcmp("market", parse_address(market, "market")))
        if poster is not None:
            wanted.append(_memcmp("poster", parse_address(poster, "poster")))
        if payer is not None:
            wanted.append(_memcmp("payer", parse_address(payer, "payer")))
        account_state = None if state is None else "Open" if state in (JobStatus.QUEUED, JobStatus.RUNNING) else state.capitalize()
        if account_state is not None:
            wanted.append(MemcmpOpts(offset=job_field_offset("state"), bytes=_b58(bytes([_STATE_BYTE[account_state]]))))
        base: list[Any] = [JOB_SIZE] + wanted[:3]
        checked_here = [(f.offset, _unb58(f.bytes)) for f in wanted[3:]] + [(0, account_discriminator("Job"))]
        rows: dict[Pubkey, bytes] = {}
        if node is None:
            rows.update(await self.chain.program_accounts(base))
        else:
            node_key = parse_address(node, "node")
            if account_state != "Open":
                rows.update(await self.chain.program_accounts(base + [_memcmp("node", node_key)]))
            if account_state in (None, "Open"):
                markets = [await self.get_market(market)] if market is not None else await self.list_markets()
                for m in markets:
                    for entry in m.running():
                        if entry.node == node_key:
                            found = await self.chain.account_data(entry.job)
                            if found is not None:
                                rows[entry.job] = found[0]
        rows = {a: d for a, d in rows.items() if all(d[o:o + len(b)] == b for o, b in checked_here)}
        jobs = [Job.from_decoded(a, self.program.decode_job(d)) for a, d in rows.items()]
        markets_by_key = {m: await self._market_or_none(m) for m in {j.market for j in jobs}}
        views = [JobView(j, markets_by_key[j.market]) for j in jobs]
        if node is not None:
            views = [v for v in views if v.node == node_key]
        if state is not None:
            views = [v for v in views if v.status == state]
        return sorted(views, key=lambda v: (v.job.posted_at, str(v.job.address)))

    async def _market_or_none(self, market: Pubkey) -> Market | None:
        try:
            return await self.get_market(market)
        except MarketNotFound:
            return None

    async def queue_position(self, job: Pubkey | str) -> int | None:
        """1-based place of a waiting job in its market's queue; None when it is not waiting."""
        view = await self.view(job)
        if view.market is None or view.status != JobStatus.QUEUED:
            return None
        for place, entry in enumerate(view.market.queue(), start=1):
            if entry.job == view.job.address:
                return place
        return None

    async def node_positions(self, market: Pubkey | str, node: Pubkey | str) -> list[int]:
        """1-based places of a node's waiting entries in a market's queue."""
        m = await self.get_market(market)
        key = parse_address(node, "node")
        return [place for place, e in enumerate(m.queue(), start=1) if e.state == "QueuedNode" and e.node == key]

    async def balance(self, owner: Pubkey | str | None = None) -> int:
        """Lamports of `owner` (default: the wallet)."""
        return await self.chain.lamports(parse_address(owner, "address") if owner is not None else self.pubkey)

    async def token_balance(self, mint: Pubkey | str, owner: Pubkey | str | None = None) -> int:
        """Base units in `owner`'s associated token account of `mint` (0 when it has none)."""
        owner_key = parse_address(owner, "address") if owner is not None else self.pubkey
        found = await self.chain.account_data(associated_token_address(owner_key, parse_address(mint, "mint")))
        return token_account_amount(found[0]) if found is not None and len(found[0]) >= 72 else 0

    async def airdrop(self, lamports: int, to: Pubkey | str | None = None) -> Signature:
        """The cluster's faucet (localnet, devnet); waits until confirmed."""
        target = parse_address(to, "address") if to is not None else self.pubkey
        reply = await self.chain.call("requestAirdrop", self.chain.rpc.request_airdrop(target, lamports, self.chain.commitment))
        await self.chain.confirm(reply.value)
        return reply.value

    # -- markets -----------------------------------------------------------------------
    async def open_market(self, mint: Pubkey | str, settings: MarketSettings, *, capacity: int = 64) -> Pubkey:
        """Creates a market (a new keypair account) with the wallet as its authority. A
        minimum stake, a slash penalty or a network fee needs `settings.staking_config`, a
        config of the staking program for the same mint (named for good)."""
        try:
            size = market_size(capacity)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        mint_key = parse_address(mint, "mint")
        if await self.chain.account_data(mint_key) is None:
            raise InvalidInput(f"mint not found: {mint_key}")
        if not settings.has_staking and (settings.min_stake or settings.slash_penalty or settings.fee_bps):
            raise InvalidInput("a minimum stake, a slash penalty or a network fee needs a staking config")
        if settings.has_staking and await self.chain.account_data(settings.staking_config) is None:
            raise InvalidInput(f"staking config not found: {settings.staking_config}")
        market = Keypair()
        lamports = await self.chain.rent_exempt(size)
        ixs = [self.program.create_market_account(self.pubkey, market.pubkey(), capacity=capacity, lamports=lamports),
               self.program.open_market(self.pubkey, market.pubkey(), mint_key, settings)]
        await self.send(ixs, [self.wallet, market], lamports=lamports)
        return market.pubkey()

    async def update_market(self, market: Pubkey | str, **changes: int) -> Market:
        """Changes some settings (price_per_second, max_timeout, ...); the rest stay."""
        current = await self.get_market(market)
        self._check_authority(current)
        fields = MarketSettings.__dataclass_fields__
        unknown = set(changes) - set(fields)
        if unknown:
            raise InvalidInput(f"unknown market setting: {', '.join(sorted(unknown))}")
        values = {name: getattr(current, name) for name in fields}
        values.update({k: v for k, v in changes.items() if v is not None})
        await self.send([self.program.update_market(self.pubkey, current.address, MarketSettings(**values))], [self.wallet])
        return await self.get_market(current.address)

    async def close_market(self, market: Pubkey | str) -> str:
        """Closes a market with no job accounts left ("closed"), else makes it "closing"."""
        current = await self.get_market(market)
        self._check_authority(current)
        token = associated_token_address(self.pubkey, current.mint)
        ixs = [create_associated_token_account(self.pubkey, self.pubkey, current.mint),
               self.program.close_market(self.pubkey, current.address, token)]
        await self.send(ixs, [self.wallet])
        return "closing" if await self._market_or_none(current.address) is not None else "closed"

    def _check_authority(self, market: Market) -> None:
        if market.authority != self.pubkey:
            raise InvalidInput(f"the wallet {self.pubkey} is not the authority of market {market.address} ({market.authority} is)")

    # -- jobs --------------------------------------------------------------------------
    async def store_definition(self, definition: Any) -> bytes:
        """Puts a definition in storage and returns its 32-byte digest (the CIDv0's sha256).
        `definition`: a parsed JobDefinition, a dict in Nosana's format, or bytes as stored."""
        data = _definition_bytes(definition)
        storage = await self.storage()
        cid = await storage.add_bytes(data)
        return cid.digest

    def storage_spec(self) -> Any:
        """The storage to use: the one given, else $CROWD_STORAGE, else the storage server of
        `crowd localnet` when this client talks to the localnet at its default address
        (so poster and worker share content), else the local folder (open_storage's default)."""
        if self._storage_spec is not None:
            return self._storage_spec
        import os

        from .storage.schemes import ENV_VAR

        return os.environ.get(ENV_VAR) or self.cluster.local_storage_url

    async def storage(self) -> Any:
        if self._storage is None:
            if self._storage_spec is not None and not isinstance(self._storage_spec, (str, bytes)) and hasattr(self._storage_spec, "add_bytes"):
                self._storage = self._storage_spec
            else:
                from .storage import open_storage

                self._storage = open_storage(self.storage_spec())
        return self._storage

    async def result_bundle(self, job: Pubkey | str | Job) -> Any:
        """The result bundle of a done job, fetched by the digest on-chain: the storage checks
        the bytes against the CID, the bundle module their format, and it must name this job.
        Returns (cid, bytes, Bundle)."""
        from .bundle import Bundle, BundleError
        from .storage import Cid

        j = job if isinstance(job, Job) else await self.get_job(job)
        if not any(j.result):
            raise InvalidInput(f"job {j.address} has no result yet")
        cid = Cid(bytes(j.result))
        data = await (await self.storage()).get_bytes(cid)
        try:
            bundle = Bundle.from_bytes(data)
        except BundleError as exc:
            raise InvalidInput(f"the result {cid} of job {j.address} is not a valid bundle: {' '.join(str(exc).split())}") from None
        if bundle.job != str(j.address):
            raise InvalidInput(f"the result {cid} is the bundle of job {bundle.job}, not of {j.address}")
        return str(cid), data, bundle

    async def post(self, market: Pubkey | str, *, timeout: int, definition: Any = None, digest: bytes | None = None,
                   max_price_per_second: int | None = None, max_fee_bps: int | None = None, job: Keypair | None = None) -> Posted:
        """Posts a job: the definition is stored first (its digest goes on-chain), or `digest`
        is given directly. The wallet is poster and payer; the deposit (price x timeout)
        moves into the market's vault, the network fee (if any) into its stakers' rewards
        pool. `max_price_per_second` and `max_fee_bps` default to the price and the fee read
        now: a market that asks more when the post lands refuses it, nothing paid."""
        if (definition is None) == (digest is None):
            raise InvalidInput("give a definition or a digest (one of them)")
        if digest is not None and (len(digest) != 32 or not any(digest)):
            raise InvalidInput("a definition digest is 32 bytes, not all zero")
        m = await self.get_market(market)
        if m.state != "Open":
            raise InvalidInput(f"market {m.address} is closing: it takes no new jobs")
        if not 0 < timeout <= m.max_timeout:
            raise InvalidInput(f"timeout {timeout}s is over market {m.address}'s maximum of {m.max_timeout}s")
        price = m.price_per_second if max_price_per_second is None else max_price_per_second
        if m.price_per_second > price:
            raise InvalidInput(f"market {m.address} asks {m.price_per_second} per second, above your maximum of {price}")
        max_fee = m.fee_bps if max_fee_bps is None else max_fee_bps
        if not 0 <= max_fee <= 10_000:
            raise InvalidInput(f"a maximum network fee is 0 to 10,000 basis points, not {max_fee}")
        if m.fee_bps > max_fee:
            raise InvalidInput(f"market {m.address} charges a network fee of {m.fee_bps} bps, above your maximum of {max_fee} bps")
        deposit = m.price_per_second * timeout
        fee = network_fee(deposit, m.fee_bps)
        available = await self.token_balance(m.mint)
        if available < deposit + fee:
            fee_text = f" and the network fee {fee}" if fee else ""
            raise InsufficientFunds(f"not enough tokens: the deposit is {deposit} ({m.price_per_second}/s x {timeout}s){fee_text} of mint {m.mint}, "
                                    f"{self.pubkey} holds {available}", needed=deposit + fee, available=available, unit=str(m.mint))
        if digest is None:
            digest = await self.store_definition(definition)
        job = job or Keypair()
        rent = await self.chain.rent_exempt(JOB_SIZE)
        ixs = plan.post(self.program, m, poster=self.pubkey, payer=self.pubkey, job=job.pubkey(), definition=digest, timeout=timeout,
                        max_price_per_second=price, max_fee_bps=max_fee)
        signature = await self.send(ixs, [self.wallet, job], lamports=rent)
        return Posted(job.pubkey(), signature, bytes(digest), deposit, fee)

    async def cancel(self, job: Pubkey | str) -> Signature:
        """Cancels a waiting job (poster, or the market's authority while it closes): full refund."""
        view = await self.view(job)
        if view.status != JobStatus.QUEUED:
            raise InvalidInput(f"job {view.job.address} is {view.status}: only a queued job can be cancelled")
        j = view.job
        token = associated_token_address(j.payer, view.market.mint)
        ix = self.program.cancel(poster=self.pubkey, job=j.address, market=j.market, payer_token=token, payer=j.payer)
        return await self.send([ix], [self.wallet])

    async def extend(self, job: Pubkey | str, extra: int) -> Signature:
        """Adds `extra` seconds to a queued or running job (at the job's price; the wallet pays)."""
        view = await self.view(job)
        j = view.job
        if not j.is_open:
            raise InvalidInput(f"job {j.address} is {view.status}: only an open job can be extended")
        if j.timeout + extra > j.max_timeout:
            raise InvalidInput(f"job {j.address}: {j.timeout}s + {extra}s is over its maximum timeout of {j.max_timeout}s")
        cost = j.price_per_second * extra
        cost += network_fee(cost, j.fee_bps)
        available = await self.token_balance(view.market.mint)
        if available < cost:
            raise InsufficientFunds(f"not enough tokens: extending by {extra}s costs {cost}, {self.pubkey} holds {available}",
                                    needed=cost, available=available, unit=str(view.market.mint))
        return await self.send(plan.extend(self.program, view.market, j, poster=self.pubkey, payer=self.pubkey, extra=extra), [self.wallet])

    async def end(self, job: Pubkey | str) -> Signature:
        """Stops a running job: its node is paid for the time so far, the rest refunded."""
        view = await self.view(job)
        node = view.node
        if view.status != JobStatus.RUNNING or node is None:
            raise InvalidInput(f"job {view.job.address} is {view.status}: only a running job can be ended")
        return await self.send(plan.end(self.program, view.market, view.job, poster=self.pubkey, node=node), [self.wallet])

    async def clean(self, job: Pubkey | str) -> Signature:
        """Closes a settled job past its retention (anyone may): the rent goes to its payer."""
        j = await self.get_job(job)
        if j.is_open:
            raise InvalidInput(f"job {j.address} is still open: only a settled job can be cleaned")
        return await self.send([self.program.clean(job=j.address, market=j.market, payer=j.payer)], [self.wallet])

    # -- the node's side (the worker's; tests and demos play a node with these) ---------
    async def work(self, market: Pubkey | str) -> Signature:
        """Enters the market as a node (with its stake, when the market asks a minimum or
        has a slash penalty: the penalty is locked on it)."""
        m = await self.get_market(market)
        return await self.send(plan.work(self.program, m, self.pubkey), [self.wallet])

    async def slash_destination(self, config: Pubkey | None) -> Pubkey | None:
        """Where staking config `config` sends slashes (its rewards pool or its treasury),
        read now; None for no config. Quit and reclaim pass it in a market with a slash
        penalty (`instruction_plan.slash_config` names the config)."""
        if config is None:
            return None
        from .staking.program import StakingProgram

        found = await self.chain.account_data(config)
        if found is None:
            raise InvalidInput(f"staking config not found: {config}")
        staking = StakingProgram(self.program.staking_program_id)
        return staking.slash_destination(config, staking.decode(found[0]))

    async def reclaim(self, job: Pubkey | str) -> Signature:
        """Reclaims a running job past its timeout from its silent node (anyone may). With a
        slash penalty, the node's stake is slashed and the bounty comes to the wallet's
        token account of the market's mint."""
        view = await self.view(job)
        j, m = view.job, view.market
        if view.status != JobStatus.RUNNING or m is None:
            raise InvalidInput(f"job {j.address} is {view.status}: only a running job can be reclaimed")
        destination = await self.slash_destination(plan.slash_config(m, j))
        ixs = plan.reclaim(self.program, m, j, caller=self.pubkey, node=view.node, slash_destination=destination)
        return await self.send(ixs, [self.wallet])

    async def finish(self, job: Pubkey | str, result: bytes) -> Signature:
        view = await self.view(job)
        return await self.send(plan.finish(self.program, view.market, view.job, node=self.pubkey, result=result), [self.wallet])

    # -- node profiles (where a node's front door is) -----------------------------------
    async def node_profile(self, node: Pubkey | str) -> NodeProfile | None:
        """The profile `node` published (its public URL, its hardware digest), or None when
        it has none: PDA ["node_profile", node], one read."""
        key = parse_address(node, "node")
        address = self.program.node_profile(key)
        found = await self.chain.account_data(address)
        if (found is None or found[1] != self.program.program_id or len(found[0]) != NODE_PROFILE_SIZE
                or found[0][:8] != account_discriminator("NodeProfile")):
            return None
        return NodeProfile.from_decoded(address, self.program.decode_node_profile(found[0]))

    async def node_profiles(self) -> list[NodeProfile]:
        """Every node's profile (an explorer's list), by getProgramAccounts on the profile's
        size and discriminator; sorted by node."""
        rows = await self.chain.program_accounts([NODE_PROFILE_SIZE, MemcmpOpts(offset=0, bytes=_b58(account_discriminator("NodeProfile")))])
        profiles = [NodeProfile.from_decoded(a, self.program.decode_node_profile(d)) for a, d in rows]
        return sorted(profiles, key=lambda p: str(p.node))

    async def node_url(self, node: Pubkey | str, *, max_age: float | None = None) -> str:
        """The public URL `node` serves its endpoints at (a service job's front door). Raises
        NodeProfileMissing when it published none, or, with `max_age` (seconds), when its
        profile was last set longer ago than that by the cluster's clock."""
        key = parse_address(node, "node")
        profile = await self.node_profile(key)
        if profile is None:
            raise NodeProfileMissing(key, address=self.program.node_profile(key))
        if max_age is not None and await self.chain.clock() - profile.updated_at > max_age:
            raise NodeProfileMissing(key, address=profile.address, updated_at=profile.updated_at, max_age=max_age)
        return profile.url

    # -- a running job's node, live (node API at the node's public URL) -------------------
    async def endpoints(self, job: Pubkey | str) -> list[dict[str, Any]]:
        """A service job's endpoints as its node reports them: id, url, type, state
        (starting, healthy, unhealthy, stopped) and the last check's detail. Private
        endpoints only to the job's poster (a signed request)."""
        from .jobs.live import endpoints

        return await endpoints(self, job)

    async def stats(self, job: Pubkey | str) -> dict[str, Any]:
        """The resource use of the job's containers (CPU, memory, network, GPU), per op.
        The job's poster only: the request is signed by this client's wallet."""
        from .jobs.live import stats

        return await stats(self, job)

    def follow_logs(self, job: Pubkey | str, op: str | None = None, follow: bool = True,
                    from_start: bool = True) -> Any:
        """An async iterator over the job's log lines from its node (`TIME OP STREAM| line`),
        from the start or from now, following until the job ends. The poster only."""
        from .jobs.live import follow_logs

        return follow_logs(self, job, op, follow, from_start)

    async def set_node_profile(self, url: str, hardware_digest: bytes) -> Signature | None:
        """Publishes the wallet's node profile: its public URL and the sha256 of its hardware
        summary in storage (a CIDv0's digest). The first call creates the account (the
        wallet pays its rent); a profile that already holds this URL and digest is left as
        it is and nothing is sent (None)."""
        encode_url(url)
        if not isinstance(hardware_digest, (bytes, bytearray)) or len(hardware_digest) != 32 or not any(hardware_digest):
            raise InvalidInput("hardware_digest: the hardware summary's sha256 is 32 bytes, not all zero")
        current = await self.node_profile(self.pubkey)
        if current is not None and current.holds(url, bytes(hardware_digest)):
            return None
        rent = 0 if current is not None else await self.chain.rent_exempt(NODE_PROFILE_SIZE)
        ixs = plan.set_node_profile(self.program, node=self.pubkey, url=url, hardware=bytes(hardware_digest))
        return await self.send(ixs, [self.wallet], lamports=rent)

    async def close_node_profile(self) -> Signature | None:
        """Withdraws the wallet's node profile (its rent comes back to the wallet); None when
        there is none."""
        if await self.node_profile(self.pubkey) is None:
            return None
        return await self.send(plan.close_node_profile(self.program, node=self.pubkey), [self.wallet])

    async def why(self, job: Pubkey | str) -> Any:
        """Why a job is not running yet (an `Explanation`: status, reasons, facts)."""
        from .jobs.explain import why

        return await why(self, job)

    async def events(self, signature: Signature | str) -> list[Event]:
        """The jobs program's events in a transaction, decoded by the IDL (snake_case fields;
        keys as Pubkeys, digests as bytes)."""
        sig = signature if isinstance(signature, Signature) else Signature.from_string(str(signature))
        reply = await self.chain.call("getTransaction", self.chain.rpc.get_transaction(sig, "json", self.chain.commitment,
                                                                                          max_supported_transaction_version=0))
        if reply.value is None:
            raise InvalidInput(f"transaction not found: {sig}")
        logs = list(reply.value.transaction.meta.log_messages or [])
        return [Event(e.name, _plain(e.data)) for e in self.program.events(logs)]

    # -- waiting -----------------------------------------------------------------------
    async def wait_for(self, job: Pubkey | str, states: str | Iterable[str], *, timeout: float = 600, on_change: Any = None,
                       poll_interval: float = 2.0) -> JobView | None:
        """Waits until the job's status is one of `states` (see JobStatus); returns its view
        (None for "closed"). Account subscriptions on the job and its market (websockets),
        re-reading both on every notification; polls only if the websocket cannot be used."""
        from .jobs.waiting import wait_for_status

        wanted = {states} if isinstance(states, str) else set(states)
        unknown = wanted - set(JobStatus.ALL)
        if unknown:
            raise InvalidInput(f"unknown job state: {', '.join(sorted(unknown))} (use {', '.join(JobStatus.ALL)})")
        return await wait_for_status(self, parse_address(job, "job"), wanted, timeout=timeout, on_change=on_change, poll_interval=poll_interval)

    # -- sending -----------------------------------------------------------------------
    async def send(self, instructions: Sequence[Instruction], signers: Sequence[Keypair], *, lamports: int = 0) -> Signature:
        """Sends `instructions` in one transaction with the wallet as fee payer, signed by
        `signers` (the wallet among them), and waits until it is confirmed at the client's
        commitment. First checks the wallet can pay the fee plus `lamports` (the rent of
        what the transaction creates): InsufficientFunds before anything is signed. A
        program failure is raised as ProgramError (RpcChain.send)."""
        message = await self.chain.message(instructions, self.pubkey)
        fee = await self.chain.fee(message)
        have = await self.chain.lamports(self.pubkey)
        if have < fee + lamports:
            raise InsufficientFunds(f"not enough SOL: this needs {_sol(fee + lamports)} SOL (fee {fee} lamports"
                                    f"{f' + rent {lamports}' if lamports else ''}), {self.pubkey} holds {_sol(have)} SOL",
                                    needed=fee + lamports, available=have, unit="lamports")
        return await self.chain.send(message, signers)


def _definition_bytes(definition: Any) -> bytes:
    if isinstance(definition, (bytes, bytearray)):
        return bytes(definition)
    if hasattr(definition, "to_bytes"):
        return definition.to_bytes()
    if isinstance(definition, dict):
        from .jobspec import parse

        return parse(definition).to_bytes()
    raise InvalidInput(f"a definition is a JobDefinition, a dict or bytes, not {type(definition).__name__}")


def _plain(data: Any) -> dict[str, Any]:
    fields = data.__dict__ if hasattr(data, "__dict__") and not isinstance(data, dict) else dict(data)
    return {k: bytes(v) if isinstance(v, list) else v for k, v in fields.items() if not k.startswith("_")}


def _b58(data: bytes) -> str:
    import based58

    return based58.b58encode(data).decode()


def _unb58(text: str) -> bytes:
    import based58

    return bytes(based58.b58decode(text.encode()))


def _memcmp(name: str, key: Pubkey) -> MemcmpOpts:
    return MemcmpOpts(offset=job_field_offset(name), bytes=str(key))


def _sol(lamports: int) -> str:
    return f"{lamports / 1e9:.9f}".rstrip("0").rstrip(".")
