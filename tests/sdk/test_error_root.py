"""One root for every error the package raises on purpose (`CrowdError`), one marker for the
failures worth retrying (`Transient`), and the CLI's rule that follows: any of them is one
`error:` line and exit 1, whichever part raised it.

The localnet (the chain server) is left out: it imports nothing of the client, and its
errors become JSON-RPC answers, never exceptions a caller of ours sees."""

from __future__ import annotations

import argparse
import importlib
import io
import pkgutil

import pytest

import crowdcompute.cli
import crowdcompute.client
import crowdcompute.worker
from crowdcompute.cli.common import run_command
from crowdcompute.client.bundle import BundleError
from crowdcompute.client.errors import ClusterUnavailable, CrowdError, RpcError, Transient
from crowdcompute.client.jobspec import LoadError, ValidationError
from crowdcompute.client.jobspec.problems import Problem
from crowdcompute.client.node_api import NodeUnreachable
from crowdcompute.client.storage import ContentNotFound, StorageUnavailable
from crowdcompute.worker.engine import EngineUnavailable

PARTS = (crowdcompute.client, crowdcompute.worker, crowdcompute.cli)
TRANSIENT = {ClusterUnavailable, RpcError, StorageUnavailable, EngineUnavailable, NodeUnreachable}


def public_errors() -> list[type[BaseException]]:
    found = []
    for part in PARTS:
        names = [part.__name__] + [m.name for m in pkgutil.walk_packages(part.__path__, part.__name__ + ".")]
        for name in names:
            if name.endswith("__main__"):
                continue
            module = importlib.import_module(name)
            for attr, value in vars(module).items():
                if (isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == name
                        and not attr.startswith("_")):
                    found.append(value)
    return found


def test_every_public_error_of_the_package_derives_from_the_root():
    errors = public_errors()
    assert len(errors) > 25  # the walk found the modules
    assert [e.__qualname__ for e in errors if not issubclass(e, CrowdError)] == []


def test_the_transient_ones_carry_the_marker_and_keep_their_stdlib_type():
    assert {e for e in public_errors() if issubclass(e, Transient) and e is not Transient} == TRANSIENT
    assert issubclass(StorageUnavailable, ConnectionError) and issubclass(ClusterUnavailable, ConnectionError)
    assert issubclass(EngineUnavailable, RuntimeError)
    assert issubclass(ValidationError, ValueError) and issubclass(BundleError, ValueError)


@pytest.mark.parametrize("error", [
    ContentNotFound("QmX is not in /store"),
    StorageUnavailable("cannot reach storage at http://127.0.0.1:1: refused"),
    ValidationError([Problem("ops[0].args.image", "required"), Problem("ops[1].id", "required")]),
    LoadError("job.json: not JSON"),
    BundleError([Problem("ops[0].exit_code", "expected a number")]),
], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_cli_prints_one_error_line_for_an_error_of_any_part(error, fmt):
    async def body(output):
        raise error

    out, err = io.StringIO(), io.StringIO()
    assert run_command(argparse.Namespace(output=fmt), body, out=out, err=err) == 1
    line = " ".join(str(error).split())
    assert err.getvalue() == f"error: {line}\n"
    assert out.getvalue() == ("" if fmt == "text" else f'{{"error": "{line}"}}\n')


def test_the_cli_lets_a_bug_through():
    """Only errors of ours become a line: anything else is a bug and keeps its traceback."""
    async def body(output):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_command(argparse.Namespace(output="text"), body, out=io.StringIO(), err=io.StringIO())
