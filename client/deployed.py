"""What a cluster runs at a program id, and the hash to compare it with a build, as
solana-verify computes it: sha256 of the executable with its trailing zero bytes stripped.

A BPF Loader Upgradeable (loader-v3) program is a program account and its program data
(layout: common/loader_v3.py), whose ELF is zero-padded up to the length the deployment
reserved: the padding is why trailing zeros are stripped on both sides."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from ..common.loader_v3 import LOADER_V3, PROGRAMDATA_HEADER, PROGRAM_TAG, PROGRAMDATA_TAG
from .errors import CrowdError, NotFound
from .rpc.chain import RpcChain

__all__ = ["LOADER_V3", "PROGRAMDATA_HEADER", "DeployedProgram", "NotUpgradeable", "executable_hash", "fetch_deployed"]

_PROGRAM, _PROGRAMDATA = PROGRAM_TAG, PROGRAMDATA_TAG
_STATES = {0: "an uninitialized loader-v3 account", 1: "a loader-v3 buffer", _PROGRAMDATA: "a loader-v3 program data account"}


def executable_hash(elf: bytes) -> str:
    """sha256 (hex) of an executable without its trailing zero bytes: a .so file and the
    same .so in a program data account, padded or not, hash alike."""
    return hashlib.sha256(elf.rstrip(b"\0")).hexdigest()


class NotUpgradeable(CrowdError, ValueError):
    """The address holds an account, but not a BPF Loader Upgradeable program."""


@dataclass(frozen=True)
class DeployedProgram:
    program_id: Pubkey
    programdata: Pubkey
    slot: int  # of the last deployment or upgrade
    authority: Pubkey | None  # None: final (no longer upgradeable)
    executable: bytes  # the program data after its header, padding included

    @property
    def hash(self) -> str:
        return executable_hash(self.executable)


async def fetch_deployed(chain: RpcChain, program_id: Pubkey) -> DeployedProgram:
    """The program at `program_id`: NotFound when there is no account, NotUpgradeable when
    the account is something else (a wallet, a native or loader-v2/v4 program, a buffer)."""
    found = await chain.account_data(program_id)
    if found is None:
        raise NotFound("program", program_id, f"no account at {program_id} on {chain.url}")
    data, owner, _ = found
    if owner != LOADER_V3:
        raise NotUpgradeable(f"{program_id} is not an upgradeable program: its owner is {owner}, not BPF Loader Upgradeable ({LOADER_V3})")
    tag = struct.unpack_from("<I", data)[0] if len(data) >= 4 else None
    if tag != _PROGRAM or len(data) < 36:
        raise NotUpgradeable(f"{program_id} is not an upgradeable program: it is {_STATES.get(tag, 'an unknown loader-v3 account')}")
    programdata = Pubkey(data[4:36])
    found = await chain.account_data(programdata)
    if found is None:
        raise NotFound("program data", programdata, f"the program {program_id} was closed: no program data at {programdata}")
    pdata = found[0]
    if len(pdata) < PROGRAMDATA_HEADER or struct.unpack_from("<I", pdata)[0] != _PROGRAMDATA:
        raise NotUpgradeable(f"{program_id}'s program data {programdata} is not a loader-v3 program data account")
    slot = struct.unpack_from("<Q", pdata, 4)[0]
    authority = Pubkey(pdata[13:45]) if pdata[12] == 1 else None
    return DeployedProgram(program_id, programdata, slot, authority, bytes(pdata[PROGRAMDATA_HEADER:]))
