"""Assertions and readers shared by the instruction tests."""

from __future__ import annotations

from solders.pubkey import Pubkey

from crowdcompute.sandbox import Sandbox

# spl_token::error::TokenError codes: the mint of an account paying into or out of the vault
# is enforced by SPL Token's transfer; the jobs program checks owners.
SPL_TOKEN_INSUFFICIENT_FUNDS = 1
SPL_TOKEN_MINT_MISMATCH = 3


def kind(value) -> str:
    """The variant name of a decoded enum (JobState.Done() -> "Done")."""
    return type(value).__name__


def event_names(sandbox: Sandbox, outcome) -> list[str]:
    return [e.name for e in sandbox.jobs.events(outcome.logs)]


def event(sandbox: Sandbox, outcome, name: str):
    """The data of the one event called `name` in the transaction."""
    found = [e.data for e in sandbox.jobs.events(outcome.logs) if e.name == name]
    assert len(found) == 1, (name, event_names(sandbox, outcome))
    return found[0]


def assert_fields(data, **expected) -> None:
    """Each named field of a decoded event has the expected value (digests as bytes)."""
    actual = {name: getattr(data, name) for name in expected}
    actual = {name: bytes(value) if isinstance(value, list) else value for name, value in actual.items()}
    assert actual == expected


def assert_refused(outcome, errors, name: str) -> None:
    assert not outcome.ok, "transaction succeeded but should have failed with " + name
    assert errors.name(outcome.custom_error) == name, (errors.name(outcome.custom_error), outcome.error, outcome.logs)


def market_bytes(sandbox: Sandbox, market: Pubkey) -> bytes:
    return bytes(sandbox.chain.account(market).data)
