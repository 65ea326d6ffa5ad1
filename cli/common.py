"""What every chain command of `crowd` shares: Solana's options (-u/--url with monikers,
-k/--keypair, --commitment), `--output json`, the storage to use (common/cluster_options.py,
client/connect.py, common/output.py: the node daemon takes them too), and one error rule: a
failure is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
from typing import Awaitable, Callable, TextIO

from ..client.connect import client_from_options as client_from_args
from ..common.cluster_options import add_chain_options
from ..common.output import Output

__all__ = ["add_chain_options", "Output", "run_command", "client_from_args"]


def run_command(args: argparse.Namespace, body: Callable[[Output], Awaitable[int | None]], *, out: TextIO | None = None,
                err: TextIO | None = None) -> int:
    """Runs an async command body; every error of the package (CrowdError, the root of the
    client's, storage's, job definitions' and bundles' errors) becomes one line and exit 1."""
    from ..client.errors import CrowdError

    output = Output(getattr(args, "output", "text"), out, err)
    try:
        code = asyncio.run(body(output))
        return 0 if code is None else code
    except CrowdError as exc:
        output.error(str(exc))
        return 1
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
