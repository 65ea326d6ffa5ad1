"""Fixtures for the staking program's tests: its real SBF build in LiteSVM with a config."""

from __future__ import annotations

import pytest

from crowdcompute.client.staking.program import DAY, StakingProgram, StakingSettings
from crowdcompute.sandbox.staking import StakingSandbox
from crowdcompute.localnet.runtime.svm import deploy_dir

# The default curve: 1x at 14 days to 4x at 365 days; slashes go to the rewards pool.
SETTINGS = StakingSettings()
MIN, MAX = SETTINGS.min_duration, SETTINGS.max_duration


@pytest.fixture(scope="session")
def staking_program() -> StakingProgram:
    for name in ("staking.so", "slash_probe.so"):
        if not (deploy_dir() / name).is_file():
            pytest.exit(f"{deploy_dir() / name} is missing: run `bash scripts/build-programs.sh`", returncode=2)
    return StakingProgram()


@pytest.fixture
def sb(staking_program: StakingProgram) -> StakingSandbox:
    return StakingSandbox(staking_program)


@pytest.fixture
def config(sb: StakingSandbox):
    """A config with the default settings; returns (config address, authority)."""
    address, authority, outcome = sb.init(SETTINGS)
    sb.must(outcome)
    return address, authority


@pytest.fixture
def errors(staking_program: StakingProgram):
    return staking_program.errors


__all__ = ["SETTINGS", "MIN", "MAX", "DAY"]
