"""Programs deployed by transactions: loader-v3 (BPF Loader Upgradeable) and loader-v4
account states, and the runtime's visibility rule that LiteSVM does not apply.

LiteSVM executes BPF Loader Upgradeable's instructions itself (InitializeBuffer, Write,
DeployWithMaxDataLen, Upgrade, SetAuthority(Checked), Close, ExtendProgram) and compiles a
program as soon as a transaction writes its program account. agave instead makes a program
deployed, upgraded or extended in slot S callable from slot S + 1
(DELAY_VISIBILITY_SLOT_OFFSET), and a closed program never again: an instruction that reaches
such a program fails with "Program is not deployed" / UnsupportedProgramId, and the whole
transaction with it (it still pays its fee). `not_deployed` is that rule, read from the
accounts (the slot a program data account records is its last deployment); bank.py applies
it after LiteSVM ran a transaction, to the programs the transaction invoked.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey

from crowdcompute.common.loader_v3 import LOADER_V3, PROGRAMDATA_HEADER, PROGRAM_TAG, PROGRAMDATA_TAG

__all__ = [
    "LOADER_V3", "LOADER_V4", "programdata_address", "programdata_header", "program_account_data",
    "not_deployed", "Undeployed", "first_undeployed", "undeployed_logs",
]

LOADER_V4 = Pubkey.from_string("LoaderV411111111111111111111111111111111111")
LOADER_V4_METADATA = 48  # LoaderV4State: u64 slot, Pubkey, u64 status
_PROGRAM, _PROGRAMDATA = PROGRAM_TAG, PROGRAMDATA_TAG
_V4_RETRACTED = 0

_INVOKE = re.compile(r"^Program (\w{32,44}) invoke \[(\d+)\]$")


def programdata_address(program_id: Pubkey) -> Pubkey:
    return Pubkey.find_program_address([bytes(program_id)], LOADER_V3)[0]


def programdata_header(slot: int, authority: Pubkey | None) -> bytes:
    tail = b"\x00" + bytes(32) if authority is None else b"\x01" + bytes(authority)
    return struct.pack("<IQ", _PROGRAMDATA, slot) + tail


def program_account_data(programdata: Pubkey) -> bytes:
    return struct.pack("<I", _PROGRAM) + bytes(programdata)


def not_deployed(get_account, program_id: Pubkey, slot: int) -> bool:
    """Whether agave would answer "Program is not deployed" for `program_id` in `slot`:
    a loader-v3 program whose program data is gone (closed) or was written in this slot,
    a loader-v4 program retracted or deployed in this slot. `get_account(pubkey)` reads
    the bank's accounts."""
    account: Account | None = get_account(program_id)
    if account is None:
        return False
    data = bytes(account.data)
    if account.owner == LOADER_V3:
        if len(data) < 36 or struct.unpack_from("<I", data)[0] != _PROGRAM:
            return False  # a buffer or program data: not a program (the runtime says so itself)
        programdata = get_account(Pubkey(data[4:36]))
        if programdata is None or programdata.lamports == 0:
            return True  # closed
        pdata = bytes(programdata.data)
        if len(pdata) < PROGRAMDATA_HEADER or struct.unpack_from("<I", pdata)[0] != _PROGRAMDATA:
            return True
        return struct.unpack_from("<Q", pdata, 4)[0] == slot
    if account.owner == LOADER_V4 and len(data) >= LOADER_V4_METADATA:
        deployed_slot, status = struct.unpack_from("<Q", data)[0], struct.unpack_from("<Q", data, 40)[0]
        return status == _V4_RETRACTED or deployed_slot == slot
    return False


@dataclass
class Undeployed:
    """Where a transaction reached a program that is not deployed."""

    program: Pubkey
    instruction: int  # the top-level instruction that failed
    log_index: int  # the index of the "invoke" line in the logs
    callers: list[str]  # the programs up the call stack, innermost first


def first_undeployed(logs: list[str], is_undeployed) -> Undeployed | None:
    """The first invocation, in execution order, of a program for which `is_undeployed`
    (a Pubkey -> bool) holds, read from the runtime's logs."""
    instruction = -1
    stack: list[str] = []
    verdicts: dict[str, bool] = {}
    for index, line in enumerate(logs):
        match = _INVOKE.match(line)
        if match is None:
            continue
        program, depth = match.group(1), int(match.group(2))
        if depth == 1:
            instruction += 1
        del stack[depth - 1:]
        if program not in verdicts:
            verdicts[program] = is_undeployed(Pubkey.from_string(program))
        if verdicts[program]:
            return Undeployed(Pubkey.from_string(program), max(instruction, 0), index, list(reversed(stack)))
        stack.append(program)
    return None


def undeployed_logs(logs: list[str], found: Undeployed) -> list[str]:
    """The logs agave writes: up to the invocation, then the failure up the call stack."""
    failed = "Unsupported program id"
    out = logs[:found.log_index + 1] + ["Program is not deployed", f"Program {found.program} failed: {failed}"]
    return out + [f"Program {caller} failed: {failed}" for caller in found.callers]


def parse_upgradeable_loader(account: Account) -> dict | None:
    """jsonParsed of a loader-v3 account, as agave's account decoder writes it
    ("bpf-upgradeable-loader": uninitialized, buffer, program, programData)."""
    import base64

    if account.owner != LOADER_V3:
        return None
    data = bytes(account.data)
    if len(data) < 4:
        return None
    tag = struct.unpack_from("<I", data)[0]

    def authority(at: int) -> str | None:
        return str(Pubkey(data[at + 1:at + 33])) if data[at] == 1 else None

    def binary(offset: int) -> list[str]:
        return [base64.b64encode(data[offset:]).decode(), "base64"]

    if tag == 0:
        parsed: dict = {"type": "uninitialized"}
    elif tag == 1 and len(data) >= 37:
        parsed = {"type": "buffer", "info": {"authority": authority(4), "data": binary(37)}}
    elif tag == _PROGRAM and len(data) >= 36:
        parsed = {"type": "program", "info": {"programData": str(Pubkey(data[4:36]))}}
    elif tag == _PROGRAMDATA and len(data) >= PROGRAMDATA_HEADER:
        parsed = {"type": "programData", "info": {"slot": struct.unpack_from("<Q", data, 4)[0], "authority": authority(12), "data": binary(PROGRAMDATA_HEADER)}}
    else:
        return None
    return {"parsed": parsed, "program": "bpf-upgradeable-loader", "space": len(data)}
