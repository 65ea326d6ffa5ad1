"""Shared fixtures: the jobs program's real SBF build in LiteSVM, a funded market."""

from __future__ import annotations

import pytest

from crowdcompute.client import JobsProgram, MarketSettings
from crowdcompute.sandbox import Sandbox
from crowdcompute.localnet.runtime.svm import deploy_dir

# The settings most tests use: 10 base units per second, one hour at most, a minute of
# retention, a job reclaimed twice is refunded.
SETTINGS = MarketSettings(price_per_second=10, max_timeout=3600, min_stake=0, retention=60, max_attempts=2)


@pytest.fixture(scope="session")
def jobs_program() -> JobsProgram:
    so = deploy_dir() / "jobs.so"
    if not so.is_file():
        pytest.exit(f"{so} is missing: run `bash scripts/test.sh` (it builds the programs first)", returncode=2)
    return JobsProgram()


@pytest.fixture
def sandbox(jobs_program: JobsProgram) -> Sandbox:
    return Sandbox(jobs=jobs_program)


@pytest.fixture
def market(sandbox: Sandbox):
    """An open market with SETTINGS and room for 16 queue entries."""
    address, authority, outcome = sandbox.open_market(SETTINGS, capacity=16)
    sandbox.must(outcome)
    return address


@pytest.fixture
def errors(jobs_program: JobsProgram):
    return jobs_program.errors
