"""Every fenced python block of the READMEs runs as written: as a script, in a subprocess of
its own, against the session's live localnet and storage server. Each gets the environment
the READMEs tell a reader to set (CROWD_URL, CROWD_KEYPAIR: a wallet with SOL and 2,000
tokens, CROWD_MARKET: a fresh market naming a staking config, CROWD_STORAGE), runs in a
folder where the clone's examples/ are at hand, and a block that waits for a job has a
worker node (`python -m crowdcompute.worker`, running ops as local processes) serving its
market. A block that cannot run standalone says `# not run: <why>` on its first line and is
listed in NOT_RUN; any other block that does not run fails here."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import pytest

from crowdcompute.client.keypair import write_keypair

from tests.readmes import REPO, python_blocks

from .conftest import SETTINGS

BLOCKS = python_blocks()

# Each block not run, and why (its first line says the same).
NOT_RUN = {
    "worker/README.md#1": "a sketch of the executor's calls with placeholder values, needing a container engine "
                          "(tests/worker/test_e2e_docker.py runs them for real)",
}

# What each block that runs prints (a regex searched in its stdout).
PRINTS = {
    "client/README.md#1": r"^done on \w+ paid [1-9]\d*\n(.|\n)*== op hello-world: exit 0(.|\n)*hello world",
    "client/README.md#2": r"^[1-9]\d* [1-9]\d* 0 0$",
    "client/jobspec/README.md#1": r"^scratch \['scratch'\]\nproduce \['count'\]\nreport \['report'\]$",
    "client/storage/README.md#1": r"^Qm\w{44} \d+$",
}


def test_the_not_run_blocks_are_marked_and_listed():
    marked = {block.name for block in BLOCKS if block.not_run}
    assert marked == set(NOT_RUN), "a block marked `# not run:` must be listed in NOT_RUN, and only those"
    assert set(PRINTS) == {block.name for block in BLOCKS if not block.not_run}, "each block that runs needs its PRINTS"


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.not_run], ids=lambda b: b.name)
def test_readme_block_runs(block, localnet, storage, wallets, tmp_path):
    from tests.worker.helpers import Worker

    market, _, _ = asyncio.run(wallets.staked_market(SETTINGS))
    wallet = asyncio.run(wallets.fund(tokens=2_000 * 10**6))
    env = {**os.environ, "CROWD_URL": localnet.url, "CROWD_KEYPAIR": str(write_keypair(wallet, tmp_path / "wallet.json")),
           "CROWD_MARKET": str(market), "CROWD_STORAGE": storage.url}
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "examples").symlink_to(REPO / "examples")
    script = folder / "block.py"
    script.write_text(block.code)
    worker = Worker(tmp_path, localnet.url, asyncio.run(wallets.fund()), market, storage.url) if "wait_for(" in block.code else None
    try:
        result = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=180)
    finally:
        if worker:
            worker.stop()
    assert result.returncode == 0, f"{block.name} (line {block.line}) failed:\n{result.stderr[-4000:]}"
    assert re.search(PRINTS[block.name], result.stdout.strip(), re.M), f"{block.name} printed:\n{result.stdout}"
