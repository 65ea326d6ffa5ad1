"""What the SDK's feature modules (admission, explain, stakes, subscriptions, waiting) need of
a client: its connection, programs and wallet, and the reads and sends they build on. They
are typed against this protocol, not against `CrowdClient`, which satisfies it: the client
imports them, and they depend on nothing of it but these public members (no import cycle,
no private member)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Sequence

if TYPE_CHECKING:
    from solders.instruction import Instruction
    from solders.keypair import Keypair
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    from .jobs.accounts import JobView, Market
    from .rpc.chain import RpcChain
    from .rpc.cluster import Cluster
    from .jobs.program import JobsProgram

__all__ = ["ClientCore"]


class ClientCore(Protocol):
    cluster: Cluster
    commitment: str
    chain: RpcChain
    program: JobsProgram
    keypair: Keypair | None

    @property
    def wallet(self) -> Keypair: ...

    @property
    def pubkey(self) -> Pubkey: ...

    @property
    def stakes(self) -> Any: ...  # stakes.Stakes, which is typed against this protocol itself

    async def get_market(self, market: Pubkey | str) -> Market: ...

    async def view(self, job: Pubkey | str) -> JobView: ...

    async def token_balance(self, mint: Pubkey | str, owner: Pubkey | str | None = None) -> int: ...

    async def send(self, instructions: Sequence[Instruction], signers: Sequence[Keypair], *, lamports: int = 0) -> Signature: ...
