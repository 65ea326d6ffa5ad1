"""The endpoint table the executor writes and the front door reads (worker/endpoints.py)."""

from __future__ import annotations

import re

import pytest

from crowdcompute.worker.endpoints import HEALTHY, STARTING, UNHEALTHY, EndpointRegistry, endpoint_id


def test_public_ids_are_stable_dns_labels_and_private_ones_are_not_derivable():
    a = endpoint_id("JobA", "web", 80)
    assert a == endpoint_id("JobA", "web", 80)
    assert re.fullmatch(r"[a-z2-7]{24}", a)
    assert len({a, endpoint_id("JobA", "web", 81), endpoint_id("JobA", "api", 80), endpoint_id("JobB", "web", 80)}) == 4
    private = {endpoint_id("JobA", "web", 80, private=True) for _ in range(8)}
    assert len(private) == 8 and a not in private


def test_open_is_idempotent_and_state_changes_are_kept_as_history():
    reg = EndpointRegistry()
    ep = reg.open("J", "web", 80, private=True)
    assert reg.open("J", "web", 80, private=True).id == ep.id  # a restart keeps its random id
    assert ep.state == STARTING and ep.target is None
    reg.set_target(ep.id, "172.18.0.2", 80)
    reg.set_state(ep.id, HEALTHY, "GET / -> 200")
    reg.set_state(ep.id, HEALTHY, "GET / -> 200 again")  # no new transition
    reg.set_state(ep.id, UNHEALTHY, "GET / -> 500")
    got = reg.get(ep.id)
    assert got.target == ("172.18.0.2", 80)
    assert [h[1] for h in got.history] == [HEALTHY, UNHEALTHY]
    assert got.to_json("http://x")["state"] == UNHEALTHY
    with pytest.raises(ValueError):
        reg.set_state(ep.id, "fine")
    other = reg.open("K", "web", 80)
    assert [e.id for e in reg.close_job("J")] == [ep.id]
    assert reg.get(ep.id) is None and len(reg) == 1 and reg.for_job("K") == [other]
