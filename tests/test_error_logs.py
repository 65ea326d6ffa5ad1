"""Each program logs its own error once, by name, in Anchor's words: explorers and Anchor
clients that read logs show `TimeoutInvalid`, not only `custom program error: 0x1782`. The
line is built from the same error table the IDL is (interface-kit's `errors!`), so this
checks it against the checked-in IDL."""

from __future__ import annotations

import json

from crowdcompute.localnet.svm import repo_root
from crowdcompute.sandbox.staking import StakingSandbox

from .conftest import SETTINGS


def anchor_line(program: str, name: str) -> str:
    idl = json.loads((repo_root() / "idl" / f"{program}.json").read_text())
    error = next(e for e in idl["errors"] if e["name"] == name)
    return f"Program log: AnchorError occurred. Error Code: {name}. Error Number: {error['code']}. Error Message: {error['msg']}."


def error_lines(logs: list[str]) -> list[str]:
    return [line for line in logs if "AnchorError" in line]


def test_a_refused_job_logs_its_error_by_name_once(sandbox, market):
    poster = sandbox.actor(tokens=10**12)
    _, outcome = sandbox.post(market, poster, timeout=SETTINGS.max_timeout + 1)
    assert not outcome.ok
    assert error_lines(outcome.logs) == [anchor_line("jobs", "TimeoutInvalid")]


def test_a_successful_instruction_logs_no_error(sandbox, market):
    poster = sandbox.actor(tokens=10**12)
    _, outcome = sandbox.post(market, poster, timeout=60)
    assert outcome.ok and error_lines(outcome.logs) == []


def test_a_refused_stake_logs_its_error_by_name_once():
    sb = StakingSandbox()
    config, _, outcome = sb.init()
    sb.must(outcome)
    owner = sb.actor(tokens=1_000)
    outcome = sb.stake(config, owner, 0, 14 * 86_400)
    assert not outcome.ok
    assert error_lines(outcome.logs) == [anchor_line("staking", "AmountZero")]
