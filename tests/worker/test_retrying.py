"""The node's retry loop (`worker.chain.retrying`) retries what is marked `Transient` (and the
stdlib's connection failures and timeouts), whichever part raised it: a storage that does
not answer is retried as a cluster that does not answer is, with no translation to OSError;
an error that trying again cannot cure is raised at once."""

from __future__ import annotations

import asyncio

import pytest

from crowdcompute.client.errors import ClusterUnavailable
from crowdcompute.client.storage import ContentTooLarge, StorageUnavailable
from crowdcompute.worker.chain import Backoff, retrying


def attempts(*failures: BaseException, deadline_s: float | None = None) -> tuple[object, int]:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls <= len(failures):
            raise failures[calls - 1]
        return "done"

    async def main() -> object:
        deadline = None if deadline_s is None else asyncio.get_running_loop().time() + deadline_s
        return await retrying("test", attempt, deadline=deadline, backoff=Backoff(first=0.01, cap=0.02))

    return asyncio.run(main()), calls


def test_transient_failures_of_any_part_are_retried():
    assert attempts(StorageUnavailable("storage down"), ClusterUnavailable("rpc down"), ConnectionResetError()) == ("done", 4)


def test_a_failure_that_retrying_cannot_cure_is_raised_at_once():
    with pytest.raises(ContentTooLarge):
        attempts(ContentTooLarge("over the limit"))


def test_a_transient_failure_past_the_deadline_is_raised():
    with pytest.raises(StorageUnavailable):
        attempts(*[StorageUnavailable("storage down")] * 100, deadline_s=0.05)
