#!/usr/bin/env python3
"""Post-link checks of an SBF program built by the upstream BPF route.

Fails (exit 1, one line per problem) when the file is not a 64-bit little-endian eBPF ELF,
or when a relative call (opcode 0x85 with imm != -1) lands outside `.text`: sbpf-linker
0.1.9 miscomputes calls from `.text.unlikely.*` into `.text`, and such a program fails to
load with an opaque InvalidAccountData (docs/toolchain.md, pitfall 2).
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

EM_BPF = 247
CALL_IMM = 0x85


def sections(elf: bytes) -> dict[str, tuple[int, int, int]]:
    """name -> (file offset, size, address) of every section."""
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    out = {}
    for name_index, _type, _flags, addr, offset, size, *_ in headers:
        end = elf.index(b"\0", names_offset + name_index)
        out[elf[names_offset + name_index : end].decode()] = (offset, size, addr)
    return out


def check(path: Path) -> list[str]:
    elf = path.read_bytes()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        return [f"{path}: not a 64-bit little-endian ELF"]
    (machine,) = struct.unpack_from("<H", elf, 0x12)
    if machine != EM_BPF:
        return [f"{path}: ELF machine {machine}, expected eBPF ({EM_BPF})"]
    table = sections(elf)
    if ".text" not in table:
        return [f"{path}: no .text section"]
    offset, size, _addr = table[".text"]
    problems = []
    for pc in range(size // 8):
        opcode = elf[offset + pc * 8]
        (imm,) = struct.unpack_from("<i", elf, offset + pc * 8 + 4)
        # imm == -1 marks a call resolved by relocation (a syscall); any other is relative.
        if opcode == CALL_IMM and imm != -1:
            target = pc + 1 + imm
            if not 0 <= target < size // 8:
                problems.append(f"{path}: call at instruction {pc} lands outside .text (target {target})")
    return problems


def main(argv: list[str]) -> int:
    problems = [p for arg in argv for p in check(Path(arg))]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
