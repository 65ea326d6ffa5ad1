"""The restart rule (recovery.py): a re-run after a crash costs the poster at most the grace."""

from __future__ import annotations

import pytest

from crowdcompute.worker.recovery import rerun_allowed, rerun_grace


@pytest.mark.parametrize("timeout, grace", [(8, 2.0), (60, 6.0), (120, 12.0), (3600, 30.0)])
def test_the_grace_is_a_tenth_of_the_timeout_from_2_to_30_seconds(timeout, grace):
    assert rerun_grace(timeout) == grace


@pytest.mark.parametrize("back_after, reruns", [(1.0, True), (6.0, True), (6.5, False), (40.0, False)])
def test_a_node_back_within_the_grace_reruns_later_it_gives_the_job_back(back_after, reruns):
    """A 60 s job: back 6 s after its on-chain start, the re-run is charged at most 6 s more
    than the run itself; later, the job goes to another node, whose run starts a new clock.
    (The issue's case: a 3 s job re-run after two crashes cost 13 s; now the second restart,
    over 6 s after the start, gives it back instead.)"""
    assert rerun_allowed(1000.0, 60, now=1000.0 + back_after) is reruns
