"""The runtime's feature set, and the feature accounts that show it to clients.

data/agave_features.json is generated from agave's sources by scripts/gen-feature-list.py
(agave-feature-set 3.1.12, solana-test-validator 3.1.12, and solana-feature-set 2.2.1, the
feature list of the agave 2.2 runtime that solders 0.26's LiteSVM is built from). The
localnet follows solana-test-validator 3.1: every feature on at genesis except those it
deactivates (Alpenglow). Runtime and accounts agree:

* the runtime (LiteSVM.with_builtins(feature_set)) runs with each of its 226 features on
  unless agave 3.1 behaves as if it were off: SIMD-0167's gate that stops new loader-v3
  deployments (EmhbpdVt..., dropped by agave) and the withdrawn lift_cpi_caller_restriction;
* a feature account (owner Feature111..., data = bincode Option<u64> activated_at = Some(0),
  rent-exempt) exists for each agave 3.1 feature the runtime implements, under agave 3.1's
  id (some gates have a newer id in 3.1 than in the runtime, e.g. loader-v4's 2aQJYqER...
  for 8Cb77yHj...). The agave 3.1 features the runtime predates have no account, so
  `solana feature status` shows them inactive, and a tool that checks one (e.g.
  enable_extend_program_checked) picks what this runtime can run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from solders.account import Account
from solders.litesvm import FeatureSet
from solders.pubkey import Pubkey

__all__ = ["FEATURE_PROGRAM", "FEATURE_ACCOUNT_LEN", "Features", "features", "feature_account", "activated_at"]

DATA = Path(__file__).resolve().parents[1] / "data" / "agave_features.json"
FEATURE_PROGRAM = Pubkey.from_string("Feature111111111111111111111111111111111111")
FEATURE_ACCOUNT_LEN = 9  # bincode Option<u64>: a tag byte and the slot


@dataclass(frozen=True)
class Features:
    runtime_active: tuple[Pubkey, ...]  # the runtime's features that are on
    runtime_inactive: tuple[Pubkey, ...]  # the runtime's features that are off
    visible: tuple[Pubkey, ...]  # the agave 3.1 features active here: one account each
    names: dict[Pubkey, str]  # agave 3.1's description of each visible feature

    def runtime_feature_set(self) -> FeatureSet:
        return FeatureSet({fid: 0 for fid in self.runtime_active}, set(self.runtime_inactive))


@cache
def features() -> Features:
    data = json.loads(DATA.read_text())
    runtime = data["runtime_features"]
    visible = [f for f in data["features"] if f["runtime"] == "active"]
    return Features(
        runtime_active=tuple(Pubkey.from_string(f["id"]) for f in runtime if f["active"]),
        runtime_inactive=tuple(Pubkey.from_string(f["id"]) for f in runtime if not f["active"]),
        visible=tuple(Pubkey.from_string(f["id"]) for f in visible),
        names={Pubkey.from_string(f["id"]): f["name"] for f in visible},
    )


def feature_account(lamports: int, slot: int = 0) -> Account:
    """A feature activated at `slot`, as agave's genesis writes it."""
    return Account(lamports, b"\x01" + slot.to_bytes(8, "little"), FEATURE_PROGRAM, False, 0)


def activated_at(account: Account) -> int | None:
    """The activation slot a feature account holds (None: pending or not a feature)."""
    data = bytes(account.data)
    if account.owner != FEATURE_PROGRAM or len(data) < FEATURE_ACCOUNT_LEN or data[0] != 1:
        return None
    return int.from_bytes(data[1:9], "little")


def runtime_svm():
    """A LiteSVM as LiteSVM() builds it (builtins, a funded airdrop account, sysvars,
    precompiles, SPL programs), with the runtime feature set above instead of all of them."""
    from solders.litesvm import LiteSVM

    feature_set = features().runtime_feature_set()
    return (LiteSVM.default().with_builtins(feature_set).with_lamports(AIRDROP_LAMPORTS)
            .with_sysvars().with_precompiles(feature_set).with_spl_programs())


AIRDROP_LAMPORTS = 1_000_000 * 1_000_000_000  # LiteSVM()'s own airdrop account
