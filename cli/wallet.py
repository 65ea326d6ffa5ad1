"""`crowd address|balance|airdrop`: the wallet, as `solana address|balance|airdrop` do."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Output, add_chain_options, client_from_args
from .verbs import add_verb, on_chain

__all__ = ["register"]

LAMPORTS_PER_SOL = 1_000_000_000


def register(commands: Any) -> None:
    """The wallet's verbs stand alone (`crowd balance`), as the Solana CLI's do."""
    address = add_verb(commands, "address", on_chain(_address), help="the wallet's address")
    add_chain_options(address)
    balance = add_verb(commands, "balance", on_chain(_balance), help="SOL (and with --mint, token) balance")
    balance.add_argument("address", nargs="?", help="whose (default: the wallet)")
    balance.add_argument("--mint", help="also the token balance of this mint (associated token account)")
    add_chain_options(balance)
    airdrop = add_verb(commands, "airdrop", on_chain(_airdrop), help="SOL from the cluster's faucet (localnet, devnet)")
    airdrop.add_argument("amount", type=float, help="SOL")
    airdrop.add_argument("address", nargs="?", help="to whom (default: the wallet)")
    add_chain_options(airdrop)


async def _address(args: argparse.Namespace, out: Output) -> int:
    from ..client.keypair import load_keypair

    pubkey = str(load_keypair(args.keypair).pubkey())
    out.emit({"address": pubkey}, pubkey)
    return 0


async def _balance(args: argparse.Namespace, out: Output) -> int:
    async with client_from_args(args, wallet=args.address is None) as crowd:
        owner = args.address or crowd.pubkey
        lamports = await crowd.balance(owner)
        data: dict[str, Any] = {"address": str(owner), "lamports": lamports, "sol": lamports / LAMPORTS_PER_SOL}
        text = f"{lamports / LAMPORTS_PER_SOL:g} SOL"
        if args.mint:
            data["mint"] = args.mint
            data["tokens"] = await crowd.token_balance(args.mint, owner)
            text += f", {data['tokens']} tokens of {args.mint}"
        out.emit(data, text)
    return 0


async def _airdrop(args: argparse.Namespace, out: Output) -> int:
    from ..client.errors import InvalidInput

    if not args.amount > 0:
        raise InvalidInput(f"the amount must be positive: {args.amount:g}")
    lamports = int(round(args.amount * LAMPORTS_PER_SOL))
    async with client_from_args(args, wallet=args.address is None) as crowd:
        to = args.address or crowd.pubkey
        sig = await crowd.airdrop(lamports, to)
        balance = await crowd.balance(to)
        out.emit({"address": str(to), "signature": str(sig), "lamports": balance},
                 f"{args.amount:g} SOL to {to}: balance {balance / LAMPORTS_PER_SOL:g} SOL")
    return 0
