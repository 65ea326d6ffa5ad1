"""BPF Loader Upgradeable (loader-v3): its id and account layout, for the localnet that
deploys programs with it and the client that verifies what a cluster runs.

A program is two accounts: the program account (u32 tag 2 + the address of its program
data) and the program data (u32 tag 3, u64 slot of the last deployment, Option<Pubkey>
upgrade authority: 45 bytes, then the ELF)."""

from __future__ import annotations

from solders.pubkey import Pubkey

__all__ = ["LOADER_V3", "PROGRAMDATA_HEADER", "PROGRAM_TAG", "PROGRAMDATA_TAG"]

LOADER_V3 = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
PROGRAMDATA_HEADER = 45  # u32 tag + u64 slot + u8 option + 32-byte authority
PROGRAM_TAG, PROGRAMDATA_TAG = 2, 3  # UpgradeableLoaderState's tags
