"""The SDK's and the CLI's poster flows, unchanged, against a real solana-test-validator
with the jobs program at its Anchor.toml address: post, get, why, list, cancel, extend, end,
clean, `post --wait` (done, ended by the poster, failed after reclaims, closed by a cancel),
program errors named from the IDL, events, waiting over PubSub. The test functions are the
localnet ones, imported: here the `localnet` and `wallets` fixtures are the validator's (400
ms slots, finalized ~31 slots behind, agave's answers), so no flow may lean on a quirk of
our localnet. Marked `validator`; skipped with the reason when it is not on PATH:

    PATH=/opt/agave/bin:$PATH .venv/bin/python -m pytest -m validator tests/sdk/test_cli_on_validator.py -rs
"""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.localnet.validator_node import SKIP_REASON, VALIDATOR_BIN, run_validator

from .chain_setup import Wallets
from .test_cli_job import (  # noqa: F401 - collected here, against the validator
    test_list_filters,
    test_post_get_why_cancel,
    test_run_extend_end_clean,
    test_wait_shows_each_state_and_the_cost,
)
from .test_cli_wait_endings import (  # noqa: F401
    test_closed_by_a_cancel,
    test_ended_by_the_poster,
    test_failed_after_timing_out_and_being_reclaimed,
)
from .test_sdk import (  # noqa: F401
    test_events_of_a_transaction,
    test_program_error_carries_the_idl_name_and_logs,
    test_queue_positions_of_jobs_and_nodes,
    test_wait_for_times_out_and_sees_a_cancel,
)

pytestmark = [pytest.mark.validator, pytest.mark.skipif(shutil.which(VALIDATOR_BIN) is None, reason=SKIP_REASON)]


@pytest.fixture(scope="module")
def localnet(tmp_path_factory):
    """The validator in the localnet's place (the tests read only `.url`)."""
    yield from run_validator(tmp_path_factory.mktemp("sdk-validator-ledger"))


@pytest.fixture(scope="module")
def wallets(localnet) -> Wallets:
    return asyncio.run(Wallets.create(localnet.url))
