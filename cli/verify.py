"""`crowd verify`: whether a cluster runs what this source builds, as solana-verify decides
it (sha256 of the executable, trailing zero bytes stripped, on both sides). The program is
built from source by the checkout's own scripts/build-programs.sh (verify_build.py), or
given prebuilt with --so; `crowd verify --hash FILE` only hashes a .so.

  crowd verify PROGRAM_ID [-u URL] [--source DIR] [--program NAME | --so FILE]
  crowd verify --hash FILE

Exit 0 when the hashes match, 1 when they differ (or on any error, one line)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from .common import Output, add_chain_options
from .verbs import add_verb, on_chain

if TYPE_CHECKING:
    from ..client.deployed import DeployedProgram

__all__ = ["register"]


def register(commands: Any) -> None:
    """`crowd verify` stands alone: it checks a program, the noun is the program id."""
    verify = add_verb(commands, "verify", on_chain(_verify), help="whether a cluster runs the programs this source builds",
                      description="Builds the program from source with the pinned toolchain and compares it with what the "
                                  "cluster runs (sha256 of the executable, trailing zero bytes stripped). "
                                  "Exit 0 on a match, 1 on a mismatch.")
    verify.add_argument("program_id", nargs="?", metavar="PROGRAM_ID", help="the program's address on the cluster")
    verify.add_argument("--source", metavar="DIR", help="the crowdcompute checkout to build (default: the one crowd runs from)")
    verify.add_argument("--program", metavar="NAME", help="which program to build (default: PROGRAM_ID's name in Anchor.toml)")
    verify.add_argument("--so", metavar="FILE", help="compare with this prebuilt .so instead of building")
    verify.add_argument("--hash", metavar="FILE", help="only print the hash of this .so")
    add_chain_options(verify)


async def _verify(args: argparse.Namespace, out: Output) -> int:
    from ..client.errors import InvalidInput

    if args.hash is not None:
        hashed = _hashed(_read(args.hash))
        out.emit({"file": args.hash, **hashed}, f"{hashed['hash']}  {args.hash}")
        return 0
    if args.program_id is None:
        raise InvalidInput("give PROGRAM_ID (or --hash FILE)")
    url, deployed = await _deployed(args)
    on_chain = {"programdata": str(deployed.programdata), "slot": deployed.slot,
                "authority": None if deployed.authority is None else str(deployed.authority), **_hashed(deployed.executable)}
    report: dict[str, Any] = {"program_id": str(deployed.program_id), "url": url, "on_chain": on_chain}
    if args.so is not None:
        report["program"] = args.program
        report["build"] = {"file": args.so, "prebuilt": True, **_hashed(_read(args.so))}
    else:
        report["program"], report["build"] = _build(args, out)
    report["match"] = report["build"]["hash"] == on_chain["hash"]
    out.emit(report, lambda console: _render(console, report))
    if not report["match"]:
        out.error_line(f"mismatch: {report['program_id']} on {report['url']} is not this build "
                       f"(on-chain {report['on_chain']['hash']}, build {report['build']['hash']})")
        return 1
    return 0


async def _deployed(args: argparse.Namespace) -> tuple[str, DeployedProgram]:
    """The cluster's URL and the program at PROGRAM_ID there."""
    from ..client.deployed import fetch_deployed
    from ..client.errors import InvalidInput
    from ..client.keys import parse_address
    from ..client.rpc.chain import RpcChain
    from ..client.rpc.cluster import Cluster

    program_id = parse_address(args.program_id, "program")
    try:
        cluster = Cluster.resolve(args.url)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    chain = RpcChain(cluster.url, args.commitment, program_id=program_id, errors=None)
    try:
        return cluster.url, await fetch_deployed(chain, program_id)
    finally:
        await chain.close()


def _build(args: argparse.Namespace, out: Output) -> tuple[str, dict[str, Any]]:
    from .verify_build import build_program, find_source

    source = find_source(args.source)
    package = source.program_for(args.program_id, args.program)
    out.status(f"building {package} from {source.root} (scripts/build-programs.sh, about a minute)")
    with tempfile.TemporaryDirectory(prefix="crowd-verify-") as folder:
        so = build_program(source, package, Path(folder))
        hashed = _hashed(so.read_bytes())
    return package, {"file": so.name, "prebuilt": False, **hashed, "source": str(source.root),
                     "commit": source.commit, "dirty": source.dirty, "toolchain": source.toolchain()}


def _render(console: Console, report: dict[str, Any]) -> None:
    chain, build = report["on_chain"], report["build"]
    name = f" ({report['program']})" if report["program"] else ""
    authority = chain["authority"] or "none (final)"
    console.print(f"program    {report['program_id']}{name} on {report['url']}", markup=False)
    console.print(f"on-chain   {chain['hash']}  program data {chain['programdata']}, {chain['hashed']} bytes hashed, "
                  f"deployed in slot {chain['slot']}, upgrade authority {authority}", markup=False)
    if build["prebuilt"]:
        console.print(f"build      {build['hash']}  {build['file']}, {build['hashed']} bytes hashed (prebuilt, --so)", markup=False)
    else:
        state = "dirty: uncommitted changes" if build["dirty"] else "clean"
        commit = f"commit {build['commit']} ({state})" if build["commit"] else "no git commit"
        console.print(f"build      {build['hash']}  {build['file']}, {build['hashed']} bytes hashed, from {build['source']}, {commit}",
                      markup=False)
        console.print("toolchain  " + ", ".join(f"{key} {value}" for key, value in build["toolchain"].items()), markup=False)
    console.print("match: the cluster runs this build" if report["match"] else "MISMATCH: the cluster runs other bytes",
                  markup=False)


def _hashed(elf: bytes) -> dict[str, Any]:
    """solana-verify's hash of an executable, its size and the size hashed (no trailing zeros)."""
    from ..client.deployed import executable_hash

    return {"hash": executable_hash(elf), "size": len(elf), "hashed": len(elf.rstrip(b"\0"))}


def _read(path: str) -> bytes:
    from ..client.errors import InvalidInput

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path!r}: {exc.strerror}") from None
