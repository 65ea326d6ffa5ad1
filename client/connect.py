"""A CrowdClient from the settings a command line gives (common/cluster_options.py): a
cluster URL or moniker, a keypair file, a commitment, a storage. One place for the `crowd`
CLI and the node daemon, so both read the same flags the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .keypair import load_keypair

if TYPE_CHECKING:
    from .crowd import CrowdClient

__all__ = ["client_from_options"]


def client_from_options(options: Any, *, wallet: bool = True) -> CrowdClient:
    """`options`: what argparse parsed (url, keypair, commitment, optional storage).
    `wallet`: load the keypair (an error if it is missing); commands that only read may run
    without one."""
    from .crowd import CrowdClient  # anchorpy: loaded when a command runs, not for --help

    keypair = None
    if wallet or options.keypair:
        keypair = load_keypair(options.keypair)
    else:
        try:
            keypair = load_keypair(None)
        except InvalidInput:
            keypair = None
    try:
        return CrowdClient(options.url, keypair, commitment=options.commitment, storage=getattr(options, "storage", None))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
